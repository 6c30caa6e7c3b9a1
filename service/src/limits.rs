//! What keeps one client from taking the service from everyone else: a
//! request budget per address and per token (GCRA, as `governor` keeps
//! it), a bound on requests in flight, a deadline and a size for the body,
//! and a budget of failed logins per address. Every refusal is a 4xx with
//! its reason in Portuguese, never a 500.
//!
//! Replicas behind one balancer share the budgets: each request spends as
//! many cells of its budget as there are live replicas (`set_replicas`,
//! from the registry in the database), so N replicas together allow one
//! budget to each address, token and failed-login count, not N. The bounds
//! on requests and connections in flight protect each process's own memory
//! and threads, and stay per replica.
//!
//! Slots in flight are taken only once the caller is known ([`slot`] runs
//! after the role check): callers who proved who they are share the main
//! pool; anonymous requests (the page's files, health, logging in) have a
//! small pool of their own, a few per address, so no anonymous client, however
//! slow its uploads, can starve a logged-in analyst.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::client_address::TrustedProxies;
use crate::reply::ApiError;
use crate::MAX_BODY_BYTES;

/// Whether a request's caller proved who it is, or is let in as this
/// machine on a fresh install: the access layer says, and [`slot`] gives
/// such a caller a place in the main pool rather than the anonymous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known(pub bool);

/// Longest a handler may take once its body is read, decision included.
const REQUEST_BUDGET: Duration = Duration::from_secs(2);

/// Longest a publication may take: its gates run every policy test and
/// its impact decides the log's latest decisions again.
const PUBLICATION_BUDGET: Duration = Duration::from_secs(120);

/// How much an operation may take, declared by each operation
/// (`operations.rs`) and told to [`slot`] by the access layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Weight {
    /// A situation, an answer, a login: [`MAX_BODY_BYTES`] and
    /// [`REQUEST_BUDGET`].
    #[default]
    Request,
    /// A whole bundle: [`MAX_BUNDLE_BYTES`] and [`PUBLICATION_BUDGET`].
    Publication,
}

/// Largest bundle a publication takes, in bytes.
pub const MAX_BUNDLE_BYTES: usize = 8 * 1024 * 1024;

impl Weight {
    /// The largest body, in bytes.
    pub fn body_bytes(self) -> usize {
        match self {
            Self::Request => MAX_BODY_BYTES,
            Self::Publication => MAX_BUNDLE_BYTES,
        }
    }

    /// The longest the handler may take once its body is read.
    fn budget(self) -> Duration {
        match self {
            Self::Request => REQUEST_BUDGET,
            Self::Publication => PUBLICATION_BUDGET,
        }
    }
}

/// The numbers, with the defaults `roteiro serve` uses.
#[derive(Debug, Clone, Copy)]
pub struct LimitsConfig {
    /// Requests a minute per client address, and again per token (a whole
    /// minute's worth may come at once).
    pub per_minute: u32,
    /// Requests being answered at once; past it, 429 at once.
    pub in_flight: usize,
    /// Open connections at once; past it, new ones wait to be accepted.
    pub connections: usize,
    /// Longest wait for a request's head (method, path, headers): a
    /// client that sends it byte by byte (slowloris) is cut off.
    pub head_timeout: Duration,
    /// Longest wait for a request's body: 408 past it.
    pub body_timeout: Duration,
    /// Failed login attempts a minute per address; past it the address
    /// is refused until its budget refills.
    pub logins_per_minute: u32,
    /// Anonymous requests in flight at once, all addresses together.
    pub anonymous_in_flight: usize,
    /// Anonymous requests in flight at once from one address.
    pub anonymous_per_address: usize,
    /// Open connections at once from one address; past it, new ones are
    /// closed at once.
    pub connections_per_address: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            per_minute: 3000,
            in_flight: 64,
            connections: 512,
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            logins_per_minute: 5,
            anonymous_in_flight: 16,
            anonymous_per_address: 4,
            connections_per_address: 64,
        }
    }
}

/// The budgets being spent.
pub struct Limits {
    config: LimitsConfig,
    /// Whose `X-Forwarded-For` names the client.
    proxies: TrustedProxies,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_token: DefaultKeyedRateLimiter<String>,
    failed_logins: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses whose failed logins are spent, until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    in_flight: Arc<Semaphore>,
    anonymous: Arc<Semaphore>,
    /// Anonymous requests in flight, by address.
    anonymous_by_address: PerAddress,
    /// The replicas sharing the budgets (at least this one).
    replicas: std::sync::atomic::AtomicU32,
}

/// Most addresses kept blocked at once (each also spends its own budget).
const MAX_BLOCKED: usize = 10_000;

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

/// 429 with how long to wait, in whole seconds (at least one).
fn too_many(wait: Duration, what: &str) -> ApiError {
    ApiError::too_many(wait.as_secs() + 1, what)
}

impl Limits {
    /// Fresh budgets.
    pub fn new(config: LimitsConfig) -> Self {
        Self {
            config,
            proxies: TrustedProxies::default(),
            per_address: RateLimiter::keyed(quota(config.per_minute)),
            per_token: RateLimiter::keyed(quota(config.per_minute)),
            failed_logins: RateLimiter::keyed(quota(config.logins_per_minute)),
            blocked: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Semaphore::new(config.in_flight)),
            anonymous: Arc::new(Semaphore::new(config.anonymous_in_flight.max(1))),
            anonymous_by_address: PerAddress::default(),
            replicas: std::sync::atomic::AtomicU32::new(1),
        }
    }

    /// How many replicas share the budgets now (at least one).
    pub fn set_replicas(&self, replicas: u32) {
        self.replicas
            .store(replicas.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Spends this replica's share of `key`'s budget in `limiter`: as many
    /// cells as there are replicas, at most the whole budget.
    fn spend<K: Clone + std::hash::Hash + Eq>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
        budget: u32,
    ) -> Result<(), Duration> {
        let replicas = self.replicas.load(std::sync::atomic::Ordering::Relaxed);
        let cells = NonZeroU32::new(replicas.min(budget.max(1))).unwrap_or(NonZeroU32::MIN);
        match limiter.check_key_n(key, cells) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(DefaultClock::default().now())),
            // More cells than the budget holds: refused for a whole window.
            Err(_) => Err(Duration::from_secs(60)),
        }
    }

    /// The numbers in force.
    pub fn config(&self) -> LimitsConfig {
        self.config
    }

    /// The same budgets, believing `X-Forwarded-For` from `proxies`.
    #[must_use]
    pub fn trusting(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The proxies whose `X-Forwarded-For` is believed.
    pub fn proxies(&self) -> &TrustedProxies {
        &self.proxies
    }

    /// Spends one request of the token's budget.
    pub fn token(&self, id: &str) -> Result<(), ApiError> {
        self.spend(&self.per_token, &id.to_string(), self.config.per_minute)
            .map_err(|wait| too_many(wait, "este token"))
    }

    /// Whether the address may try to log in now.
    pub fn may_log_in(&self, address: IpAddr) -> Result<(), ApiError> {
        let blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        match blocked.get(&address) {
            Some(until) if *until > Instant::now() => Err(too_many(
                until.saturating_duration_since(Instant::now()),
                "tentativas de entrar deste endereço",
            )),
            _ => Ok(()),
        }
    }

    /// Spends one failed login of the address's budget; past it, the
    /// address is refused until the budget refills (429 now).
    pub fn failed_login(&self, address: IpAddr) -> Result<(), ApiError> {
        let Err(wait) = self.spend(&self.failed_logins, &address, self.config.logins_per_minute) else {
            return Ok(());
        };
        let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        if blocked.len() < MAX_BLOCKED {
            blocked.insert(address, Instant::now() + wait);
        }
        Err(too_many(wait, "tentativas de entrar deste endereço"))
    }

    /// Forgets clients whose budgets are full again, so the tables stay
    /// as small as the clients of the last minute.
    pub fn forget_idle(&self) {
        self.per_address.retain_recent();
        self.per_token.retain_recent();
        self.failed_logins.retain_recent();
        let now = Instant::now();
        self.blocked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until > now);
    }
}

/// The client's address as [`admit`] found it (behind a trusted proxy,
/// from `X-Forwarded-For`).
#[derive(Debug, Clone, Copy)]
struct ClientAddress(IpAddr);

/// The client's address: as [`admit`] found it, else the connection's.
pub fn peer(request: &Request) -> IpAddr {
    if let Some(ClientAddress(client)) = request.extensions().get::<ClientAddress>() {
        return *client;
    }
    socket_peer(request)
}

/// The address of the connection, as the accept loop recorded it.
fn socket_peer(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

/// Finds the client (behind a trusted proxy, from `X-Forwarded-For`) and
/// admits the request within its address's budget (before anything else
/// is read of it).
pub async fn admit(State(limits): State<Arc<Limits>>, mut request: Request, next: Next) -> Response {
    let client = limits.proxies.client(socket_peer(&request), request.headers());
    request.extensions_mut().insert(ClientAddress(client));
    if let Err(wait) = limits.spend(&limits.per_address, &client, limits.config.per_minute) {
        return too_many(wait, "este endereço").into_response();
    }
    next.run(request).await
}

/// How many of something (open connections, anonymous requests) each
/// client address holds, each counted until its [`Counted`] is dropped.
#[derive(Clone, Default)]
pub(crate) struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One of an address's, counted until dropped.
pub(crate) struct Counted {
    address: IpAddr,
    table: PerAddress,
}

impl PerAddress {
    /// Counts one more for `address`, unless it already has `cap`.
    pub(crate) fn open(&self, address: IpAddr, cap: usize) -> Option<Counted> {
        let mut table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = table.entry(address).or_insert(0);
        if *count >= cap.max(1) {
            return None;
        }
        *count += 1;
        Some(Counted {
            address,
            table: self.clone(),
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = table.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                table.remove(&self.address);
            }
        }
    }
}

impl Limits {
    /// A place in flight for a known caller (the main pool) or an
    /// anonymous one (its own small pool, a few per address); 429 when
    /// there is none.
    fn place(&self, known: bool, address: IpAddr) -> Result<Box<dyn Send>, ApiError> {
        let busy = || ApiError::too_many(1, "o serviço, com requisições demais em andamento");
        if known {
            let permit = self.in_flight.clone().try_acquire_owned().map_err(|_| busy())?;
            return Ok(Box::new(permit));
        }
        let permit = self.anonymous.clone().try_acquire_owned().map_err(|_| busy())?;
        let counted = self
            .anonymous_by_address
            .open(address, self.config.anonymous_per_address)
            .ok_or_else(|| ApiError::too_many(1, "este endereço, com requisições demais em andamento"))?;
        Ok(Box::new((permit, counted)))
    }
}

/// Takes a place in flight for the caller the role check found, reads the
/// body within its deadline and size (408, 413), then gives the handler
/// its time budget.
pub async fn slot(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    let known = request.extensions().get::<Known>().is_some_and(|known| known.0);
    let _place = match limits.place(known, peer(&request)) {
        Ok(place) => place,
        Err(busy) => return busy.into_response(),
    };
    let weight = request.extensions().get::<Weight>().copied().unwrap_or_default();
    let (most, budget) = (weight.body_bytes(), weight.budget());
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(limits.config.body_timeout, axum::body::to_bytes(body, most)).await;
    let bytes = match read {
        Err(_) => return ApiError::slow_client().into_response(),
        Ok(Err(_)) => return ApiError::too_large(most).into_response(),
        Ok(Ok(bytes)) => bytes,
    };
    match tokio::time::timeout(budget, next.run(Request::from_parts(parts, Body::from(bytes)))).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(limits: &Limits, address: IpAddr) -> usize {
        (0..100)
            .take_while(|_| {
                limits
                    .spend(&limits.per_address, &address, limits.config.per_minute)
                    .is_ok()
            })
            .count()
    }

    #[test]
    fn each_replica_spends_its_share_of_a_clients_budget() {
        let config = LimitsConfig {
            per_minute: 12,
            ..LimitsConfig::default()
        };
        let alone = Limits::new(config);
        assert_eq!(answered(&alone, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), 12);
        let one_of_three = Limits::new(config);
        one_of_three.set_replicas(3);
        assert_eq!(answered(&one_of_three, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), 4);
        // More replicas than the budget has requests: one each at most.
        let crowded = Limits::new(config);
        crowded.set_replicas(50);
        assert_eq!(answered(&crowded, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), 1);
    }
}
