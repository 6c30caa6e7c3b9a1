//! `roteiro ask` as an analyst uses it: the test reads each question from
//! the program's output and answers from a scenario, as a person would,
//! then decides the saved situation again with `decide`.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

const NOW: &str = "2026-12-08T10:15:00-03:00";

/// Runs `ask`, answering each question from `answers` (fact → typed
/// answer; a fact not there is skipped). Returns the transcript and the
/// facts asked, in order.
fn converse(answers: &BTreeMap<&str, &str>, save: &std::path::Path) -> (String, Vec<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roteiro"));
    command.args(["ask", "--now", NOW]);
    talk(command, answers, save)
}

/// Runs `ask` with no `--now` under libfaketime's clock at `utc`, in a
/// process whose zone is UTC (as servers and containers run).
fn converse_at_clock(utc: &str, answers: &BTreeMap<&str, &str>, save: &std::path::Path) -> (String, Vec<String>) {
    let mut command = Command::new("faketime");
    // CI runs the whole suite under a faked clock too: that one's library
    // and settings are taken off, so this clock is the only one.
    for (key, _) in std::env::vars_os() {
        if key == "LD_PRELOAD" || key.to_string_lossy().starts_with("FAKETIME") {
            command.env_remove(key);
        }
    }
    command
        .env("TZ", "UTC")
        .args([utc, env!("CARGO_BIN_EXE_roteiro"), "ask"]);
    talk(command, answers, save)
}

fn talk(mut command: Command, answers: &BTreeMap<&str, &str>, save: &std::path::Path) -> (String, Vec<String>) {
    let mut child = command
        .args(["--policies", "policies", "--save"])
        .arg(save)
        .arg("--database")
        .arg(save.with_extension("db"))
        .current_dir(common::root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut transcript = String::new();
    let mut asked = Vec::new();
    let mut byte = [0u8; 1];
    let mut pending = Vec::new();
    // Bounded: a session asks at most one question per fact.
    while asked.len() < 200 && stdout.read(&mut byte).unwrap() == 1 {
        // Bytes become text a whole character at a time (UTF-8).
        pending.push(byte[0]);
        match std::str::from_utf8(&pending) {
            Ok(text) => transcript.push_str(text),
            Err(err) if err.error_len().is_none() => continue,
            Err(_) => transcript.push_str(&String::from_utf8_lossy(&pending)),
        }
        pending.clear();
        if transcript.ends_with("vazio pula): ") {
            let line = transcript.lines().last().unwrap();
            let fact = line.rsplit_once(" [").unwrap().1.split(']').next().unwrap().to_string();
            let answer = answers.get(fact.as_str()).copied().unwrap_or("");
            writeln!(stdin, "{answer}").unwrap();
            asked.push(fact);
        }
    }
    drop(stdin);
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    transcript.push_str(&String::from_utf8_lossy(&rest));
    assert!(child.wait().unwrap().success(), "{transcript}");
    (transcript, asked)
}

fn decide_saved(path: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["decide", "--format", "json", "--policies", "policies"])
        .arg(path)
        .current_dir(common::root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scenario(client: &[(&'static str, &'static str)]) -> BTreeMap<&'static str, &'static str> {
    let mut answers = BTreeMap::from([
        ("contact.channel", "chat"),
        ("contact.kind", "cliente"),
        ("request.topic", "treinamento"),
        ("request.scope", "completo"),
        ("request.module", "financeiro"),
        ("analyst.name", "Carla"),
        ("client.plan_active", "s"),
        ("client.plan", "essencial"),
    ]);
    answers.extend(client.iter().copied());
    answers
}

#[test]
fn the_three_scenarios_of_document_004_are_reached_by_answering_questions() {
    let dir = std::env::temp_dir().join(format!("roteiro-ask-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "cenario1",
            scenario(&[("client.in_onboarding", "n"), ("client.franchise", "n")]),
            "io",
        ),
        (
            "cenario2",
            scenario(&[("client.in_onboarding", "s"), ("client.franchise", "n")]),
            "gr",
        ),
        (
            "cenario3",
            scenario(&[("client.in_onboarding", "n"), ("client.franchise", "s")]),
            "franchise",
        ),
    ];
    for (name, answers, route) in cases {
        let save = dir.join(format!("{name}.yaml"));
        let (transcript, asked) = converse(&answers, &save);
        assert_eq!(
            asked.first().map(String::as_str),
            Some("contact.channel"),
            "{transcript}"
        );
        assert!(asked.iter().position(|f| f == "request.topic") < asked.iter().position(|f| f == "request.scope"));
        assert!(transcript.contains(&common::team(route)), "{name}: {transcript}");
        let decided = decide_saved(&save);
        assert_eq!(decided["outputs"]["route"], route, "{name}");
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(save.with_extension("decisao.json")).unwrap()).unwrap();
        assert_eq!(
            written["outputs"], decided["outputs"],
            "the saved decision is the saved situation's"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_boleto_call_asks_only_what_the_boleto_procedure_needs() {
    let save = std::env::temp_dir().join(format!("roteiro-ask-boleto-{}.yaml", std::process::id()));
    let answers = BTreeMap::from([
        ("contact.channel", "telefone"),
        ("contact.kind", "cliente"),
        ("request.topic", "boleto"),
        ("analyst.name", "Carla"),
        ("billing.due_date", "05/12/2026"),
        ("billing.payment_method", "pix"),
    ]);
    let (transcript, asked) = converse(&answers, &save);
    assert!(
        !asked.iter().any(|f| f == "request.scope"),
        "no training question: {asked:?}"
    );
    assert!(transcript.contains(&common::team("suporte")), "{transcript}");
    assert_eq!(decide_saved(&save)["outputs"]["route"], "suporte");
    // Every decision the analyst saw is logged: the first one and one
    // after each answer.
    let database = save.with_extension("db");
    let stats = common::run(
        &["stats", "--format", "json", "--database", database.to_str().unwrap()],
        &common::root(),
        b"",
    );
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["decisions"].as_u64(), Some(asked.len() as u64 + 1), "{stats}");
    for suffix in ["db", "db-wal", "db-shm"] {
        let _ = std::fs::remove_file(save.with_extension(suffix));
    }
    let _ = std::fs::remove_file(&save);
    let _ = std::fs::remove_file(save.with_extension("decisao.json"));
}

#[test]
fn bad_answers_are_asked_again_and_a_closed_stdin_ends_with_the_decision_so_far() {
    let database = std::env::temp_dir().join(format!("roteiro-ask-closed-{}.db", std::process::id()));
    let args = [
        "ask",
        "--now",
        NOW,
        "--policies",
        "policies",
        "--database",
        database.to_str().unwrap(),
    ];
    // A wrong option number, then a valid one, then stdin closes.
    let out = common::run(&args, &common::root(), b"99\n1\n");
    let _ = std::fs::remove_file(&database);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("escolha um número de 1 a 5"), "{text}");
    assert!(text.contains("entrada encerrada"), "{text}");
}

/// Whether libfaketime is here; CI installs it, so there it must be.
fn faketime_present() -> bool {
    let present = Command::new("faketime").arg("--version").output().is_ok();
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI installs faketime (.ci/run)"
    );
    present
}

#[test]
fn ask_on_the_system_clock_greets_and_records_by_brasilias_clock_at_any_hour() {
    if !faketime_present() {
        eprintln!("faketime ausente: teste pulado (o .ci/run o instala)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("roteiro-ask-clock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let answers = BTreeMap::from([
        ("contact.channel", "telefone"),
        ("contact.kind", "nao_cliente"),
        ("request.topic", "boleto"),
        ("analyst.name", "Carla"),
    ]);
    // (clock in UTC, greeting, the moment ask records, Financeiro open).
    let hours = [
        // 16:00 in Brasília: afternoon, Financeiro open until 18:00.
        ("2026-12-08 19:00:00", "Boa tarde", "2026-12-08T16:00:00-03:00", true),
        // 01:00 UTC is still the previous day in Brasília, 22:00.
        ("2026-12-09 01:00:00", "Boa noite", "2026-12-08T22:00:00-03:00", false),
        // 11:30 UTC is 08:30 in the morning, Financeiro open.
        ("2026-12-08 11:30:00", "Bom dia", "2026-12-08T08:30:00-03:00", true),
    ];
    for (utc, greeting, recorded, open) in hours {
        let save = dir.join(format!("{}.yaml", &utc[11..13]));
        let (transcript, _) = converse_at_clock(utc, &answers, &save);
        assert!(
            transcript.contains(&format!("Info, Carla, {greeting}!")),
            "{utc}: {transcript}"
        );
        let saved: serde_yaml::Value = serde_yaml::from_slice(&std::fs::read(&save).unwrap()).unwrap();
        let now = saved["now"].as_str().unwrap_or_default();
        assert!(
            now.starts_with(&recorded[..16]) && now.ends_with("-03:00"),
            "{utc}: saved now {now}"
        );
        let decided = decide_saved(&save);
        let asks_receipt = decided["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|action| action["id"] == "padrao.nao_cliente.fora_expediente.comprovante");
        // Out of hours a non-client is asked for the PDF receipt before any support.
        assert_eq!(asks_receipt, !open, "{utc}: {decided}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
