//! Who may use which route: every operation declares the least role that
//! opens it (`operations.rs`), and [`authorize`] closes everything else.
//!
//! A caller proves who it is with `Authorization: Bearer <token>` (scripts,
//! other systems) or with the page's session cookie; a cookie-borne request
//! that changes something must also repeat the session's anti-CSRF value in
//! `X-CSRF-Token` (the cookie is sent by the browser on its own, the header
//! only by our page's script). The identity found is handed to the handler
//! as [`Who`]: it is what the log and the cases record as the analyst.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roteiro_auth::Sessions;

use crate::gate::Gate;
use crate::guard::Who;
use crate::limits::Known;
use crate::operations::{self, Access};
use crate::reply::ApiError;

/// Lets the request through when its route is public or its caller's
/// role covers the route's; 401 when it presents no one, 403 otherwise.
pub async fn authorize(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        // No route matched: the fallback answers 404.
        return next.run(request).await;
    };
    let declared = operations::access(request.method().as_str(), &path);
    if let Some((_, weight)) = declared {
        request.extensions_mut().insert(weight);
    }
    let needed = match declared.map(|(access, _)| access) {
        Some(Access::Public) => {
            let known = gate.guard.lets_in(request.headers());
            request.extensions_mut().insert(Who(None));
            request.extensions_mut().insert(Known(known));
            return next.run(request).await;
        }
        Some(Access::Needs(role)) => role,
        // A method the table does not name for this path (HEAD, OPTIONS,
        // ...): refused here, before any handler runs. The router would
        // otherwise answer a HEAD with the GET handler, for anyone.
        None if !operations::methods_of(&path).is_empty() => return not_allowed(&path),
        None => return ApiError::forbidden("esta rota não declara quem pode usá-la").into_response(),
    };
    let guard = &gate.guard;
    if guard.lets_in(request.headers()) {
        request.extensions_mut().insert(Who(None));
        request.extensions_mut().insert(Known(true));
        return next.run(request).await;
    }
    let (identity, session) = match guard.identify(request.headers()).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return ApiError::unauthorized("entre com um token: Authorization: Bearer <token>, ou pela página")
                .into_response()
        }
        Err(refused) => return refused.into_response(),
    };
    if !identity.role.covers(needed) {
        return ApiError::forbidden(&format!(
            "o papel `{}` não pode usar esta rota; ela pede `{needed}`",
            identity.role
        ))
        .into_response();
    }
    if let Some(session) = session {
        if changes_state(request.method()) {
            let presented = request
                .headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !Sessions::csrf_matches(&session, presented) {
                return ApiError::forbidden("falta o código anti-CSRF da sessão (X-CSRF-Token)").into_response();
            }
        }
    }
    if let Err(wait) = gate.limits.token(&identity.id) {
        return wait.into_response();
    }
    request.extensions_mut().insert(Who(Some(identity)));
    request.extensions_mut().insert(Known(true));
    next.run(request).await
}

/// 405 with the methods declared for `path`.
fn not_allowed(path: &str) -> Response {
    let allowed = operations::methods_of(path);
    let mut response = ApiError::method_not_allowed(&allowed.join(", ")).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Every second: the live tokens read again (a revoke holds within it),
/// this replica said to be alive and the live replicas counted (the
/// budgets' share), and idle clients' budgets forgotten.
pub async fn refresh(gate: Gate) {
    let mut ticker = tokio::time::interval(crate::RELOAD_INTERVAL);
    loop {
        ticker.tick().await;
        gate.limits.forget_idle();
        let (guard, replicas) = (gate.guard.clone(), gate.replicas.clone());
        let counted = tokio::task::spawn_blocking(move || {
            guard.refresh();
            replicas.map(|registry| registry.beat(chrono::Utc::now()))
        })
        .await;
        match counted {
            Ok(Some(Ok(live))) => gate.limits.set_replicas(live),
            Ok(Some(Err(err))) => tracing::warn!("réplicas não contadas: {err}"),
            _ => {}
        }
    }
}
