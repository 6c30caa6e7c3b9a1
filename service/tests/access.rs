//! Who gets in: every route of the OpenAPI document walked with no token,
//! a wrong one and each role; the page's session with its anti-CSRF value;
//! a revoke that holds at once; the identity in the log; and the budgets
//! (429, 408, 413, 431), never a 500. In-process, on loopback, through the
//! service's own accept loop.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;
#[path = "../../helpdesk/tests/standin/mod.rs"]
mod standin;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{exchange, request, Endpoint};
use roteiro_auth::Role;
use roteiro_service::{Access, LimitsConfig, LogConfig, OPERATIONS};
use serde_json::Value;

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

/// The path with its parameters filled.
fn concrete(path: &str) -> String {
    path.replace("{ticket}", "4242")
        .replace("{id}", "nenhum")
        .replace("{version}", RELEASE)
        .replace("{other}", RELEASE)
}

/// The release every `/v1/releases/{version}` route is walked with.
const RELEASE: &str = "2026.12.07-1";

/// Publishes the shipped bundle (no approval asked) as [`RELEASE`] in the
/// database at `address`.
fn publish_one(address: &str) {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let files = roteiro_engine::Bundle::load_dir(&folder)
        .expect("bundle")
        .files()
        .to_vec();
    let files = files
        .into_iter()
        .map(|mut file| {
            if file.path == "bundle.yaml" {
                file.text = file.text.replace("approval: true", "approval: false");
            }
            file
        })
        .collect();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
        .expect("moment")
        .to_utc();
    let (_, draft) = roteiro_releases::prepare(files, "walk", &[], at);
    roteiro_releases::Releases::open(address)
        .expect("releases")
        .publish(&draft.expect("gates pass"), "walk", at)
        .expect("published");
}

/// The body each route is walked with: a valid one where one is needed.
fn body_for(path: &str) -> &'static str {
    match path {
        "/v1/login" => r#"{"token": "rot_0_0"}"#,
        "/v1/tokens" => r#"{"name": "walk", "role": "analista"}"#,
        "/v1/cases/{ticket}/answers" => r#"{"answers": {"request.topic": "xml"}}"#,
        "/v1/cases/{ticket}/close" => r#"{"reason": "teste"}"#,
        "/v1/cases/{ticket}/push" => r#"{"marker": "antigo"}"#,
        _ => "{}",
    }
}

fn log_config(database: &str) -> LogConfig {
    LogConfig::open(database, roteiro_decision_log::Durability::Commit).expect("log")
}

fn scratch(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("roteiro-access-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path.to_string_lossy().into_owned()
}

#[test]
fn every_route_of_the_document_is_closed_by_default_and_opened_by_its_role() {
    // A helpdesk with the walked case's ticket, so pushes answer too.
    let helpdesk = standin::StandIn::start("tok", Duration::from_secs(60));
    helpdesk.put_ticket(serde_json::json!({"id": "4242", "actions": []}));
    let config = common::helpdesk_config(helpdesk.base(), "tok");
    let database = scratch("walk");
    publish_one(&database);
    let (_runtime, admin) = common::serve_full(Some(log_config(&database)), LimitsConfig::default(), Some(config));
    let (_, document) = request(&admin, "GET", "/openapi.json", "");
    let document: Value = serde_json::from_str(&document).expect("json");
    let roles = [
        (Role::Analista, admin.as_new(Role::Analista, "ana")),
        (Role::Dono, admin.as_new(Role::Dono, "dora")),
        (Role::Admin, admin.clone()),
    ];
    // A case to read, answer and close.
    let opened = request(&admin, "POST", "/v1/cases/4242", r#"{"request": {"topic": "xml"}}"#);
    assert_eq!(opened.0, 201, "{}", opened.1);
    let mut walked = 0;
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let method = method.to_uppercase();
            let papel = operation["x-papel"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} declares no role (x-papel)"));
            let table = OPERATIONS.iter().find(|op| op.method == method && op.path == path);
            let access = table
                .unwrap_or_else(|| panic!("{method} {path} is not in the routes' table"))
                .access;
            let (url, body) = (concrete(path), body_for(path));
            let anonymous = exchange(admin.addr, &method, &url, "", body).0;
            let forged = exchange(admin.addr, &method, &url, &bearer("rot_00000000_00"), body).0;
            match access {
                Access::Public => {
                    assert_eq!(papel, "público");
                    assert!(
                        ![401, 403].contains(&anonymous) || path == "/v1/login" || path == "/v1/session",
                        "{method} {path}: {anonymous}"
                    );
                }
                Access::Needs(needed) => {
                    assert_eq!(papel, needed.name(), "{method} {path}");
                    assert_eq!(anonymous, 401, "{method} {path} with no token");
                    assert_eq!(forged, 401, "{method} {path} with a wrong token");
                    for (role, endpoint) in &roles {
                        let (status, answer) = request(endpoint, &method, &url, body);
                        if role.covers(needed) {
                            assert!(
                                status < 500 && status != 401 && status != 403,
                                "{method} {path} as {role}: {status} {answer}"
                            );
                            if method == "GET" {
                                assert_eq!(status, 200, "{method} {path} as {role}: {answer}");
                            }
                        } else {
                            assert_eq!(status, 403, "{method} {path} as {role}: {answer}");
                        }
                    }
                }
            }
            walked += 1;
        }
    }
    assert_eq!(
        walked,
        OPERATIONS.len(),
        "the document and the table name the same routes"
    );
}

/// The cookie's `name=value` from a Set-Cookie head line.
fn cookie_of(head: &str) -> (String, String) {
    let line = head
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a cookie is set");
    let value = line.split_once(':').unwrap().1.trim().to_string();
    (value.split(';').next().unwrap().to_string(), value)
}

#[test]
fn the_page_session_needs_its_csrf_value_to_change_anything_and_ends_with_logout_or_revoke() {
    let database = scratch("session");
    let (_runtime, admin) = common::serve(Some(log_config(&database)));
    let ana = admin.as_new(Role::Analista, "ana");
    let login = format!(r#"{{"token": "{}"}}"#, ana.token);
    let (status, head, body) = exchange(ana.addr, "POST", "/v1/login", "", &login);
    assert_eq!(status, 200, "{body}");
    let (cookie, attributes) = cookie_of(&head);
    assert!(
        attributes.contains("HttpOnly") && attributes.contains("SameSite=Strict"),
        "{attributes}"
    );
    let who: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(who["role"], "analista");
    let csrf = who["csrf"].as_str().unwrap().to_string();
    let with_cookie = format!("Cookie: {cookie}\r\n");

    let (status, _, body) = exchange(ana.addr, "GET", "/v1/session", &with_cookie, "");
    assert_eq!(status, 200, "{body}");
    let situation = r#"{"now": "2026-12-08T10:15:00-03:00", "request": {"topic": "xml"}}"#;
    let (status, _, body) = exchange(ana.addr, "POST", "/v1/decide", &with_cookie, situation);
    assert_eq!(status, 403, "a cookie alone changes nothing: {body}");
    assert!(body.contains("CSRF"), "{body}");
    let forged = format!("{with_cookie}X-CSRF-Token: 00{}\r\n", &csrf[2..]);
    assert_eq!(exchange(ana.addr, "POST", "/v1/decide", &forged, situation).0, 403);
    let signed = format!("{with_cookie}X-CSRF-Token: {csrf}\r\n");
    assert_eq!(exchange(ana.addr, "POST", "/v1/decide", &signed, situation).0, 200);
    // A reading needs no CSRF value; a higher role's route is still closed.
    assert_eq!(exchange(ana.addr, "GET", "/v1/vocabulary", &with_cookie, "").0, 200);
    assert_eq!(exchange(ana.addr, "GET", "/v1/stats", &with_cookie, "").0, 403);

    // Logout ends the session.
    let (status, head, _) = exchange(ana.addr, "POST", "/v1/logout", &signed, "");
    assert_eq!(status, 204);
    assert!(cookie_of(&head).1.contains("Max-Age=0"));
    assert_eq!(exchange(ana.addr, "GET", "/v1/session", &with_cookie, "").0, 401);

    // A revoked token closes its bearer use and its sessions at once.
    let (_, head, _) = exchange(ana.addr, "POST", "/v1/login", "", &login);
    let again = format!("Cookie: {}\r\n", cookie_of(&head).0);
    assert_eq!(exchange(ana.addr, "GET", "/v1/session", &again, "").0, 200);
    let id = ana.token.split('_').nth(1).unwrap();
    let (status, body) = request(&admin, "POST", &format!("/v1/tokens/{id}/revoke"), "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(request(&ana, "POST", "/v1/decide", situation).0, 401);
    assert_eq!(exchange(ana.addr, "GET", "/v1/session", &again, "").0, 401);
    let (status, _, body) = exchange(ana.addr, "POST", "/v1/login", "", &login);
    assert_eq!(status, 401, "{body}");
}

/// A second service on `database`, as another replica behind the same
/// balancer would be.
fn replica_of(database: &str) -> (tokio::runtime::Runtime, std::net::SocketAddr) {
    let guard = roteiro_service::Guard::tokens(database, false, true).unwrap();
    common::serve_desk(
        Some(log_config(database)),
        guard,
        roteiro_service::LimitsConfig::default(),
        None,
        None,
    )
}

#[test]
fn a_page_session_holds_on_every_replica_and_after_a_restart_and_ends_on_all() {
    let database = scratch("replica-sessions");
    let (_runtime, admin) = common::serve(Some(log_config(&database)));
    let ana = admin.as_new(Role::Analista, "ana");
    let (other_runtime, other) = replica_of(&database);
    let login = format!(r#"{{"token": "{}"}}"#, ana.token);
    let (status, head, body) = exchange(ana.addr, "POST", "/v1/login", "", &login);
    assert_eq!(status, 200, "{body}");
    let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    let cookie = format!("Cookie: {}\r\n", cookie_of(&head).0);
    let signed = format!("{cookie}X-CSRF-Token: {csrf}\r\n");
    let situation = r#"{"now": "2026-12-08T10:15:00-03:00", "request": {"topic": "xml"}}"#;
    for addr in [ana.addr, other] {
        assert_eq!(exchange(addr, "GET", "/v1/session", &cookie, "").0, 200, "{addr}");
        assert_eq!(
            exchange(addr, "POST", "/v1/decide", &signed, situation).0,
            200,
            "{addr}"
        );
    }

    // The other replica restarts: the session is still there.
    drop(other_runtime);
    let (_restarted, other) = replica_of(&database);
    assert_eq!(exchange(other, "GET", "/v1/session", &cookie, "").0, 200);

    // A logout on one replica ends it on the first within its cache time.
    assert_eq!(exchange(other, "POST", "/v1/logout", &signed, "").0, 204);
    assert_eq!(exchange(other, "GET", "/v1/session", &cookie, "").0, 401);
    let ended = (0..30).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        exchange(ana.addr, "GET", "/v1/session", &cookie, "").0 == 401
    });
    assert!(ended, "the first replica still took the session 3 s after the logout");
}

/// The decision does not ask the analyst's name (the login gives it).
fn never_asks_the_name(decision: &Value) {
    let missing: Vec<&str> = decision["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["fact"].as_str())
        .collect();
    assert!(!missing.contains(&"analyst.name"), "{missing:?}");
}

#[test]
fn whoever_is_logged_in_is_the_analyst_and_is_never_asked_their_name() {
    let (_runtime, admin) = common::serve(None);
    let carla = admin.as_new(Role::Analista, "Carla");
    let situation =
        r#"{"now": "2026-12-08T10:15:00-03:00", "contact": {"kind": "cliente"}, "request": {"topic": "xml"}}"#;
    let (status, body) = request(&carla, "POST", "/v1/decide", situation);
    assert_eq!(status, 200, "{body}");
    let decision: Value = serde_json::from_str(&body).unwrap();
    never_asks_the_name(&decision);
    let greeting = decision["scripts"][0]["text"].as_str().unwrap();
    let name = format!("Carla-{}", admin.addr.port());
    assert!(
        greeting.contains(&name),
        "the greeting names who is logged in: {greeting}"
    );
    // A name the situation gives is kept.
    let given = r#"{"now": "2026-12-08T10:15:00-03:00", "analyst": {"name": "Bia"}, "request": {"topic": "xml"}}"#;
    let (_, body) = request(&carla, "POST", "/v1/decide", given);
    assert!(body.contains("Info, Bia, Bom dia!"), "{body}");
    let (_, vocabulary) = request(&carla, "GET", "/v1/vocabulary", "");
    let vocabulary: Value = serde_json::from_str(&vocabulary).unwrap();
    let analyst = vocabulary["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fact| fact["path"] == "analyst.name")
        .unwrap();
    assert_eq!(analyst["from_login"], true);
}

#[test]
fn a_case_greets_each_logged_in_reader_by_name_and_stores_no_name() {
    let database = scratch("case-login");
    let (_runtime, admin) = common::serve(Some(log_config(&database)));
    let carla = admin.as_new(Role::Analista, "Carla");
    let bia = admin.as_new(Role::Analista, "Bia");
    let opened = r#"{"contact": {"kind": "cliente"}, "request": {"topic": "xml"}}"#;
    let (status, body) = request(&carla, "POST", "/v1/cases/8181?now=2026-12-08T10:00:00-03:00", opened);
    assert_eq!(status, 201, "{body}");
    let greeting = |body: &str| -> String {
        let view: Value = serde_json::from_str(body).unwrap();
        never_asks_the_name(&view["decision"]);
        assert!(
            view["case"]["situation"].get("analyst").is_none(),
            "the case keeps no reader's name: {}",
            view["case"]["situation"]
        );
        view["decision"]["scripts"][0]["text"].as_str().unwrap().to_string()
    };
    let port = admin.addr.port();
    assert!(greeting(&body).contains(&format!("Carla-{port}")), "{body}");
    // Another analyst reads and answers the same case: their own name.
    let (status, body) = request(&bia, "GET", "/v1/cases/8181?now=2026-12-08T10:05:00-03:00", "");
    assert_eq!(status, 200, "{body}");
    assert!(greeting(&body).contains(&format!("Bia-{port}")), "{body}");
    let answer = r#"{"answers": {"contact.channel": "telefone"}}"#;
    let (status, body) = request(
        &bia,
        "POST",
        "/v1/cases/8181/answers?now=2026-12-08T10:06:00-03:00",
        answer,
    );
    assert_eq!(status, 200, "{body}");
    assert!(greeting(&body).contains(&format!("Bia-{port}")), "{body}");
}

#[test]
fn the_authenticated_caller_is_who_the_log_and_the_case_record() {
    let database = scratch("who");
    let (_runtime, admin) = common::serve(Some(log_config(&database)));
    let ana = admin.as_new(Role::Analista, "Ana Souza");
    // The typed name stays a placeholder; the log records the token's owner.
    let situation =
        r#"{"now": "2026-12-08T10:15:00-03:00", "analyst": {"name": "Outra Pessoa"}, "request": {"topic": "xml"}}"#;
    assert_eq!(request(&ana, "POST", "/v1/decide", situation).0, 200);
    let expected = format!("Ana Souza-{}", ana.addr.port());
    let mut recorded = Vec::new();
    for _ in 0..50 {
        recorded = roteiro_decision_log::open(&database)
            .expect("log")
            .read(&roteiro_decision_log::Filter::default())
            .expect("reads");
        if !recorded.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].analyst.as_deref(), Some(expected.as_str()));

    let (status, body) = request(
        &ana,
        "POST",
        "/v1/cases/8080?now=2026-12-08T10:00:00-03:00&by=Outra",
        r#"{"request": {"topic": "xml"}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let case: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(case["case"]["opened_by"], expected.as_str());
}

#[test]
fn exports_mask_personal_facts_unless_an_admin_asks_and_then_say_so() {
    let database = scratch("export");
    let (_runtime, admin) = common::serve(Some(LogConfig {
        keep_personal: true,
        ..log_config(&database)
    }));
    let situation =
        r#"{"now": "2026-12-08T10:15:00-03:00", "contact": {"name": "Maria Pessoal"}, "request": {"topic": "xml"}}"#;
    assert_eq!(request(&admin, "POST", "/v1/decide", situation).0, 200);
    let auth = bearer(&admin.token);
    let mut exported = String::new();
    for _ in 0..50 {
        exported = exchange(admin.addr, "GET", "/v1/log/export", &auth, "").2;
        if exported.contains("contact") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        exported.contains("***") && !exported.contains("Maria Pessoal"),
        "{exported}"
    );
    let (status, head, personal) = exchange(admin.addr, "GET", "/v1/log/export?personal=true", &auth, "");
    assert_eq!(status, 200);
    assert!(personal.contains("Maria Pessoal"));
    assert!(
        head.to_ascii_lowercase()
            .contains("x-dados-pessoais: contem fatos pessoais"),
        "{head}"
    );
    let dono = admin.as_new(Role::Dono, "dora");
    assert_eq!(request(&dono, "GET", "/v1/log/export?personal=true", "").0, 403);
}

fn tight() -> LimitsConfig {
    LimitsConfig {
        per_minute: 20,
        in_flight: 2,
        head_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        logins_per_minute: 3,
        ..LimitsConfig::default()
    }
}

#[test]
fn budgets_answer_429_with_retry_after_and_never_a_500() {
    let (_runtime, admin) = common::serve_with(None, tight());
    let statuses: Vec<(u16, String)> = (0..30)
        .map(|_| {
            let (status, head, _) = exchange(admin.addr, "GET", "/v1/vocabulary", &bearer(&admin.token), "");
            (status, head)
        })
        .collect();
    let refused: Vec<_> = statuses.iter().filter(|(status, _)| *status == 429).collect();
    assert!(statuses.iter().all(|(status, _)| [200, 429].contains(status)));
    assert!(
        refused.len() >= 10,
        "a minute's budget of 20, then 429: {}",
        refused.len()
    );
    assert!(
        refused[0].1.to_ascii_lowercase().contains("retry-after:"),
        "{}",
        refused[0].1
    );
}

#[test]
fn failed_logins_are_budgeted_per_address_and_then_even_a_good_token_waits() {
    let (_runtime, admin) = common::serve_with(None, tight());
    let good = format!(r#"{{"token": "{}"}}"#, admin.token);
    // Good logins spend nothing of the budget.
    for _ in 0..5 {
        assert_eq!(exchange(admin.addr, "POST", "/v1/login", "", &good).0, 200);
    }
    let attempts: Vec<u16> = (0..5)
        .map(|_| exchange(admin.addr, "POST", "/v1/login", "", r#"{"token": "rot_1_2"}"#).0)
        .collect();
    assert_eq!(attempts, [401, 401, 401, 429, 429]);
    let (status, head, _) = exchange(admin.addr, "POST", "/v1/login", "", &good);
    assert_eq!(status, 429);
    assert!(head.to_ascii_lowercase().contains("retry-after:"));
}

/// Opens a connection and sends `head` (and nothing more); the stream.
/// Requests from `client` (as the balancer on 127.0.0.1 names it in
/// `X-Forwarded-For`) until the first 429; how many were answered 200.
fn answered_before_refused(addr: std::net::SocketAddr, client: &str, tries: usize) -> usize {
    let forwarded = format!("X-Forwarded-For: 6.6.6.6, {client}\r\n");
    (0..tries)
        .take_while(|_| exchange(addr, "GET", "/healthz", &forwarded, "").0 == 200)
        .count()
}

#[test]
fn behind_a_trusted_proxy_one_flooding_client_spends_only_its_own_budget() {
    let limits = || roteiro_service::LimitsConfig {
        per_minute: 5,
        ..roteiro_service::LimitsConfig::default()
    };
    let trusted = roteiro_service::TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
    let (_runtime, addr) = common::serve_limited(
        None,
        roteiro_service::Guard::open(),
        roteiro_service::Limits::new(limits()).trusting(trusted),
        None,
        None,
    );
    assert_eq!(
        answered_before_refused(addr, "203.0.113.7", 20),
        5,
        "the flooder's own budget"
    );
    assert_eq!(
        answered_before_refused(addr, "203.0.113.8", 20),
        5,
        "another client's budget is whole"
    );

    // Not trusted: the header is a client's claim, and everyone behind
    // the address shares one budget.
    let (_runtime, addr) = common::serve_limited(
        None,
        roteiro_service::Guard::open(),
        roteiro_service::Limits::new(limits()),
        None,
        None,
    );
    assert_eq!(answered_before_refused(addr, "203.0.113.7", 20), 5);
    assert_eq!(
        answered_before_refused(addr, "203.0.113.8", 20),
        0,
        "the header is ignored"
    );
}

fn send_partial(endpoint: &Endpoint, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(endpoint.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn slow_clients_are_cut_off_and_the_in_flight_bound_holds() {
    let (_runtime, admin) = common::serve_with(None, tight());
    let auth = bearer(&admin.token);
    // A body that never comes: 408 after the body deadline.
    let slow_body = format!("POST /v1/decide HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 100\r\n\r\n{{");
    let mut first = send_partial(&admin, &slow_body);
    let mut second = send_partial(&admin, &slow_body);
    std::thread::sleep(Duration::from_millis(300));
    // Both permits are held by the slow bodies: a third request is refused.
    let (status, _, body) = exchange(admin.addr, "GET", "/v1/vocabulary", &auth, "");
    assert_eq!(status, 429, "{body}");
    assert!(read_all(&mut first).starts_with("HTTP/1.1 408"));
    assert!(read_all(&mut second).starts_with("HTTP/1.1 408"));
    assert_eq!(exchange(admin.addr, "GET", "/v1/vocabulary", &auth, "").0, 200);

    // A head sent byte by byte and never finished: the connection closes.
    let started = std::time::Instant::now();
    let mut slowloris = send_partial(&admin, "GET /v1/vocabulary HTTP/1.1\r\nHost: x\r\nX-A: ");
    let answer = read_all(&mut slowloris);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cut off after the head deadline"
    );
    assert!(!answer.contains("200 OK"), "{answer}");

    // A head past 16 KiB and a body past 64 KiB.
    let huge_header = format!("X-Grande: {}\r\n", "a".repeat(20_000));
    assert_eq!(exchange(admin.addr, "GET", "/v1/vocabulary", &huge_header, "").0, 431);
    let huge_body = "x".repeat(70_000);
    let (status, _, said) = exchange(admin.addr, "POST", "/v1/decide", &auth, &huge_body);
    assert_eq!(status, 413);
    assert!(said.contains("65536 bytes"), "{said}");
    // A publication takes a whole bundle: the same body is read (and
    // refused as JSON, not as too large); past 8 MiB its own limit says so.
    let (status, _, said) = exchange(admin.addr, "POST", "/v1/releases", &auth, &huge_body);
    assert_ne!(status, 413, "{said}");
    let (status, _, said) = exchange(
        admin.addr,
        "POST",
        "/v1/releases",
        &auth,
        &"x".repeat(8 * 1024 * 1024 + 1),
    );
    assert_eq!(status, 413, "{said}");
    assert!(said.contains("8388608 bytes"), "{said}");
}

/// Serves with a database where no token was ever made; `loopback` as
/// the address the service was asked to listen on would say.
fn serve_fresh(name: &str, loopback: bool) -> (tokio::runtime::Runtime, std::net::SocketAddr, String) {
    let database = scratch(name);
    let guard = roteiro_service::Guard::tokens(&database, false, loopback).unwrap();
    let (runtime, addr) = common::serve_desk(None, guard, LimitsConfig::default(), None, None);
    (runtime, addr, database)
}

#[test]
fn a_fresh_install_answers_this_machine_until_its_first_token_and_never_the_network() {
    let situation = r#"{"now": "2026-12-08T10:15:00-03:00", "request": {"topic": "xml"}}"#;
    let (_runtime, addr, database) = serve_fresh("fresh-loopback", true);
    assert_eq!(exchange(addr, "POST", "/v1/decide", "", situation).0, 200);
    let (_, _, session) = exchange(addr, "GET", "/v1/session", "", "");
    assert!(session.contains("\"open\": true"), "{session}");
    roteiro_auth::Tokens::open(&database)
        .unwrap()
        .create("primeira", Role::Admin, chrono::Utc::now())
        .unwrap();
    let closed = (0..50).any(|_| {
        let status = exchange(addr, "POST", "/v1/decide", "", situation).0;
        if status != 401 {
            std::thread::sleep(Duration::from_millis(100));
        }
        status == 401
    });
    assert!(closed, "the first token closes every route within a second or so");

    // Served on an address others reach: closed from the start.
    let (_runtime, addr, _) = serve_fresh("fresh-network", false);
    assert_eq!(exchange(addr, "POST", "/v1/decide", "", situation).0, 401);
    assert_eq!(exchange(addr, "GET", "/healthz", "", "").0, 200);
}
