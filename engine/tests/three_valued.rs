//! Three-valued conditions: an absent fact is explored, asked only when it
//! decides the outcome; defaults are assumed and listed; derived facts.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::output::RuleStatus;
use roteiro_engine::Bundle;

const THREE_VALUED: &str = r#"
document: d.txt
title: t
rules:
  - id: r
    section: "1"
    phase: a
    when: caso.kind == "k2" && caso.flag
    set: {route: x}
"#;

#[test]
fn a_condition_false_whatever_the_absent_fact_asks_nothing() {
    let bundle = common::mini(THREE_VALUED).expect("loads");
    let decision = common::decide(&bundle, "caso: {kind: k1}");
    assert!(decision.missing.is_empty());
    assert_eq!(
        decision.trace.get(0).map(|entry| entry.status),
        Some(RuleStatus::NotFired)
    );
}

#[test]
fn an_absent_fact_that_decides_the_outcome_is_missing_with_its_question() {
    let bundle = common::mini(THREE_VALUED).expect("loads");
    let decision = common::decide(&bundle, "caso: {kind: k2}");
    assert_eq!(common::missing(&decision), ["caso.flag"]);
    assert_eq!(decision.missing[0].question, "Flag?");
    assert_eq!(
        decision.trace.get(0).map(|entry| entry.status),
        Some(RuleStatus::Undecided)
    );
    assert!(decision.outputs.is_empty());
}

#[test]
fn every_absent_fact_on_the_way_is_missing() {
    let bundle = common::mini(THREE_VALUED).expect("loads");
    let decision = common::decide(&bundle, "{}");
    assert_eq!(common::missing(&decision), ["caso.flag", "caso.kind"]);
}

#[test]
fn absent_non_enumerable_facts_make_the_condition_undecided() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: caso.count > 3\n    set: {route: x}\n",
    )
    .expect("loads");
    assert_eq!(common::missing(&common::decide(&bundle, "{}")), ["caso.count"]);
    assert_eq!(common::decide(&bundle, "caso: {count: 4}").outputs["route"], "x");
}

#[test]
fn defaults_are_assumed_and_listed_never_missing() {
    let bundle = common::mini(THREE_VALUED).expect("loads");
    let files: Vec<_> = bundle
        .files()
        .iter()
        .cloned()
        .map(|mut f| {
            if f.path == "vocabulary.yaml" {
                f.text = f.text.replace("question: Flag?}", "question: Flag?, default: true}");
            }
            f
        })
        .collect();
    let bundle = Bundle::from_files(files).expect("loads");
    let decision = common::decide(&bundle, "caso: {kind: k2}");
    assert!(decision.missing.is_empty());
    assert_eq!(decision.outputs["route"], "x");
    assert_eq!(decision.assumed[0].fact, "caso.flag");
    assert_eq!(decision.assumed[0].value, "sim");
}

#[test]
fn what_a_shown_action_needs_is_asked_unless_the_fact_is_optional() {
    let procedure = "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    actions:\n      - {id: registrar, text: 'Registre o nome ({{ caso.name }}) e o dia ({{ caso.day }}).'}\n";
    let bundle = common::mini(procedure).expect("loads");
    let decision = common::decide(&bundle, "caso: {kind: k1}");
    assert_eq!(
        decision.actions[0].text,
        "Registre o nome ([nome]) e o dia ([caso.day])."
    );
    assert_eq!(common::missing(&decision), ["caso.name", "caso.day"]);
    assert_eq!(decision.missing[0].needed_by, ["r#registrar"]);

    let mut files = common::mini_files(procedure);
    for file in &mut files {
        if file.path == "vocabulary.yaml" {
            file.text = file.text.replace("label: nome}", "label: nome, optional: true}");
        }
    }
    let bundle = Bundle::from_files(files).expect("loads");
    let decision = common::decide(&bundle, "caso: {kind: k1}");
    assert_eq!(
        common::missing(&decision),
        ["caso.day"],
        "an optional fact only shows its label"
    );
}

#[test]
fn a_given_derived_fact_that_its_derivation_contradicts_is_a_warning() {
    let bundle = common::shipped();
    // Delivered on 20/11, decided on 08/12: the third week, not the first.
    let decision = common::decide(
        &bundle,
        "now: 2026-12-08T10:00:00-03:00\nmonitoring: {delivered_on: 2026-11-20, week: 1, reached: false}",
    );
    assert_eq!(
        decision.warnings,
        ["`monitoring.week` (semana) veio como `1`, mas os outros fatos da situação dão `3`; valendo o informado: confira"]
    );
    assert!(
        common::missing(&decision).contains(&"monitoring.attempts"),
        "the count the status line needs is asked"
    );
    let agreeing = common::decide(
        &bundle,
        "now: 2026-12-08T10:00:00-03:00\nmonitoring: {delivered_on: 2026-11-20, week: 3, reached: false, attempts: 3}",
    );
    assert!(agreeing.warnings.is_empty(), "{:?}", agreeing.warnings);
    assert!(!common::missing(&agreeing).contains(&"monitoring.attempts"));
}

/// A derived fact is kept for the rest of a decision only when it was
/// worked out from the situation alone: one that reads an absent fact is
/// worked out again in every run of the exploration, or a value tried in
/// one run would leak into the next.
#[test]
fn a_derivation_over_an_absent_fact_is_never_kept_between_runs() {
    let mut files = common::mini_files(
        "document: d.txt\ntitle: t\nrules:\n  - id: ligado\n    section: '1'\n    phase: a\n    when: caso.state == \"on\" && caso.big\n    set: {route: x}\n  - id: desligado\n    section: '2'\n    phase: a\n    when: caso.state == \"off\" && caso.big\n    set: {route: y}\n",
    );
    for file in &mut files {
        if file.path == "vocabulary.yaml" {
            file.text.push_str(
                "  caso.state: {type: text, description: s, question: q, derive: 'if caso.flag { \"on\" } else { \"off\" }'}\n  caso.big: {type: bool, description: b, question: q, derive: caso.count > 10}\n",
            );
        }
    }
    let (native, reference) = common::native_and_rhai(files);
    for situation in [
        "caso: {count: 20}",
        "caso: {count: 20, flag: true}",
        "caso: {count: 20, flag: false}",
        "caso: {count: 5}",
    ] {
        let decision = common::decide(&native, situation);
        assert_eq!(decision, common::decide(&reference, situation), "{situation}");
        let route = decision.outputs.get("route").and_then(|route| route.as_str());
        let expected = match situation {
            "caso: {count: 20}" => {
                assert_eq!(common::missing(&decision), ["caso.flag"], "{situation}");
                None
            }
            "caso: {count: 20, flag: true}" => Some("x"),
            "caso: {count: 20, flag: false}" => Some("y"),
            _ => None,
        };
        assert_eq!(route, expected, "{situation}");
    }
}

/// Before the scope of a training is known, the route is Suporte for now
/// but IO or another team once it is: open, with what decides it; once
/// every filter is answered, nothing is open.
#[test]
fn outputs_an_undecided_rule_may_still_change_are_open_with_what_decides_them() {
    let bundle = common::shipped();
    let call = "contact: {channel: chat, kind: cliente}\nrequest: {topic: treinamento";
    let open = |situation: &str| common::decide(&bundle, situation).open_outputs;

    let no_scope = open(&format!("{call}}}\n"));
    let route = no_scope.get("route").expect("route open");
    assert_eq!(route.first().map(String::as_str), Some("request.scope"), "{route:?}");
    assert!(no_scope.contains_key("io_scheduling"), "{no_scope:?}");

    // A specific part: support's, settled.
    assert!(open(&format!("{call}, scope: especifico}}\n")).is_empty());

    // The whole module: IO unless a filter sends it elsewhere.
    let complete = open(&format!("{call}, scope: completo}}\n"));
    let route = complete.get("route").expect("route open");
    assert!(route.iter().any(|fact| fact == "client.in_onboarding"), "{route:?}");
    assert!(!complete.contains_key("io_scheduling"), "{complete:?}");
    let filtered = format!(
        "{call}, scope: completo, module: financeiro}}\nclient: {{plan_active: true, account_blocked: false, in_onboarding: false, franchise: false}}\n"
    );
    assert!(!open(&filtered).contains_key("route"), "{:?}", open(&filtered));
}
