//! The command line as the contract fixes it: formats, exit codes, what goes
//! to stdout and stderr, and where the bundle comes from.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn roteiro(args: &[&str], cwd: &Path, stdin: Option<&str>) -> Output {
    common::run(args, cwd, stdin.unwrap_or("").as_bytes())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch folder of its own for each test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("roteiro-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Self(dir)
    }

    /// A copy of the shipped bundle inside the scratch folder.
    fn bundle_copy(&self) -> PathBuf {
        let target = self.0.join("policies");
        common::copy_shipped_to(&target);
        target
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SCENARIO_1: &str = "policies/examples/004-cenario1-treinamento.yaml";
/// Situations read from stdin pin no time; the command line pins it.
const NOW: &str = "2026-12-08T10:15:00-03:00";

#[test]
fn json_format_prints_exactly_one_decision_document() {
    let out = roteiro(&["decide", SCENARIO_1, "--format", "json"], &common::root(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    for key in [
        "bundle", "outputs", "actions", "scripts", "missing", "warnings", "trace",
    ] {
        assert!(decision.get(key).is_some(), "decision lacks `{key}`");
    }
    assert_eq!(decision["outputs"]["route"], "io");
    assert_eq!(decision["outputs"]["io_scheduling"], true);
    let actions = decision["actions"].as_array().expect("actions");
    let booking = actions
        .iter()
        .find(|a| a["id"] == "io.agendar.escala")
        .expect("IO booking step");
    assert_eq!(booking["source"]["document"], "004_2589106d581048ca.txt");
    assert_eq!(booking["team"], "io");
}

#[test]
fn yaml_format_is_the_same_decision() {
    let root = common::root();
    let json = roteiro(&["decide", SCENARIO_1, "--format", "json"], &root, None);
    let yaml = roteiro(&["decide", SCENARIO_1, "--format", "yaml"], &root, None);
    let from_json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let from_yaml: serde_json::Value = serde_yaml::from_slice(&yaml.stdout).expect("yaml");
    assert_eq!(from_json, from_yaml);
}

#[test]
fn text_format_is_portuguese_and_plain_outside_a_terminal() {
    let out = roteiro(&["decide", SCENARIO_1], &common::root(), None);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Próximas ações"), "{stdout}");
    assert!(stdout.contains("01hr30min"));
    assert!(
        !stdout.contains('\u{1b}'),
        "no ANSI colors when stdout is not a terminal"
    );
    assert!(
        stdout.contains("client.financial_pending = não"),
        "defaults the decision relied on are shown: {stdout}"
    );
}

#[test]
fn the_text_says_why_in_words_and_brief_keeps_only_what_to_do() {
    let full = text(
        &roteiro(
            &["decide", "policies/examples/002-sistema-bloqueado.yaml"],
            &common::root(),
            None,
        )
        .stdout,
    );
    assert!(full.contains("Por quê"), "{full}");
    assert!(
        full.contains("porque assunto da solicitação é “Sistema bloqueado” e não sistema bloqueado"),
        "conditions in words, with the facts' labels and the values' names: {full}"
    );
    assert!(!full.contains("request.topic =="), "no Rhai in the text form: {full}");

    let out = roteiro(&["decide", "--brief", SCENARIO_1], &common::root(), None);
    assert_eq!(out.status.code(), Some(0));
    let brief = text(&out.stdout);
    for kept in [
        "Decisão",
        &common::team("io"),
        "Próximas ações",
        "O que dizer ou enviar",
    ] {
        assert!(brief.contains(kept), "{kept} missing from: {brief}");
    }
    for left_out in ["Por quê", "Lembretes", "Assumido"] {
        assert!(!brief.contains(left_out), "{left_out} in the brief form: {brief}");
    }
}

#[test]
fn stdin_and_json_situations_are_read_by_content() {
    let situation = r#"{"request": {"topic": "configuracao_sat"}, "now": "2026-12-08T10:15:00-03:00"}"#;
    let out = roteiro(&["decide", "-", "--format", "json"], &common::root(), Some(situation));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(decision["outputs"]["io_scheduling"], false);
}

fn assert_invalid_situation(situation: &str, expected_in_stderr: &[&str]) {
    let out = roteiro(&["decide", "-", "--format", "json"], &common::root(), Some(situation));
    assert_eq!(
        out.status.code(),
        Some(2),
        "situation {situation:?}: {}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "stdout must be empty on exit 2");
    let stderr = text(&out.stderr);
    for expected in expected_in_stderr {
        assert!(stderr.contains(expected), "stderr lacks {expected:?}: {stderr}");
    }
}

#[test]
fn unknown_enum_value_exits_2_naming_field_found_allowed_and_line() {
    assert_invalid_situation(
        "client:\n  plan: gold\n",
        &[
            "client.plan",
            "`gold`",
            "light, basico, essencial, prime, plus, premium",
            "-, linha 2",
        ],
    );
}

#[test]
fn wrong_type_exits_2() {
    assert_invalid_situation(
        "client:\n  plan_active: talvez\n",
        &["client.plan_active", "true ou false"],
    );
}

#[test]
fn impossible_date_exits_2() {
    assert_invalid_situation(
        "billing:\n  due_date: 2026-02-30\n",
        &["billing.due_date", "2026-02-30"],
    );
}

#[test]
fn malformed_yaml_and_json_exit_2() {
    assert_invalid_situation("client:\n  code: \"48213\n  plan: prime\n", &["malformado"]);
    assert_invalid_situation("{\"client\": ", &["malformado"]);
}

#[test]
fn an_empty_situation_file_exits_2_saying_it_is_empty() {
    for situation in ["", "  \n\n", "# só um comentário\n"] {
        assert_invalid_situation(situation, &["o arquivo está vazio", "-"]);
    }
    let scratch = Scratch::new("empty-situation");
    let file = scratch.0.join("vazio.yaml");
    std::fs::write(&file, "").expect("write");
    let out = roteiro(&["decide", file.to_str().expect("utf-8 path")], &common::root(), None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("vazio.yaml") && stderr.contains("o arquivo está vazio"),
        "{stderr}"
    );
    // An explicit empty document is a situation with no facts, decided.
    let out = roteiro(&["decide", "-", "--format", "json"], &common::root(), Some("{}"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn unreadable_situation_file_exits_2() {
    let out = roteiro(&["decide", "no-such-file.yaml"], &common::root(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no-such-file.yaml"));
}

#[test]
fn invalid_bundle_exits_3_naming_the_file_and_nothing_on_stdout() {
    let scratch = Scratch::new("bad-bundle");
    let policies = scratch.bundle_copy();
    let procedure = policies.join("procedures/002-atendimento-padrao.yaml");
    let original = std::fs::read_to_string(&procedure).expect("read");
    std::fs::write(
        &procedure,
        original.replace("request.topic == \"boleto\"", "request.topic == \"boletto\""),
    )
    .expect("write");
    let out = roteiro(
        &[
            "decide",
            "-",
            "--policies",
            policies.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
        &common::root(),
        Some("request:\n  topic: boleto\n"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("procedures/002-atendimento-padrao.yaml"), "{stderr}");
    assert!(stderr.contains("`boletto`"), "{stderr}");
    assert!(stderr.contains("padrao.boleto"), "{stderr}");
}

#[test]
fn editing_a_policy_changes_the_next_decision_without_rebuild() {
    let scratch = Scratch::new("edit");
    let policies = scratch.bundle_copy();
    let dir = policies.to_str().expect("utf-8");
    let situation = "request:\n  topic: xml\n";
    let before = roteiro(
        &["decide", "-", "--policies", dir, "--format", "json", "--now", NOW],
        &common::root(),
        Some(situation),
    );
    assert!(text(&before.stdout).contains("Portal Contábil"));
    let procedure = policies.join("procedures/002-atendimento-padrao.yaml");
    let original = std::fs::read_to_string(&procedure).expect("read");
    std::fs::write(&procedure, original.replace("Portal Contábil", "Portal do Contador")).expect("write");
    let after = roteiro(
        &["decide", "-", "--policies", dir, "--format", "json", "--now", NOW],
        &common::root(),
        Some(situation),
    );
    assert_eq!(after.status.code(), Some(0));
    assert!(text(&after.stdout).contains("Portal do Contador"));
}

#[test]
fn without_policies_folder_the_embedded_bundle_decides() {
    let scratch = Scratch::new("embedded");
    let out = roteiro(
        &["decide", "-", "--format", "json", "--now", NOW],
        &scratch.0,
        Some("request:\n  topic: configuracao_sat\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(decision["bundle"]["name"], "roteiro-suporte");
    assert_eq!(decision["outputs"]["route"], "suporte");
}

#[test]
fn a_policies_folder_in_the_working_directory_wins_over_the_embedded_bundle() {
    let scratch = Scratch::new("cwd");
    let policies = scratch.bundle_copy();
    let manifest = policies.join("bundle.yaml");
    let original = std::fs::read_to_string(&manifest).expect("read");
    std::fs::write(
        &manifest,
        original.replace("name: roteiro-suporte", "name: copia-local"),
    )
    .expect("write");
    let out = roteiro(
        &["decide", "-", "--format", "json", "--now", NOW],
        &scratch.0,
        Some("{}"),
    );
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(decision["bundle"]["name"], "copia-local");
}

#[test]
fn check_and_test_commands_pass_on_the_shipped_bundle() {
    let check = roteiro(&["check", "--policies", "policies"], &common::root(), None);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let test = roteiro(
        &["test", "--policies", "policies", "--coverage-min", "95"],
        &common::root(),
        None,
    );
    assert_eq!(test.status.code(), Some(0), "{}", text(&test.stdout));
    assert!(text(&test.stdout).contains(" passed, 0 failed"));
}

#[test]
fn test_command_fails_on_a_wrong_expectation_with_a_readable_diff() {
    let scratch = Scratch::new("failing-test");
    let file = scratch.0.join("t.yaml");
    std::fs::write(
        &file,
        "now: 2026-12-08T10:00:00-03:00\ncases:\n  - name: errado\n    situation: {request: {topic: boleto}}\n    expect:\n      outputs: {route: io}\n",
    )
    .expect("write");
    let out = roteiro(
        &["test", file.to_str().expect("utf-8"), "--policies", "policies"],
        &common::root(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("saída `route`: esperado \"io\", obtido \"suporte\""),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"));
}

#[test]
fn schema_command_prints_json_schemas() {
    for kind in ["policy", "situation", "decision"] {
        let out = roteiro(&["schema", kind, "--policies", "policies"], &common::root(), None);
        assert_eq!(out.status.code(), Some(0), "{kind}");
        let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
        assert!(
            schema.get("properties").is_some() || schema.get("$defs").is_some(),
            "{kind}"
        );
    }
}

#[test]
fn bundle_errors_show_the_offending_yaml_line() {
    let scratch = Scratch::new("snippet");
    let policies = scratch.bundle_copy();
    let procedure = policies.join("procedures/002-atendimento-padrao.yaml");
    let original = std::fs::read_to_string(&procedure).expect("read");
    std::fs::write(
        &procedure,
        original.replacen(
            "    when: request.topic == \"xml\"",
            "    whn: request.topic == \"xml\"",
            1,
        ),
    )
    .expect("write");
    let out = roteiro(
        &["check", "--policies", policies.to_str().expect("utf-8")],
        &common::root(),
        None,
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("campo desconhecido `whn`"), "{stderr}");
    assert!(
        stderr.contains("|     whn: request.topic == \"xml\""),
        "the YAML line is shown: {stderr}"
    );
    assert!(stderr.contains("|     ^"), "a caret points at the column: {stderr}");
}

#[test]
fn a_policy_test_that_pins_no_time_fails_and_says_why_unless_now_is_given() {
    let scratch = Scratch::new("unpinned-test");
    let file = scratch.0.join("t.yaml");
    std::fs::write(
        &file,
        "cases:\n  - name: sem hora\n    situation: {request: {topic: boleto}}\n    expect:\n      outputs: {route: suporte}\n",
    )
    .expect("write");
    let path = file.to_str().expect("utf-8");
    let out = roteiro(&["test", path, "--policies", "policies"], &common::root(), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("o caso não fixa `now`"),
        "{}",
        text(&out.stdout)
    );
    let pinned = roteiro(
        &["test", path, "--policies", "policies", "--now", NOW],
        &common::root(),
        None,
    );
    assert_eq!(pinned.status.code(), Some(0), "{}", text(&pinned.stdout));
}

#[test]
fn now_on_the_command_line_decides_as_of_that_moment_and_the_clock_is_an_assumption() {
    // The same call at 10:15 and at 19:30: the greeting follows `--now`.
    let situation = "analyst: {name: Carla}\ncontact: {kind: cliente, channel: telefone}\nrequest: {topic: xml}\n";
    let decide = |now: &str| {
        let out = roteiro(
            &["decide", "-", "--format", "json", "--now", now],
            &common::root(),
            Some(situation),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let morning = decide("2026-12-08T10:15:00-03:00").to_string();
    let evening = decide("2026-12-08T19:30:00-03:00").to_string();
    assert!(morning.contains("Bom dia"), "{morning}");
    assert!(evening.contains("Boa noite"), "{evening}");
    // `--now` wins over the situation's own `now`.
    let pinned = format!("now: 2026-12-08T19:30:00-03:00\n{situation}");
    let out = roteiro(
        &["decide", "-", "--format", "json", "--now", NOW],
        &common::root(),
        Some(&pinned),
    );
    assert!(text(&out.stdout).contains("Bom dia"), "{}", text(&out.stdout));
    // Without any, the command falls back to the system clock and says so.
    let out = roteiro(&["decide", "-", "--format", "json"], &common::root(), Some(situation));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let assumed = decision["assumed"].as_array().expect("assumed list");
    assert!(assumed.iter().any(|a| a["fact"] == "now"), "{decision}");
    // A bad `--now` is refused by the command line, before any decision.
    let out = roteiro(&["decide", SCENARIO_1, "--now", "amanhã"], &common::root(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("RFC 3339"), "{}", text(&out.stderr));
}

#[test]
fn every_help_is_in_portuguese() {
    for args in [
        &["--help"][..],
        &["decide", "--help"],
        &["ask", "--help"],
        &["serve", "--help"],
        &["stats", "--help"],
        &["log", "export", "--help"],
        &["check", "--help"],
    ] {
        let out = roteiro(args, &common::root(), None);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = text(&out.stdout);
        assert!(
            help.contains("Uso: roteiro") && help.contains("Mostra esta ajuda"),
            "{args:?}: {help}"
        );
        for english in [
            "Usage:",
            "Options:",
            "Print help",
            "Possible values",
            "[default:",
            "Commands:",
        ] {
            assert!(!help.contains(english), "{args:?} still says {english:?}: {help}");
        }
    }
}

/// `roteiro check | head -1`: the reader leaves before the output ends.
/// The command ends quietly as a broken pipe ends a process (141), with
/// no panic and no backtrace.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["schema", "situation"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("roteiro starts");
    // Closed before the command writes anything (it starts and loads first).
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("roteiro ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
