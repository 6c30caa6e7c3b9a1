//! `roteiro case open --from-helpdesk` and `roteiro case push` against the
//! Movidesk stand-in (`helpdesk/tests/standin`): the preview first, nothing
//! written without `--yes`, the action written once, a push left queued by
//! an outage and sent by the next run, and the token in no output; `serve`
//! with PostgreSQL and Movidesk both configured stops cleanly on SIGTERM.
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

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;
use standin::StandIn;

const TOKEN: &str = "tok-cli-9c1e-segredo";

fn scratch(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("roteiro-helpdesk-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// `roteiro` with the helpdesk configured for `standin`, in `cwd`.
fn roteiro(standin: &StandIn, cwd: &Path, args: &[&str]) -> Output {
    let policies = common::root().join("policies");
    let output = Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(args)
        .arg("--policies")
        .arg(&policies)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("ROTEIRO_DATABASE_URL")
        .env("ROTEIRO_MOVIDESK_URL", standin.base())
        .env("ROTEIRO_MOVIDESK_TOKEN", TOKEN)
        .env("ROTEIRO_MOVIDESK_AGENT", "agente-7")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(!said.contains(TOKEN), "the token was shown: {said}");
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn actions(standin: &StandIn, ticket: &str) -> Vec<serde_json::Value> {
    standin.ticket(ticket).unwrap()["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_case_from_a_ticket_is_previewed_confirmed_and_written_once() {
    let folder = scratch("once");
    let standin = StandIn::start(TOKEN, Duration::from_secs(60));
    standin.put_ticket(json!({
        "id": "5150", "subject": "Boleto vencido", "status": "Novo",
        "clients": [{"id": "c1", "businessName": "Padaria Pão Quente"}], "actions": [],
    }));
    let now = ["--now", "2026-12-08T10:15:00-03:00", "--by", "Ana"];
    let opened = roteiro(
        &standin,
        &folder,
        &[&["case", "open", "5150", "--from-helpdesk"][..], &now].concat(),
    );
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    // The ticket's client is the case's (its situation is kept, not shown).
    let database = folder.join(roteiro_decision_log::DEFAULT_SQLITE);
    let case = roteiro_decision_log::cases::Cases::open(database.to_str().unwrap())
        .unwrap()
        .case("5150")
        .unwrap()
        .unwrap();
    let situation: serde_json::Value = serde_json::from_str(&case.situation).unwrap();
    assert_eq!(situation["client"]["name"], "Padaria Pão Quente");
    roteiro(
        &standin,
        &folder,
        &[
            &["case", "answer", "5150", "request.topic=boleto", "contact.kind=cliente"][..],
            &now,
        ]
        .concat(),
    );

    let preview = roteiro(
        &standin,
        &folder,
        &[&["case", "push", "5150", "--dry-run"][..], &now].concat(),
    );
    assert!(preview.status.success(), "{}", text(&preview.stderr));
    let shown = text(&preview.stdout);
    assert!(shown.contains("Prévia da ação interna no ticket 5150"), "{shown}");
    assert!(
        shown.contains("Analista: Ana") && shown.contains("Pacote: roteiro-suporte"),
        "{shown}"
    );
    assert!(shown.contains("[roteiro 5150-"), "{shown}");
    // Outputs by their names, as the analyst reads them, no keys.
    assert!(
        shown.contains("Decisão:\n") && shown.contains("- Fluxo: Atendimento de suporte\n"),
        "{shown}"
    );
    assert!(
        !shown.contains("atendimento_suporte") && !shown.contains("ticket_code"),
        "{shown}"
    );
    assert!(
        !standin.seen().iter().any(|seen| seen.method == "PATCH"),
        "a dry run writes nothing"
    );

    // No terminal and no --yes: refused, nothing written.
    let unconfirmed = roteiro(&standin, &folder, &[&["case", "push", "5150"][..], &now].concat());
    assert_eq!(unconfirmed.status.code(), Some(1));
    assert!(text(&unconfirmed.stderr).contains("--yes"));
    assert!(actions(&standin, "5150").is_empty());

    let pushed = roteiro(
        &standin,
        &folder,
        &[&["case", "push", "5150", "--yes"][..], &now].concat(),
    );
    assert!(pushed.status.success(), "{}", text(&pushed.stderr));
    assert!(
        text(&pushed.stdout).contains("escrito no ticket 5150: ação"),
        "{}",
        text(&pushed.stdout)
    );
    let written = actions(&standin, "5150");
    assert_eq!(written.len(), 1);
    // Exactly the previewed text, internal, by the configured agent.
    let previewed = shown
        .split_once("no ticket 5150:\n\n")
        .map(|(_, rest)| rest.trim_end().to_string())
        .unwrap();
    assert_eq!(written[0]["description"], previewed.as_str());
    assert_eq!(written[0]["type"], 1);
    assert_eq!(written[0]["createdBy"]["id"], "agente-7");

    // Asked again: the same text is not written twice.
    let again = roteiro(
        &standin,
        &folder,
        &[&["case", "push", "5150", "--yes"][..], &now].concat(),
    );
    assert!(again.status.success());
    assert_eq!(actions(&standin, "5150").len(), 1);
    let history = roteiro(
        &standin,
        &folder,
        &[&["case", "show", "5150", "--format", "json"][..], &now].concat(),
    );
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let kinds: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"helpdesk") && kinds.contains(&"envio_helpdesk"),
        "{kinds:?}"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_push_left_by_an_outage_goes_out_with_the_next_run() {
    let folder = scratch("outage");
    let standin = StandIn::start(TOKEN, Duration::from_secs(60));
    standin.put_ticket(json!({"id": "6160", "subject": "Treinamento", "status": "Novo", "clients": [], "actions": []}));
    let at = |time: &str| {
        [
            "--now".to_string(),
            format!("2026-12-08T{time}-03:00"),
            "--by".into(),
            "Bia".into(),
        ]
    };
    let run = |args: &[&str], time: &str| {
        let moment = at(time);
        let moment: Vec<&str> = moment.iter().map(String::as_str).collect();
        roteiro(&standin, &folder, &[args, &moment].concat())
    };
    assert!(run(&["case", "open", "6160"], "10:00:00").status.success());
    standin.rules(|rules| rules.fail_next = [503].into());
    let queued = run(&["case", "push", "6160", "--public", "--yes"], "10:01:00");
    assert!(queued.status.success(), "{}", text(&queued.stderr));
    assert!(text(&queued.stdout).contains("na fila"), "{}", text(&queued.stdout));
    assert!(actions(&standin, "6160").is_empty());
    // A later run (a new process: roteiro restarted) sends it.
    let sent = run(&["case", "push", "6160", "--public", "--yes"], "10:10:00");
    assert!(
        text(&sent.stdout).contains("escrito no ticket 6160"),
        "{}",
        text(&sent.stdout)
    );
    let written = actions(&standin, "6160");
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["type"], 2, "a public action");
    std::fs::remove_dir_all(&folder).unwrap();
}

/// Every production replica has PostgreSQL and Movidesk: its push worker
/// holds database connections between rounds, and a SIGTERM used to drop
/// them inside the runtime and abort (exit 134).
#[test]
fn serve_with_postgresql_and_movidesk_exits_zero_on_sigterm() {
    let Some(database) = postgres::address() else { return };
    let standin = StandIn::start(TOKEN, Duration::from_secs(60));
    let base = standin.base();
    let env = [
        ("ROTEIRO_MOVIDESK_URL", base.as_str()),
        ("ROTEIRO_MOVIDESK_TOKEN", TOKEN),
        ("ROTEIRO_MOVIDESK_AGENT", "agente-7"),
    ];
    let served = common::start_serve_with_env(
        &[
            "--policies".as_ref(),
            "policies".as_ref(),
            "--database".as_ref(),
            database.as_ref(),
        ],
        &env,
    );
    let mut child = served.child;
    // The worker's first round (at start) opens and keeps its connections.
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}
