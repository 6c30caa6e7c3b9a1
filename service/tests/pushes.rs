//! A case written into its ticket over HTTP, against the Movidesk
//! stand-in: the preview names the authenticated analyst, a push of a
//! preview that no longer holds is a 409, a confirmed push is queued and
//! sent by the worker exactly as previewed, once, and a push met by an
//! outage stays queued saying why (its later delivery is
//! `tests/helpdesk.rs`'s).
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;
#[path = "../../helpdesk/tests/standin/mod.rs"]
mod standin;

use std::time::Duration;

use common::{request, Endpoint};
use roteiro_auth::Role;
use roteiro_service::{LimitsConfig, LogConfig};
use serde_json::{json, Value};
use standin::StandIn;

fn serve_with_helpdesk(name: &str, helpdesk: &StandIn) -> (tokio::runtime::Runtime, Endpoint) {
    let path = std::env::temp_dir().join(format!("roteiro-service-push-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let database = path.to_str().unwrap().to_string();
    let log = LogConfig::open(&database, roteiro_decision_log::Durability::Commit).unwrap();
    let config = common::helpdesk_config(helpdesk.base(), "tok-servico");
    common::serve_full(Some(log), LimitsConfig::default(), Some(config))
}

fn json_of(answer: (u16, String)) -> (u16, Value) {
    (answer.0, serde_json::from_str(&answer.1).unwrap_or(Value::Null))
}

/// Polls the ticket's pushes until the last one leaves the queue.
fn settled(endpoint: &Endpoint, ticket: &str) -> Value {
    for _ in 0..100 {
        let (_, pushes) = json_of(request(endpoint, "GET", &format!("/v1/cases/{ticket}/pushes"), ""));
        if let Some(last) = pushes.as_array().and_then(|list| list.last()) {
            if last["state"] != "fila" {
                return last.clone();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Value::Null
}

#[test]
fn a_confirmed_preview_is_written_once_as_shown() {
    let helpdesk = StandIn::start("tok-servico", Duration::from_secs(60));
    helpdesk.put_ticket(json!({"id": "7070", "actions": [{"id": 1, "type": 2, "description": "Oi"}]}));
    let (_runtime, admin) = serve_with_helpdesk("once", &helpdesk);
    let ana = admin.as_new(Role::Analista, "Ana");
    let situation = r#"{"contact": {"kind": "cliente"}, "request": {"topic": "boleto"}}"#;
    let at = "now=2026-12-08T10:15:00-03:00";
    assert_eq!(request(&ana, "POST", &format!("/v1/cases/7070?{at}"), situation).0, 201);

    let (status, preview) = json_of(request(&ana, "GET", &format!("/v1/cases/7070/push?{at}"), ""));
    assert_eq!(status, 200, "{preview}");
    let text = preview["text"].as_str().unwrap().to_string();
    assert!(text.contains(&format!("Analista: Ana-{}", ana.addr.port())), "{text}");
    let stale = request(
        &ana,
        "POST",
        &format!("/v1/cases/7070/push?{at}"),
        r#"{"marker": "[roteiro 7070-0]"}"#,
    );
    assert_eq!(stale.0, 409, "{}", stale.1);

    let confirm = json!({"marker": preview["marker"]}).to_string();
    let (status, queued) = json_of(request(&ana, "POST", &format!("/v1/cases/7070/push?{at}"), &confirm));
    assert_eq!(status, 202, "{queued}");
    let done = settled(&ana, "7070");
    assert_eq!(done["state"], "feito", "{done}");
    let actions = helpdesk.ticket("7070").unwrap()["actions"].as_array().cloned().unwrap();
    assert_eq!(actions.len(), 2, "the earlier action kept, ours added");
    assert_eq!(actions[1]["description"], text.as_str());
    assert_eq!(actions[1]["createdBy"]["id"], "agente-9");
    assert_eq!(done["result"], actions[1]["id"].to_string().as_str());

    // Confirmed again: the same text is not written twice.
    assert_eq!(
        request(&ana, "POST", &format!("/v1/cases/7070/push?{at}"), &confirm).0,
        202
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(helpdesk.ticket("7070").unwrap()["actions"].as_array().unwrap().len(), 2);
}

#[test]
fn a_push_met_by_an_outage_stays_queued_with_why() {
    let helpdesk = StandIn::start("tok-servico", Duration::from_secs(60));
    helpdesk.put_ticket(json!({"id": "8080", "actions": []}));
    let (_runtime, admin) = serve_with_helpdesk("outage", &helpdesk);
    assert_eq!(
        request(&admin, "POST", "/v1/cases/8080", r#"{"request": {"topic": "xml"}}"#).0,
        201
    );
    let (_, preview) = json_of(request(&admin, "GET", "/v1/cases/8080/push?public=true", ""));
    helpdesk.rules(|rules| rules.fail_next = [503].into());
    let confirm = json!({"marker": preview["marker"]}).to_string();
    assert_eq!(
        request(&admin, "POST", "/v1/cases/8080/push?public=true", &confirm).0,
        202
    );
    // The first try meets the outage; the push stays queued with why.
    let mut first = Value::Null;
    for _ in 0..50 {
        let (_, pushes) = json_of(request(&admin, "GET", "/v1/cases/8080/pushes", ""));
        first = pushes[0].clone();
        if first["attempts"] == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(first["state"], "fila", "{first}");
    assert!(first["result"].as_str().unwrap().contains("503"), "{first}");
    assert!(helpdesk.ticket("8080").unwrap()["actions"]
        .as_array()
        .unwrap()
        .is_empty());
}
