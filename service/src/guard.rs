//! Who a request comes from: the tokens in the log's database (read
//! again every second, so a revoke holds within it), the page's sessions
//! (in the same database, so every replica knows them), and the loopback
//! exception of a fresh install. The [`Guard`] is a state
//! of its own: the access layer, the login handlers and the limits' slot
//! take it, nothing else of the service.

use std::sync::{Arc, PoisonError, RwLock};

use axum::http::{header, HeaderMap};
use roteiro_auth::{Identity, Keyring, Sessions, Tokens};
use roteiro_decision_log::db::DbPool;

use crate::reply::ApiError;

/// The cookie holding a page session's id.
pub const SESSION_COOKIE: &str = "roteiro_sessao";

/// `--insecure-no-auth` (then the typed analyst name is all there is).
#[derive(Debug, Clone)]
pub struct Who(pub Option<Identity>);

impl Who {
    /// The name to record, else `typed` (the analyst's own words).
    pub fn name_or(&self, typed: Option<String>) -> Option<String> {
        self.0.as_ref().map(|identity| identity.name.clone()).or(typed)
    }

    /// Who is logged in, by name: fills the facts marked `from_login`.
    pub fn signed_in(&self) -> Option<String> {
        self.name_or(None)
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
    /// The page's logins (none when everyone is let in).
    pub sessions: Option<Arc<Sessions>>,
    /// Whether cookies are marked `Secure` (the service speaks TLS).
    pub secure_cookies: bool,
    /// Served on a loopback address: until the first token is made, this
    /// machine alone is let in (a fresh install works at once; the
    /// network never is).
    loopback: bool,
}

struct TokenSource {
    /// The process's handle on the database: a refresh a second borrows a
    /// kept connection, never opens one (a login a second, on PostgreSQL).
    pool: Arc<DbPool>,
    keyring: RwLock<Arc<Keyring>>,
}

impl Guard {
    /// Tokens read from the database at `address` (the log's), now and at
    /// every [`Guard::refresh`]; `loopback` when served on a loopback
    /// address.
    pub fn tokens(address: &str, secure_cookies: bool, loopback: bool) -> Result<Self, roteiro_auth::TokenError> {
        Self::on(Arc::new(DbPool::open(address)?), secure_cookies, loopback)
    }

    /// [`Guard::tokens`] through the process's handle on the database.
    pub fn on(pool: Arc<DbPool>, secure_cookies: bool, loopback: bool) -> Result<Self, roteiro_auth::TokenError> {
        let keyring = read_keyring(&pool)?;
        Ok(Self {
            tokens: Some(TokenSource {
                pool: pool.clone(),
                keyring: RwLock::new(Arc::new(keyring)),
            }),
            sessions: Some(Arc::new(Sessions::on(pool))),
            secure_cookies,
            loopback,
        })
    }

    /// Everyone let in, as no one in particular.
    pub fn open() -> Self {
        Self {
            tokens: None,
            sessions: None,
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
        match read_keyring(&source.pool) {
            Ok(keyring) => *source.keyring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keyring),
            Err(err) => tracing::warn!("tokens não relidos: {err}"),
        }
    }

    /// Who presents these headers: a bearer token, else a live session
    /// (with the session when it came by cookie); `Ok(None)` when they
    /// present nothing.
    pub async fn identify(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<(Identity, Option<roteiro_auth::Session>)>, ApiError> {
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
            .session(id)
            .await?
            .filter(|session| keyring.holds(&session.identity.id))
            .ok_or_else(|| ApiError::unauthorized("a sessão terminou; entre de novo"))?;
        Ok(Some((session.identity.clone(), Some(session))))
    }

    /// The live session with this id: from this process's memory when it
    /// read it a moment ago, else from the database (off the runtime's
    /// threads).
    pub async fn session(&self, id: &str) -> Result<Option<roteiro_auth::Session>, ApiError> {
        let Some(sessions) = &self.sessions else {
            return Ok(None);
        };
        let now = chrono::Utc::now();
        if let Some(known) = sessions.cached(id, now) {
            return Ok(known);
        }
        let (sessions, id) = (sessions.clone(), id.to_string());
        tokio::task::spawn_blocking(move || sessions.get(&id, now))
            .await
            .map_err(|err| ApiError::unavailable(format!("sessão não lida: {err}")))?
            .map_err(|err| ApiError::unavailable(format!("sessão não lida: {err}")))
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

/// The live tokens, read through a connection of `pool` (given back once
/// read; dropped after a failure).
fn read_keyring(pool: &DbPool) -> Result<Keyring, roteiro_auth::TokenError> {
    let mut tokens: Tokens = pool.take()?;
    let keyring = tokens.keyring()?;
    pool.give(tokens);
    Ok(keyring)
}
