//! The service's router in-process, on a loopback port of its own: what a
//! client of `/v1` gets, without the binary around it (`tests/service.rs`
//! at the root runs `roteiro serve` itself).
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use roteiro_engine::Bundle;
use roteiro_service::{router, Desk};

fn policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Serves the shipped bundle on 127.0.0.1 from a runtime of its own; the
/// runtime lives as long as the returned guard.
fn serve() -> (tokio::runtime::Runtime, SocketAddr) {
    let bundle = Bundle::load_dir(&policies()).expect("the shipped bundle loads");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let addr = listener.local_addr().expect("address");
    let app = router(Arc::new(Desk::new(bundle, None, None)));
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, addr)
}

/// One HTTP/1.1 exchange: the status and the body.
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn a_decision_over_http_is_the_engines_decision() {
    let (_runtime, addr) = serve();
    let situation = r#"{"now": "2026-12-08T10:15:00-03:00", "request": {"topic": "configuracao_balanca", "equipment": {"homologated": false}}}"#;
    let (status, body) = request(addr, "POST", "/v1/decide", situation);
    assert_eq!(status, 200, "{body}");
    let bundle = Bundle::load_dir(&policies()).expect("loads");
    let parsed = bundle.parse_situation(situation, "corpo").expect("valid");
    let now = parsed.now().expect("pinned");
    let expected = serde_json::to_value(bundle.decide(&parsed, now).expect("decides")).expect("json");
    let served: serde_json::Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(served, expected);
    assert_eq!(served["outputs"]["io_scheduling"], false);
}

#[test]
fn bad_and_empty_situations_are_answered_in_portuguese_with_a_4xx() {
    let (_runtime, addr) = serve();
    let (status, body) = request(addr, "POST", "/v1/decide", r#"{"client": {"plan": "ouro"}}"#);
    // A well-formed body with a value the vocabulary refuses.
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("client.plan") && body.contains("ouro"), "{body}");
    let (status, body) = request(addr, "POST", "/v1/decide", "");
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body.contains("vazio"), "{body}");
}

#[test]
fn health_and_an_unknown_route_answer_without_the_binary() {
    let (_runtime, addr) = serve();
    assert_eq!(request(addr, "GET", "/healthz", "").0, 200);
    let (status, body) = request(addr, "GET", "/v1/nada", "");
    assert_eq!(status, 404, "{body}");
}
