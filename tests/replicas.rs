//! A deployment as it runs: two `roteiro serve` replicas on one
//! PostgreSQL 15 behind Debian's nginx (round robin), with the Movidesk
//! stand-in (`helpdesk/tests/standin`). Through the balancer: a page
//! session works on both replicas and ends on both; queued pushes reach
//! the helpdesk exactly once each, both workers running, within the
//! account's budget; with `--trusted-proxy` one flooding client does not
//! spend another's budget, and the pair holds one budget per address and
//! per token, not one each; both replicas stop with exit 0 on SIGTERM;
//! and a rolling restart under load (SIGTERM, start again, the next) fails
//! no request.
//!
//! Skipped (saying so) without `ROTEIRO_TEST_POSTGRES` or nginx; `.ci/run`
//! provides both.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;
#[path = "support/postgres.rs"]
mod postgres;
#[path = "../helpdesk/tests/standin/mod.rs"]
mod standin;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use roteiro_decision_log::db::Db;
use roteiro_helpdesk::{Preview, PushState, Pushes};
use serde_json::{json, Value};
use standin::StandIn;

const TOKEN: &str = "tok-replicas-segredo";
const NGINX: &str = "/usr/sbin/nginx";

/// nginx in front of `replicas`, round robin, passing the client's
/// address on in `X-Forwarded-For`; stopped when dropped.
struct Balancer {
    child: Child,
    addr: String,
    folder: PathBuf,
}

impl Balancer {
    fn start(replicas: &[&str]) -> Self {
        // One folder per balancer: the tests of this file run at once.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let nth = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let folder = std::env::temp_dir().join(format!("roteiro-nginx-{}-{nth}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // max_fails=0: a replica that refused a connection is tried again
        // at the next request, not set aside for 10 s (with both set aside
        // during a rolling restart, nginx would answer 502 itself).
        let servers: String = replicas
            .iter()
            .map(|addr| format!("server {addr} max_fails=0;\n"))
            .collect();
        // As root, nginx's workers would otherwise become `nobody`, who
        // cannot write the scratch folder.
        let user = if is_root() { "user root;" } else { "" };
        let dir = folder.display();
        let conf = format!(
            "{user}
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream roteiro {{ {servers} }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://roteiro;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout non_idempotent;
        }}
    }}
}}
"
        );
        let conf_path = folder.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(NGINX)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&folder)
            .spawn()
            .expect("nginx starts");
        let addr = format!("127.0.0.1:{port}");
        let started = Instant::now();
        while TcpStream::connect(&addr).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "nginx did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, addr, folder }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        // TERM: nginx's master stops its workers before it leaves (a KILL
        // would leave them behind).
        let _ = common::terminate(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Pushes the two replicas' workers deliver in the test.
const PUSHES: usize = 20;

/// The helpdesk account's budget in the test, requests a minute.
const ACCOUNT_PER_MINUTE: usize = 30;

#[test]
fn two_replicas_behind_nginx_share_sessions_pushes_and_budgets() {
    let Some(shared) = postgres::address() else { return };
    if !Path::new(NGINX).exists() {
        eprintln!("skipped: no {NGINX} (.ci/run installs Debian's nginx)");
        return;
    }
    let (database, name) = postgres::fresh_database(&shared, "replicas");
    // The account's budget is 30 a minute here (the documented 10 would
    // make 20 pushes, three requests each, take six minutes): the stand-in
    // answers 429 past it, and both replicas are told the same budget.
    let standin = StandIn::start(TOKEN, Duration::from_secs(60));
    standin.rules(|rules| rules.per_minute = ACCOUNT_PER_MINUTE);
    let tickets: Vec<String> = (0..PUSHES).map(|n| format!("77{n:02}")).collect();
    for ticket in &tickets {
        standin.put_ticket(json!({"id": ticket, "subject": "Boleto", "status": "Novo", "clients": [], "actions": []}));
    }
    let base = standin.base();
    let budget = ACCOUNT_PER_MINUTE.to_string();
    let env = [
        ("ROTEIRO_MOVIDESK_URL", base.as_str()),
        ("ROTEIRO_MOVIDESK_TOKEN", TOKEN),
        ("ROTEIRO_MOVIDESK_AGENT", "agente-7"),
        ("ROTEIRO_MOVIDESK_PER_MINUTE", budget.as_str()),
    ];
    let args: Vec<&std::ffi::OsStr> = [
        "--policies",
        "policies",
        "--database",
        database.as_str(),
        "--trusted-proxy",
        "127.0.0.1",
        "--limit-per-minute",
        "40",
    ]
    .into_iter()
    .map(std::ffi::OsStr::new)
    .collect();
    let mut one = common::start_serve_with_env(&args, &env);
    let mut two = common::start_serve_with_env(&args, &env);
    let balancer = Balancer::start(&[&one.addr, &two.addr]);
    let lb = balancer.addr.as_str();

    // A page session made through the balancer holds on both replicas.
    let login = format!(r#"{{"token": "{}"}}"#, one.token);
    let (status, head, body) = common::exchange(lb, "POST", "/v1/login", "", &login);
    assert_eq!(status, 200, "{body}");
    let cookie = head
        .lines()
        .find_map(|line| {
            line.strip_prefix("set-cookie: ")
                .or_else(|| line.strip_prefix("Set-Cookie: "))
        })
        .and_then(|value| value.split(';').next())
        .unwrap()
        .to_string();
    let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    let with_cookie = format!("Cookie: {cookie}\r\nX-Forwarded-For: 198.51.100.1\r\n");
    let statuses: Vec<u16> = (0..20)
        .map(|_| common::exchange(lb, "GET", "/v1/session", &with_cookie, "").0)
        .collect();
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    for replica in [&one.addr, &two.addr] {
        assert_eq!(
            common::exchange(replica, "GET", "/v1/session", &with_cookie, "").0,
            200,
            "{replica}"
        );
    }

    // Pushes queued in the shared database: both workers run, each push
    // reaches the helpdesk once, and the account's budget holds.
    let mut pushes = Pushes::open(&database).unwrap();
    let queued: Vec<i64> = tickets
        .iter()
        .map(|ticket| {
            let marker = format!("[roteiro {ticket}-replicas]");
            let preview = Preview {
                ticket: ticket.clone(),
                public: false,
                text: format!("Ação de teste\n{marker}"),
                marker,
            };
            pushes.enqueue(&preview, "Ana", chrono::Utc::now()).unwrap().id
        })
        .collect();
    let started = Instant::now();
    while queued
        .iter()
        .any(|id| pushes.get(*id).unwrap().unwrap().state != PushState::Feito)
    {
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "pushes still queued after 150 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    for ticket in &tickets {
        let actions = standin.ticket(ticket).unwrap()["actions"].as_array().unwrap().clone();
        assert_eq!(actions.len(), 1, "ticket {ticket}: {actions:?}");
    }
    let seen = standin.seen();
    let patches = seen.iter().filter(|seen| seen.method == "PATCH").count();
    assert_eq!(patches, PUSHES, "one write per push");
    // The pushes needed more than a minute's budget, and both workers
    // together never went past it: the stand-in refused nothing.
    assert!(seen.len() > ACCOUNT_PER_MINUTE, "{} requests", seen.len());
    assert_eq!(standin.refused(), 0, "{} requests, some over the budget", seen.len());
    for id in &queued {
        let push = pushes.get(*id).unwrap().unwrap();
        assert_eq!(push.state, PushState::Feito, "no outcome overwritten: {push:?}");
    }

    // A flooding client behind the balancer spends its own budget only.
    let flood = |client: &str| {
        let header = format!("X-Forwarded-For: {client}\r\n");
        (0..100)
            .take_while(|_| common::exchange(lb, "GET", "/healthz", &header, "").0 == 200)
            .count()
    };
    // Each replica spends two cells a request (two replicas live), so the
    // pair allows the one budget of 40, not 80.
    let flooded = flood("203.0.113.7");
    assert!(
        (38..=41).contains(&flooded),
        "{flooded} answered: the pair holds one budget"
    );
    assert!(flood("203.0.113.8") >= 38, "another client kept its budget");
    // The same for a token: one budget for the pair (each request from an
    // address of its own, so only the token's budget is spent).
    let bearer = |n: usize| {
        format!(
            "Authorization: Bearer {}\r\nX-Forwarded-For: 192.0.2.{}\r\n",
            two.token,
            n % 250
        )
    };
    let by_token = (0..100)
        .take_while(|n| common::exchange(lb, "GET", "/v1/vocabulary", &bearer(*n), "").0 == 200)
        .count();
    assert!((38..=41).contains(&by_token), "{by_token} answered to one token");

    // A logout through the balancer ends the session on both replicas.
    let signed = format!("{with_cookie}X-CSRF-Token: {csrf}\r\n");
    assert_eq!(common::exchange(lb, "POST", "/v1/logout", &signed, "").0, 204);
    std::thread::sleep(roteiro_auth::CACHE_FOR + Duration::from_millis(200));
    for replica in [&one.addr, &two.addr] {
        assert_eq!(
            common::exchange(replica, "GET", "/v1/session", &with_cookie, "").0,
            401,
            "{replica}"
        );
    }

    drop(balancer);
    assert_eq!(common::terminate(&mut one.child), Some(0));
    assert_eq!(common::terminate(&mut two.child), Some(0));
    let _ = Db::open(&shared)
        .unwrap()
        .batch(&format!("DROP DATABASE IF EXISTS {name}"));
}

/// A free loopback port (taken, then let go for a replica to bind).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_rolling_restart_under_load_fails_no_request() {
    let Some(shared) = postgres::address() else { return };
    if !Path::new(NGINX).exists() {
        eprintln!("skipped: no {NGINX} (.ci/run installs Debian's nginx)");
        return;
    }
    let (database, name) = postgres::fresh_database(&shared, "replicas");
    let addrs = [free_port(), free_port()].map(|port| format!("127.0.0.1:{port}"));
    let start = |addr: &str| {
        let args: Vec<&std::ffi::OsStr> = [
            "--policies",
            "policies",
            "--database",
            database.as_str(),
            "--addr",
            addr,
        ]
        .into_iter()
        .map(std::ffi::OsStr::new)
        .collect();
        common::start_serve_with_env(&args, &[])
    };
    let mut replicas = [start(&addrs[0]), start(&addrs[1])];
    let balancer = Balancer::start(&[&addrs[0], &addrs[1]]);
    let (lb, token) = (balancer.addr.clone(), replicas[0].token.clone());

    // Two analysts deciding without pause through the balancer.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (lb, token, stop) = (lb.clone(), token.clone(), stop.clone());
            std::thread::spawn(move || {
                let situation = r#"{"now": "2026-12-08T10:15:00-03:00", "request": {"topic": "xml"}}"#;
                let auth = format!("Authorization: Bearer {token}\r\n");
                let mut statuses = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    statuses.push(common::exchange(&lb, "POST", "/v1/decide", &auth, situation).0);
                }
                statuses
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    for (index, addr) in addrs.iter().enumerate() {
        let code = common::terminate(&mut replicas[index].child);
        assert_eq!(code, Some(0), "replica {index} stopped with {code:?}");
        std::thread::sleep(Duration::from_millis(300));
        replicas[index] = start(addr);
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses: Vec<u16> = clients.into_iter().flat_map(|client| client.join().unwrap()).collect();
    let failed: std::collections::BTreeSet<&u16> = statuses.iter().filter(|status| **status != 200).collect();
    let count = statuses.iter().filter(|status| **status != 200).count();
    assert!(statuses.len() > 20, "only {} requests made", statuses.len());
    assert!(
        failed.is_empty(),
        "{count} of {} requests failed, with {failed:?}",
        statuses.len()
    );

    drop(balancer);
    for mut replica in replicas {
        assert_eq!(common::terminate(&mut replica.child), Some(0));
    }
    let _ = Db::open(&shared)
        .unwrap()
        .batch(&format!("DROP DATABASE IF EXISTS {name}"));
}
