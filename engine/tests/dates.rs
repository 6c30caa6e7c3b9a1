//! Date helpers: the bundle's holidays, and out-of-range results blamed on
//! the rule or on the situation that caused them.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::DecideError;

#[test]
fn business_days_skip_the_bundle_holidays() {
    let bundle = common::mini(
        "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    compute: {due: 'add_business_days(caso.day, 2)'}\n",
    )
    .expect("loads");
    // Thu 24/12 + 2 business days: 25 is a holiday, 26-27 a weekend.
    assert_eq!(
        common::decide(&bundle, "caso: {day: 2026-12-24}").outputs["due"],
        "2026-12-29"
    );
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
