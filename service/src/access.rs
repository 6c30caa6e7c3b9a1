//! Who may use which route: every route is named in [`ROUTES`] with the
//! least role that opens it, and [`authorize`] closes everything else.
//!
//! A caller proves who it is with `Authorization: Bearer <token>` (scripts,
//! other systems) or with the page's session cookie; a cookie-borne request
//! that changes something must also repeat the session's anti-CSRF value in
//! `X-CSRF-Token` (the cookie is sent by the browser on its own, the header
//! only by our page's script). The identity found is handed to the handler
//! as [`Who`]: it is what the log and the cases record as the analyst.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roteiro_auth::{Identity, Keyring, Role, Sessions, Tokens};

use crate::desk::Desk;
use crate::reply::ApiError;

/// The cookie holding a page session's id.
pub const SESSION_COOKIE: &str = "roteiro_sessao";

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the page's files, health, the API document, logging in.
    Public,
    /// This role or a higher one.
    Needs(Role),
}

use Access::{Needs, Public};

/// Every route of the service with who may use it. A route the router
/// serves and this table does not name answers 403 to everyone.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/", Public),
    ("GET", "/app.js", Public),
    ("GET", "/style.css", Public),
    ("GET", "/healthz", Public),
    ("GET", "/openapi.json", Public),
    ("POST", "/v1/login", Public),
    ("GET", "/v1/session", Public),
    ("POST", "/v1/logout", Public),
    ("POST", "/v1/decide", Needs(Role::Analista)),
    ("POST", "/v1/explain", Needs(Role::Analista)),
    ("GET", "/v1/vocabulary", Needs(Role::Analista)),
    ("GET", "/v1/cases", Needs(Role::Analista)),
    ("GET", "/v1/cases/{ticket}", Needs(Role::Analista)),
    ("POST", "/v1/cases/{ticket}", Needs(Role::Analista)),
    ("POST", "/v1/cases/{ticket}/answers", Needs(Role::Analista)),
    ("POST", "/v1/cases/{ticket}/close", Needs(Role::Analista)),
    ("GET", "/v1/cases/{ticket}/push", Needs(Role::Analista)),
    ("POST", "/v1/cases/{ticket}/push", Needs(Role::Analista)),
    ("GET", "/v1/cases/{ticket}/pushes", Needs(Role::Analista)),
    ("GET", "/v1/bundle", Needs(Role::Dono)),
    ("GET", "/v1/diff", Needs(Role::Dono)),
    ("GET", "/v1/stats", Needs(Role::Admin)),
    ("GET", "/v1/log/export", Needs(Role::Admin)),
    ("GET", "/v1/tokens", Needs(Role::Admin)),
    ("POST", "/v1/tokens", Needs(Role::Admin)),
    ("POST", "/v1/tokens/{id}/revoke", Needs(Role::Admin)),
    ("GET", "/metrics", Needs(Role::Admin)),
];

/// Who a request comes from: `None` when the service runs with
/// `--insecure-no-auth` (then the typed analyst name is all there is).
#[derive(Debug, Clone)]
pub struct Who(pub Option<Identity>);

impl Who {
    /// The name to record, else `typed` (the analyst's own words).
    pub fn name_or(&self, typed: Option<String>) -> Option<String> {
        self.0.as_ref().map(|identity| identity.name.clone()).or(typed)
    }

    /// [`Who::name_or`], said plainly when no one is known at all.
    pub fn analyst(&self, typed: Option<String>) -> String {
        self.name_or(typed).unwrap_or_else(|| "não informado".to_string())
    }
}

/// How the service lets callers in.
pub struct Guard {
    /// `None`: no authentication at all (loopback only, said loudly).
    tokens: Option<TokenSource>,
    /// The page's logins.
    pub sessions: Sessions,
    /// Whether cookies are marked `Secure` (the service speaks TLS).
    pub secure_cookies: bool,
    /// Served on a loopback address: until the first token is made, this
    /// machine alone is let in (a fresh install works at once; the
    /// network never is).
    loopback: bool,
}

struct TokenSource {
    address: String,
    keyring: RwLock<Arc<Keyring>>,
    /// The connection each refresh reads through, kept between refreshes
    /// (a PostgreSQL connection a second would be a login a second);
    /// dropped after a failure, so the next refresh opens it again.
    connection: Mutex<Option<Tokens>>,
}

impl Guard {
    /// Tokens read from the database at `address` (the log's), now and at
    /// every [`Guard::refresh`]; `loopback` when served on a loopback
    /// address.
    pub fn tokens(address: &str, secure_cookies: bool, loopback: bool) -> Result<Self, roteiro_auth::TokenError> {
        let keyring = Tokens::open(address)?.keyring()?;
        Ok(Self {
            tokens: Some(TokenSource {
                address: address.to_string(),
                keyring: RwLock::new(Arc::new(keyring)),
                connection: Mutex::new(None),
            }),
            sessions: Sessions::default(),
            secure_cookies,
            loopback,
        })
    }

    /// Everyone let in, as no one in particular.
    pub fn open() -> Self {
        Self {
            tokens: None,
            sessions: Sessions::default(),
            secure_cookies: false,
            loopback: true,
        }
    }

    /// Whether callers must prove who they are: always with tokens, except
    /// on a loopback address before the first token is made.
    pub fn closed(&self) -> bool {
        self.tokens.is_some() && !(self.loopback && self.keyring().none_issued())
    }

    /// Whether a request with these headers is let in without proving who
    /// it is: only while the service is open (see [`Guard::closed`]) and
    /// only when the request names a loopback host. A page on another
    /// origin whose name was pointed at 127.0.0.1 (DNS rebinding) sends
    /// its own name as `Host`, and is refused.
    pub fn lets_in(&self, headers: &HeaderMap) -> bool {
        !self.closed() && loopback_host(headers)
    }

    /// The live tokens now.
    pub fn keyring(&self) -> Arc<Keyring> {
        match &self.tokens {
            Some(source) => source.keyring.read().unwrap_or_else(PoisonError::into_inner).clone(),
            None => Arc::new(Keyring::default()),
        }
    }

    /// Reads the live tokens again (blocking): a created token starts
    /// working, a revoked one stops. A database that cannot be read keeps
    /// the last keyring.
    pub fn refresh(&self) {
        let Some(source) = &self.tokens else { return };
        let mut connection = source.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let read = match connection.take() {
            Some(tokens) => Ok(tokens),
            None => Tokens::open(&source.address),
        }
        .and_then(|mut tokens| tokens.keyring().map(|keyring| (tokens, keyring)));
        match read {
            Ok((tokens, keyring)) => {
                *connection = Some(tokens);
                *source.keyring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keyring);
            }
            Err(err) => tracing::warn!("tokens não relidos: {err}"),
        }
    }

    /// Who presents these headers: a bearer token, else a live session
    /// (with the session when it came by cookie); `Ok(None)` when they
    /// present nothing.
    pub fn identify(&self, headers: &HeaderMap) -> Result<Option<(Identity, Option<roteiro_auth::Session>)>, ApiError> {
        let keyring = self.keyring();
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|text| text.strip_prefix("Bearer "))
                .ok_or_else(|| ApiError::unauthorized("o cabeçalho Authorization deve ser `Bearer <token>`"))?;
            let identity = keyring
                .identify(token.trim())
                .ok_or_else(|| ApiError::unauthorized("token desconhecido ou revogado"))?;
            return Ok(Some((identity.clone(), None)));
        }
        let Some(id) = session_cookie(headers) else {
            return Ok(None);
        };
        let session = self
            .sessions
            .get(id, chrono::Utc::now())
            .filter(|session| keyring.holds(&session.identity.id))
            .ok_or_else(|| ApiError::unauthorized("a sessão terminou; entre de novo"))?;
        Ok(Some((session.identity.clone(), Some(session))))
    }
}

/// Whether the request's `Host` names this machine (`localhost`,
/// `127.x.x.x`, `[::1]`, with any port).
pub fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The session id in the request's cookies.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| cookie.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

/// Who may use `method` on the route `path` (as the router matched it);
/// `None` when the table does not name it.
pub fn access(method: &Method, path: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, access)| *access)
}

/// Lets the request through when its route is public or its caller's
/// role covers the route's; 401 when it presents no one, 403 otherwise.
pub async fn authorize(State(desk): State<Arc<Desk>>, mut request: Request, next: Next) -> Response {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        // No route matched: the fallback answers 404.
        return next.run(request).await;
    };
    let needed = match access(request.method(), &path) {
        Some(Public) => {
            request.extensions_mut().insert(Who(None));
            return next.run(request).await;
        }
        Some(Needs(role)) => role,
        // A method the table does not name for this path (HEAD, OPTIONS,
        // ...): refused here, before any handler runs. The router would
        // otherwise answer a HEAD with the GET handler, for anyone.
        None if ROUTES.iter().any(|(_, p, _)| *p == path) => return not_allowed(&path),
        None => return ApiError::forbidden("esta rota não declara quem pode usá-la").into_response(),
    };
    let guard = &desk.guard;
    if guard.lets_in(request.headers()) {
        request.extensions_mut().insert(Who(None));
        return next.run(request).await;
    }
    let (identity, session) = match guard.identify(request.headers()) {
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
    if let Err(wait) = desk.limits.token(&identity.id) {
        return wait.into_response();
    }
    request.extensions_mut().insert(Who(Some(identity)));
    next.run(request).await
}

/// 405 with the methods the table names for `path`.
fn not_allowed(path: &str) -> Response {
    let allowed: Vec<&str> = ROUTES
        .iter()
        .filter(|(_, p, _)| *p == path)
        .map(|(method, _, _)| *method)
        .collect();
    let mut response = ApiError::method_not_allowed(&allowed.join(", ")).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Every second: the live tokens read again (a revoke holds within it)
/// and idle clients' budgets forgotten.
pub async fn refresh(desk: Arc<Desk>) {
    let mut ticker = tokio::time::interval(crate::RELOAD_INTERVAL);
    loop {
        ticker.tick().await;
        desk.limits.forget_idle();
        let desk = desk.clone();
        let _ = tokio::task::spawn_blocking(move || desk.guard.refresh()).await;
    }
}
