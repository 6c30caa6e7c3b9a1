//! The decision log in real databases: a SQLite file always, and the
//! machine's PostgreSQL when `ROTEIRO_TEST_POSTGRES` names one (`.ci/run`
//! starts it; without it the test says why it is skipped).
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;
#[path = "support/postgres.rs"]
mod postgres;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const NOW: &str = "2026-12-08T10:15:00-03:00";

fn roteiro(args: &[&str]) -> Output {
    common::run(args, &common::root(), b"")
}

/// A running `roteiro serve` logging to a database.
struct Server {
    child: std::process::Child,
    addr: String,
    token: String,
}

impl Server {
    fn start(database: &str) -> Self {
        Self::start_with(database, "commit")
    }

    fn start_with(database: &str, durability: &str) -> Self {
        let served = common::start_serve(&[
            "--policies".as_ref(),
            "policies".as_ref(),
            "--database".as_ref(),
            database.as_ref(),
            // A thousand decisions from one address in a second or two.
            "--limit-per-minute".as_ref(),
            "1000000".as_ref(),
            "--log-durability".as_ref(),
            durability.as_ref(),
        ]);
        Self {
            child: served.child,
            addr: served.addr,
            token: served.token,
        }
    }

    /// Posts `count` decisions (topics in turn); every one is answered.
    fn post(&self, count: usize) {
        self.post_expecting(count, "HTTP/1.1 200");
    }

    /// Posts `count` decisions; every answer starts with `status`.
    fn post_expecting(&self, count: usize, status: &str) {
        let topics = ["xml", "boleto", "treinamento", "sistema_bloqueado", "hardware"];
        for n in 0..count {
            let body = format!(
                r#"{{"now": "{NOW}", "contact": {{"kind": "cliente", "name": "Maria Souza {n}"}}, "request": {{"topic": "{}"}}}}"#,
                topics[n % topics.len()]
            );
            let mut stream = TcpStream::connect(&self.addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            write!(
                stream,
                "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                self.token,
                body.len()
            )
            .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            assert!(response.starts_with(status), "{response}");
        }
    }

    /// SIGTERM: the server writes what the log holds, then exits 0.
    fn stop(mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(self.child.wait().unwrap().success());
    }
}

/// Serves with `database`, posts `count` decisions, stops the server.
fn serve_decisions(database: &str, count: usize) {
    let server = Server::start(database);
    server.post(count);
    server.stop();
}

fn stats(database: &str) -> serde_json::Value {
    let out = roteiro(&[
        "stats",
        "--policies",
        "policies",
        "--database",
        database,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every check of the log on one database.
fn check_database(database: &str, scratch: &Path) {
    serve_decisions(database, 1000);
    let numbers = stats(database);
    assert_eq!(numbers["decisions"], 1000, "1,000 decisions, 1,000 rows");
    assert_eq!(
        numbers["by_route"]["suporte"].as_u64().unwrap() + numbers["by_route"]["io"].as_u64().unwrap_or(0),
        1000
    );
    assert!(numbers["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r[0] == "padrao.xml" && r[1] == 200));
    let exported = scratch.join("exportadas");
    let out = roteiro(&[
        "log",
        "export",
        exported.to_str().unwrap(),
        "--database",
        database,
        "--where",
        "route=suporte",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let files: Vec<_> = std::fs::read_dir(&exported).unwrap().collect();
    assert_eq!(files.len() as u64, numbers["by_route"]["suporte"].as_u64().unwrap());
    let sample = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(
        sample.contains("\"***\"") && !sample.contains("Maria"),
        "personal facts are masked: {sample}"
    );
    let diff = roteiro(&[
        "diff",
        exported.to_str().unwrap(),
        "--base",
        "policies",
        "--policies",
        "policies",
        "--fail-on-change",
    ]);
    assert_eq!(
        diff.status.code(),
        Some(0),
        "replaying the log reproduces it: {}",
        String::from_utf8_lossy(&diff.stdout)
    );
    // The same replay straight from the database, with no files between.
    let direct = roteiro(&[
        "diff",
        "--from-log",
        "--database",
        database,
        "--base",
        "policies",
        "--policies",
        "policies",
        "--fail-on-change",
    ]);
    let report = String::from_utf8_lossy(&direct.stdout);
    assert_eq!(direct.status.code(), Some(0), "{report}");
    assert!(report.contains("0 de 1000 decisões mudaram"), "{report}");
    let out = roteiro(&["log", "prune", "--older-than", "0d", "--database", database]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stats(database)["decisions"], 0);
}

#[test]
fn a_thousand_decisions_through_serve_land_in_a_sqlite_file() {
    let scratch = std::env::temp_dir().join(format!("roteiro-log-sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let file = scratch.join("roteiro.db");
    check_database(file.to_str().unwrap(), &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn a_thousand_decisions_through_serve_land_in_postgresql() {
    let Some(url) = postgres::address() else { return };
    let scratch = std::env::temp_dir().join(format!("roteiro-log-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    // Start from an empty table: earlier runs may have left rows.
    empty(&url);
    check_database(&url, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    // In the same test, so no other test meets the server stopped.
    match std::env::var("ROTEIRO_TEST_PG_CLUSTER") {
        Ok(cluster) => a_database_stopped_mid_run_loses_nothing_once_it_returns(&url, &cluster),
        Err(_) => eprintln!("skipped the stop/start check: ROTEIRO_TEST_PG_CLUSTER (e.g. `15 main`) is not set"),
    }
}

fn pg_ctlcluster(cluster: &str, action: &str) {
    let mut args: Vec<&str> = cluster.split_whitespace().collect();
    args.push(action);
    let status = Command::new("pg_ctlcluster").args(&args).status().unwrap();
    assert!(status.success(), "pg_ctlcluster {cluster} {action}");
}

/// Empties the shared PostgreSQL log, rows from the future included: the
/// suite also runs under a faked clock a year ahead, and `log prune` keeps
/// what is newer than its cutoff.
fn empty(url: &str) {
    let far = chrono::Utc::now() + chrono::TimeDelta::days(365 * 100);
    roteiro_decision_log::open(url).unwrap().prune(far).unwrap();
}

fn a_database_stopped_mid_run_loses_nothing_once_it_returns(url: &str, cluster: &str) {
    // `buffered`: decisions are still answered while the database is down,
    // and written when it comes back (the replica kept running).
    empty(url);
    let server = Server::start_with(url, "buffered");
    server.post(100);
    pg_ctlcluster(cluster, "stop");
    server.post(100);
    pg_ctlcluster(cluster, "start");
    server.post(100);
    server.stop();
    assert_eq!(
        stats(url)["decisions"],
        300,
        "the 100 logged while it was down were written when it came back"
    );

    // `commit`: an answer promises the decision is in PostgreSQL, so
    // while it is down decisions are refused (503), never answered from
    // this replica's disk; once it is back they are answered again.
    empty(url);
    let server = Server::start(url);
    server.post(10);
    pg_ctlcluster(cluster, "stop");
    server.post_expecting(3, "HTTP/1.1 503");
    pg_ctlcluster(cluster, "start");
    server.post(10);
    server.stop();
    assert_eq!(
        stats(url)["decisions"],
        20,
        "every decision answered 200 is in PostgreSQL"
    );
    roteiro(&["log", "prune", "--older-than", "0d", "--database", url]);
}

#[test]
fn decide_logs_only_with_log() {
    let scratch = std::env::temp_dir().join(format!("roteiro-log-decide-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let database = scratch.join("roteiro.db");
    let database = database.to_str().unwrap();
    let example = "policies/examples/002-boleto.yaml";
    roteiro(&["decide", example, "--database", database]);
    assert!(!Path::new(database).exists(), "no --log, no log");
    let out = roteiro(&["decide", example, "--log", "--database", database, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stats(database)["decisions"], 1);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Regression: a decision made on the clock (no `now` in the situation)
/// was logged with the moment as people read it (`08/12/2026 10:15`), and
/// its exported situation no longer parsed.
#[test]
fn a_decision_on_the_clock_exports_a_situation_that_decides_again() {
    let scratch = std::env::temp_dir().join(format!("roteiro-log-clock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let database = scratch.join("roteiro.db");
    let database = database.to_str().unwrap();
    let situation = scratch.join("sem-hora.yaml");
    std::fs::write(&situation, "request: {topic: xml}\n").unwrap();
    let out = roteiro(&["decide", situation.to_str().unwrap(), "--log", "--database", database]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let exported = scratch.join("exportadas");
    roteiro(&["log", "export", exported.to_str().unwrap(), "--database", database]);
    let file = std::fs::read_dir(&exported).unwrap().next().unwrap().unwrap().path();
    let out = roteiro(&["decide", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !decision["assumed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["fact"] == "now"),
        "the exported situation pins the moment it was decided as of"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
