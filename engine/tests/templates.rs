//! What a decision shows: actions in phase order, placeholders filled,
//! outputs set and computed.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

#[test]
fn actions_are_ordered_by_phase_then_bundle_order() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: late\n    section: '1'\n    phase: b\n    actions: [{id: second, text: segundo}]\n  - id: early\n    section: '2'\n    phase: a\n    actions: [{id: first, text: primeiro, macro: m, team: t}]\n",
    )
    .expect("loads");
    let decision = common::decide(&bundle, "{}");
    let ids: Vec<&str> = decision.actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["first", "second"]);
    assert_eq!(
        decision.actions[0].r#macro.as_deref(),
        Some("Macro Exata - Ação pública")
    );
    assert_eq!(decision.actions[0].source.section, "2");
}

#[test]
fn placeholders_fill_dates_as_dd_mm_yyyy_and_unknown_ones_show_their_label() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    scripts:\n      - {id: s, text: 'Olá, {{ caso.name }}! Vence em {{ add_days(caso.day, 7) }}.'}\n",
    )
    .expect("loads");
    let decision = common::decide(&bundle, "caso: {name: Ana, day: 2026-12-28}");
    assert_eq!(decision.scripts[0].text, "Olá, Ana! Vence em 04/01/2027.");
    let decision = common::decide(&bundle, "caso: {day: 2026-12-28}");
    assert_eq!(decision.scripts[0].text, "Olá, [nome]! Vence em 04/01/2027.");
    assert_eq!(common::missing(&decision), ["caso.name"]);
}

/// A rule that both sets and computes outputs: its trace entry shows both,
/// and what one decision computed never stays in the rule for the next
/// (the written outputs are shared by every decision the rule fires in).
#[test]
fn a_rule_that_sets_and_computes_shows_both_in_each_decision_alone() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    set: {route: x}\n    compute: {due: 'add_days(caso.day, 1)'}\n",
    )
    .expect("loads");
    for (day, due) in [("2026-12-01", "2026-12-02"), ("2026-12-10", "2026-12-11")] {
        let decision = common::decide(&bundle, &format!("caso: {{day: {day}}}"));
        let entry = decision.trace.iter().find(|entry| entry.rule == "r").expect("traced");
        let sets: Vec<(&str, String)> = entry
            .sets
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_string()))
            .collect();
        assert_eq!(sets, [("due", format!("\"{due}\"")), ("route", "\"x\"".to_string())]);
    }
    let decision = common::decide(&bundle, "caso: {}");
    let entry = decision.trace.iter().find(|entry| entry.rule == "r").expect("traced");
    assert_eq!(
        entry.sets.keys().collect::<Vec<_>>(),
        ["route"],
        "nothing computed without a day"
    );
}
