//! The routes, in one function, and their handlers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, Query, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use roteiro_decision_log::decide_and_record;
use roteiro_engine::{Bundle, DecideError, Situation};
use serde_json::json;

use crate::access::Who;
use crate::desk::Desk;
use crate::reply::{self, ApiError};
use crate::{access, admin, cases, headers, limits, login, pushes, replay};
use crate::{openapi, MAX_BODY_BYTES};

/// The page, its script and its style, embedded: no build step.
const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");

/// Every route of the service over `desk`.
pub fn router(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], SCRIPT) }),
        )
        .route(
            "/style.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], STYLE) }),
        )
        .route("/v1/login", post(login::login))
        .route("/v1/session", get(login::session))
        .route("/v1/logout", post(login::logout))
        .route("/v1/decide", post(decide))
        .route("/v1/explain", post(explain))
        .route("/v1/vocabulary", get(vocabulary))
        .route("/v1/bundle", get(bundle))
        .route("/v1/diff", get(replay::diff))
        .route("/v1/stats", get(stats))
        .route("/v1/log/export", get(admin::export))
        .route("/v1/tokens", get(admin::list).post(admin::create))
        .route("/v1/tokens/{id}/revoke", post(admin::revoke))
        .route("/v1/cases", get(cases::due))
        .route("/v1/cases/{ticket}", get(cases::show).post(cases::open))
        .route("/v1/cases/{ticket}/answers", post(cases::answer))
        .route("/v1/cases/{ticket}/close", post(cases::close))
        .route("/v1/cases/{ticket}/push", get(pushes::show).post(pushes::push))
        .route("/v1/cases/{ticket}/pushes", get(pushes::list))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_document))
        .fallback(|uri: Uri| async move { ApiError::not_found(uri.path()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Outermost last: every request is logged and given the security
        // headers, then budgeted by address, then its caller checked
        // against the route's role (nothing of the body read yet), then
        // given a place in flight by who it is, its body read, and its
        // handler's time budget.
        .layer(middleware::from_fn_with_state(desk.clone(), limits::slot))
        .layer(middleware::from_fn_with_state(desk.clone(), access::authorize))
        .layer(middleware::from_fn_with_state(desk.clone(), limits::admit))
        .layer(middleware::from_fn_with_state(desk.clone(), headers::secure))
        .layer(middleware::from_fn_with_state(desk.clone(), access_log))
        .with_state(desk)
}

/// One log line per request with its status and latency, and the count.
async fn access_log(State(desk): State<Arc<Desk>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    desk.metrics.answered(status);
    tracing::info!(%method, %path, status, micros = started.elapsed().as_micros() as u64, "requisição");
    response
}

/// The situation in the body, read against the serving bundle.
fn situation(bundle: &Bundle, body: Result<Bytes, BytesRejection>) -> Result<Situation, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large()
        } else {
            ApiError::unreadable(rejection.body_text())
        }
    })?;
    bundle
        .parse_situation(&body, "corpo")
        .map_err(|err| ApiError::situation(&err))
}

/// The moment of a request that pins none: the service's clock, listed by
/// the decision under `assumed`.
fn clock() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

fn decide_error(err: &DecideError) -> ApiError {
    match err {
        DecideError::Situation(err) => ApiError::situation(err),
        DecideError::Rule(err) => ApiError::rule(err),
    }
}

async fn decide(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let served = desk.served();
    let situation = situation(&served.bundle, body)?;
    let recorder = desk.signed(who.name_or(None));
    let decided =
        decide_and_record(&served.bundle, &situation, clock(), "serve", &recorder).map_err(|err| decide_error(&err))?;
    // A 200 means the decision is in the log (when the log waits for its
    // commits, which is the default).
    if !recorder.recorded().await {
        return Err(ApiError::unavailable(
            "a decisão foi tomada mas não pôde ser gravada no log; tente de novo".into(),
        ));
    }
    let decision = decided.decision;
    let route = decision
        .outputs
        .get("route")
        .and_then(|r| r.as_str())
        .unwrap_or("nenhuma");
    let fired = decision
        .trace
        .iter()
        .filter(|entry| entry.fired)
        .map(|entry| entry.rule.to_string());
    desk.metrics.decided(route, fired, decided.latency);
    Ok(reply::json(StatusCode::OK, &decision))
}

async fn explain(State(desk): State<Arc<Desk>>, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let served = desk.served();
    let situation = situation(&served.bundle, body)?;
    let explanation = served
        .bundle
        .explain(&situation, clock())
        .map_err(|err| decide_error(&err))?;
    Ok(reply::json(StatusCode::OK, &explanation))
}

async fn vocabulary(State(desk): State<Arc<Desk>>) -> Response {
    let served = desk.served();
    let facts: Vec<_> = served
        .bundle
        .vocabulary()
        .facts()
        .map(|fact| {
            json!({
                "fato": fact.path,
                "tipo": fact.spec.kind,
                "rotulo": fact.spec.label,
                "descricao": fact.spec.description,
                "pergunta": fact.spec.question,
                "valores": fact.spec.values,
                "padrao": fact.default.as_ref().map(|value| value.display()),
                "derivado": fact.spec.derive.is_some(),
                "minimo": fact.spec.minimum,
                "maximo": fact.spec.maximum,
                "max_caracteres": fact.spec.max_length,
            })
        })
        .collect();
    let groups: Vec<&str> = served
        .bundle
        .vocabulary()
        .children("")
        .into_iter()
        .filter(|(_, group)| *group)
        .map(|(name, _)| name)
        .collect();
    let first = &served.bundle.manifest().first_questions;
    reply::json(
        StatusCode::OK,
        &json!({"grupos": groups, "primeiras": first, "fatos": facts}),
    )
}

fn bundle_summary(desk: &Desk) -> serde_json::Value {
    let served = desk.served();
    let info = served.bundle.info();
    json!({
        "name": info.name,
        "version": info.version,
        "digest": info.digest,
        "rules": served.bundle.rule_ids().count(),
        "loaded_at": served.loaded_at.to_rfc3339(),
    })
}

async fn bundle(State(desk): State<Arc<Desk>>) -> Response {
    reply::json(StatusCode::OK, &bundle_summary(&desk))
}

/// The bundle serving and the last refused edit, file by file (the
/// contract's health: 200 while a good bundle serves).
async fn health(State(desk): State<Arc<Desk>>) -> Response {
    let refused = desk.refused();
    let status = if refused.is_some() { "recarga_recusada" } else { "ok" };
    reply::json(
        StatusCode::OK,
        &json!({"status": status, "bundle": bundle_summary(&desk), "recarga_recusada": refused}),
    )
}

async fn metrics(State(desk): State<Arc<Desk>>) -> Response {
    let follow_ups = cases::follow_up_metrics(&desk).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        format!("{}{}{follow_ups}", desk.metrics.render(), desk.log_metrics()),
    )
        .into_response()
}

async fn openapi_document(State(desk): State<Arc<Desk>>) -> Response {
    reply::json(StatusCode::OK, &openapi::document(&desk.served().bundle))
}

/// `GET /v1/stats?since=AAAA-MM-DD`: the numbers of `roteiro stats`, read
/// from the decision log on a blocking thread.
async fn stats(
    State(desk): State<Arc<Desk>>,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    if desk.log_address().is_none() {
        return Err(ApiError::unavailable("o serviço está sem log de decisões".into()));
    }
    let since = since(&query)?;
    let served = desk.served();
    let numbers = tokio::task::spawn_blocking(move || {
        let filter = roteiro_decision_log::Filter {
            since,
            ..Default::default()
        };
        let records = desk.read_log(&filter)?;
        Ok::<_, roteiro_decision_log::LogError>(roteiro_decision_log::stats(&records, served.bundle.rule_ids()))
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
    .map_err(|err| ApiError::unavailable(err.to_string()))?;
    Ok(reply::json(StatusCode::OK, &numbers))
}

/// `since=AAAA-MM-DD` of a query, as midnight UTC.
pub fn since(
    query: &std::collections::BTreeMap<String, String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    let Some(text) = query.get("since") else {
        return Ok(None);
    };
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| Some(at.and_utc()))
        .ok_or_else(|| ApiError::bad_parameter("since", text, "uma data AAAA-MM-DD"))
}
