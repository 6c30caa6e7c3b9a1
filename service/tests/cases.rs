//! Cases over HTTP, in-process on a loopback port, with a real SQLite log:
//! open, read, answer (a stale answer is a 409 in Portuguese), the wait
//! over, list, close; a bad ticket is a 400 and an unknown one a 404.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;
#[path = "../../tests/support/postgres.rs"]
mod postgres;

use common::Endpoint;
use roteiro_auth::Role;
use roteiro_service::LogConfig;
use serde_json::Value;

fn serve(database: &str) -> (tokio::runtime::Runtime, Endpoint) {
    common::serve(Some(
        LogConfig::open(database, roteiro_decision_log::Durability::Commit).expect("log"),
    ))
}

/// One exchange, its body read as JSON (null when it is not).
fn request(addr: &Endpoint, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (status, body) = common::request(addr, method, path, body);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn metrics_text(addr: &Endpoint) -> String {
    common::request(addr, "GET", "/metrics", "").1
}

#[test]
fn a_case_is_opened_answered_listed_and_closed_over_http() {
    let folder = std::env::temp_dir().join(format!("roteiro-service-cases-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("folder");
    let database = folder.join("log.db");
    let (_runtime, addr) = serve(database.to_str().expect("utf-8"));
    let friday = "now=2026-12-11T19:00:00-03:00";
    let situation = r#"{"contact": {"kind": "nao_cliente"}, "request": {"topic": "erro_sistema"}}"#;

    let (status, opened) = request(&addr, "POST", &format!("/v1/cases/555?{friday}&by=Carla"), situation);
    assert_eq!(status, 201, "{opened}");
    assert_eq!(opened["case"]["version"], 1);
    assert_eq!(
        opened["follow_ups"][0]["id"],
        "padrao.nao_cliente.aguardar_financeiro.retornar"
    );
    assert_eq!(opened["follow_ups"][0]["overdue"], false);
    let (status, again) = request(&addr, "POST", &format!("/v1/cases/555?{friday}"), "{}");
    assert_eq!(status, 409, "{again}");

    // Reading is no change: the record stays, and a moment no case lives
    // in is refused.
    let (status, refused) = request(&addr, "GET", "/v1/cases/555?now=9999-12-31T23:59:59-03:00", "");
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["field"], "now");
    let (_, first) = request(&addr, "GET", "/v1/cases/555?now=2027-01-04T10:00:00-03:00", "");
    let (status, second) = request(&addr, "GET", "/v1/cases/555", "");
    assert_eq!(status, 200, "{second}");
    assert_eq!(first["history"], opened["history"]);
    assert_eq!(second["history"], opened["history"]);
    // A body that is not UTF-8 ("José" in Latin-1) is refused, never
    // opened with its bytes replaced.
    let latin1: &[u8] = b"{\"contact\": {\"name\": \"Jos\xe9\"}}";
    let mut stream = std::net::TcpStream::connect(addr.addr).expect("connects");
    let head = format!(
        "POST /v1/cases/556 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        addr.token,
        latin1.len()
    );
    std::io::Write::write_all(&mut stream, &[head.as_bytes(), latin1].concat()).expect("sends");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("reads");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(request(&addr, "GET", "/v1/cases/556", "").0, 404);

    // Tuesday: still waiting, in the list of every case; 002 item 31 gives
    // the wait no deadline, so it is undated and never overdue.
    let (status, due) = request(&addr, "GET", "/v1/cases?due=true&now=2026-12-15T09:00:00-03:00", "");
    assert_eq!(status, 200);
    assert_eq!(due[0]["ticket"], "555");
    assert_eq!(due[0]["due"], Value::Null);
    assert_eq!(due[0]["overdue"], false);

    // A fact the vocabulary does not declare, however deep its path, is
    // refused before anything is built from it.
    let deep = format!(r#"{{"answers": {{"{}x": 1}}, "version": 1}}"#, "a.".repeat(20_000));
    let (status, refused) = request(&addr, "POST", "/v1/cases/555/answers", &deep);
    assert_eq!(status, 400);
    assert!(
        refused["error"]
            .as_str()
            .unwrap_or_default()
            .contains("fato desconhecido"),
        "{refused}"
    );

    let stale = r#"{"answers": {"billing.payment_confirmed": true}, "version": 0, "by": "Ana"}"#;
    let (status, refused) = request(
        &addr,
        "POST",
        "/v1/cases/555/answers?now=2026-12-14T10:30:00-03:00",
        stale,
    );
    assert_eq!(status, 409);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("mudou enquanto você respondia"),
        "{refused}"
    );
    let good = r#"{"answers": {"billing.payment_confirmed": true}, "version": 1, "by": "Ana"}"#;
    let (status, answered) = request(
        &addr,
        "POST",
        "/v1/cases/555/answers?now=2026-12-14T10:30:00-03:00",
        good,
    );
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["case"]["version"], 2);
    assert_eq!(answered["decision"]["outputs"]["route"], "suporte");
    assert_eq!(answered["follow_ups"], Value::Array(Vec::new()));

    // /metrics counts against the clock: a case from 2001 is overdue
    // whenever the suite runs, one from 2098 is not yet, 555 waits no more.
    // Each waits for a database analysis, due 24 hours after the database
    // was taken (003 step 5.1).
    for (ticket, now) in [
        ("901", "2001-01-05T19:00:00-03:00"),
        ("902", "2098-01-09T19:00:00-03:00"),
    ] {
        let analysis = format!(r#"{{"request": {{"topic": "bug"}}, "analysis": {{"database_taken_at": "{now}"}}}}"#);
        let (status, _) = request(&addr, "POST", &format!("/v1/cases/{ticket}?now={now}"), &analysis);
        assert_eq!(status, 201);
    }
    let metrics = metrics_text(&addr);
    assert!(metrics.contains("roteiro_follow_ups_open 2\n"), "{metrics}");
    assert!(metrics.contains("roteiro_follow_ups_overdue 1\n"), "{metrics}");

    let (status, _) = request(
        &addr,
        "POST",
        "/v1/cases/555/close?now=2026-12-14T11:00:00-03:00",
        r#"{"reason": "feito"}"#,
    );
    assert_eq!(status, 200);
    let (status, shown) = request(&addr, "GET", "/v1/cases/555?now=2026-12-14T11:00:00-03:00", "");
    assert_eq!(status, 200);
    assert_eq!(shown["case"]["closed_reason"], "feito");

    let (status, bad) = request(&addr, "GET", "/v1/cases/55a", "");
    assert_eq!(status, 400, "{bad}");
    let (status, _) = request(&addr, "GET", "/v1/cases/999", "");
    assert_eq!(status, 404);
    let _ = std::fs::remove_dir_all(&folder);
}

/// Two analysts answer the same version of a case at the same moment:
/// one answer lands, the other is a 409, never a lost update. On the
/// SQLite file, and on PostgreSQL 15 when `ROTEIRO_TEST_POSTGRES` names one.
fn concurrent_answers(database: &str, ticket: &str) {
    let (_runtime, addr) = serve(database);
    let situation = r#"{"contact": {"kind": "nao_cliente"}, "request": {"topic": "erro_sistema"}}"#;
    let (status, _) = request(
        &addr,
        "POST",
        &format!("/v1/cases/{ticket}?now=2026-12-08T10:00:00-03:00"),
        situation,
    );
    assert_eq!(status, 201);
    // Two analysts, each with a token of their own.
    let analysts = [
        ("Ana", addr.as_new(Role::Analista, "Ana")),
        ("Bia", addr.as_new(Role::Analista, "Bia")),
    ];
    for round in 1..=3 {
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let workers: Vec<_> = analysts
                .iter()
                .map(|(who, endpoint)| {
                    scope.spawn(move || {
                        let body =
                            format!(r#"{{"answers": {{"analyst.name": "{who}"}}, "version": {round}, "by": "{who}"}}"#);
                        request(
                            endpoint,
                            "POST",
                            &format!("/v1/cases/{ticket}/answers?now=2026-12-08T10:05:00-03:00"),
                            &body,
                        )
                        .0
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("joins"))
                .collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [200, 409], "round {round}: {statuses:?}");
    }
    let (_, shown) = request(
        &addr,
        "GET",
        &format!("/v1/cases/{ticket}?now=2026-12-08T10:10:00-03:00"),
        "",
    );
    assert_eq!(shown["case"]["version"], 4);
    let answers = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["kind"] == "resposta")
        .count();
    assert_eq!(answers, 3, "each landed answer is in the history once");
}

#[test]
fn concurrent_answers_over_http_on_sqlite_lose_nothing() {
    let folder = std::env::temp_dir().join(format!("roteiro-service-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("folder");
    concurrent_answers(folder.join("log.db").to_str().expect("utf-8"), "6001");
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn concurrent_answers_over_http_on_postgresql_lose_nothing() {
    let Some(address) = postgres::address() else { return };
    concurrent_answers(&address, &postgres::ticket(7));
}
