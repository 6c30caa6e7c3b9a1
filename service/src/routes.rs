//! The router: every declared operation (`operations.rs`) and the layers
//! each request passes through, in order.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::App;
use crate::desk::Desk;
use crate::metrics::Metrics;
use crate::operations::{Handler, OPERATIONS};
use crate::reply::{self, ApiError};
use crate::{access, headers, limits, openapi, MAX_BODY_BYTES};

/// Every operation of the service over `app`.
pub fn router(app: App) -> Router {
    let routed = OPERATIONS.iter().fold(Router::new(), |router, op| {
        let handler = match op.handler {
            Handler::Route(handler) => handler(),
            Handler::Document => get(openapi_document),
        };
        router.route(op.path, handler)
    });
    routed
        .fallback(|uri: Uri| async move { ApiError::not_found(uri.path()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Outermost last: every request is logged and given the security
        // headers, then budgeted by address, then its caller checked
        // against the route's role (nothing of the body read yet), then
        // given a place in flight by who it is, its body read, and its
        // handler's time budget.
        .layer(middleware::from_fn_with_state(app.gate.limits.clone(), limits::slot))
        .layer(middleware::from_fn_with_state(app.gate.clone(), access::authorize))
        .layer(middleware::from_fn_with_state(app.gate.limits.clone(), limits::admit))
        .layer(middleware::from_fn_with_state(app.gate.guard.clone(), headers::secure))
        .layer(middleware::from_fn_with_state(app.desk.metrics.clone(), access_log))
        .with_state(app)
}

/// One log line per request with its status and latency, and the count.
async fn access_log(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    metrics.answered(status);
    tracing::info!(%method, %path, status, micros = started.elapsed().as_micros() as u64, "requisição");
    response
}

/// `GET /openapi.json`: the document of the table, for the bundle serving.
async fn openapi_document(State(desk): State<Arc<Desk>>) -> Response {
    reply::json(StatusCode::OK, &openapi::document(&desk.served().bundle))
}
