//! The sandbox rules run in: operation and time budgets, the exact list of
//! callable functions, nothing that blocks or reads the clock.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::{Bundle, DecideError};

#[test]
fn a_runaway_condition_stops_with_an_error_naming_the_rule() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: runaway\n    section: '1'\n    phase: a\n    when: 'let n = 0; loop { n += 1; }'\n    set: {route: x}\n",
    )
    .expect("loads");
    let situation = bundle.parse_situation("{}", "test").expect("valid");
    let Err(DecideError::Rule(err)) = bundle.decide(&situation, common::now()) else {
        panic!("a runaway rule is the bundle's error");
    };
    assert_eq!(err.rule, "runaway");
    assert_eq!(err.line, Some(7), "the line of `when:` in the rule's file");
    assert!(err.message.contains("Too many operations"), "{err}");
    assert!(
        !err.message.contains("position"),
        "no position inside the expression: {err}"
    );
}

#[test]
fn eval_is_not_available_to_policies() {
    let err = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: 'eval(\"true\")'\n    set: {route: x}\n",
    )
    .expect_err("rejected");
    assert!(err.to_string().contains("`r`"), "{err}");
    assert!(err.to_string().contains("eval"), "the reason is eval itself: {err}");
}

#[test]
fn a_condition_that_is_not_a_boolean_is_a_rule_error() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: '42'\n    set: {route: x}\n",
    )
    .expect("loads");
    let situation = bundle.parse_situation("{}", "test").expect("valid");
    let err = bundle.decide(&situation, common::now()).expect_err("error");
    assert!(
        matches!(&err, DecideError::Rule(e) if e.message.contains("true ou false")),
        "{err}"
    );
}

/// The mini bundle around `procedure`, with `limits` added to its manifest.
fn mini_with_limits(procedure: &str, limits: &str) -> Bundle {
    let files = common::mini(procedure)
        .expect("loads")
        .files()
        .iter()
        .cloned()
        .map(|mut file| {
            if file.path == "bundle.yaml" {
                file.text.push_str(limits);
            }
            file
        })
        .collect();
    Bundle::from_files(files).expect("loads with limits")
}

#[test]
fn rules_reach_exactly_the_listed_functions_and_nothing_that_blocks_or_reads_the_clock() {
    let bundle = common::shipped();
    let functions = bundle.callable_functions();
    for forbidden in ["sleep", "timestamp", "eval", "parse_json", "call", "curry", "exit"] {
        assert!(!functions.contains(forbidden), "`{forbidden}` must not be callable");
    }
    insta::assert_snapshot!(functions.into_iter().collect::<Vec<_>>().join("\n"));
}

#[test]
fn a_rule_calling_sleep_is_rejected_when_the_bundle_loads() {
    let err = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: dorme\n    section: '1'\n    phase: a\n    when: 'sleep(1000); true'\n    set: {route: x}\n",
    )
    .expect_err("rejected");
    assert!(err.to_string().contains("função desconhecida `sleep`"), "{err}");
}

#[test]
fn a_decision_that_outruns_its_wall_clock_budget_stops_naming_the_rule() {
    // Libfaketime can freeze the monotonic timer; then no budget can expire.
    let start = std::time::Instant::now();
    let mut spin = 0u64;
    while start.elapsed().is_zero() && spin < 10_000_000 {
        spin = std::hint::black_box(spin + 1);
    }
    if start.elapsed().is_zero() {
        eprintln!("skipped: the monotonic clock does not advance here (a frozen fake clock)");
        return;
    }
    // Each rule stays under Rhai's operation limit; together they do not.
    let rule = |n: usize| {
        format!("  - id: lenta{n}\n    section: '1'\n    phase: a\n    when: 'let s = 0; while s < 12000 {{ s += 1; }} s > 0'\n    set: {{route: x}}\n")
    };
    let procedure = format!(
        "document: d.txt\ntitle: t\nrules:\n{}",
        (0..200).map(rule).collect::<String>()
    );
    let bundle = mini_with_limits(&procedure, "limits: {decision_ms: 1}\n");
    let situation = bundle.parse_situation("{}", "s.yaml").expect("valid");
    let Err(DecideError::Rule(err)) = bundle.decide(&situation, common::now()) else {
        panic!("the budget stops the decision");
    };
    assert!(err.rule.starts_with("lenta"), "{err}");
    assert!(err.message.contains("orçamento de 1 ms"), "{err}");
}

#[test]
fn check_reports_rules_that_can_only_fail_and_spares_the_healthy_ones() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: soma_texto\n    section: '1'\n    phase: a\n    when: caso.flag - 1 > 0\n    set: {route: x}\n  - id: transborda\n    section: '1'\n    phase: a\n    compute:\n      due: add_days(date(\"2026-01-01\"), 99999999999)\n  - id: pela_hora\n    section: '1'\n    phase: a\n    when: hour(now) >= 18 && caso.flag\n    set: {route: y}\n  - id: pelo_dia\n    section: '1'\n    phase: a\n    compute:\n      due: add_days(caso.day, 7)\n",
    )
    .expect("loads: nothing is wrong until it runs");
    let failing: Vec<(String, String)> = bundle
        .analyze()
        .into_iter()
        .filter(|w| w.kind == "always_fails")
        .map(|w| (w.item, w.message))
        .collect();
    let ids: Vec<&str> = failing.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["soma_texto", "transborda"], "{failing:?}");
    assert!(failing[1].1.contains("fora do intervalo"), "{failing:?}");
}
