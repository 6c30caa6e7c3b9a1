//! The Movidesk client against a local stand-in of its documented API
//! (`standin/mod.rs`, each behaviour citing its page): the exact requests
//! it sends to read a ticket (`$select` and `$expand`), to add an action
//! (the new action alone) and to read an old ticket (`/tickets/past`); an
//! action written once however often it is asked, even when the read
//! after a write lags or the write's answer is lost; empty answers read
//! as "not found"; a 429 waited out; 5xx and timeouts left for later; a
//! queued push that survives failures and a restart. The token appears
//! in no error.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../../tests/support/postgres.rs"]
mod postgres;
mod standin;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use roteiro_decision_log::cases::Cases;
use roteiro_helpdesk::{
    deliver_due, Helpdesk, HelpdeskError, Movidesk, MovideskConfig, Preview, Push, PushState, Pushes, Secret, Written,
};
use serde_json::{json, Value};
use standin::{Missing, Seen, StandIn};

const TOKEN: &str = "tok-3f9a-segredo";

/// The documented budget's shape (10 in a window), its window a second.
fn config(base: String) -> MovideskConfig {
    MovideskConfig {
        base_url: base,
        token: Secret::new(TOKEN.into()),
        agent_id: "agente-7".into(),
        per_minute: 10,
        minute: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        max_wait: Duration::from_secs(10),
    }
}

fn with_ticket(block: Duration) -> StandIn {
    let standin = StandIn::start(TOKEN, block);
    standin.rules(|rules| rules.window = Duration::from_secs(1));
    standin.put_ticket(ticket("4321"));
    standin
}

fn ticket(id: &str) -> Value {
    json!({
        "id": id,
        "subject": "Boleto vencido",
        "status": "Em atendimento",
        "clients": [{"id": "c1", "businessName": "Padaria Pão Quente", "email": "contato@padaria.example"}],
        "actions": [{"id": 1, "type": 2, "description": "Cliente pediu a segunda via.", "createdDate": "2026-12-01T10:00:00"}],
        "tags": ["financeiro"],
    })
}

fn preview(ticket: &str, marker: &str) -> Preview {
    Preview {
        ticket: ticket.into(),
        public: false,
        text: format!("Ações: enviar a segunda via.\n{marker}"),
        marker: marker.into(),
    }
}

fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// A fresh database file for one test.
fn database(name: &str) -> (PathBuf, String) {
    let folder = std::env::temp_dir().join(format!("roteiro-pushes-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("roteiro.db").to_str().unwrap().to_string();
    (folder, file)
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 8, 13, 0, 0).unwrap()
}

/// A push of `marker`'s text to `ticket`, queued in `database`.
fn queue(database: &str, ticket: &str, marker: &str) -> Push {
    Pushes::open(database)
        .unwrap()
        .enqueue(&preview(ticket, marker), "Ana", at())
        .unwrap()
}

/// Every due push of `database` tried once at `now`; the push `id` after.
fn deliver(movidesk: &Movidesk, database: &str, id: i64, now: DateTime<Utc>) -> Push {
    deliver_due(
        movidesk,
        &mut Pushes::open(database).unwrap(),
        &mut Cases::open(database).unwrap(),
        &|| now,
    )
    .unwrap();
    Pushes::open(database).unwrap().get(id).unwrap().unwrap()
}

fn patches(standin: &StandIn) -> usize {
    standin.seen().iter().filter(|seen| seen.method == "PATCH").count()
}

/// The documented read of ticket `id` on `path`.
fn read_of(path: &str, id: &str) -> Seen {
    Seen {
        method: "GET".into(),
        path: path.into(),
        query: query(&[
            ("token", TOKEN),
            ("id", id),
            ("$select", "id,subject,status"),
            (
                "$expand",
                "clients($select=businessName),actions($select=id,type,description,isDeleted)",
            ),
        ]),
        body: None,
    }
}

#[test]
fn reading_a_ticket_and_adding_an_action_send_exactly_the_documented_requests() {
    let standin = with_ticket(Duration::from_secs(60));
    let movidesk = Movidesk::new(config(standin.base()));
    let read = movidesk.ticket("4321").unwrap();
    assert_eq!(read.subject.as_deref(), Some("Boleto vencido"));
    assert_eq!(read.client_name.as_deref(), Some("Padaria Pão Quente"));
    assert!(!read.read_only);

    let (folder, file) = database("exact");
    let queued = queue(&file, "4321", "[roteiro 4321-a]");
    let push = deliver(&movidesk, &file, queued.id, at());
    assert_eq!((push.state, push.result.as_deref()), (PushState::Feito, Some("1001")));

    let get = read_of("/public/v1/tickets", "4321");
    // Only the new action: no id, its type, its text, who wrote it.
    let patch = Seen {
        method: "PATCH".into(),
        path: "/public/v1/tickets".into(),
        query: query(&[("token", TOKEN), ("id", "4321")]),
        body: Some(json!({"actions": [
            {"type": 1, "description": "Ações: enviar a segunda via.\n[roteiro 4321-a]", "createdBy": {"id": "agente-7"}},
        ]})),
    };
    assert_eq!(standin.seen(), vec![get.clone(), get.clone(), patch, get]);
    // The earlier action is untouched and the tags kept.
    let stored = standin.ticket("4321").unwrap();
    assert_eq!(stored["actions"][0], ticket("4321")["actions"][0]);
    assert_eq!(stored["actions"].as_array().unwrap().len(), 2);
    assert_eq!(stored["tags"], json!(["financeiro"]));
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_ticket_older_than_ninety_days_is_read_from_past_and_never_written() {
    let standin = StandIn::start(TOKEN, Duration::from_secs(60));
    standin.put_past_ticket(ticket("1200"));
    let movidesk = Movidesk::new(config(standin.base()));
    let read = movidesk.ticket("1200").unwrap();
    assert_eq!(read.client_name.as_deref(), Some("Padaria Pão Quente"));
    assert!(read.read_only);
    assert_eq!(
        standin.seen(),
        vec![
            read_of("/public/v1/tickets", "1200"),
            read_of("/public/v1/tickets/past", "1200")
        ]
    );

    let (folder, file) = database("past");
    let queued = queue(&file, "1200", "[roteiro 1200-a]");
    let push = deliver(&movidesk, &file, queued.id, at());
    assert_eq!(push.state, PushState::Falhou);
    assert!(push.result.as_deref().unwrap().contains("somente leitura"), "{push:?}");
    assert_eq!(patches(&standin), 0);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn an_empty_or_null_answer_is_a_ticket_not_found() {
    for missing in [Missing::NotFound, Missing::EmptyBody, Missing::Null, Missing::EmptyList] {
        let standin = with_ticket(Duration::from_secs(60));
        standin.rules(|rules| rules.missing = missing);
        let movidesk = Movidesk::new(config(standin.base()));
        assert_eq!(
            movidesk.ticket("9999"),
            Err(HelpdeskError::NotFound("9999".into())),
            "{missing:?}"
        );
        // A 404 on both routes is two failed requests of Movidesk's three
        // before its block: a fresh account for the next look.
        let fresh = with_ticket(Duration::from_secs(60));
        fresh.rules(|rules| rules.missing = missing);
        let movidesk = Movidesk::new(config(fresh.base()));
        assert_eq!(
            movidesk.find_action("9999", "[x]"),
            Err(HelpdeskError::NotFound("9999".into()))
        );
    }
}

#[test]
fn an_action_is_written_once_however_often_it_is_asked() {
    let standin = with_ticket(Duration::from_secs(60));
    let movidesk = Movidesk::new(config(standin.base()));
    // Two installations queue the same text: the second finds the first's.
    let mut ids = Vec::new();
    for name in ["once-a", "once-b"] {
        let (folder, file) = database(name);
        let queued = queue(&file, "4321", "[roteiro 4321-b]");
        let push = deliver(&movidesk, &file, queued.id, at());
        assert_eq!(push.state, PushState::Feito);
        ids.push(push.result);
        std::fs::remove_dir_all(&folder).unwrap();
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(patches(&standin), 1);
}

#[test]
fn a_write_whose_read_lags_is_confirmed_later_never_written_again() {
    let standin = with_ticket(Duration::from_secs(60));
    standin.rules(|rules| rules.lagging_reads = 2);
    let movidesk = Movidesk::new(config(standin.base()));
    let (folder, file) = database("lag");
    let queued = queue(&file, "4321", "[roteiro 4321-l]");
    // Written, then the read after it misses the marker.
    let first = deliver(&movidesk, &file, queued.id, at());
    assert_eq!((first.state, first.written), (PushState::Fila, Some(Written::Aceito)));
    assert!(first.result.as_deref().unwrap().contains("sem escrever outra vez"));
    // The next try still misses it: it waits, it does not write.
    let second = deliver(&movidesk, &file, queued.id, at() + TimeDelta::minutes(5));
    assert_eq!(second.state, PushState::Fila);
    // Then it shows.
    let third = deliver(&movidesk, &file, queued.id, at() + TimeDelta::minutes(30));
    assert_eq!((third.state, third.result.as_deref()), (PushState::Feito, Some("1001")));
    assert_eq!(patches(&standin), 1);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_write_that_failed_after_landing_is_found_not_written_again() {
    let standin = with_ticket(Duration::from_secs(60));
    standin.rules(|rules| rules.fail_next_patch = Some((500, true)));
    let movidesk = Movidesk::new(config(standin.base()));
    let (folder, file) = database("landed");
    let queued = queue(&file, "4321", "[roteiro 4321-f]");
    let first = deliver(&movidesk, &file, queued.id, at());
    assert_eq!((first.state, first.written), (PushState::Fila, Some(Written::Enviado)));
    let second = deliver(&movidesk, &file, queued.id, at() + TimeDelta::minutes(2));
    assert_eq!(second.state, PushState::Feito);
    assert_eq!(patches(&standin), 1);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_write_that_failed_before_landing_is_sent_again_only_after_its_window() {
    let standin = with_ticket(Duration::from_secs(60));
    standin.rules(|rules| rules.fail_next_patch = Some((503, false)));
    let movidesk = Movidesk::new(config(standin.base()));
    let (folder, file) = database("lost");
    let queued = queue(&file, "4321", "[roteiro 4321-p]");
    assert_eq!(deliver(&movidesk, &file, queued.id, at()).state, PushState::Fila);
    // Within ten minutes of the write an answer may still show: no write.
    assert_eq!(
        deliver(&movidesk, &file, queued.id, at() + TimeDelta::minutes(2)).state,
        PushState::Fila
    );
    assert_eq!(patches(&standin), 1);
    // Past it, the write is taken as lost and sent again, once.
    let done = deliver(&movidesk, &file, queued.id, at() + TimeDelta::minutes(15));
    assert_eq!(done.state, PushState::Feito);
    assert_eq!(patches(&standin), 2);
    let stored = standin.ticket("4321").unwrap();
    let holding = stored["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|action| action["description"].as_str().unwrap().contains("[roteiro 4321-p]"))
        .count();
    assert_eq!(holding, 1);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_deleted_action_holding_the_marker_does_not_count() {
    let standin = with_ticket(Duration::from_secs(60));
    let mut old = ticket("4321");
    old["actions"] = json!([{"id": 7, "type": 1, "description": "texto\n[roteiro 4321-x]", "isDeleted": true}]);
    standin.put_ticket(old);
    let movidesk = Movidesk::new(config(standin.base()));
    assert_eq!(movidesk.find_action("4321", "[roteiro 4321-x]"), Ok(None));
    let (folder, file) = database("deleted");
    let queued = queue(&file, "4321", "[roteiro 4321-x]");
    assert_eq!(
        deliver(&movidesk, &file, queued.id, at()).result.as_deref(),
        Some("1001")
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_failed_push_asked_again_reads_for_its_marker_before_writing() {
    let standin = with_ticket(Duration::from_secs(60));
    let movidesk = Movidesk::new(config(standin.base()));
    let (folder, file) = database("again");
    let text = preview("5555", "[roteiro 5555-a]");
    let queued = Pushes::open(&file).unwrap().enqueue(&text, "Ana", at()).unwrap();
    // No such ticket yet: failed for good.
    assert_eq!(deliver(&movidesk, &file, queued.id, at()).state, PushState::Falhou);
    // Someone wrote the text by hand in the new ticket; asked again, the
    // push finds it.
    let mut by_hand = ticket("5555");
    by_hand["actions"] = json!([{"id": 40, "type": 1, "description": text.text}]);
    standin.put_ticket(by_hand);
    let again = Pushes::open(&file).unwrap().enqueue(&text, "Ana", at()).unwrap();
    assert_ne!(again.id, queued.id);
    let done = deliver(&movidesk, &file, again.id, at());
    assert_eq!((done.state, done.result.as_deref()), (PushState::Feito, Some("40")));
    assert_eq!(patches(&standin), 0);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn the_budget_holds_requests_to_its_window() {
    let standin = with_ticket(Duration::from_secs(60));
    // The stand-in's own budget is wider: only the client's holds.
    standin.rules(|rules| rules.per_minute = 100);
    let movidesk = Movidesk::new(config(standin.base()));
    let started = Instant::now();
    for _ in 0..10 {
        movidesk.ticket("4321").unwrap();
    }
    assert!(started.elapsed() < Duration::from_millis(900), "ten fit in one window");
    movidesk.ticket("4321").unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the eleventh waits for the window"
    );
}

#[test]
fn a_429_is_waited_out_as_retry_after_says() {
    let standin = with_ticket(Duration::from_secs(1));
    standin.rules(|rules| rules.per_minute = 2);
    let movidesk = Movidesk::new(MovideskConfig {
        per_minute: 100,
        ..config(standin.base())
    });
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
    let preview = Preview {
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
    let tried = deliver_due(&movidesk, &mut Pushes::open(database).unwrap(), &mut cases, &|| at).unwrap();
    assert_eq!((tried[0].state, tried[0].attempts), (PushState::Fila, 1));
    assert!(tried[0].result.as_deref().unwrap().contains("503"));
    // Not due again yet.
    assert!(
        deliver_due(&movidesk, &mut Pushes::open(database).unwrap(), &mut cases, &|| at)
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
        &|| later,
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
    let preview = Preview {
        ticket: "4321".into(),
        public: true,
        text: "Olá!\n[roteiro 4321-d]".into(),
        marker: "[roteiro 4321-d]".into(),
    };
    Pushes::open(database).unwrap().enqueue(&preview, "Ana", at).unwrap();
    let movidesk = Movidesk::new(config(standin.base()));
    // The write landed, then roteiro died before recording it.
    movidesk.write_action("4321", &preview.action()).unwrap();
    let patches_before = standin.seen().iter().filter(|s| s.method == "PATCH").count();
    let done = deliver_due(
        &movidesk,
        &mut Pushes::open(database).unwrap(),
        &mut Cases::open(database).unwrap(),
        &|| at,
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
        let preview = Preview {
            ticket: "4321".into(),
            public: false,
            text: format!("envio {n}\n[roteiro 4321-w{n}]"),
            marker: format!("[roteiro 4321-w{n}]"),
        };
        pushes.enqueue(&preview, "Ana", at + TimeDelta::hours(1)).unwrap();
    }
    // A new push, due now, behind them.
    let late = Preview {
        ticket: "4321".into(),
        public: false,
        text: "o novo\n[roteiro 4321-novo]".into(),
        marker: "[roteiro 4321-novo]".into(),
    };
    let queued = pushes.enqueue(&late, "Ana", at).unwrap();
    let tried = deliver_due(&movidesk, &mut pushes, &mut cases, &|| at).unwrap();
    assert_eq!(tried.len(), 1, "only the due push is tried");
    let ours = tried
        .iter()
        .find(|push| push.id == queued.id)
        .expect("the due push is tried");
    assert_eq!(ours.state, PushState::Feito);
    std::fs::remove_dir_all(&folder).unwrap();
}
