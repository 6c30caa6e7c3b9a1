//! Engine mechanisms on small bundles made for each test: three-valued
//! conditions, conflicts, first-match groups, contexts, templates, dates and
//! the sandbox.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use roteiro_engine::{Bundle, DecideError, Decision, Evaluation, RuleStatus};

fn decide(bundle: &Bundle, situation: &str) -> Decision {
    let situation = bundle.parse_situation(situation, "test").expect("valid situation");
    bundle.decide(&situation, common::now()).expect("decision")
}

fn missing(decision: &Decision) -> Vec<&str> {
    decision.missing.iter().map(|m| m.fact.as_str()).collect()
}

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
    let decision = decide(&bundle, "caso: {kind: k1}");
    assert!(decision.missing.is_empty());
    assert_eq!(
        decision.trace.get(0).map(|entry| entry.status),
        Some(RuleStatus::NotFired)
    );
}

#[test]
fn an_absent_fact_that_decides_the_outcome_is_missing_with_its_question() {
    let bundle = common::mini(THREE_VALUED).expect("loads");
    let decision = decide(&bundle, "caso: {kind: k2}");
    assert_eq!(missing(&decision), ["caso.flag"]);
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
    let decision = decide(&bundle, "{}");
    assert_eq!(missing(&decision), ["caso.flag", "caso.kind"]);
}

#[test]
fn absent_non_enumerable_facts_make_the_condition_undecided() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: caso.count > 3\n    set: {route: x}\n",
    )
    .expect("loads");
    assert_eq!(missing(&decide(&bundle, "{}")), ["caso.count"]);
    assert_eq!(decide(&bundle, "caso: {count: 4}").outputs["route"], "x");
}

#[test]
fn higher_priority_wins_and_the_loser_is_marked_overridden() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: low\n    section: '1'\n    phase: a\n    set: {route: x}\n  - id: high\n    section: '1'\n    phase: a\n    priority: 5\n    set: {route: y}\n",
    )
    .expect("loads");
    let decision = decide(&bundle, "{}");
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
    let decision = decide(&bundle, "{}");
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
    let decision = decide(&bundle, "caso: {flag: true}");
    assert_eq!(decision.outputs["route"], "x");
    assert_eq!(
        decision.trace.get(1).map(|entry| entry.status),
        Some(RuleStatus::Skipped)
    );
    let decision = decide(&bundle, "caso: {flag: false}");
    assert_eq!(decision.outputs["route"], "y");
}

#[test]
fn outside_its_context_a_rule_neither_fires_nor_asks() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\ncontext: [caso]\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: caso.flag\n    set: {route: x}\n",
    )
    .expect("loads");
    assert!(decide(&bundle, "{}").missing.is_empty());
    assert_eq!(missing(&decide(&bundle, "caso: {kind: k1}")), ["caso.flag"]);
}

#[test]
fn actions_are_ordered_by_phase_then_bundle_order() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: late\n    section: '1'\n    phase: b\n    actions: [{id: second, text: segundo}]\n  - id: early\n    section: '2'\n    phase: a\n    actions: [{id: first, text: primeiro, macro: m, team: t}]\n",
    )
    .expect("loads");
    let decision = decide(&bundle, "{}");
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
    let decision = decide(&bundle, "caso: {name: Ana, day: 2026-12-28}");
    assert_eq!(decision.scripts[0].text, "Olá, Ana! Vence em 04/01/2027.");
    let decision = decide(&bundle, "caso: {day: 2026-12-28}");
    assert_eq!(decision.scripts[0].text, "Olá, [nome]! Vence em 04/01/2027.");
    assert_eq!(missing(&decision), ["caso.name"]);
}

#[test]
fn business_days_skip_the_bundle_holidays() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    compute: {due: 'add_business_days(caso.day, 2)'}\n",
    )
    .expect("loads");
    // Thu 24/12 + 2 business days: 25 is a holiday, 26-27 a weekend.
    assert_eq!(decide(&bundle, "caso: {day: 2026-12-24}").outputs["due"], "2026-12-29");
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
        let decision = decide(&bundle, &format!("caso: {{day: {day}}}"));
        let entry = decision.trace.iter().find(|entry| entry.rule == "r").expect("traced");
        let sets: Vec<(&str, String)> = entry
            .sets
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_string()))
            .collect();
        assert_eq!(sets, [("due", format!("\"{due}\"")), ("route", "\"x\"".to_string())]);
    }
    let decision = decide(&bundle, "caso: {}");
    let entry = decision.trace.iter().find(|entry| entry.rule == "r").expect("traced");
    assert_eq!(
        entry.sets.keys().collect::<Vec<_>>(),
        ["route"],
        "nothing computed without a day"
    );
}

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
    let decision = decide(&bundle, "caso: {kind: k2}");
    assert!(decision.missing.is_empty());
    assert_eq!(decision.outputs["route"], "x");
    assert_eq!(decision.assumed[0].fact, "caso.flag");
    assert_eq!(decision.assumed[0].value, "sim");
}

/// The example at the top of the engine's documentation, line for line.
#[test]
fn the_crate_example_decides() -> Result<(), Box<dyn std::error::Error>> {
    let bundle = Bundle::load_dir(&common::policies())?;
    let situation = bundle.parse_situation("request:\n  topic: boleto\n", "example.yaml")?;
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00")?;
    let decision = bundle.decide(&situation, now)?;
    assert_eq!(decision.outputs["route"], "suporte");
    assert!(decision
        .assumed
        .iter()
        .any(|a| a.fact == "now" && a.value == "08/12/2026 10:15"));
    Ok(())
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
fn a_date_helper_out_of_range_is_a_rule_error_with_its_file_line_and_value() {
    for call in [
        "add_days(date(\"2026-12-24\"), 9223372036854775807)",
        "add_business_days(date(\"2026-12-24\"), -9223372036854775807)",
        "add_days(date(\"2026-12-24\"), 999999999999)",
    ] {
        let bundle = common::mini(&format!(
            "document: d.txt\ntitle: t\nrules:\n  - id: longe\n    section: '1'\n    phase: a\n    compute:\n      due: {call}\n"
        ))
        .expect("loads");
        let situation = bundle
            .parse_situation("caso: {day: 2026-12-24}", "s.yaml")
            .expect("valid");
        let Err(DecideError::Rule(err)) = bundle.decide(&situation, common::now()) else {
            panic!("{call}: an overflow the rule's own numbers cause is the rule's error");
        };
        assert_eq!((err.rule.as_str(), err.file.as_str()), ("longe", "procedures/p.yaml"));
        assert_eq!(err.line, Some(8), "{err}");
        assert!(err.message.contains("fora do intervalo"), "{err}");
        assert!(err.message.contains("(2026-12-24, "), "the offending value: {err}");
    }
}

#[test]
fn a_value_of_the_situation_that_overflows_a_helper_is_the_situations_error() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: prazo\n    section: '1'\n    phase: a\n    compute:\n      due: add_days(caso.day, caso.count)\n",
    )
    .expect("loads");
    let situation = bundle
        .parse_situation("caso: {day: 2026-12-24, count: 9000000000000}", "s.yaml")
        .expect("valid");
    let Err(DecideError::Situation(err)) = bundle.decide(&situation, common::now()) else {
        panic!("the situation's value caused it");
    };
    assert_eq!(err.location.file, "s.yaml");
    let found = err.found.clone().unwrap_or_default();
    assert!(found.contains("`caso.count` = `9000000000000`"), "{err}");
    assert!(err.message.contains("`prazo`"), "{err}");
    assert!(err.message.contains("linha 8"), "{err}");
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

#[test]
fn one_loaded_bundle_decides_on_many_threads_at_once() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Bundle>();
    let bundle = common::shipped();
    let folder = common::root().join("tests/situations");
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .expect("corpus")
        .map(|entry| entry.expect("entry").path())
        .collect();
    paths.sort();
    let decide_all = |bundle: &Bundle| -> Vec<String> {
        paths
            .iter()
            .map(|path| {
                let text = std::fs::read(path).expect("read");
                let situation = bundle.parse_situation(&text, "s").expect("valid");
                let decision = bundle.decide(&situation, common::now()).expect("decision");
                serde_json::to_string(&decision).expect("json")
            })
            .collect()
    };
    let expected = decide_all(&bundle);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4).map(|_| scope.spawn(|| decide_all(&bundle))).collect();
        for worker in workers {
            assert_eq!(
                worker.join().expect("no panic"),
                expected,
                "same decisions on every thread"
            );
        }
    });
}

/// A bundle's files loaded twice: decided by the native tree, and by Rhai
/// alone.
fn native_and_rhai(files: Vec<roteiro_engine::SourceFile>) -> (Bundle, Bundle) {
    let native = Bundle::from_files(files.clone()).expect("loads");
    let mut reference = Bundle::from_files(files).expect("loads");
    reference.set_evaluation(Evaluation::Rhai);
    (native, reference)
}

/// The shipped bundle decided by the native tree and by Rhai alone.
fn both_evaluators() -> (Bundle, Bundle) {
    let mut reference = common::shipped();
    reference.set_evaluation(Evaluation::Rhai);
    (common::shipped(), reference)
}

#[test]
fn the_shipped_bundle_runs_every_expression_on_the_native_tree() {
    let bundle = common::shipped();
    let (native, total) = bundle.native_coverage();
    assert!(total > 200, "the count covers rules, items and derivations: {total}");
    assert_eq!(native, total, "on Rhai: {:?}", bundle.rhai_expressions());
}

#[test]
fn every_corpus_situation_and_example_decides_alike_on_both_evaluators() {
    let (native, reference) = both_evaluators();
    let mut compared = 0;
    for folder in [
        common::root().join("tests/situations"),
        common::policies().join("examples"),
    ] {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("situation");
            let decide = |bundle: &Bundle| {
                let situation = bundle.parse_situation(&text, "s").expect("valid situation");
                let now = situation.now().expect("every corpus situation pins now");
                serde_json::to_string(&bundle.decide(&situation, now).expect("decision")).expect("json")
            };
            assert_eq!(decide(&native), decide(&reference), "{}", path.display());
            compared += 1;
        }
    }
    assert!(compared >= 40, "{compared} situations");
}

#[test]
fn static_analysis_finds_the_same_on_both_evaluators() {
    let (native, reference) = both_evaluators();
    assert_eq!(native.analyze(), reference.analyze());
    // A bundle with one warning of each kind, so there is something to agree on.
    let folder = common::root().join("tests/fixtures/findings");
    let native = Bundle::load_dir(&folder).expect("loads");
    let mut reference = Bundle::load_dir(&folder).expect("loads");
    reference.set_evaluation(Evaluation::Rhai);
    let warnings = native.analyze();
    assert!(warnings.len() >= 4, "{warnings:?}");
    assert_eq!(warnings, reference.analyze());
}

#[test]
fn an_expression_outside_the_native_subset_stays_on_rhai_and_decides_the_same() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: escolha\n    section: '1'\n    phase: a\n    when: |\n      switch caso.kind { \"k2\" => caso.flag, _ => false }\n    set: {route: x}\n",
    )
    .expect("loads");
    let on_rhai = bundle.rhai_expressions();
    assert_eq!(on_rhai.len(), 1, "{on_rhai:?}");
    assert_eq!((on_rhai[0].0.as_str(), on_rhai[0].1.as_str()), ("escolha", "when"));
    assert_eq!(bundle.native_coverage(), (0, 1));
    let fired = decide(&bundle, "caso: {kind: k2, flag: true}");
    assert_eq!(fired.outputs.get("route"), Some(&serde_json::json!("x")));
    let undecided = decide(&bundle, "caso: {kind: k2}");
    assert_eq!(missing(&undecided), ["caso.flag"]);
}

/// A native block keeps up to eight locals on the stack and more in a
/// list: both sizes compile natively and decide what Rhai decides, a
/// missing fact included. (A local out of range would not show here: the
/// native run stops and Rhai answers, by design.)
#[test]
fn blocks_with_few_and_many_locals_decide_as_rhai_does() {
    for locals in [3, 9] {
        let chain: String = (1..locals).map(|n| format!("let v{n} = v{}; ", n - 1)).collect();
        let when = format!("let v0 = caso.count; {chain}v{} > 2", locals - 1);
        let procedure = format!(
            "document: d.txt\ntitle: t\nrules:\n  - id: cadeia\n    section: '1'\n    phase: a\n    when: '{when}'\n    set: {{route: x}}\n"
        );
        let (native, reference) = native_and_rhai(common::mini_files(&procedure));
        assert_eq!(native.native_coverage(), (1, 1), "{when}");
        for situation in ["caso: {count: 3}", "caso: {count: 1}", "caso: {}"] {
            let native_decision = decide(&native, situation);
            let reference_decision = decide(&reference, situation);
            assert_eq!(
                serde_json::to_value(&native_decision).ok(),
                serde_json::to_value(&reference_decision).ok(),
                "{when} with {situation}"
            );
        }
        assert_eq!(
            decide(&native, "caso: {count: 3}").outputs.get("route"),
            Some(&serde_json::json!("x"))
        );
        assert_eq!(missing(&decide(&native, "caso: {}")), ["caso.count"]);
    }
}

#[test]
fn a_native_expression_that_overflows_reports_rhais_error_word_for_word() {
    let procedure = "document: d.txt\ntitle: t\nrules:\n  - id: conta\n    section: '1'\n    phase: a\n    when: caso.count * 1000000000 > 5\n    set: {route: x}\n";
    let (native, reference) = native_and_rhai(common::mini_files(procedure));
    assert_eq!(native.native_coverage(), (1, 1));
    let decide = |bundle: &Bundle| {
        let situation = bundle
            .parse_situation("caso: {count: 9000000000000}", "s.yaml")
            .expect("valid");
        bundle
            .decide(&situation, common::now())
            .map(|_| ())
            .map_err(|err| err.to_string())
    };
    let error = decide(&native).expect_err("overflow");
    assert_eq!(Err(error.clone()), decide(&reference));
    assert!(error.contains("caso.count"), "{error}");
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
    let (native, reference) = native_and_rhai(files);
    for situation in [
        "caso: {count: 20}",
        "caso: {count: 20, flag: true}",
        "caso: {count: 20, flag: false}",
        "caso: {count: 5}",
    ] {
        let decision = decide(&native, situation);
        assert_eq!(decision, decide(&reference, situation), "{situation}");
        let route = decision.outputs.get("route").and_then(|route| route.as_str());
        let expected = match situation {
            "caso: {count: 20}" => {
                assert_eq!(missing(&decision), ["caso.flag"], "{situation}");
                None
            }
            "caso: {count: 20, flag: true}" => Some("x"),
            "caso: {count: 20, flag: false}" => Some("y"),
            _ => None,
        };
        assert_eq!(route, expected, "{situation}");
    }
}

/// The decision log stores a situation as JSON written straight from its
/// facts: groups nested (one level and two), every kind of value in the
/// form `decide` reads back, personal facts masked unless kept.
#[test]
fn a_situation_is_written_as_json_that_reads_back_to_the_same_facts() {
    let bundle = common::shipped();
    let text = "now: 2026-12-08T10:15:00-03:00\ncontact: {kind: cliente, name: Maria \"Souza\", phone: '(21) 99999-0000'}\nclient: {plan_active: true}\nbilling: {due_date: 2026-12-05}\nmonitoring: {attempts: 3}\nrequest: {topic: configuracao_balanca, equipment: {model: Toledo Prix 3, manufacturer: Toledo}}\n";
    let situation = bundle.parse_situation(text, "s.yaml").expect("valid");
    let masked: serde_json::Value = serde_json::from_str(&bundle.situation_json(&situation, false)).expect("JSON");
    assert_eq!(
        masked,
        serde_json::json!({
            "now": "2026-12-08T10:15:00-03:00",
            "contact": {"kind": "cliente", "name": "***", "phone": "***"},
            "client": {"plan_active": true},
            "billing": {"due_date": "2026-12-05"},
            "monitoring": {"attempts": 3},
            "request": {"topic": "configuracao_balanca", "equipment": {"manufacturer": "Toledo", "model": "Toledo Prix 3"}}
        })
    );
    let kept = bundle.situation_json(&situation, true);
    let again = bundle.parse_situation(&kept, "s.json").expect("reads back");
    assert_eq!(again.facts, situation.facts);
}

#[test]
fn parallel_work_comes_back_in_the_callers_order() {
    let items: Vec<u64> = (0..1_000).collect();
    let squares = roteiro_engine::in_parallel(&items, |n| n * n);
    assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
    assert!(roteiro_engine::in_parallel(&[] as &[u64], |n| *n).is_empty());
}

#[test]
fn a_batch_decides_exactly_what_one_by_one_decides() {
    let bundle = common::shipped();
    let mut situations = Vec::new();
    for entry in std::fs::read_dir(common::root().join("tests/situations")).expect("corpus") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("situation");
        situations.push(bundle.parse_situation(&text, "s").expect("valid"));
    }
    let situations: Vec<_> = situations.iter().cycle().take(situations.len() * 4).cloned().collect();
    let one_by_one: Vec<_> = situations.iter().map(|s| bundle.decide(s, common::now())).collect();
    assert_eq!(bundle.decide_batch(&situations, common::now()), one_by_one);
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
    let decision = decide(&bundle, "caso: {kind: k2, flag: true}");
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
    assert!(missing(&decision).is_empty(), "an ended flow asks nothing");
}

#[test]
fn a_flow_goes_on_while_the_rule_that_would_end_it_does_not_fire() {
    let bundle = with_flows(FLOWS).expect("loads");
    let ended_not = decide(&bundle, "caso: {kind: k1, flag: true}");
    assert_eq!(ended_not.outputs.get("route"), Some(&serde_json::json!("x")));
    // Undecided is not fired: the flow's own questions stay.
    let unknown = decide(&bundle, "caso: {flag: true}");
    assert_eq!(missing(&unknown), ["caso.count", "caso.kind"]);
}

#[test]
fn a_misspelt_flow_is_a_load_error_with_a_suggestion() {
    let err = with_flows(&FLOWS.replace("stops: [agenda]", "stops: [agnda]")).expect_err("rejected");
    let text = err.to_string();
    assert!(text.contains("`agnda`"), "{text}");
    assert!(text.contains("você quis dizer `agenda`?"), "{text}");
    assert!(text.contains("procedures/p.yaml"), "{text}");
}

#[test]
fn what_a_shown_action_needs_is_asked_unless_the_fact_is_optional() {
    let procedure = "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    actions:\n      - {id: registrar, text: 'Registre o nome ({{ caso.name }}) e o dia ({{ caso.day }}).'}\n";
    let bundle = common::mini(procedure).expect("loads");
    let decision = decide(&bundle, "caso: {kind: k1}");
    assert_eq!(
        decision.actions[0].text,
        "Registre o nome ([nome]) e o dia ([caso.day])."
    );
    assert_eq!(missing(&decision), ["caso.name", "caso.day"]);
    assert_eq!(decision.missing[0].needed_by, ["r#registrar"]);

    let mut files = common::mini_files(procedure);
    for file in &mut files {
        if file.path == "vocabulary.yaml" {
            file.text = file.text.replace("label: nome}", "label: nome, optional: true}");
        }
    }
    let bundle = Bundle::from_files(files).expect("loads");
    let decision = decide(&bundle, "caso: {kind: k1}");
    assert_eq!(
        missing(&decision),
        ["caso.day"],
        "an optional fact only shows its label"
    );
}

#[test]
fn a_given_derived_fact_that_its_derivation_contradicts_is_a_warning() {
    let bundle = common::shipped();
    // Delivered on 20/11, decided on 08/12: the third week, not the first.
    let decision = decide(
        &bundle,
        "now: 2026-12-08T10:00:00-03:00\nmonitoring: {delivered_on: 2026-11-20, week: 1, reached: false}",
    );
    assert_eq!(
        decision.warnings,
        ["`monitoring.week` (semana) veio como `1`, mas os outros fatos da situação dão `3`; valendo o informado: confira"]
    );
    assert!(
        missing(&decision).contains(&"monitoring.attempts"),
        "the count the status line needs is asked"
    );
    let agreeing = decide(
        &bundle,
        "now: 2026-12-08T10:00:00-03:00\nmonitoring: {delivered_on: 2026-11-20, week: 3, reached: false, attempts: 3}",
    );
    assert!(agreeing.warnings.is_empty(), "{:?}", agreeing.warnings);
    assert!(!missing(&agreeing).contains(&"monitoring.attempts"));
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
    let (native, reference) = native_and_rhai(common::mini_files(INDEXED));
    for situation in [
        "{}",
        "caso: {kind: k1}",
        "caso: {kind: k1, flag: true, count: 2}",
        "caso: {kind: k2}",
        "caso: {kind: k3, count: 0}",
    ] {
        let decision = decide(&native, situation);
        assert_eq!(decision, decide(&reference, situation), "{situation}");
        assert_eq!(decision.trace.len(), 4, "every rule traced: {situation}");
    }
    // A value the condition repeats visits its rule once.
    let both = decide(&native, "caso: {kind: k1, flag: true}");
    let ids: Vec<&str> = both.actions.iter().map(|action| action.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2"]);
    let passed_over = decide(&native, "caso: {kind: k2, flag: true}");
    let entry = passed_over.trace.get(0).expect("traced");
    assert_eq!(
        (entry.status, entry.why),
        (RuleStatus::NotFired, "condição falsa: caso.kind in [\"k1\", \"k1\"]")
    );
}

/// Procedure files are read a batch of rules at a time; a file whose
/// batches do not read on their own (here an alias to an anchor some
/// 30 KB earlier) is read again whole, with every rule and nothing else.
#[test]
fn a_file_whose_rules_need_each_other_is_read_whole() {
    let p002 = "procedures/002-atendimento-padrao.yaml";
    let bundle = common::edited(p002, |text| {
        text.replacen(
            "    section: Procedimentos de atendimento\n",
            "    section: &primeira Procedimentos de atendimento\n",
            1,
        )
        .replacen("    section: Documentar é preciso\n", "    section: *primeira\n", 1)
    })
    .expect("an alias across the file is valid YAML");
    let shipped = common::shipped();
    assert!(bundle.rule_ids().eq(shipped.rule_ids()));
    let situation = bundle
        .parse_situation("contact:\n  channel: telefone\n", "s")
        .expect("valid");
    let decision = bundle.decide(&situation, common::now()).expect("decides");
    let documentar = decision
        .actions
        .iter()
        .find(|action| action.rule.as_str() == "padrao.documentar.telefone")
        .expect("the last rule fires on a phone call");
    assert_eq!(documentar.source.section.as_str(), "Procedimentos de atendimento");
}

/// A mistake in a late batch is reported where the whole file has it.
#[test]
fn a_mistake_in_a_later_batch_names_its_line_in_the_file() {
    let p002 = "procedures/002-atendimento-padrao.yaml";
    let shipped = common::shipped();
    let text = &shipped
        .files()
        .iter()
        .find(|file| file.path == p002)
        .expect("shipped")
        .text;
    let line = text
        .lines()
        .position(|line| line == "    section: Documentar é preciso")
        .expect("present")
        + 1;
    let err = common::edited(p002, |text| {
        text.replacen(
            "    section: Documentar é preciso\n",
            "    section: Documentar é preciso\n    secao: x\n",
            1,
        )
    })
    .expect_err("an unknown field is an error");
    let problem = &err.problems[0];
    assert_eq!(
        (problem.location.file.as_str(), problem.location.line),
        (p002, Some(line + 1)),
        "{err}"
    );
    assert!(err.to_string().contains("secao"), "{err}");
}
