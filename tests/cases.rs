//! A case through the binary, over three days, on a real SQLite file:
//! opened by one analyst on a Friday night, resumed by another on Monday,
//! its follow-up overdue when `now` moves past it, closed when what it
//! waited for came.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use std::path::PathBuf;
use std::process::Output;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn roteiro(scratch: &Scratch, args: &[&str]) -> Output {
    let database = scratch.0.join("casos.db");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--database", database.to_str().expect("utf-8 path")]);
    common::run(&all, &common::root(), b"")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn due(scratch: &Scratch, now: &str) -> serde_json::Value {
    let out = roteiro(scratch, &["cases", "--due", "--now", now, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_non_clients_case_over_a_weekend_waits_for_financeiro_then_closes() {
    let scratch = Scratch(std::env::temp_dir().join(format!("roteiro-case-cli-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    std::fs::create_dir_all(&scratch.0).expect("scratch");
    let situation = scratch.0.join("s.yaml");
    std::fs::write(
        &situation,
        "analyst: {name: Carla}\ncontact: {kind: nao_cliente, channel: whatsapp, name: José}\nrequest: {topic: erro_sistema}\n",
    )
    .expect("write");
    let path = situation.to_str().expect("utf-8 path");

    // Friday 19:00, Financeiro closed: wait for the receipt; 002 item 31
    // gives the wait no deadline, so it has none.
    let friday = "2026-12-11T19:00:00-03:00";
    let out = roteiro(&scratch, &["case", "open", "4242", path, "--now", friday]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("Caso do ticket 4242 · versão 1 · aberto · aberto por Carla"),
        "{shown}"
    );
    assert!(
        shown.contains("ticket 4242 · sem prazo · time financeiro: Assim que o Financeiro"),
        "{shown}"
    );

    // Saturday and Tuesday: still waiting, undated, so never overdue.
    let saturday = due(&scratch, "2026-12-12T10:00:00-03:00");
    assert_eq!(saturday[0]["ticket"], "4242");
    assert_eq!(saturday[0]["id"], "padrao.nao_cliente.aguardar_financeiro.retornar");
    assert_eq!(saturday[0]["due"], serde_json::Value::Null);
    assert_eq!(saturday[0]["overdue"], false);
    assert_eq!(due(&scratch, "2026-12-15T09:00:00-03:00")[0]["overdue"], false);

    // Monday, another analyst: an answer on a stale version is refused.
    let monday = "2026-12-14T10:30:00-03:00";
    let stale = roteiro(
        &scratch,
        &[
            "case",
            "answer",
            "4242",
            "billing.payment_confirmed=sim",
            "--version",
            "0",
            "--by",
            "Ana",
            "--now",
            monday,
        ],
    );
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        text(&stale.stderr).contains("mudou enquanto você respondia"),
        "{}",
        text(&stale.stderr)
    );
    let out = roteiro(
        &scratch,
        &[
            "case",
            "answer",
            "4242",
            "billing.payment_confirmed=sim",
            "--by",
            "Ana",
            "--now",
            monday,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answered: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(answered["case"]["version"], 2);
    assert_eq!(answered["decision"]["outputs"]["route"], "suporte");
    assert_eq!(answered["decision"]["follow_ups"], serde_json::json!([]));
    assert_eq!(due(&scratch, monday), serde_json::json!([]), "the wait is over");

    // Closed by hand with the reason; nothing waits any more.
    let out = roteiro(
        &scratch,
        &["case", "close", "4242", "--reason", "suporte feito", "--now", monday],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = roteiro(&scratch, &["case", "show", "4242", "--format", "json", "--now", monday]);
    let closed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(closed["case"]["closed_reason"], "suporte feito");
}

#[test]
fn bad_unknown_and_repeated_tickets_are_said_plainly() {
    let scratch = Scratch(std::env::temp_dir().join(format!("roteiro-case-bad-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    std::fs::create_dir_all(&scratch.0).expect("scratch");
    let out = roteiro(&scratch, &["case", "show", "12a"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("número de ticket inválido `12a`"));
    let out = roteiro(&scratch, &["case", "show", "77"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("não há caso aberto para o ticket 77"));
    let now = "2026-12-08T10:00:00-03:00";
    assert_eq!(
        roteiro(&scratch, &["case", "open", "77", "--now", now]).status.code(),
        Some(0)
    );
    let again = roteiro(&scratch, &["case", "open", "77", "--now", now]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("já tem um caso"));
    let wrong = roteiro(&scratch, &["case", "answer", "77", "client.plan=ouro", "--now", now]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("client.plan"), "{}", text(&wrong.stderr));
}

/// `roteiro ask --case`: the next analyst resumes the case at the
/// terminal (numbered lines through a pipe here; tests/terminal.rs drives
/// a real one), answers what is asked, and the answers land in the case.
#[test]
fn ask_resumes_a_case_and_writes_the_answers_back() {
    use std::io::{Read, Write};
    let scratch = Scratch(std::env::temp_dir().join(format!("roteiro-case-ask-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    std::fs::create_dir_all(&scratch.0).expect("scratch");
    let situation = scratch.0.join("s.yaml");
    std::fs::write(
        &situation,
        "contact: {kind: nao_cliente, channel: whatsapp}\nrequest: {topic: erro_sistema}\n",
    )
    .expect("write");
    let friday = "2026-12-11T19:00:00-03:00";
    let out = roteiro(
        &scratch,
        &[
            "case",
            "open",
            "8080",
            situation.to_str().expect("utf-8"),
            "--now",
            friday,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let monday = "2026-12-14T10:30:00-03:00";
    let database = scratch.0.join("casos.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["ask", "--case", "8080", "--now", monday, "--database"])
        .arg(&database)
        .current_dir(common::root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ask runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut transcript = String::new();
    let mut byte = [0u8; 1];
    let mut asked = 0;
    // Bounded: a session asks at most one question per fact.
    while asked < 200 && stdout.read(&mut byte).expect("reads") == 1 {
        transcript.push(char::from(byte[0]));
        if transcript.ends_with("vazio pula): ") {
            let line = transcript.lines().last().unwrap_or_default().to_string();
            let answer = if line.contains("[billing.payment_confirmed]") {
                "s"
            } else {
                ""
            };
            writeln!(stdin, "{answer}").expect("answers");
            asked += 1;
        }
    }
    drop(stdin);
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).expect("reads");
    transcript.push_str(&String::from_utf8_lossy(&rest));
    assert!(child.wait().expect("ends").success(), "{transcript}");
    // The transcript is read a byte at a time (ASCII is enough to match).
    assert!(
        transcript.contains("caso do ticket 8080: 1 resposta(s) gravada(s), vers"),
        "{transcript}"
    );

    let out = roteiro(&scratch, &["case", "show", "8080", "--format", "json", "--now", monday]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["decision"]["outputs"]["route"], "suporte");
    assert_eq!(shown["decision"]["follow_ups"], serde_json::json!([]));
}

/// A case whose bundle changed since it opened is decided again with the
/// bundle in force; its history keeps the digest of each decision.
#[test]
fn a_case_decided_after_a_bundle_edit_keeps_the_old_digest_in_its_history() {
    let scratch = Scratch(std::env::temp_dir().join(format!("roteiro-case-digest-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    let policies = scratch.0.join("policies");
    common::copy_shipped_to(&policies);
    let folder = policies.to_str().expect("utf-8 path");
    let now = "2026-12-08T10:00:00-03:00";
    let out = roteiro(&scratch, &["case", "open", "5150", "--policies", folder, "--now", now]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let manifest = policies.join("bundle.yaml");
    let edited = std::fs::read_to_string(&manifest)
        .expect("read")
        .replace("version: 2026.11.0", "version: 2026.12.0");
    std::fs::write(&manifest, edited).expect("edit");
    // A read decides with the bundle in force and records nothing.
    let show = |scratch: &Scratch| {
        let out = roteiro(
            scratch,
            &[
                "case",
                "show",
                "5150",
                "--policies",
                folder,
                "--now",
                now,
                "--format",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let read = show(&scratch);
    assert_eq!(read["decision"]["bundle"]["version"], "2026.12.0");
    assert_eq!(
        read["history"],
        show(&scratch)["history"],
        "reading changed the history"
    );
    // An answer is a change: decided and recorded with the new bundle.
    let out = roteiro(
        &scratch,
        &[
            "case",
            "answer",
            "5150",
            "request.topic=xml",
            "--policies",
            folder,
            "--now",
            now,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = show(&scratch);
    let bundles: Vec<&serde_json::Value> = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|event| event["kind"] == "decisao")
        .map(|event| &event["detail"]["bundle"])
        .collect();
    assert_eq!(bundles.len(), 2, "{bundles:?}");
    assert_eq!(bundles[0]["version"], "2026.11.0");
    assert_eq!(bundles[1]["version"], "2026.12.0");
    assert_ne!(bundles[0]["digest"], bundles[1]["digest"]);
}

#[test]
fn once_the_database_has_tokens_cases_are_read_only_with_an_analysts_token() {
    let scratch = Scratch(std::env::temp_dir().join(format!("roteiro-case-token-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    std::fs::create_dir_all(&scratch.0).expect("scratch");
    let situation = scratch.0.join("s.yaml");
    std::fs::write(
        &situation,
        "contact: {name: Maria Souza, phone: '(21) 99999-0000'}\nrequest: {topic: xml}\n",
    )
    .expect("write");
    let path = situation.to_str().expect("utf-8 path");
    let now = "2026-12-08T10:00:00-03:00";
    // A fresh database (no token ever made) asks for none.
    let out = roteiro(&scratch, &["case", "open", "5151", path, "--now", now]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let database = scratch.0.join("casos.db");
    let analyst = common::make_token(database.as_os_str(), "analista", "Ana");
    let show = |token: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_roteiro"));
        command
            .args(["case", "show", "5151", "--now", now, "--database"])
            .arg(&database)
            .env_remove("ROTEIRO_TOKEN");
        if let Some(token) = token {
            command.env("ROTEIRO_TOKEN", token);
        }
        command.output().expect("runs")
    };
    let refused = show(None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("token de analista"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!text(&refused.stdout).contains("Maria"), "nothing of the case shown");
    assert_eq!(show(Some("rot_0_0")).status.code(), Some(1), "a wrong token");
    let allowed = show(Some(&analyst));
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stderr));
}

#[test]
fn a_case_reads_its_situation_as_decide_does() {
    let scratch = Scratch(std::env::temp_dir().join(format!("roteiro-case-utf8-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    std::fs::create_dir_all(&scratch.0).expect("scratch");
    let situation = scratch.0.join("latin1.yaml");
    // "José" written in Latin-1: not UTF-8.
    std::fs::write(&situation, b"contact: {kind: cliente, name: \"Jos\xe9\"}\n").expect("write");
    let path = situation.to_str().expect("utf-8 path");
    let opened = roteiro(&scratch, &["case", "open", "77", path]);
    let decided = common::run(&["decide", path], &common::root(), b"");
    assert_eq!((opened.status.code(), decided.status.code()), (Some(2), Some(2)));
    assert_eq!(text(&opened.stderr), text(&decided.stderr));
    assert!(
        text(&opened.stderr).contains("UTF-8 inválido"),
        "{}",
        text(&opened.stderr)
    );
    // Nothing was opened with the bytes replaced.
    let shown = roteiro(&scratch, &["case", "show", "77"]);
    assert_ne!(shown.status.code(), Some(0), "{}", text(&shown.stdout));
}

#[test]
fn opening_and_answering_a_case_are_decisions_in_the_log_and_reading_is_not() {
    let scratch = Scratch(std::env::temp_dir().join(format!("roteiro-case-log-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    std::fs::create_dir_all(&scratch.0).expect("scratch");
    let situation = scratch.0.join("s.yaml");
    std::fs::write(
        &situation,
        "contact: {kind: cliente, name: Maria}\nrequest: {topic: xml}\n",
    )
    .expect("write");
    let path = situation.to_str().expect("utf-8 path");
    let now = "2026-12-08T10:00:00-03:00";
    let decisions = |scratch: &Scratch| {
        let out = roteiro(scratch, &["stats", "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["decisions"].clone()
    };
    let opened = roteiro(
        &scratch,
        &["case", "open", "81", path, "--now", now, "--log-durability", "sync"],
    );
    assert_eq!(opened.status.code(), Some(0), "{}", text(&opened.stderr));
    assert_eq!(decisions(&scratch), 1);
    assert_eq!(
        roteiro(&scratch, &["case", "show", "81", "--now", now]).status.code(),
        Some(0)
    );
    assert_eq!(decisions(&scratch), 1, "a read is no decision of record");
    let answered = roteiro(
        &scratch,
        &["case", "answer", "81", "request.topic=boleto", "--now", now],
    );
    assert_eq!(answered.status.code(), Some(0), "{}", text(&answered.stderr));
    assert_eq!(decisions(&scratch), 2);
    // The rows keep the analyst and mask personal facts, as any decision.
    let export = scratch.0.join("export");
    let out = roteiro(&scratch, &["log", "export", export.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut exported = String::new();
    for entry in std::fs::read_dir(&export).expect("exported") {
        exported.push_str(&std::fs::read_to_string(entry.expect("entry").path()).unwrap_or_default());
    }
    assert!(!exported.contains("Maria"), "{exported}");
}
