//! `--tls-cert/--tls-key`: the service speaks TLS with the given
//! certificate, its session cookie is then `Secure`, plain HTTP on the
//! same port gets nothing, and files that cannot be used are named.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use roteiro_auth::Role;
use roteiro_service::{Guard, LimitsConfig, Tls};
use rustls::pki_types::{CertificateDer, ServerName};

struct Files {
    folder: PathBuf,
    cert_pem: String,
}

fn certificate(name: &str) -> Files {
    let folder = std::env::temp_dir().join(format!("roteiro-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = made.cert.pem();
    std::fs::write(folder.join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(folder.join("key.pem"), made.signing_key.serialize_pem()).unwrap();
    Files { folder, cert_pem }
}

/// Serves over TLS; the runtime, the address and an admin token.
fn serve_tls(files: &Files) -> (tokio::runtime::Runtime, SocketAddr, String) {
    let tls = Tls::from_pem_files(&files.folder.join("cert.pem"), &files.folder.join("key.pem")).expect("usable files");
    let database = files.folder.join("roteiro.db").to_string_lossy().into_owned();
    let token = roteiro_auth::Tokens::open(&database)
        .unwrap()
        .create("tls", Role::Admin, chrono::Utc::now())
        .unwrap()
        .1;
    let guard = Guard::tokens(&database, true, true).unwrap();
    let (runtime, addr) = common::serve_desk(None, guard, LimitsConfig::default(), Some(tls), None);
    (runtime, addr, token)
}

/// One exchange over TLS, trusting only `cert_pem`: the whole answer.
fn over_tls(addr: SocketAddr, cert_pem: &str, request: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut stream = rustls::StreamOwned::new(connection, socket);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn the_service_speaks_tls_and_its_session_cookie_is_secure() {
    let files = certificate("ok");
    let (_runtime, addr, token) = serve_tls(&files);
    let health = over_tls(
        addr,
        &files.cert_pem,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let body = format!(r#"{{"token": "{token}"}}"#);
    let login = format!(
        "POST /v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = over_tls(addr, &files.cert_pem, &login);
    let cookie = answer
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");

    // Plain HTTP on the TLS port gets no answer of ours.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
    std::fs::remove_dir_all(&files.folder).unwrap();
}

#[test]
fn unusable_files_are_named() {
    let files = certificate("bad");
    let cert = files.folder.join("cert.pem");
    let missing = files.folder.join("nada.pem");
    let refused = Tls::from_pem_files(&cert, &missing)
        .err()
        .expect("a missing key is refused");
    assert!(refused.contains("nada.pem"), "{refused}");
    let empty = files.folder.join("vazio.pem");
    std::fs::write(&empty, "não é PEM").unwrap();
    let refused = Tls::from_pem_files(&empty, &files.folder.join("key.pem"))
        .err()
        .expect("refused");
    assert!(refused.contains("vazio.pem"), "{refused}");
    std::fs::remove_dir_all(&files.folder).unwrap();
}
