//! The attacks of the second security review, each reproduced on loopback
//! and now refused or absorbed, never a 500: methods the role table does
//! not name (HEAD ran GET handlers for anyone), anonymous slow bodies
//! taking every slot, one address holding hundreds of sockets, missing
//! security headers, DNS rebinding on a fresh install, login CSRF, logout
//! without the session's value, errors echoing bodies, NUL characters.
//! Attackers connect from 127.0.0.2, the analyst from 127.0.0.1: two
//! addresses of this machine.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;
#[path = "../../tests/support/postgres.rs"]
mod postgres;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{exchange, request, Endpoint};
use roteiro_auth::Role;
use roteiro_service::{LimitsConfig, LogConfig, OPERATIONS};

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn scratch(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("roteiro-hostile-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path.to_string_lossy().into_owned()
}

fn log_config(database: &str) -> LogConfig {
    LogConfig::open(database, roteiro_decision_log::Durability::Commit).expect("log")
}

/// A connection to `to` from the loopback address 127.0.0.2.
fn from_elsewhere(to: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.2:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.connect(&to.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    stream
}

fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The 99th percentile of `latencies`.
fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)]
}

#[test]
fn every_method_the_table_does_not_name_is_refused_before_any_handler_for_everyone() {
    let (_runtime, admin) = common::serve_with(Some(log_config(&scratch("methods"))), LimitsConfig::default());
    let analyst = admin.as_new(Role::Analista, "ana");
    let revoked = admin.as_new(Role::Admin, "revogado");
    let id = revoked.token.split('_').nth(1).unwrap().to_string();
    assert_eq!(request(&admin, "POST", &format!("/v1/tokens/{id}/revoke"), "").0, 200);
    std::thread::sleep(Duration::from_millis(1500));
    let callers = [
        ("", "anônimo"),
        (&*bearer(&revoked.token), "revogado"),
        (&*bearer(&analyst.token), "analista"),
        (&*bearer(&admin.token), "admin"),
    ];
    let mut paths: Vec<&str> = OPERATIONS.iter().map(|op| op.path).collect();
    paths.dedup();
    for path in paths {
        let url = path.replace("{ticket}", "4242").replace("{id}", "nenhum");
        for method in METHODS {
            if OPERATIONS.iter().any(|op| op.method == method && op.path == path) {
                continue;
            }
            for (headers, who) in &callers {
                let (status, head, body) = exchange(admin.addr, method, &url, headers, "{}");
                assert_eq!(status, 405, "{method} {path} as {who}: {head}{body}");
                assert!(
                    head.to_ascii_lowercase().contains("\r\nallow: "),
                    "{method} {path}: {head}"
                );
                assert!(
                    !head.to_ascii_lowercase().contains("x-dados-pessoais"),
                    "{method} {path}: {head}"
                );
            }
        }
    }
    // The review's cases, by name.
    for path in [
        "/v1/tokens",
        "/v1/log/export?personal=true",
        "/v1/cases/4242",
        "/v1/diff",
    ] {
        assert_eq!(exchange(admin.addr, "HEAD", path, "", "").0, 405, "HEAD {path}");
    }
}

#[test]
fn anonymous_slow_bodies_never_take_a_logged_in_analysts_slots() {
    let limits = LimitsConfig {
        body_timeout: Duration::from_secs(8),
        ..LimitsConfig::default()
    };
    let (_runtime, admin) = common::serve_with(None, limits);
    let analyst = admin.as_new(Role::Analista, "ana");
    // 64 uploads that never finish, with no token, from one address, to
    // the one route that reads an anonymous body (login).
    let slow: Vec<TcpStream> = (0..64)
        .map(|_| {
            let mut stream = from_elsewhere(admin.addr);
            let head = "POST /v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
            let _ = stream.write_all(head.as_bytes());
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let situation = r#"{"now": "2026-12-08T10:15:00-03:00", "request": {"topic": "boleto"}}"#;
    let mut latencies = Vec::new();
    for _ in 0..48 {
        let started = Instant::now();
        let (status, body) = request(&analyst, "POST", "/v1/decide", situation);
        latencies.push(started.elapsed());
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        p99(latencies.clone()) < Duration::from_millis(50),
        "p99 {:?}",
        p99(latencies)
    );
    drop(slow);
}

#[test]
fn one_address_holding_hundreds_of_sockets_does_not_slow_another() {
    let limits = LimitsConfig {
        connections_per_address: 16,
        ..LimitsConfig::default()
    };
    let (_runtime, admin) = common::serve_with(None, limits);
    let held: Vec<TcpStream> = (0..600).map(|_| from_elsewhere(admin.addr)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut latencies = Vec::new();
    for _ in 0..40 {
        let started = Instant::now();
        assert_eq!(request(&admin, "GET", "/v1/vocabulary", "").0, 200);
        latencies.push(started.elapsed());
    }
    assert!(
        p99(latencies.clone()) < Duration::from_millis(50),
        "p99 {:?}",
        p99(latencies)
    );
    // Past its share, the address's connections were closed at once.
    let mut last = held.into_iter().last().unwrap();
    last.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(last.read(&mut byte).unwrap_or(0), 0, "closed, not kept waiting");
}

#[test]
fn answers_carry_the_security_headers_and_api_answers_are_never_stored() {
    let (_runtime, admin) = common::serve(None);
    let (status, head, page) = exchange(admin.addr, "GET", "/", "", "");
    assert_eq!(status, 200);
    // Every file the page loads is served, and revalidated after an
    // upgrade like the page itself.
    let loaded: Vec<&str> = (page.split("src=\"").skip(1).chain(page.split("href=\"").skip(1)))
        .filter_map(|rest| rest.split('"').next())
        .filter(|path| path.starts_with('/'))
        .collect();
    assert!(loaded.len() >= 4, "{loaded:?}");
    for path in loaded {
        let (status, file_head, _) = exchange(admin.addr, "GET", path, "", "");
        assert_eq!(status, 200, "{path}");
        assert!(
            file_head.to_ascii_lowercase().contains("cache-control: no-cache"),
            "{path}: {file_head}"
        );
    }
    let head = head.to_ascii_lowercase();
    for wanted in [
        "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self';",
        "frame-ancestors 'none'",
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "referrer-policy: no-referrer",
        "cache-control: no-cache",
    ] {
        assert!(head.contains(wanted), "{wanted}: {head}");
    }
    assert!(!head.contains("strict-transport-security"), "HSTS only under TLS");
    let (_, head, _) = exchange(admin.addr, "GET", "/v1/vocabulary", &bearer(&admin.token), "");
    assert!(head.to_ascii_lowercase().contains("cache-control: no-store"), "{head}");
    let (_, head, _) = exchange(admin.addr, "GET", "/v1/nada", "", "");
    assert!(head.to_ascii_lowercase().contains("cache-control: no-store"), "{head}");
}

/// One exchange with a chosen `Host`.
fn with_host(addr: SocketAddr, host: &str, method: &str, path: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let answer = read_all(&mut stream);
    answer.get(9..12).and_then(|code| code.parse().ok()).unwrap_or(0)
}

#[test]
fn a_fresh_install_opens_only_to_requests_that_name_this_machine() {
    let database = scratch("rebinding");
    let guard = roteiro_service::Guard::tokens(&database, false, true).unwrap();
    let (_runtime, addr) = common::serve_desk(Some(log_config(&database)), guard, LimitsConfig::default(), None, None);
    let port = addr.port();
    // A page at attacker.example whose name now points at 127.0.0.1.
    let token = r#"{"name": "x", "role": "admin"}"#;
    assert_eq!(
        with_host(addr, &format!("attacker.example:{port}"), "POST", "/v1/tokens", token),
        401
    );
    assert_eq!(with_host(addr, "attacker.example", "GET", "/v1/vocabulary", ""), 401);
    assert_eq!(
        roteiro_auth::Tokens::open(&database).unwrap().list().unwrap().len(),
        0,
        "no token was made"
    );
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "[::1]".to_string(),
    ] {
        assert_eq!(with_host(addr, &host, "GET", "/v1/vocabulary", ""), 200, "{host}");
    }
}

#[test]
fn login_takes_only_json_from_its_own_origin_and_logout_needs_the_sessions_value() {
    let (_runtime, admin) = common::serve(None);
    let body = format!(r#"{{"token": "{}"}}"#, admin.token);
    // A cross-site form posts text/plain without asking first.
    let mut stream = TcpStream::connect(admin.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST /v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let form = read_all(&mut stream);
    assert!(form.starts_with("HTTP/1.1 415"), "{form}");
    assert!(!form.to_ascii_lowercase().contains("set-cookie"), "{form}");
    let origin = "Origin: https://attacker.example\r\n";
    assert_eq!(exchange(admin.addr, "POST", "/v1/login", origin, &body).0, 403);
    let (status, head, answer) = exchange(admin.addr, "POST", "/v1/login", "Origin: http://localhost\r\n", &body);
    assert_eq!(status, 200, "{answer}");
    let cookie = head
        .lines()
        .find_map(|line| {
            line.strip_prefix("set-cookie: ")
                .or_else(|| line.strip_prefix("Set-Cookie: "))
        })
        .and_then(|value| value.split(';').next())
        .unwrap()
        .to_string();
    let csrf: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let csrf = csrf["csrf"].as_str().unwrap().to_string();
    let with_cookie = format!("Cookie: {cookie}\r\n");
    // Another site's logout (the cookie rides along, the value does not).
    assert_eq!(exchange(admin.addr, "POST", "/v1/logout", &with_cookie, "").0, 403);
    assert_eq!(
        exchange(admin.addr, "GET", "/v1/session", &with_cookie, "").0,
        200,
        "still in"
    );
    let ours = format!("{with_cookie}X-CSRF-Token: {csrf}\r\n");
    assert_eq!(exchange(admin.addr, "POST", "/v1/logout", &ours, "").0, 204);
    assert_eq!(exchange(admin.addr, "GET", "/v1/session", &with_cookie, "").0, 401);
}

fn errors_echo_nothing_and_nul_is_a_400(endpoint: &Endpoint) {
    let ticket = postgres::ticket(3);
    let opened = request(
        endpoint,
        "POST",
        &format!("/v1/cases/{ticket}"),
        r#"{"request": {"topic": "xml"}}"#,
    );
    assert_eq!(opened.0, 201, "{}", opened.1);
    let private = r#"{"motivo": "Maria Souza (21) 99999-0000", "answers": 5}"#;
    for path in [
        format!("/v1/cases/{ticket}/close"),
        format!("/v1/cases/{ticket}/answers"),
    ] {
        let (status, body) = request(endpoint, "POST", &path, private);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(!body.contains("Maria") && !body.contains("99999"), "{path}: {body}");
    }
    let (status, body) = request(endpoint, "GET", "/v1/cases?due=true&team=io%00x", "");
    assert!(status < 500, "{status} {body}");
    let (status, body) = request(
        endpoint,
        "POST",
        &format!("/v1/cases/{ticket}/close"),
        r#"{"reason": "feito\u0000"}"#,
    );
    assert_eq!(status, 400, "{body}");
}

#[test]
fn errors_never_echo_a_body_and_a_nul_character_is_refused_on_sqlite() {
    let (_runtime, admin) = common::serve(Some(log_config(&scratch("echo"))));
    errors_echo_nothing_and_nul_is_a_400(&admin);
}

#[test]
fn errors_never_echo_a_body_and_a_nul_character_is_refused_on_postgresql() {
    let Some(address) = postgres::address() else { return };
    let (_runtime, admin) = common::serve(Some(log_config(&address)));
    errors_echo_nothing_and_nul_is_a_400(&admin);
}

#[test]
fn a_late_body_is_the_promised_408_after_its_own_deadline_not_a_503() {
    // Longer than the handler's 2 s budget, which starts once the body is in.
    let limits = LimitsConfig {
        body_timeout: Duration::from_secs(3),
        ..LimitsConfig::default()
    };
    let (_runtime, admin) = common::serve_with(None, limits);
    let mut stream = TcpStream::connect(admin.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let head = format!(
        "POST /v1/decide HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        bearer(&admin.token)
    );
    stream.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let answer = read_all(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(2900),
        "{:?}",
        started.elapsed()
    );
}
