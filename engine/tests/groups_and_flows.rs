//! Rules against each other: priorities, ties, first-match groups,
//! contexts, flows that end other flows, and the leading-equality index.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::output::RuleStatus;
use roteiro_engine::Bundle;

#[test]
fn higher_priority_wins_and_the_loser_is_marked_overridden() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: low\n    section: '1'\n    phase: a\n    set: {route: x}\n  - id: high\n    section: '1'\n    phase: a\n    priority: 5\n    set: {route: y}\n",
    )
    .expect("loads");
    let decision = common::decide(&bundle, "{}");
    assert_eq!(decision.outputs["route"], "y");
    assert!(decision.warnings.is_empty());
    assert_eq!(
        decision.trace.get(0).map(|entry| entry.overridden),
        Some(&["route".to_string()][..])
    );
}

#[test]
fn a_tie_between_different_values_is_a_warning_never_silent() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: first\n    section: '1'\n    phase: a\n    set: {route: x}\n  - id: second\n    section: '1'\n    phase: a\n    set: {route: y}\n",
    )
    .expect("loads");
    let decision = common::decide(&bundle, "{}");
    assert_eq!(decision.outputs["route"], "x");
    assert_eq!(decision.warnings.len(), 1);
    assert!(decision.warnings[0].contains("`first`") && decision.warnings[0].contains("`second`"));
}

#[test]
fn in_a_first_match_group_later_rules_are_skipped() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: a\n    section: '1'\n    phase: a\n    group: g\n    when: caso.flag\n    set: {route: x}\n  - id: b\n    section: '1'\n    phase: a\n    group: g\n    set: {route: y}\n",
    )
    .expect("loads");
    let decision = common::decide(&bundle, "caso: {flag: true}");
    assert_eq!(decision.outputs["route"], "x");
    assert_eq!(
        decision.trace.get(1).map(|entry| entry.status),
        Some(RuleStatus::Skipped)
    );
    let decision = common::decide(&bundle, "caso: {flag: false}");
    assert_eq!(decision.outputs["route"], "y");
}

#[test]
fn outside_its_context_a_rule_neither_fires_nor_asks() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\ncontext: [caso]\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: caso.flag\n    set: {route: x}\n",
    )
    .expect("loads");
    assert!(common::decide(&bundle, "{}").missing.is_empty());
    assert_eq!(
        common::missing(&common::decide(&bundle, "caso: {kind: k1}")),
        ["caso.flag"]
    );
}

/// A mini bundle whose manifest declares the flows `a` and `b`.
fn with_flows(procedure: &str) -> Result<Bundle, roteiro_engine::BundleError> {
    let mut files = common::mini_files(procedure);
    for file in &mut files {
        if file.path == "bundle.yaml" {
            file.text
                .push_str("flows: {agenda: Agendamento, financeiro: Cobrança}\n");
        }
    }
    Bundle::from_files(files)
}

const FLOWS: &str = r#"
document: d.txt
title: t
rules:
  - id: agendar
    section: '1'
    phase: a
    flow: agenda
    when: caso.flag
    set: {route: x}
  - id: perguntar
    section: '1'
    phase: a
    flow: agenda
    when: caso.count > 3
    actions: [{id: contar, text: Conte}]
  - id: cobrar
    section: '2'
    phase: a
    stops: [agenda]
    when: caso.kind == "k2"
    set: {route: y}
"#;

#[test]
fn a_rule_that_takes_the_case_elsewhere_ends_a_flow_written_before_it() {
    let bundle = with_flows(FLOWS).expect("loads");
    let decision = common::decide(&bundle, "caso: {kind: k2, flag: true}");
    assert_eq!(decision.outputs.get("route"), Some(&serde_json::json!("y")));
    let skipped: Vec<_> = decision
        .trace
        .iter()
        .filter(|entry| entry.status == RuleStatus::Skipped)
        .map(|entry| (entry.rule, entry.why))
        .collect();
    assert_eq!(
        skipped,
        [
            ("agendar", "não avaliada: `cobrar` encerrou o fluxo `agenda`"),
            ("perguntar", "não avaliada: `cobrar` encerrou o fluxo `agenda`"),
        ]
    );
    assert!(common::missing(&decision).is_empty(), "an ended flow asks nothing");
}

#[test]
fn a_flow_goes_on_while_the_rule_that_would_end_it_does_not_fire() {
    let bundle = with_flows(FLOWS).expect("loads");
    let ended_not = common::decide(&bundle, "caso: {kind: k1, flag: true}");
    assert_eq!(ended_not.outputs.get("route"), Some(&serde_json::json!("x")));
    // Undecided is not fired: the flow's own questions stay.
    let unknown = common::decide(&bundle, "caso: {flag: true}");
    assert_eq!(common::missing(&unknown), ["caso.count", "caso.kind"]);
}

#[test]
fn a_misspelt_flow_is_a_load_error_with_a_suggestion() {
    let err = with_flows(&FLOWS.replace("stops: [agenda]", "stops: [agnda]")).expect_err("rejected");
    let text = err.to_string();
    assert!(text.contains("`agnda`"), "{text}");
    assert!(text.contains("você quis dizer `agenda`?"), "{text}");
    assert!(text.contains("procedures/p.yaml"), "{text}");
}

/// Rules told apart by `caso.kind`: one repeating its value, two sharing
/// one, one on a value no situation below gives, one always visited.
const INDEXED: &str = r#"
document: d.txt
title: t
rules:
  - {id: twice, section: "1", phase: a, when: 'caso.kind in ["k1", "k1"]', actions: [{id: a1, text: Um}]}
  - {id: shared, section: "1", phase: a, when: 'caso.kind in ["k1", "k2"] && caso.flag', actions: [{id: a2, text: Dois}]}
  - {id: third, section: "1", phase: a, when: 'caso.kind == "k3"', set: {route: z}}
  - {id: any, section: "1", phase: a, when: 'caso.count > 1', actions: [{id: a3, text: Três}]}
"#;

#[test]
fn rules_passed_over_by_their_leading_equality_decide_as_if_run() {
    let (native, reference) = common::native_and_rhai(common::mini_files(INDEXED));
    for situation in [
        "{}",
        "caso: {kind: k1}",
        "caso: {kind: k1, flag: true, count: 2}",
        "caso: {kind: k2}",
        "caso: {kind: k3, count: 0}",
    ] {
        let decision = common::decide(&native, situation);
        assert_eq!(decision, common::decide(&reference, situation), "{situation}");
        assert_eq!(decision.trace.len(), 4, "every rule traced: {situation}");
    }
    // A value the condition repeats visits its rule once.
    let both = common::decide(&native, "caso: {kind: k1, flag: true}");
    let ids: Vec<&str> = both.actions.iter().map(|action| action.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2"]);
    let passed_over = common::decide(&native, "caso: {kind: k2, flag: true}");
    let entry = passed_over.trace.get(0).expect("traced");
    assert_eq!(
        (entry.status, entry.why),
        (RuleStatus::NotFired, "condição falsa: caso.kind in [\"k1\", \"k1\"]")
    );
}
