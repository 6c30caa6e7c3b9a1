//! Releases through the command line and the service, as a process owner
//! and an operator use them: `roteiro publish` refuses a bundle that fails
//! a gate and stores nothing; a second person approves; replicas of
//! `serve` switch to an activated release within 2 seconds, never
//! answering with a mix; a rollback brings the earlier decisions back; a
//! release a replica cannot load leaves it on the previous one, said by
//! `roteiro replicas`. On a SQLite file and on PostgreSQL 15.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;
#[path = "support/postgres.rs"]
mod postgres;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest a replica may take to serve a newly activated release.
const SWITCH: Duration = Duration::from_secs(2);

/// A situation whose decision shows the text the tests reword.
const TRAINING: &str = r#"{"now": "2026-12-08T10:15:00-03:00", "client": {"plan": "essencial", "plan_active": true, "in_onboarding": false, "franchise": false}, "request": {"topic": "treinamento", "module": "financeiro", "scope": "completo"}}"#;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("roteiro-releases-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `roteiro ARGS` with `token` in ROTEIRO_TOKEN: exit code, stdout, stderr.
fn roteiro(args: &[&str], database: &str, token: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(args)
        .args(["--database", database])
        .env("NO_COLOR", "1")
        .env("ROTEIRO_TOKEN", token)
        .env_remove("ROTEIRO_DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Rewords one text of the bundle in `policies` (no test checks it), so
/// the next release differs.
fn reword(policies: &Path, from: &str, to: &str) {
    let path = policies.join("procedures/004-agendamento-io.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "no `{from}` in {}", path.display());
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The version `roteiro publish` said it stored.
fn published(stdout: &str) -> String {
    stdout
        .split("versão ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no version in {stdout}"))
        .to_string()
}

/// The owners of a test: who publishes, who approves.
struct Owners {
    ana: String,
    bruno: String,
}

fn owners(database: &str) -> Owners {
    Owners {
        ana: common::make_token(OsStr::new(database), "dono", "ana"),
        bruno: common::make_token(OsStr::new(database), "admin", "bruno"),
    }
}

/// Publishes `policies` as ana and approves it as bruno: its version.
fn release(policies: &Path, database: &str, owners: &Owners, note: &str) -> String {
    let dir = policies.to_str().unwrap();
    let (code, out, err) = roteiro(
        &["publish", "--policies", dir, "--note", note, "--yes"],
        database,
        &owners.ana,
    );
    assert_eq!(code, 0, "{out}{err}");
    let version = published(&out);
    let (code, out, err) = roteiro(&["release", "approve", &version], database, &owners.bruno);
    assert_eq!(code, 0, "{out}{err}");
    version
}

fn json_of(addr: &str, token: &str, method: &str, path: &str, body: &str) -> Value {
    let auth = format!("Authorization: Bearer {token}\r\n");
    let (status, _, body) = common::exchange(addr, method, path, &auth, body);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits until `addr` serves `version`; how long it took.
fn switched(addr: &str, version: &str) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let (_, _, body) = common::exchange(addr, "GET", "/healthz", "", "");
        let health: Value = serde_json::from_str(&body).unwrap_or_default();
        if health["bundle"]["release"] == version {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{addr} never served {version}");
}

#[test]
fn an_owner_publishes_another_approves_and_a_rollback_brings_the_earlier_decisions_back() {
    let dir = folder("sqlite");
    let database = dir.join("log.db").to_str().unwrap().to_string();
    let policies = dir.join("policies");
    common::copy_shipped_to(&policies);
    let owners = owners(&database);
    let analyst = common::make_token(OsStr::new(&database), "analista", "carla");
    let p = policies.to_str().unwrap();

    // An analyst may not publish; nobody publishes without confirming.
    let (code, _, err) = roteiro(
        &["publish", "--policies", p, "--note", "x", "--yes"],
        &database,
        &analyst,
    );
    assert_eq!(code, 1);
    assert!(err.contains("pede um token de dono"), "{err}");
    let (code, _, err) = roteiro(&["publish", "--policies", p, "--note", "x"], &database, &owners.ana);
    assert_eq!(code, 1);
    assert!(err.contains("use --yes"), "{err}");

    // A rule no test fires: the coverage gate fails, nothing is stored.
    let rules = policies.join("procedures/004-agendamento-io.yaml");
    let original = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(
        &rules,
        original.replacen(
            "rules:\n",
            "rules:\n  - id: io.sem_teste\n    section: \"1\"\n    title: Sem teste\n    phase: triagem\n    when: request.topic == \"xml\" && client.franchise\n    actions:\n      - id: io.sem_teste.a\n        text: Confira a nota.\n\n",
            1,
        ),
    )
    .unwrap();
    let (code, out, _) = roteiro(
        &["publish", "--policies", p, "--note", "sem teste", "--yes"],
        &database,
        &owners.ana,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FALHOU cobertura de regras") && out.contains("io.sem_teste"),
        "{out}"
    );
    assert!(out.contains("nada foi publicado"), "{out}");
    let (_, listed, _) = roteiro(&["releases"], &database, "");
    assert!(listed.contains("nenhuma versão publicada"), "{listed}");
    std::fs::write(&rules, &original).unwrap();

    // Published by ana, it waits; ana cannot approve it, bruno can.
    let (code, out, err) = roteiro(
        &["publish", "--policies", p, "--note", "primeira", "--yes"],
        &database,
        &owners.ana,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("espera a aprovação"), "{out}");
    let first = published(&out);
    let (code, _, err) = roteiro(&["release", "approve", &first], &database, &owners.ana);
    assert_eq!(code, 1);
    assert!(err.contains("outra pessoa"), "{err}");
    let (code, out, err) = roteiro(&["release", "approve", &first], &database, &owners.bruno);
    assert_eq!(code, 0, "{out}{err}");
    // Listed with when, as people read it on the bundle's clock.
    let (_, listed, _) = roteiro(&["releases"], &database, "");
    // (today in Brasília, or the minute before, should the day just have turned)
    let zone = roteiro_engine::Zone::named("America/Sao_Paulo").unwrap();
    let now = chrono::Utc::now();
    let days =
        [now, now - chrono::TimeDelta::minutes(1)].map(|at| format!(" em {} ", zone.local(&at).format("%d/%m/%Y")));
    assert!(days.iter().any(|day| listed.contains(day.as_str())), "{listed}");

    // serve without --policies serves it, and names it in every decision.
    let mut served = common::start_serve(&[OsStr::new("--database"), OsStr::new(&database)]);
    let addr = served.addr.clone();
    let decision = json_of(&addr, &served.token, "POST", "/v1/decide", TRAINING);
    assert_eq!(decision["bundle"]["version"], first.as_str());
    let first_digest = decision["bundle"]["digest"].clone();
    assert!(decision.to_string().contains("frisando"));

    // A second release reaches the running service within 2 s.
    reword(&policies, "frisando, que", "com clareza, que");
    let second = release(&policies, &database, &owners, "texto mais claro");
    assert!(switched(&addr, &second) <= SWITCH);
    let decision = json_of(&addr, &served.token, "POST", "/v1/decide", TRAINING);
    assert_eq!(decision["bundle"]["version"], second.as_str());
    assert!(decision.to_string().contains("com clareza"));
    let (_, said, _) = roteiro(&["release", "diff", &first, &second], &database, "");
    assert!(
        said.contains("regra `io.agendar`") && said.contains("com clareza"),
        "{said}"
    );

    // Rolled back, with why: the first digest and its words again.
    let (code, out, err) = roteiro(&["rollback", &first, "--note", "confundiu"], &database, &owners.bruno);
    assert_eq!(code, 0, "{out}{err}");
    assert!(switched(&addr, &first) <= SWITCH);
    let decision = json_of(&addr, &served.token, "POST", "/v1/decide", TRAINING);
    assert_eq!(decision["bundle"]["digest"], first_digest);
    assert!(decision.to_string().contains("frisando"));
    let (_, shown, _) = roteiro(&["release", "show", &first], &database, "");
    assert!(shown.contains("revertida por bruno confundiu"), "{shown}");
    let (_, replicas, _) = roteiro(&["replicas"], &database, "");
    assert!(replicas.contains(&format!("no ar  versão {first}")), "{replicas}");

    // Over HTTP: the same gates, the same approval by a second person.
    reword(&policies, "com clareza, que", "sem rodeios, que");
    let upload = |note: &str| {
        let files: serde_json::Map<String, Value> = roteiro_engine::Bundle::load_dir(&policies)
            .unwrap()
            .files()
            .iter()
            .map(|file| (file.path.clone(), Value::String(file.text.clone())))
            .collect();
        serde_json::json!({"note": note, "files": files}).to_string()
    };
    let as_ana = format!("Authorization: Bearer {}\r\n", owners.ana);
    let (status, _, body) = common::exchange(&addr, "POST", "/v1/releases", &as_ana, &upload("pelo serviço"));
    assert_eq!(status, 201, "{body}");
    let third: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(third["state"], "proposta");
    assert_eq!(third["author"], "ana");
    let third = third["version"].as_str().unwrap().to_string();
    let path = format!("/v1/releases/{third}/approve");
    let (status, _, body) = common::exchange(&addr, "POST", &path, &as_ana, "{}");
    assert_eq!(status, 403, "nobody approves their own: {body}");
    json_of(&addr, &owners.bruno, "POST", &path, r#"{"note": "ok"}"#);
    assert!(switched(&addr, &third) <= SWITCH);
    // A failing gate over HTTP: 422, each gate said, nothing stored.
    std::fs::write(policies.join("tests/quebrado.yaml"), "cases: [").unwrap();
    let (status, _, body) = common::exchange(&addr, "POST", "/v1/releases", &as_ana, &upload("quebrado"));
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("tests/quebrado.yaml"), "{body}");
    let listed = json_of(&addr, &owners.bruno, "GET", "/v1/releases", "");
    assert_eq!(listed["releases"].as_array().unwrap().len(), 3);
    assert_eq!(common::terminate(&mut served.child), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

/// Inserts a release this build cannot load, made active: as if a newer
/// roteiro had published a format this one does not know.
fn activate_unloadable(database: &str, version: &str) {
    use roteiro_decision_log::db::{Db, Param};
    let mut db = Db::open(database).unwrap();
    let files = r#"[{"path": "bundle.yaml", "text": "name: x\nformato_novo: 2\n"}]"#;
    let gates = r#"{"gates": [], "coverage": null}"#;
    let impact = r#"{"bundle": "", "compared": 0, "same": 0, "changed": 0, "unreadable": 0, "changes": []}"#;
    db.execute(
        "INSERT INTO releases (version, bundle_name, digest, files, author, published_at, note, gates, impact, needs_approval) \
         VALUES ($1, 'x', 'ffff', $2, 'futuro', '2026-12-07T00:00:00Z', 'nova', $3, $4, 0)",
        &[Param::Text(version), Param::Text(files), Param::Text(gates), Param::Text(impact)],
    )
    .unwrap();
    db.execute(
        "INSERT INTO release_events (version, kind, who, at, note) VALUES ($1, 'ativada', 'futuro', '2026-12-07T00:00:00Z', '')",
        &[Param::Text(version)],
    )
    .unwrap();
}

#[test]
fn two_replicas_on_postgres_switch_together_and_never_answer_with_a_mix() {
    let Some(shared) = postgres::address() else { return };
    let (database, _) = postgres::fresh_database(&shared, "releases");
    let dir = folder("postgres");
    let policies = dir.join("policies");
    common::copy_shipped_to(&policies);
    let owners = owners(&database);
    let first = release(&policies, &database, &owners, "primeira");
    // The load below runs as fast as the machine allows, from one
    // address: this test is about switching, so the per-address budget
    // (tested in tests/replicas.rs) is set out of its way.
    let args = ["--database", &database, "--limit-per-minute", "10000000"].map(OsStr::new);
    let mut replicas = [common::start_serve(&args), common::start_serve(&args)];
    let addrs: Vec<String> = replicas.iter().map(|r| r.addr.clone()).collect();
    let token = replicas[0].token.clone();

    // Both replicas decide without pause while a release is activated.
    let digests = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = addrs
        .iter()
        .map(|addr| {
            let (addr, token, digests, stop) = (addr.clone(), token.clone(), digests.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let decision = json_of(&addr, &token, "POST", "/v1/decide", TRAINING);
                    digests
                        .lock()
                        .unwrap()
                        .push(decision["bundle"]["digest"].as_str().unwrap().to_string());
                }
            })
        })
        .collect();
    let first_digest = json_of(&addrs[0], &token, "GET", "/v1/bundle", "")["digest"].clone();
    reword(&policies, "frisando, que", "com clareza, que");
    let second = release(&policies, &database, &owners, "texto mais claro");
    for addr in &addrs {
        assert!(switched(addr, &second) <= SWITCH, "{addr} took longer than {SWITCH:?}");
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for thread in load {
        thread.join().unwrap();
    }
    let second_digest = json_of(&addrs[1], &token, "GET", "/v1/bundle", "")["digest"].clone();
    let digests = digests.lock().unwrap();
    assert!(digests.len() > 20, "only {} decisions under load", digests.len());
    assert!(
        digests.iter().all(|d| *d == first_digest || *d == second_digest),
        "a decision with a third bundle"
    );
    assert!(digests.iter().any(|d| *d == first_digest) && digests.iter().any(|d| *d == second_digest));
    assert_ne!(first, second);

    // A release they cannot load: both keep the second and say so.
    activate_unloadable(&database, "2099.01.01-1");
    let start = Instant::now();
    let told = loop {
        let (_, said, _) = roteiro(&["replicas"], &database, "");
        if said.matches("ATENÇÃO: a versão 2099.01.01-1 não carrega").count() == 2
            || start.elapsed() > Duration::from_secs(10)
        {
            break said;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        told.matches("ATENÇÃO: a versão 2099.01.01-1 não carrega").count(),
        2,
        "{told}"
    );
    assert_eq!(told.matches(&format!("no ar  versão {second}")).count(), 2, "{told}");
    for addr in &addrs {
        let health = json_of(addr, &token, "GET", "/healthz", "");
        assert_eq!(health["status"], "reload_refused");
        assert_eq!(health["bundle"]["release"], second.as_str());
        let decision = json_of(addr, &token, "POST", "/v1/decide", TRAINING);
        assert_eq!(decision["bundle"]["digest"], second_digest);
    }
    // Rolled back to the release they serve: the warning goes.
    let (code, out, err) = roteiro(
        &["rollback", &second, "--note", "a nova não carrega"],
        &database,
        &owners.bruno,
    );
    assert_eq!(code, 0, "{out}{err}");
    let start = Instant::now();
    let told = loop {
        let (_, said, _) = roteiro(&["replicas"], &database, "");
        if !said.contains("ATENÇÃO") || start.elapsed() > Duration::from_secs(10) {
            break said;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!told.contains("ATENÇÃO"), "{told}");
    for addr in &addrs {
        assert_eq!(json_of(addr, &token, "GET", "/healthz", "")["status"], "ok");
    }
    for replica in &mut replicas {
        assert_eq!(common::terminate(&mut replica.child), Some(0));
    }
    let _ = std::fs::remove_dir_all(dir);
}
