//! The shipped bundle's own policy tests (`policies/tests/`) run in
//! `cargo test`, with the coverage the project promises.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

#[test]
fn shipped_policy_tests_pass_with_full_rule_coverage() {
    let report = common::shipped().run_tests(None, None).expect("test files parse");
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|case| !case.passed())
        .map(|case| format!("{} › {}\n    {}", case.file, case.name, case.failures.join("\n    ")))
        .collect();
    assert!(failures.is_empty(), "failing policy tests:\n{}", failures.join("\n"));
    assert!(report.cases.len() >= 60, "only {} policy tests", report.cases.len());
    assert!(
        report.coverage >= 95.0,
        "rule coverage {:.1}%; never fired: {:?}",
        report.coverage,
        report.never_fired
    );
}

#[test]
fn every_procedure_has_a_test_file() {
    let bundle = common::shipped();
    let procedures: Vec<&str> = bundle
        .files()
        .iter()
        .filter_map(|f| f.path.strip_prefix("procedures/"))
        .collect();
    for procedure in procedures {
        let test = format!("tests/{procedure}");
        assert!(
            bundle.files().iter().any(|f| f.path == test),
            "{procedure} has no {test}"
        );
    }
}
