//! `roteiro serve` for real: the binary on a loopback port, spoken to over
//! HTTP/1.1 from a plain socket. Every loop here is bounded in count and
//! time, and every server is stopped with SIGTERM at the end.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const NOW: &str = "2026-12-08T10:15:00-03:00";

/// A running `roteiro serve` over a scratch copy of the shipped bundle.
struct Server {
    child: Child,
    addr: String,
    folder: PathBuf,
    token: String,
}

impl Server {
    fn start(name: &str) -> Self {
        let folder = std::env::temp_dir().join(format!("roteiro-serve-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        common::copy_shipped_to(&folder);
        let database = folder.with_extension("db");
        let served = common::start_serve(&[
            "--policies".as_ref(),
            folder.as_os_str(),
            "--database".as_ref(),
            database.as_os_str(),
        ]);
        Self {
            child: served.child,
            addr: served.addr,
            folder,
            token: served.token,
        }
    }

    /// One request; the status and the body.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            self.token,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let _ = stream.write_all(body);
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    fn json(&self, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let (status, text) = self.request(method, path, body.as_bytes());
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}")),
        )
    }

    /// Waits (at most ~10 s) until `check` holds.
    fn eventually(&self, what: &str, check: impl Fn(&Self) -> bool) {
        for _ in 0..100 {
            if check(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("never happened: {what}");
    }

    fn edit(&self, file: &str, edit: impl Fn(&str) -> String) {
        let path = self.folder.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(&text)).unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = common::terminate(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.folder);
        for suffix in ["db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(self.folder.with_extension(suffix));
        }
    }
}

fn cli_decision(folder: &Path, situation: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["decide", "-", "--format", "json", "--policies"])
        .arg(folder)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(situation.as_bytes()).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

#[test]
fn decide_over_http_is_byte_for_byte_the_command_lines_decision() {
    let server = Server::start("same");
    for example in [
        "004-cenario1-treinamento.yaml",
        "002-sistema-bloqueado.yaml",
        "001-core-sem-contato.yaml",
    ] {
        let yaml = std::fs::read_to_string(common::policies().join("examples").join(example)).unwrap();
        let value: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
        let json = serde_json::to_string(&value).unwrap();
        let (status, body) = server.request("POST", "/v1/decide", json.as_bytes());
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, cli_decision(&server.folder, &json), "{example}");
    }
}

#[test]
fn bad_requests_get_portuguese_json_errors_never_a_500() {
    let server = Server::start("errors");
    let (status, body) = server.json("POST", "/v1/decide", r#"{"client": {"plan": "gold"}}"#);
    assert_eq!(status, 422);
    assert_eq!(body["field"], "client.plan");
    assert_eq!(body["found"], "`gold`");
    assert!(body["allowed"].as_str().unwrap().contains("premium"));
    let (status, body) = server.json("POST", "/v1/decide", r#"{"client": {"plan": "#);
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("malformado"), "{body}");
    let (status, body) = server.json("POST", "/v1/decide", r#"{"clent": {}}"#);
    assert_eq!(status, 422);
    assert!(
        body["error"].as_str().unwrap().contains("você quis dizer `client`?"),
        "{body}"
    );
    let huge = format!(r#"{{"contact": {{"name": "{}"}}}}"#, "a".repeat(70 * 1024));
    let (status, text) = server.request("POST", "/v1/decide", huge.as_bytes());
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("64") || text.contains("65536"), "{text}");
    let (status, body) = server.json("GET", "/v1/nada", "");
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("rota desconhecida"));
}

#[test]
fn vocabulary_bundle_openapi_metrics_and_the_page_answer() {
    let server = Server::start("reads");
    let (status, vocabulary) = server.json("GET", "/v1/vocabulary", "");
    assert_eq!(status, 200);
    let topic = vocabulary["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "request.topic")
        .unwrap();
    assert!(topic["question"].as_str().unwrap().ends_with('?'));
    assert!(topic["values"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "sistema_bloqueado"));
    let (_, bundle) = server.json("GET", "/v1/bundle", "");
    assert_eq!(bundle["name"], "roteiro-suporte");
    assert!(bundle["rules"].as_u64().unwrap() > 50);
    let (_, openapi) = server.json("GET", "/openapi.json", "");
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/v1/decide"]["post"].is_object());
    assert!(
        !openapi.to_string().contains("#/$defs/"),
        "references point into components"
    );
    server.request(
        "POST",
        "/v1/decide",
        format!(r#"{{"now": "{NOW}", "request": {{"topic": "xml"}}}}"#).as_bytes(),
    );
    let (_, metrics) = server.request("GET", "/metrics", b"");
    assert!(
        metrics.contains("roteiro_decisions_total{route=\"suporte\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("roteiro_rule_fired_total{rule=\"padrao.xml\"} 1"),
        "{metrics}"
    );
    server.eventually("the decision is in the log", |server| {
        server.json("GET", "/v1/stats", "").1["decisions"] == 1
    });
    let (_, stats) = server.json("GET", "/v1/stats", "");
    assert_eq!(stats["by_route"]["suporte"], 1);
    // The service keeps its reading connection: a decision logged after a
    // read is seen by the next ones.
    server.request(
        "POST",
        "/v1/decide",
        format!(r#"{{"now": "{NOW}", "request": {{"topic": "xml"}}}}"#).as_bytes(),
    );
    server.eventually("the second decision is in the log", |server| {
        server.json("GET", "/v1/stats", "").1["decisions"] == 2
    });
    let (status, body) = server.json("GET", "/v1/stats?since=ontem", "");
    assert_eq!((status, body["field"].as_str()), (400, Some("since")));
    let (status, page) = server.request("GET", "/", b"");
    assert_eq!(status, 200);
    assert!(page.contains("lang=\"pt-BR\"") && page.contains("/app.js"));
    let (_, explanation) = server.json(
        "POST",
        "/v1/explain",
        &format!(r#"{{"now": "{NOW}", "request": {{"topic": "xml"}}}}"#),
    );
    assert!(explanation["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "padrao.xml"));
}

#[test]
fn a_process_owner_sees_which_logged_decisions_an_edit_changes() {
    let server = Server::start("diff");
    let xml = format!(r#"{{"now": "{NOW}", "request": {{"topic": "xml"}}}}"#);
    let boleto = format!(r#"{{"now": "{NOW}", "request": {{"topic": "boleto"}}}}"#);
    for situation in [&xml, &boleto] {
        assert_eq!(server.request("POST", "/v1/decide", situation.as_bytes()).0, 200);
    }
    server.eventually("both decisions are in the log", |server| {
        server.json("GET", "/v1/diff", "").1["compared"] == 2
    });
    let (_, unchanged) = server.json("GET", "/v1/diff", "");
    assert_eq!(
        (unchanged["same"].as_u64(), unchanged["changed"].as_u64()),
        (Some(2), Some(0)),
        "{unchanged}"
    );
    let (_, before) = server.json("GET", "/v1/bundle", "");
    server.edit("procedures/002-atendimento-padrao.yaml", |text| {
        text.replace(r#"request.topic == "xml""#, r#"request.topic == "boleto""#)
    });
    server.eventually("the edit is served", |server| {
        server.json("GET", "/v1/bundle", "").1["digest"] != before["digest"]
    });
    let (status, diff) = server.json("GET", "/v1/diff", "");
    assert_eq!(status, 200);
    assert_eq!(diff["changed"], 2, "padrao.xml leaves xml and joins boleto: {diff}");
    let change = &diff["changes"][0];
    let fired = |side: &str| {
        change[side]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| rule == "padrao.xml")
    };
    assert_ne!(fired("before"), fired("after"), "{change}");
}

#[test]
fn an_edit_reloads_and_a_broken_edit_is_refused_while_the_last_good_bundle_serves() {
    let server = Server::start("reload");
    let situation = format!(r#"{{"now": "{NOW}", "request": {{"topic": "xml"}}}}"#);
    let decided = |server: &Server| server.request("POST", "/v1/decide", situation.as_bytes()).1;
    assert!(decided(&server).contains("Portal Contábil"));
    let (_, before) = server.json("GET", "/v1/bundle", "");
    server.edit("procedures/002-atendimento-padrao.yaml", |text| {
        text.replace("Portal Contábil", "Portal do Contador")
    });
    server.eventually("the edit is served", |server| {
        decided(server).contains("Portal do Contador")
    });
    let (_, after) = server.json("GET", "/v1/bundle", "");
    assert_ne!(before["digest"], after["digest"]);
    server.edit("procedures/002-atendimento-padrao.yaml", |text| {
        text.replace(r#"request.topic == "xml""#, r#"request.topic == "xmll""#)
    });
    server.eventually("the refusal is told", |server| {
        server.json("GET", "/healthz", "").1["status"] == "reload_refused"
    });
    let (status, health) = server.json("GET", "/healthz", "");
    assert_eq!(status, 200);
    let problem = &health["refused_reload"]["problems"][0];
    assert_eq!(problem["file"], "procedures/002-atendimento-padrao.yaml");
    assert!(problem["line"].as_u64().is_some());
    assert!(problem["message"].as_str().unwrap().contains("xmll"), "{health}");
    assert!(
        decided(&server).contains("Portal do Contador"),
        "the last good bundle still serves"
    );
    let (_, metrics) = server.request("GET", "/metrics", b"");
    assert!(metrics.contains("roteiro_reload_failures_total 1"), "{metrics}");
}

#[test]
fn sigterm_shuts_the_service_down_cleanly() {
    let mut server = Server::start("shutdown");
    assert_eq!(server.request("GET", "/healthz", b"").0, 200);
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    let mut status = None;
    for _ in 0..100 {
        status = server.child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status.and_then(|s| s.code()), Some(0), "exits 0 on SIGTERM");
}

#[test]
fn sigterm_sent_the_moment_the_address_is_announced_still_stops_cleanly() {
    // The stop signals are handled before anyone hears the address: a
    // rolling restart that stops a replica as soon as it is up must not
    // kill it with the default action (its log's journal would be left
    // for the next start).
    for round in 0..10 {
        let mut server = Server::start(&format!("announced-{round}"));
        assert_eq!(common::terminate(&mut server.child), Some(0), "round {round}: exits 0");
    }
}
