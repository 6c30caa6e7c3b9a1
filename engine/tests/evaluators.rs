//! The native tree against Rhai, the reference: same decisions, same
//! analysis, same error words.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::{Bundle, Evaluation};

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
    let fired = common::decide(&bundle, "caso: {kind: k2, flag: true}");
    assert_eq!(fired.outputs.get("route"), Some(&serde_json::json!("x")));
    let undecided = common::decide(&bundle, "caso: {kind: k2}");
    assert_eq!(common::missing(&undecided), ["caso.flag"]);
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
        let (native, reference) = common::native_and_rhai(common::mini_files(&procedure));
        assert_eq!(native.native_coverage(), (1, 1), "{when}");
        for situation in ["caso: {count: 3}", "caso: {count: 1}", "caso: {}"] {
            let native_decision = common::decide(&native, situation);
            let reference_decision = common::decide(&reference, situation);
            assert_eq!(
                serde_json::to_value(&native_decision).ok(),
                serde_json::to_value(&reference_decision).ok(),
                "{when} with {situation}"
            );
        }
        assert_eq!(
            common::decide(&native, "caso: {count: 3}").outputs.get("route"),
            Some(&serde_json::json!("x"))
        );
        assert_eq!(common::missing(&common::decide(&native, "caso: {}")), ["caso.count"]);
    }
}

#[test]
fn a_native_expression_that_overflows_reports_rhais_error_word_for_word() {
    let procedure = "document: d.txt\ntitle: t\nrules:\n  - id: conta\n    section: '1'\n    phase: a\n    when: caso.count * 1000000000 > 5\n    set: {route: x}\n";
    let (native, reference) = common::native_and_rhai(common::mini_files(procedure));
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
