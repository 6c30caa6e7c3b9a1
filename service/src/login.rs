//! The page's login: a token typed once becomes a session cookie
//! (HttpOnly, SameSite=Strict, Secure under TLS), with the anti-CSRF value
//! the page repeats on every change. Failed attempts are budgeted per
//! address (a guess at a token is refused for a while after a few).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roteiro_auth::{Identity, SESSION_HOURS};

use crate::gate::Gate;
use crate::guard::{session_cookie, SESSION_COOKIE};
use crate::limits::peer;
use crate::reply::{self, ApiError};
use crate::MAX_BODY_BYTES;

/// What the page is told of who is in.
#[derive(Debug, serde::Serialize)]
struct SessionBody<'a> {
    /// Who (the token's name); absent when the service is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    /// Their role.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<roteiro_auth::Role>,
    /// The session's anti-CSRF value, repeated on every change.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf: Option<&'a str>,
    /// Everyone is let in (a fresh install on this machine, or
    /// `--insecure-no-auth`).
    open: bool,
}

fn described<'a>(identity: &'a Identity, csrf: &'a str) -> SessionBody<'a> {
    SessionBody {
        name: Some(&identity.name),
        role: Some(identity.role),
        csrf: Some(csrf),
        open: false,
    }
}

/// The body when everyone is let in.
const OPEN: SessionBody<'static> = SessionBody {
    name: None,
    role: None,
    csrf: None,
    open: true,
};

/// Whether a browser sent this from another site: an `Origin` that does
/// not name the `Host` asked. Programs that send no `Origin` are not
/// browsers on another site.
fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    origin_host.is_none() || origin_host != host
}

/// `POST /v1/login` `{"token": "rot_..."}`: a session for the token's
/// owner, or 401. Only a JSON body is read, and only from this page's own
/// origin: a form on another site (which can post `text/plain` without
/// asking) cannot log a browser in with someone else's token.
pub async fn login(State(gate): State<Gate>, request: Request) -> Result<Response, ApiError> {
    let address = peer(&request);
    gate.limits.may_log_in(address)?;
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json {
        return Err(ApiError::unsupported_media("application/json"));
    }
    if cross_site(request.headers()) {
        return Err(ApiError::forbidden("login vindo de outra origem"));
    }
    if gate.guard.lets_in(request.headers()) {
        return Ok(reply::json(StatusCode::OK, &OPEN));
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large(crate::MAX_BODY_BYTES))?;
    // The parser's message may quote the body (a token): never echoed.
    let given: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::unreadable("esperado {\"token\": \"...\"}".into()))?;
    let token = given.get("token").and_then(|t| t.as_str()).unwrap_or("").trim();
    let keyring = gate.guard.keyring();
    let Some(identity) = keyring.identify(token) else {
        tracing::info!("login recusado");
        gate.limits.failed_login(address)?;
        return Err(ApiError::unauthorized("token desconhecido ou revogado"));
    };
    let Some(sessions) = gate.guard.sessions.clone() else {
        return Err(ApiError::unavailable("este serviço não guarda sessões".into()));
    };
    let started = identity.clone();
    let (id, session) = tokio::task::spawn_blocking(move || sessions.start(started, chrono::Utc::now()))
        .await
        .map_err(|err| ApiError::unavailable(format!("sessão não aberta: {err}")))?
        .map_err(|err| ApiError::unavailable(format!("sessão não aberta: {err}")))?;
    tracing::info!(token = %identity.id, "sessão aberta");
    let secure = if gate.guard.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    );
    let mut response = reply::json(StatusCode::OK, &described(&session.identity, &session.csrf));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `GET /v1/session`: who the cookie's session is (and its anti-CSRF
/// value, which the page keeps in memory only), or 401.
pub async fn session(State(gate): State<Gate>, request: Request) -> Result<Response, ApiError> {
    if gate.guard.lets_in(request.headers()) {
        return Ok(reply::json(StatusCode::OK, &OPEN));
    }
    match gate.guard.identify(request.headers()).await? {
        Some((identity, Some(session))) => Ok(reply::json(StatusCode::OK, &described(&identity, &session.csrf))),
        Some((identity, None)) => Ok(reply::json(StatusCode::OK, &described(&identity, ""))),
        None => Err(ApiError::unauthorized("nenhuma sessão; entre com um token")),
    }
}

/// `POST /v1/logout`: ends the cookie's session and clears the cookie. A
/// live session ends only with its anti-CSRF value, so another site cannot
/// log an analyst out.
pub async fn logout(State(gate): State<Gate>, request: Request) -> Response {
    if let Some(id) = session_cookie(request.headers()) {
        match gate.guard.session(id).await {
            Ok(Some(session)) => {
                let presented = request
                    .headers()
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !roteiro_auth::Sessions::csrf_matches(&session, presented) {
                    return ApiError::forbidden("falta o código anti-CSRF da sessão (X-CSRF-Token)").into_response();
                }
            }
            Ok(None) => {}
            Err(unread) => return unread.into_response(),
        }
        if let Some(sessions) = gate.guard.sessions.clone() {
            let id = id.to_string();
            let ended = tokio::task::spawn_blocking(move || sessions.end(&id)).await;
            if !matches!(ended, Ok(Ok(()))) {
                return ApiError::unavailable("a sessão não foi encerrada; tente de novo".into()).into_response();
            }
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let cleared = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
