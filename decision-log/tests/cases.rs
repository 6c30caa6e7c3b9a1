//! Cases in a real database: lifecycle, history, follow-ups opened and
//! closed by later decisions, and two analysts answering at once, on a
//! SQLite file and (when `ROTEIRO_TEST_POSTGRES` names one) PostgreSQL 15.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../../tests/support/postgres.rs"]
mod postgres;
use roteiro_decision_log::cases::{ticket, CaseError, CaseFollowUp, Cases};

fn follow_up(ticket: &str, id: &str, due: &str) -> CaseFollowUp {
    CaseFollowUp {
        ticket: ticket.into(),
        id: id.into(),
        text: format!("fazer {id}"),
        team: Some("financeiro".into()),
        due: Some(due.into()),
        due_text: None,
        until: None,
        rule: "r".into(),
        closed: None,
    }
}

/// Open, answer twice (the second on a stale version), decide, close.
fn lifecycle(address: &str, ticket: &str) {
    let mut cases = Cases::open(address).expect("opens");
    let at = "2026-12-08T10:00:00-03:00";
    let case = cases.open_case(ticket, "{}", "Carla", at).expect("opens the case");
    assert_eq!(case.version, 1);
    assert!(matches!(
        cases.open_case(ticket, "{}", "Ana", at),
        Err(CaseError::Exists(_))
    ));
    let answered = cases
        .answer(ticket, 1, r#"{"billing":{"payment_confirmed":false}}"#, "{}", "Ana", at)
        .expect("answers");
    assert_eq!(answered.version, 2);
    let stale = cases.answer(ticket, 1, r#"{"billing":{"payment_confirmed":true}}"#, "{}", "Bia", at);
    assert!(
        matches!(
            stale,
            Err(CaseError::Conflict {
                expected: 1,
                current: 2,
                ..
            })
        ),
        "{stale:?}"
    );
    // A later answer on the current version wins; the history has both.
    cases
        .answer(ticket, 2, r#"{"billing":{"payment_confirmed":true}}"#, "{}", "Bia", at)
        .expect("answers again");
    let later = [
        follow_up(ticket, "b", "2026-12-10"),
        follow_up(ticket, "a", "2026-12-09T09:00:00-03:00"),
    ];
    cases.record_decision(ticket, "{}", &later, "Bia", at).expect("records");
    let open: Vec<String> = cases
        .follow_ups(ticket, true)
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(open, ["a", "b"], "soonest first");
    // A later decision that works `b` out again keeps the due it started with.
    cases.record_decision(ticket, "{}", &later, "Bia", at).expect("records");
    let b = cases
        .follow_ups(ticket, true)
        .unwrap()
        .into_iter()
        .find(|f| f.id == "b")
        .unwrap();
    assert_eq!(b.due.as_deref(), Some("2026-12-10"));
    // The next decision no longer shows `a`: it closes, `b` stays.
    cases
        .record_decision(ticket, "{}", &[follow_up(ticket, "b", "2026-12-31")], "Bia", at)
        .expect("records");
    let all = cases.follow_ups(ticket, false).unwrap();
    let a = all.iter().find(|f| f.id == "a").expect("kept in history");
    assert!(a
        .closed
        .as_ref()
        .is_some_and(|(_, why)| why.contains("condição atendida")));
    assert!(cases
        .due(Some("financeiro"))
        .unwrap()
        .iter()
        .any(|f| f.ticket == ticket && f.id == "b"));
    assert!(!cases.due(Some("gr")).unwrap().iter().any(|f| f.ticket == ticket));
    cases.close(ticket, "resolvido", "Bia", at).expect("closes");
    assert!(matches!(
        cases.close(ticket, "de novo", "Bia", at),
        Err(CaseError::Closed(_))
    ));
    assert!(
        !cases.due(None).unwrap().iter().any(|f| f.ticket == ticket),
        "a closed case waits for nothing"
    );
    let kinds: Vec<String> = cases.events(ticket).unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        // The decision that no longer shows `a` is recorded, then `a` closes.
        [
            "aberto",
            "resposta",
            "resposta",
            "decisao",
            "decisao",
            "decisao",
            "pendencia_fechada",
            "encerrado"
        ]
    );
    assert!(matches!(
        cases.answer("404", 1, "{}", "{}", "x", at),
        Err(CaseError::NotFound(_))
    ));
}

/// Two analysts answer the same version at once: exactly one answer
/// lands, the other is told to look again.
fn race(address: &str, ticket: &str) {
    Cases::open(address)
        .unwrap()
        .open_case(ticket, "{}", "Carla", "2026-12-08T10:00:00-03:00")
        .unwrap();
    for round in 0..5_i64 {
        let results: Vec<Result<_, CaseError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = ["Ana", "Bia"]
                .into_iter()
                .map(|who| {
                    scope.spawn(move || {
                        let mut cases = Cases::open(address).unwrap();
                        let situation = format!(r#"{{"analyst":{{"name":"{who}"}}}}"#);
                        cases.answer(ticket, round + 1, &situation, "{}", who, "2026-12-08T10:00:00-03:00")
                    })
                })
                .collect();
            workers.into_iter().map(|worker| worker.join().unwrap()).collect()
        });
        let landed = results.iter().filter(|result| result.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|result| matches!(result, Err(CaseError::Conflict { .. })))
            .count();
        assert_eq!((landed, conflicts), (1, 1), "round {round}: {results:?}");
    }
    let mut cases = Cases::open(address).unwrap();
    assert_eq!(cases.case(ticket).unwrap().unwrap().version, 6);
    let answers = cases
        .events(ticket)
        .unwrap()
        .iter()
        .filter(|e| e.kind == "resposta")
        .count();
    assert_eq!(answers, 5, "no answer lost, none doubled");
}

fn scratch_file(name: &str) -> String {
    let folder = std::env::temp_dir().join(format!("roteiro-cases-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder.join("log.db").to_str().unwrap().to_string()
}

#[test]
fn a_case_lives_in_a_sqlite_file() {
    lifecycle(&scratch_file("life"), "1001");
}

#[test]
fn two_analysts_answering_at_once_on_sqlite_lose_nothing() {
    race(&scratch_file("race"), "1002");
}

#[test]
fn a_case_lives_in_postgresql_and_races_lose_nothing() {
    let Some(address) = postgres::address() else { return };
    lifecycle(&address, &postgres::ticket(1));
    race(&address, &postgres::ticket(2));
}

#[test]
fn ticket_numbers_are_digits_only() {
    assert_eq!(ticket("123456").unwrap(), "123456");
    for bad in ["", "12a", "12 3", "-1", "1234567890123", "١٢"] {
        assert!(matches!(ticket(bad), Err(CaseError::Ticket(_))), "{bad:?}");
    }
}

/// Retention: a case closed before the day goes with its history,
/// follow-ups and finished pushes; a recent one, an open one and a push
/// still queued stay.
fn retention(address: &str, lane: u8) {
    let tickets: Vec<String> = (0..3).map(|i| format!("{}{i}", postgres::ticket(lane))).collect();
    let (old, recent, open) = (&tickets[0], &tickets[1], &tickets[2]);
    let mut cases = Cases::open(address).expect("opens");
    let long_ago = "2001-01-05T10:00:00-03:00";
    for ticket in &tickets {
        cases
            .open_case(ticket, r#"{"contact":{"name":"Maria Souza"}}"#, "Carla", long_ago)
            .expect("opens the case");
        cases
            .record_decision(ticket, "{}", &[follow_up(ticket, "f", "2001-01-06")], "Carla", long_ago)
            .expect("decides");
    }
    // Closing moments in two offsets: compared as instants, not as text.
    cases
        .close(old, "feito", "Carla", "2001-01-06T02:00:00Z")
        .expect("closes");
    cases
        .close(recent, "feito", "Carla", "2099-01-05T10:00:00-03:00")
        .expect("closes");
    let mut db = roteiro_decision_log::db::Db::open(address).expect("db");
    // The queued one is not due before the year 2999: the queue is shared
    // with the helpdesk's tests on PostgreSQL, whose workers must never
    // meet it.
    for (state, marker) in [("feito", "m1"), ("fila", "m2")] {
        db.execute(
            "INSERT INTO pushes (ticket, public, text, marker, requested_by, requested_at, state, attempts, next_try_at) VALUES ($1, 0, 'Maria Souza', $2, 'Carla', $3, $4, 0, '2999-01-01T00:00:00')",
            &[
                roteiro_decision_log::db::Param::Text(old),
                roteiro_decision_log::db::Param::Text(&format!("{old}-{marker}")),
                roteiro_decision_log::db::Param::Text(long_ago),
                roteiro_decision_log::db::Param::Text(state),
            ],
        )
        .expect("push");
    }
    let before = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let deleted = cases.prune_closed(before).expect("prunes");
    assert!(deleted >= 1, "{deleted}");
    assert!(cases.case(old).unwrap().is_none(), "the old closed case is gone");
    assert!(cases.events(old).unwrap().is_empty(), "with its history");
    assert!(cases.follow_ups(old, false).unwrap().is_empty(), "and its follow-ups");
    let pushes = db
        .rows(
            "SELECT state FROM pushes WHERE ticket = $1",
            &[roteiro_decision_log::db::Param::Text(old)],
        )
        .unwrap();
    assert_eq!(pushes, vec![vec![Some("fila".to_string())]], "the queued push stays");
    db.execute(
        "DELETE FROM pushes WHERE ticket = $1",
        &[roteiro_decision_log::db::Param::Text(old)],
    )
    .expect("clears the shared queue");
    assert!(cases.case(recent).unwrap().is_some(), "closed after the day: kept");
    assert!(cases.case(open).unwrap().is_some(), "open: kept however old");
    assert_eq!(cases.events(open).unwrap().len(), 2);
}

#[test]
fn closed_cases_past_the_retention_go_with_their_history_on_sqlite() {
    retention(&scratch_file("retention"), 3);
}

#[test]
fn closed_cases_past_the_retention_go_with_their_history_on_postgresql() {
    let Some(address) = postgres::address() else { return };
    retention(&address, 4);
}

/// Answers go through the engine's `Bundle::answer`: read as the
/// vocabulary says (`sim` is yes), the later wins, before and after kept.
#[test]
fn answers_are_read_as_the_vocabulary_says_and_the_later_wins() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bundle = roteiro_engine::Bundle::load_dir(&root.join("policies")).expect("the shipped bundle");
    let address = scratch_file("desk-answers");
    let mut desk = roteiro_decision_log::cases::CaseDesk {
        bundle: &bundle,
        cases: Cases::open(&address).expect("opens"),
        log: None,
        signed_in: None,
    };
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:00:00-03:00").expect("moment");
    desk.open(
        "777",
        r#"{"billing": {"payment_confirmed": true}}"#,
        "-",
        Some("Ana"),
        at,
    )
    .expect("opens");
    let answers = [
        ("billing.payment_confirmed".to_string(), serde_json::json!("sim")),
        ("billing.payment_confirmed".to_string(), serde_json::json!(false)),
        ("request.topic".to_string(), serde_json::json!("boleto")),
    ];
    let view = desk
        .answer_values("777", &answers, None, Some("Ana"), at)
        .expect("answers");
    let situation: serde_json::Value = serde_json::from_str(&view.case.situation).expect("json");
    assert_eq!(situation["billing"]["payment_confirmed"], false);
    assert_eq!(situation["request"]["topic"], "boleto");
    let answered = view
        .history
        .iter()
        .rev()
        .find(|event| event.kind == "resposta")
        .expect("the answer");
    let changes: serde_json::Value = serde_json::from_str(&answered.detail).expect("json");
    assert_eq!(changes["billing.payment_confirmed"]["antes"], true);
    assert_eq!(changes["billing.payment_confirmed"]["depois"], false);
    assert_eq!(changes["request.topic"]["antes"], serde_json::Value::Null);
    let refused = desk.answer_values(
        "777",
        &[("request.topic".into(), serde_json::json!("nada"))],
        None,
        None,
        at,
    );
    assert!(refused.is_err());
    let _ = std::fs::remove_file(&address);
}
