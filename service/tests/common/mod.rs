//! What the service's tests share: the shipped bundle served in-process on
//! a loopback port, and one HTTP/1.1 exchange at a time.
#![allow(dead_code, reason = "each test crate uses a different subset")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;

use roteiro_auth::Role;
use roteiro_engine::Bundle;
use roteiro_service::{App, Desk, Guard, Limits, LimitsConfig, LogConfig};

/// A service being served and a token to speak to it with (an admin's,
/// unless a test asks for another).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The bearer token requests carry.
    pub token: String,
    /// The database its tokens are in.
    pub database: String,
}

impl Endpoint {
    /// The same service spoken to with a new token of `role` for `name`,
    /// made in the service's database; returned once the service knows it
    /// (it reads its tokens every second).
    pub fn as_new(&self, role: Role, name: &str) -> Endpoint {
        let mut tokens = roteiro_auth::Tokens::open(&self.database).expect("tokens");
        let name = format!("{name}-{}", self.addr.port());
        let token = tokens.create(&name, role, chrono::Utc::now()).expect("creates").1;
        let endpoint = Endpoint { token, ..self.clone() };
        let known = (0..50).any(|_| {
            let known = request(&endpoint, "GET", "/v1/session", "").0 == 200;
            if !known {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            known
        });
        assert!(known, "the service did not take the new token within 5 s");
        endpoint
    }
}

/// A scratch SQLite file for a test that gives no log of its own.
fn scratch_database() -> String {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("roteiro-service-{}-{n}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path.to_string_lossy().into_owned()
}

/// The shipped bundle folder.
pub fn policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Serves the shipped bundle (with `log`, when given) on 127.0.0.1 from a
/// runtime of its own, through the service's own accept loop, with an
/// admin token; the runtime lives as long as the returned guard.
pub fn serve(log: Option<LogConfig>) -> (tokio::runtime::Runtime, Endpoint) {
    serve_with(log, LimitsConfig::default())
}

/// [`serve`] with the given budgets.
pub fn serve_with(log: Option<LogConfig>, limits: LimitsConfig) -> (tokio::runtime::Runtime, Endpoint) {
    serve_full(log, limits, None)
}

/// A helpdesk at `base` (a stand-in) signed in with `token`, quick to
/// give up so a test never waits long.
pub fn helpdesk_config(base: String, token: &str) -> roteiro_helpdesk::MovideskConfig {
    roteiro_helpdesk::MovideskConfig {
        base_url: base,
        token: roteiro_helpdesk::Secret::new(token.into()),
        agent_id: "agente-9".into(),
        per_minute: 10,
        minute: std::time::Duration::from_secs(1),
        timeout: std::time::Duration::from_secs(2),
        max_wait: std::time::Duration::from_secs(2),
    }
}

/// [`serve`] with the given budgets and helpdesk.
pub fn serve_full(
    log: Option<LogConfig>,
    limits: LimitsConfig,
    helpdesk: Option<roteiro_helpdesk::MovideskConfig>,
) -> (tokio::runtime::Runtime, Endpoint) {
    let database = log
        .as_ref()
        .map_or_else(scratch_database, |log| log.pool.address().to_string());
    let token = roteiro_auth::Tokens::open(&database)
        .expect("tokens")
        .create(
            &format!("admin-{}", std::process::id()),
            Role::Admin,
            chrono::Utc::now(),
        )
        .expect("an admin token")
        .1;
    let guard = Guard::tokens(&database, false, true).expect("the keyring");
    let (runtime, addr) = serve_desk(log, guard, limits, None, helpdesk);
    (runtime, Endpoint { addr, token, database })
}

/// The shipped bundle served with `guard` on a loopback port, through
/// the service's own accept loop (over TLS when given), from a runtime of
/// its own.
pub fn serve_desk(
    log: Option<LogConfig>,
    guard: Guard,
    limits: LimitsConfig,
    tls: Option<roteiro_service::Tls>,
    helpdesk: Option<roteiro_helpdesk::MovideskConfig>,
) -> (tokio::runtime::Runtime, SocketAddr) {
    serve_limited(log, guard, Limits::new(limits), tls, helpdesk)
}

/// [`serve_desk`] with budgets already made (trusting a proxy, say).
pub fn serve_limited(
    log: Option<LogConfig>,
    guard: Guard,
    limits: Limits,
    tls: Option<roteiro_service::Tls>,
    helpdesk: Option<roteiro_helpdesk::MovideskConfig>,
) -> (tokio::runtime::Runtime, SocketAddr) {
    let bundle = Bundle::load_dir(&policies()).expect("the shipped bundle loads");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let addr = listener.local_addr().expect("address");
    let mut desk = Desk::new(bundle, None, log);
    if let Some(helpdesk) = helpdesk {
        let movidesk = match desk.pool() {
            Some(pool) => roteiro_helpdesk::Movidesk::sharing(helpdesk, pool),
            None => roteiro_helpdesk::Movidesk::new(helpdesk),
        };
        desk = desk.with_helpdesk(movidesk);
    }
    runtime.spawn(roteiro_service::serve(
        listener,
        App::new(desk, guard, limits),
        tls,
        std::future::pending(),
    ));
    (runtime, addr)
}

/// One HTTP/1.1 exchange as the endpoint's admin: the status and the body.
pub fn request(endpoint: &Endpoint, method: &str, path: &str, body: &str) -> (u16, String) {
    let auth = format!("Authorization: Bearer {}\r\n", endpoint.token);
    let (status, _, body) = exchange(endpoint.addr, method, path, &auth, body);
    (status, body)
}

/// One HTTP/1.1 exchange with the given extra header lines (each ending
/// in CRLF): the status, the head and the body.
pub fn exchange(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (status, head.to_string(), body.to_string())
}
