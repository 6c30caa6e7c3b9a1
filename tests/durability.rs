//! A decision answered is a decision recorded: `roteiro serve` is killed
//! with SIGKILL while several clients are deciding, at several moments,
//! and every decision that got a 200 must be a row once it restarts. On a
//! SQLite file, and on PostgreSQL 15 (when `ROTEIRO_TEST_POSTGRES` names
//! one) with roteiro killed, and with the database server killed first
//! (when `ROTEIRO_TEST_PG_CLUSTER` lets the test stop it).
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;
#[path = "support/postgres.rs"]
mod postgres;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// Clients deciding at once.
const CLIENTS: usize = 4;
/// Most decisions one client sends in a round.
const MAX_PER_CLIENT: usize = 3000;

fn serve(database: &str) -> common::Served {
    serve_as(database, "commit")
}

/// `serve` with `--log-durability durability`.
fn serve_as(database: &str, durability: &str) -> common::Served {
    common::start_serve(&[
        "--policies".as_ref(),
        "policies".as_ref(),
        "--database".as_ref(),
        database.as_ref(),
        "--limit-per-minute".as_ref(),
        "100000000".as_ref(),
        "--log-durability".as_ref(),
        durability.as_ref(),
    ])
}

/// The journal files beside a SQLite log.
fn journal_files(database: &str) -> Vec<String> {
    let path = std::path::Path::new(database);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| file.starts_with(&format!("{name}.journal")))
        .collect()
}

/// One POST of `body` to `path`; whether it was answered 200, `None` when
/// the server is gone.
fn post(addr: &str, token: &str, path: &str, body: &str) -> Option<bool> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer.starts_with("HTTP/1.1 200"))
}

/// One decision as of `now`.
fn decide(addr: &str, token: &str, now: &str) -> Option<bool> {
    let body = format!(r#"{{"now": "{now}", "request": {{"topic": "xml"}}}}"#);
    post(addr, token, "/v1/decide", &body)
}

/// Clients deciding, each `now` unique from `base`, until the server is
/// gone; the moments answered 200, shared as they come.
struct Clients {
    answered: Arc<Mutex<Vec<DateTime<Utc>>>>,
    gone: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Clients {
    fn start(served: &common::Served, base: DateTime<Utc>) -> Self {
        let answered = Arc::new(Mutex::new(Vec::new()));
        let gone = Arc::new(AtomicBool::new(false));
        let threads = (0..CLIENTS)
            .map(|client| {
                let (addr, token) = (served.addr.clone(), served.token.clone());
                let (answered, gone) = (answered.clone(), gone.clone());
                std::thread::spawn(move || {
                    for n in 0..MAX_PER_CLIENT {
                        if gone.load(Ordering::SeqCst) {
                            return;
                        }
                        let seconds = i64::try_from(client * MAX_PER_CLIENT + n).unwrap();
                        let now = base + TimeDelta::seconds(seconds);
                        match decide(&addr, &token, &now.to_rfc3339()) {
                            Some(true) => answered.lock().unwrap().push(now),
                            Some(false) => {}
                            None => return,
                        }
                    }
                })
            })
            .collect();
        Self {
            answered,
            gone,
            threads,
        }
    }

    fn count(&self) -> usize {
        self.answered.lock().unwrap().len()
    }

    /// Waits (at most 60 s) until `count` decisions were answered.
    fn wait_for(&self, count: usize) {
        let started = Instant::now();
        while self.count() < count && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(self.count() >= count, "only {} answered", self.count());
    }

    fn finish(self) -> Vec<DateTime<Utc>> {
        self.gone.store(true, Ordering::SeqCst);
        for thread in self.threads {
            thread.join().unwrap();
        }
        Arc::try_unwrap(self.answered).unwrap().into_inner().unwrap()
    }
}

fn kill(served: &mut common::Served, signal: &str) {
    Command::new("kill")
        .args([signal, &served.child.id().to_string()])
        .status()
        .unwrap();
    served.child.wait().unwrap();
}

/// The moments the log holds decisions as of.
fn logged(database: &str) -> BTreeSet<DateTime<Utc>> {
    roteiro_decision_log::open(database)
        .unwrap()
        .read(&roteiro_decision_log::Filter::default())
        .unwrap()
        .iter()
        .filter_map(|record| DateTime::parse_from_rfc3339(&record.decided_as_of).ok())
        .map(|at| at.to_utc())
        .collect()
}

/// Restarts the server on `database`, stops it cleanly, and checks every
/// answered decision is a row: opening the log replays the killed
/// writer's journal before the server listens, so no wait is needed.
fn every_answer_is_a_row(database: &str, answered: &[DateTime<Utc>], moment: &str) {
    let mut again = serve(database);
    assert_eq!(common::terminate(&mut again.child), Some(0), "{moment}: a clean stop");
    every_answer_is_logged_now(database, answered, moment);
}

/// Every answered decision is a row of `database` as it is now.
fn every_answer_is_logged_now(database: &str, answered: &[DateTime<Utc>], moment: &str) {
    let rows = logged(database);
    let lost: Vec<_> = answered.iter().filter(|at| !rows.contains(at)).collect();
    assert!(
        lost.is_empty(),
        "{moment}: {} of {} answered decisions are not in the log (first: {:?})",
        lost.len(),
        answered.len(),
        lost.first()
    );
}

fn base_moment(round: i64) -> DateTime<Utc> {
    // Moments of this run's own, far from any other test's.
    let run = i64::from(std::process::id() % 1000);
    DateTime::parse_from_rfc3339("2031-01-01T00:00:00Z").unwrap().to_utc() + TimeDelta::days(run * 10 + round)
}

#[test]
fn decisions_answered_before_a_sigkill_are_all_in_the_sqlite_log() {
    let folder = std::env::temp_dir().join(format!("roteiro-durability-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    // Kill moments spread over a run: early, while busy, and later; the
    // seed varies them between runs.
    // The last round answers after a synced commit instead of the journal.
    let jitter = usize::try_from(std::process::id() % 37).unwrap();
    let rounds = [
        (25 + jitter, "commit"),
        (150 + jitter, "commit"),
        (400 + jitter, "commit"),
        (150 + jitter, "sync"),
    ];
    for (round, (kill_after, durability)) in rounds.into_iter().enumerate() {
        let database = folder.join(format!("round-{round}.db"));
        let database = database.to_str().unwrap();
        let mut served = serve_as(database, durability);
        let clients = Clients::start(&served, base_moment(i64::try_from(round).unwrap()));
        clients.wait_for(kill_after);
        kill(&mut served, "-KILL");
        let answered = clients.finish();
        if durability == "commit" {
            assert!(
                !journal_files(database).is_empty(),
                "the killed writer left its journal"
            );
        }
        every_answer_is_a_row(
            database,
            &answered,
            &format!("SQLite ({durability}), killed after {kill_after}"),
        );
        assert_eq!(
            journal_files(database),
            Vec::<String>::new(),
            "a clean stop leaves no journal"
        );
    }
    std::fs::remove_dir_all(&folder).unwrap();
}

fn pg_ctlcluster(cluster: &str, action: &[&str]) {
    let mut args: Vec<&str> = cluster.split_whitespace().collect();
    args.extend(action);
    let status = Command::new("pg_ctlcluster").args(&args).status().unwrap();
    assert!(status.success(), "pg_ctlcluster {cluster} {action:?}");
}

/// Every answered decision is a row of the PostgreSQL log now, with no
/// roteiro restarted: a replica that never comes back leaves nothing
/// behind on its disk.
fn every_answer_is_in_postgresql(database: &str, answered: &[DateTime<Utc>], moment: &str) {
    every_answer_is_logged_now(database, answered, moment);
}

#[test]
fn decisions_answered_before_a_sigkill_are_all_in_the_postgresql_log() {
    let Some(database) = postgres::address() else { return };
    // roteiro killed, and never started again.
    let mut served = serve(&database);
    let clients = Clients::start(&served, base_moment(5));
    clients.wait_for(120);
    kill(&mut served, "-KILL");
    let answered = clients.finish();
    every_answer_is_in_postgresql(&database, &answered, "PostgreSQL, roteiro killed");
    // A journal or spill file would be `roteiro-log-*` in serve's folder.
    let kept: Vec<String> = std::fs::read_dir(env!("CARGO_MANIFEST_DIR").to_string() + "/..")
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| file.starts_with("roteiro-log"))
        .collect();
    assert!(
        kept.is_empty(),
        "nothing of a PostgreSQL log is kept on the replica's disk: {kept:?}"
    );

    // The database server killed: nothing can reach the place every
    // replica reads, so decisions are answered 503 (never 200 from this
    // machine's disk); then roteiro killed for good. In `sync`: `commit`
    // lets PostgreSQL answer before its disk has the commit, so a crash
    // of the server itself may lose its last fraction of a second.
    let Ok(cluster) = std::env::var("ROTEIRO_TEST_PG_CLUSTER") else {
        eprintln!("skipped the server kill: ROTEIRO_TEST_PG_CLUSTER (e.g. `15 main`) is not set");
        return;
    };
    let mut served = serve_as(&database, "sync");
    let clients = Clients::start(&served, base_moment(6));
    clients.wait_for(60);
    pg_ctlcluster(&cluster, &["stop", "-m", "immediate"]);
    // Answers in flight when it stopped settle within the writer's retry.
    std::thread::sleep(Duration::from_secs(2));
    let settled = clients.count();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        clients.count(),
        settled,
        "no decision answered 200 while PostgreSQL is down"
    );
    kill(&mut served, "-KILL");
    let answered = clients.finish();
    pg_ctlcluster(&cluster, &["start"]);
    every_answer_is_in_postgresql(&database, &answered, "PostgreSQL killed, then roteiro");
}

/// One answer to the case of `ticket`.
fn answer(addr: &str, token: &str, ticket: &str, value: &str) -> Option<bool> {
    let body = format!(r#"{{"answers": {{"analyst.name": "{value}"}}}}"#);
    let path = format!("/v1/cases/{ticket}/answers?now=2026-12-08T10:00:00-03:00");
    post(addr, token, &path, &body)
}

#[test]
fn case_answers_answered_before_a_sigkill_are_all_in_the_case() {
    let folder = std::env::temp_dir().join(format!("roteiro-durability-cases-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let database = folder.join("cases.db");
    let database = database.to_str().unwrap();
    let mut served = serve(database);
    let tickets: Vec<String> = (0..CLIENTS).map(|client| format!("90{client}")).collect();
    for ticket in &tickets {
        let mut cases = roteiro_decision_log::cases::Cases::open(database).unwrap();
        cases
            .open_case(ticket, "{}", "teste", "2026-12-08T10:00:00-03:00")
            .unwrap();
    }
    let answered = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = tickets
        .iter()
        .map(|ticket| {
            let (addr, token, ticket) = (served.addr.clone(), served.token.clone(), ticket.clone());
            let answered = answered.clone();
            std::thread::spawn(move || {
                for n in 0..MAX_PER_CLIENT {
                    let value = format!("resposta-{ticket}-{n}");
                    match answer(&addr, &token, &ticket, &value) {
                        Some(true) => answered.lock().unwrap().push((ticket.clone(), value)),
                        Some(false) => {}
                        None => return,
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while answered.lock().unwrap().len() < 40 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    kill(&mut served, "-KILL");
    for thread in threads {
        thread.join().unwrap();
    }
    let answered = Arc::try_unwrap(answered).unwrap().into_inner().unwrap();
    assert!(answered.len() >= 40);
    let mut cases = roteiro_decision_log::cases::Cases::open(database).unwrap();
    for (ticket, value) in &answered {
        let history = cases.events(ticket).unwrap();
        assert!(
            history
                .iter()
                .any(|event| event.kind == "resposta" && event.detail.contains(value.as_str())),
            "the answered `{value}` is not in case {ticket}"
        );
    }
    std::fs::remove_dir_all(&folder).unwrap();
}
