//! The Movidesk client against a local stand-in of its documented API
//! (`standin/mod.rs`): the exact requests it sends, an action added once
//! however often it is asked, a 429 waited out, 5xx and timeouts left for
//! later, and a queued push that survives failures and a restart. The
//! token appears in no error.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../../tests/support/postgres.rs"]
mod postgres;
mod standin;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use roteiro_decision_log::cases::Cases;
use roteiro_helpdesk::{
    deliver_due, Helpdesk, HelpdeskError, Movidesk, MovideskConfig, NewAction, PushState, Pushes, Secret,
};
use serde_json::json;
use standin::{Seen, StandIn};

const TOKEN: &str = "tok-3f9a-segredo";

fn config(base: String) -> MovideskConfig {
    MovideskConfig {
        base_url: base,
        token: Secret::new(TOKEN.into()),
        agent_id: "agente-7".into(),
        per_minute: 600,
        timeout: Duration::from_secs(2),
        max_wait: Duration::from_secs(10),
    }
}

fn with_ticket(block: Duration) -> StandIn {
    let standin = StandIn::start(TOKEN, block);
    standin.put_ticket(json!({
        "id": "4321",
        "subject": "Boleto vencido",
        "status": "Em atendimento",
        "clients": [{"id": "c1", "businessName": "Padaria Pão Quente"}],
        "actions": [{"id": 1, "type": 2, "description": "Cliente pediu a segunda via."}],
        "tags": ["financeiro"],
    }));
    standin
}

fn action(marker: &str) -> NewAction {
    NewAction {
        public: false,
        description: format!("Ações: enviar a segunda via.\n{marker}"),
        marker: marker.into(),
    }
}

fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

#[test]
fn reading_a_ticket_and_adding_an_action_send_exactly_the_documented_requests() {
    let standin = with_ticket(Duration::from_secs(60));
    let movidesk = Movidesk::new(config(standin.base()));
    let ticket = movidesk.ticket("4321").unwrap();
    assert_eq!(ticket.subject.as_deref(), Some("Boleto vencido"));
    assert_eq!(ticket.client_name.as_deref(), Some("Padaria Pão Quente"));
    let id = movidesk.add_action("4321", &action("[roteiro 4321-a]")).unwrap();
    assert_eq!(id, "2");

    let read = query(&[
        ("token", TOKEN),
        ("id", "4321"),
        ("$select", "id,subject,status,clients,actions"),
    ]);
    let get = Seen {
        method: "GET".into(),
        path: "/public/v1/tickets".into(),
        query: read,
        body: None,
    };
    let patch = Seen {
        method: "PATCH".into(),
        path: "/public/v1/tickets".into(),
        query: query(&[("token", TOKEN), ("id", "4321")]),
        body: Some(json!({"actions": [
            {"id": 1, "type": 2, "description": "Cliente pediu a segunda via."},
            {"type": 1, "description": "Ações: enviar a segunda via.\n[roteiro 4321-a]", "createdBy": {"id": "agente-7"}},
        ]})),
    };
    assert_eq!(standin.seen(), vec![get.clone(), get.clone(), patch, get]);
    // The array was sent whole: the earlier action and the tags are kept.
    let stored = standin.ticket("4321").unwrap();
    assert_eq!(stored["actions"].as_array().unwrap().len(), 2);
    assert_eq!(stored["tags"], json!(["financeiro"]));
}

#[test]
fn an_action_is_written_once_however_often_it_is_asked() {
    let standin = with_ticket(Duration::from_secs(60));
    let movidesk = Movidesk::new(config(standin.base()));
    let first = movidesk.add_action("4321", &action("[roteiro 4321-b]")).unwrap();
    let again = movidesk.add_action("4321", &action("[roteiro 4321-b]")).unwrap();
    assert_eq!(first, again);
    let patches = standin.seen().iter().filter(|seen| seen.method == "PATCH").count();
    assert_eq!(patches, 1);
}

#[test]
fn a_429_is_waited_out_as_retry_after_says() {
    let standin = with_ticket(Duration::from_secs(1));
    standin.rules(|rules| {
        rules.per_minute = 2;
        rules.window = Duration::from_secs(1);
    });
    let movidesk = Movidesk::new(config(standin.base()));
    let started = Instant::now();
    for _ in 0..3 {
        movidesk.ticket("4321").expect("read once the wait is over");
    }
    // The third read got a 429 (a budget of two in the window): the
    // client waited its retry-after rather than failing.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn a_wait_longer_than_allowed_leaves_the_push_for_later() {
    let standin = with_ticket(Duration::from_secs(60));
    standin.rules(|rules| rules.fail_next = [500, 500, 500].into());
    let movidesk = Movidesk::new(MovideskConfig {
        max_wait: Duration::from_secs(2),
        ..config(standin.base())
    });
    for _ in 0..3 {
        assert_eq!(movidesk.ticket("4321"), Err(HelpdeskError::Server(500)));
    }
    // Three failures in a row: Movidesk blocks for 60 s, past max_wait.
    let blocked = movidesk.ticket("4321").unwrap_err();
    assert!(
        matches!(blocked, HelpdeskError::RateLimited(seconds) if seconds > 2),
        "{blocked:?}"
    );
    assert!(blocked.is_transient());
}

#[test]
fn errors_never_show_the_token() {
    let standin = with_ticket(Duration::from_secs(60));
    let wrong = Movidesk::new(MovideskConfig {
        token: Secret::new("outro-token".into()),
        ..config(standin.base())
    });
    let refused = wrong.ticket("4321").unwrap_err();
    assert_eq!(refused, HelpdeskError::Unauthorized);
    standin.rules(|rules| rules.stall_next = Some(Duration::from_secs(4)));
    let slow = Movidesk::new(config(standin.base())).ticket("4321").unwrap_err();
    assert!(matches!(slow, HelpdeskError::Transport(_)), "{slow:?}");
    // Nothing listens on port 9: the transport error names the URL.
    let nowhere = Movidesk::new(config("http://127.0.0.1:9/public/v1".into()))
        .ticket("4321")
        .unwrap_err();
    for err in [refused, slow, nowhere] {
        assert!(!err.to_string().contains(TOKEN), "{err}");
        assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
    }
}

/// Queue, outage, restart, delivery, on the database at `database` with
/// the case of `ticket`.
fn survives_failures_and_a_restart(database: &str, ticket: &str) {
    let standin = StandIn::start(TOKEN, Duration::from_secs(60));
    standin.put_ticket(json!({"id": ticket, "actions": []}));
    let at = Utc.with_ymd_and_hms(2026, 12, 8, 13, 0, 0).unwrap();
    let mut cases = Cases::open(database).unwrap();
    cases.open_case(ticket, "{}", "Ana", &at.to_rfc3339()).unwrap();
    let marker = format!("[roteiro {ticket}-c]");
    let preview = roteiro_helpdesk::Preview {
        ticket: ticket.into(),
        public: false,
        text: format!("Ações: enviar a segunda via.\n{marker}"),
        marker: marker.clone(),
    };
    let queued = Pushes::open(database).unwrap().enqueue(&preview, "Ana", at).unwrap();
    assert_eq!(queued.state, PushState::Fila);
    // Asking again queues nothing new.
    assert_eq!(
        Pushes::open(database).unwrap().enqueue(&preview, "Ana", at).unwrap().id,
        queued.id
    );

    // Movidesk is down: the push stays queued, its next try later.
    standin.rules(|rules| rules.fail_next = [503].into());
    let movidesk = Movidesk::new(config(standin.base()));
    let tried = deliver_due(&movidesk, &mut Pushes::open(database).unwrap(), &mut cases, at).unwrap();
    assert_eq!((tried[0].state, tried[0].attempts), (PushState::Fila, 1));
    assert!(tried[0].result.as_deref().unwrap().contains("503"));
    // Not due again yet.
    assert!(
        deliver_due(&movidesk, &mut Pushes::open(database).unwrap(), &mut cases, at)
            .unwrap()
            .is_empty()
    );

    // A restart: new client, new connections; the push is still there.
    drop(movidesk);
    let later = at + TimeDelta::minutes(5);
    let movidesk = Movidesk::new(config(standin.base()));
    let done = deliver_due(
        &movidesk,
        &mut Pushes::open(database).unwrap(),
        &mut Cases::open(database).unwrap(),
        later,
    )
    .unwrap();
    let ours: Vec<_> = done.iter().filter(|push| push.ticket == ticket).collect();
    assert_eq!(ours[0].state, PushState::Feito);
    let descriptions: Vec<String> = standin.ticket(ticket).unwrap()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| action["description"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(descriptions.iter().filter(|text| text.contains(&marker)).count(), 1);
    let history = Cases::open(database).unwrap().events(ticket).unwrap();
    let pushes: Vec<_> = history.iter().filter(|event| event.kind == "envio_helpdesk").collect();
    assert_eq!(pushes.len(), 2, "the failure and the success are in the case's history");
}

#[test]
fn a_queued_push_survives_failures_and_a_restart_and_is_written_once() {
    let folder = std::env::temp_dir().join(format!("roteiro-pushes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    survives_failures_and_a_restart(folder.join("roteiro.db").to_str().unwrap(), "4321");
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_queued_push_survives_on_postgresql_too() {
    let Some(address) = postgres::address() else { return };
    survives_failures_and_a_restart(&address, &postgres::ticket(8));
}

#[test]
fn a_push_written_just_before_a_crash_is_found_not_written_again() {
    let folder = std::env::temp_dir().join(format!("roteiro-pushes-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let database = folder.join("roteiro.db");
    let database = database.to_str().unwrap();
    let standin = with_ticket(Duration::from_secs(60));
    let at = Utc.with_ymd_and_hms(2026, 12, 8, 13, 0, 0).unwrap();
    let preview = roteiro_helpdesk::Preview {
        ticket: "4321".into(),
        public: true,
        text: "Olá!\n[roteiro 4321-d]".into(),
        marker: "[roteiro 4321-d]".into(),
    };
    Pushes::open(database).unwrap().enqueue(&preview, "Ana", at).unwrap();
    let movidesk = Movidesk::new(config(standin.base()));
    // The write landed, then roteiro died before recording it.
    movidesk.add_action("4321", &preview.action()).unwrap();
    let patches_before = standin.seen().iter().filter(|s| s.method == "PATCH").count();
    let done = deliver_due(
        &movidesk,
        &mut Pushes::open(database).unwrap(),
        &mut Cases::open(database).unwrap(),
        at,
    )
    .unwrap();
    assert_eq!(done[0].state, PushState::Feito);
    assert_eq!(
        standin.seen().iter().filter(|s| s.method == "PATCH").count(),
        patches_before
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn pushes_waiting_longer_never_hide_a_due_one() {
    let folder = std::env::temp_dir().join(format!("roteiro-pushes-due-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let database = folder.join("roteiro.db");
    let database = database.to_str().unwrap();
    let standin = with_ticket(Duration::from_secs(60));
    let movidesk = Movidesk::new(config(standin.base()));
    let at = Utc.with_ymd_and_hms(2026, 12, 8, 13, 0, 0).unwrap();
    let mut pushes = Pushes::open(database).unwrap();
    let mut cases = Cases::open(database).unwrap();
    // Sixty older pushes (lower ids) whose next try is an hour away.
    for n in 0..60 {
        let preview = roteiro_helpdesk::Preview {
            ticket: "4321".into(),
            public: false,
            text: format!("envio {n}\n[roteiro 4321-w{n}]"),
            marker: format!("[roteiro 4321-w{n}]"),
        };
        pushes.enqueue(&preview, "Ana", at + TimeDelta::hours(1)).unwrap();
    }
    // A new push, due now, behind them.
    let late = roteiro_helpdesk::Preview {
        ticket: "4321".into(),
        public: false,
        text: "o novo\n[roteiro 4321-novo]".into(),
        marker: "[roteiro 4321-novo]".into(),
    };
    let queued = pushes.enqueue(&late, "Ana", at).unwrap();
    let tried = deliver_due(&movidesk, &mut pushes, &mut cases, at).unwrap();
    assert_eq!(tried.len(), 1, "only the due push is tried");
    let ours = tried
        .iter()
        .find(|push| push.id == queued.id)
        .expect("the due push is tried");
    assert_eq!(ours.state, PushState::Feito);
    std::fs::remove_dir_all(&folder).unwrap();
}
