//! The service's router in-process, on a loopback port of its own: what a
//! client of `/v1` gets, without the binary around it (`tests/service.rs`
//! at the root runs `roteiro serve` itself).
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use common::{policies, request};
use roteiro_engine::Bundle;

#[test]
fn a_decision_over_http_is_the_engines_decision() {
    let (_runtime, addr) = common::serve(None);
    // The analyst named, as the service would otherwise fill it with the
    // caller's token name (a `from_login` fact) and the engine alone not.
    let situation = r#"{"now": "2026-12-08T10:15:00-03:00", "analyst": {"name": "Carla"}, "request": {"topic": "configuracao_balanca", "equipment": {"homologated": false}}}"#;
    let (status, body) = request(&addr, "POST", "/v1/decide", situation);
    assert_eq!(status, 200, "{body}");
    let bundle = Bundle::load_dir(&policies()).expect("loads");
    let parsed = bundle.parse_situation(situation, "corpo").expect("valid");
    let now = parsed.now().expect("pinned");
    let expected = serde_json::to_value(bundle.decide(&parsed, now).expect("decides")).expect("json");
    let served: serde_json::Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(served, expected);
    assert_eq!(served["outputs"]["io_scheduling"], false);
}

#[test]
fn bad_and_empty_situations_are_answered_in_portuguese_with_a_4xx() {
    let (_runtime, addr) = common::serve(None);
    let (status, body) = request(&addr, "POST", "/v1/decide", r#"{"client": {"plan": "ouro"}}"#);
    // A well-formed body with a value the vocabulary refuses.
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("client.plan") && body.contains("ouro"), "{body}");
    let (status, body) = request(&addr, "POST", "/v1/decide", "");
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body.contains("vazio"), "{body}");
}

#[test]
fn health_and_an_unknown_route_answer_without_the_binary() {
    let (_runtime, addr) = common::serve(None);
    assert_eq!(request(&addr, "GET", "/healthz", "").0, 200);
    let (status, body) = request(&addr, "GET", "/v1/nada", "");
    assert_eq!(status, 404, "{body}");
}

#[test]
fn a_moment_in_utc_decides_as_the_same_instant_in_brasilia() {
    let (_runtime, addr) = common::serve(None);
    // 19:00Z is 16:00 in Brasília: a Tuesday afternoon, Financeiro open
    // until 18:00; read as 19:00 it would be evening and closed.
    let situation = |now: &str| {
        format!(
            r#"{{"now": "{now}", "analyst": {{"name": "Carla"}}, "contact": {{"kind": "nao_cliente", "channel": "telefone"}}, "request": {{"topic": "boleto"}}}}"#
        )
    };
    let (status, utc) = request(&addr, "POST", "/v1/decide", &situation("2026-12-08T19:00:00Z"));
    assert_eq!(status, 200, "{utc}");
    let (status, local) = request(&addr, "POST", "/v1/decide", &situation("2026-12-08T16:00:00-03:00"));
    assert_eq!(status, 200, "{local}");
    assert_eq!(utc, local);
    assert!(utc.contains("Boa tarde"), "{utc}");
    assert!(!utc.contains("Boa noite"), "{utc}");
}
