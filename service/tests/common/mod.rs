//! What the service's tests share: the shipped bundle served in-process on
//! a loopback port, and one HTTP/1.1 exchange at a time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use roteiro_engine::Bundle;
use roteiro_service::{router, Desk, LogConfig};

/// The shipped bundle folder.
pub fn policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Serves the shipped bundle (with `log`, when given) on 127.0.0.1 from a
/// runtime of its own; the runtime lives as long as the returned guard.
pub fn serve(log: Option<LogConfig>) -> (tokio::runtime::Runtime, SocketAddr) {
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
    let app = router(Arc::new(Desk::new(bundle, None, log)));
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, addr)
}

/// One HTTP/1.1 exchange: the status and the body.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
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
