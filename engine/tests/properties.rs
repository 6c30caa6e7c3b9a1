//! Properties over generated input (proptest), the fuzzing this toolchain
//! can run: stable Rust has no libFuzzer, so arbitrary bytes and mutated
//! bundle files go through proptest instead, seeded with the shipped
//! examples. CI runs the default number of cases; run longer with
//! `PROPTEST_CASES=100000 cargo test --test properties`.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use std::sync::OnceLock;

use proptest::test_runner::TestCaseError;

use proptest::prelude::*;
use roteiro_engine::{Bundle, DecideError, Evaluation, FactKind, SourceFile};

/// What the generator needs of one declared fact.
#[derive(Debug, Clone)]
struct FactShape {
    path: String,
    kind: FactKind,
    values: Vec<String>,
    range: (i64, i64),
}

fn shapes() -> &'static Vec<FactShape> {
    static SHAPES: OnceLock<Vec<FactShape>> = OnceLock::new();
    SHAPES.get_or_init(|| {
        common::shipped()
            .vocabulary()
            .facts()
            .filter(|fact| !fact.derived())
            .map(|fact| FactShape {
                path: fact.path.clone(),
                kind: fact.kind(),
                values: fact.values().to_vec(),
                range: (fact.bounds().0.unwrap_or(-1000), fact.bounds().1.unwrap_or(1000)),
            })
            .collect()
    })
}

/// One bundle for every test thread (a loaded bundle is Send + Sync): the
/// shipped one on the native tree, unhurried (see [`unhurried`]).
fn with_bundle<R>(f: impl FnOnce(&Bundle) -> R) -> R {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    f(BUNDLE.get_or_init(|| unhurried(Evaluation::Native)))
}

/// The shipped bundle with a budget no busy machine reaches: these
/// properties are about what is decided, and a decision cut short by a
/// stalled test thread would be a failure of the clock, not of the rules
/// or the evaluators (the budget has tests of its own).
fn unhurried(evaluation: Evaluation) -> Bundle {
    let mut bundle = common::edited("bundle.yaml", |text| {
        text.replace("decision_ms: 250", "decision_ms: 60000")
    })
    .expect("the shipped bundle with a larger budget");
    bundle.set_evaluation(evaluation);
    bundle
}

/// The shipped bundle evaluated by Rhai alone, the reference, unhurried.
fn with_reference<R>(f: impl FnOnce(&Bundle) -> R) -> R {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    f(BUNDLE.get_or_init(|| unhurried(Evaluation::Rhai)))
}

/// The differential property: the native tree and Rhai decide alike, byte
/// for byte, errors included.
fn same_on_both_evaluators(picks: &[(usize, u64)], minutes: i64) -> Result<(), TestCaseError> {
    let text = situation(picks);
    let now = common::now() + chrono::TimeDelta::minutes(minutes);
    let in_words = |decided: Result<roteiro_engine::Decision, DecideError>| match decided {
        Ok(decision) => serde_json::to_string(&decision).unwrap(),
        Err(err) => format!("erro: {err}"),
    };
    let native = with_bundle(|bundle| {
        let situation = bundle
            .parse_situation(&text, "gerada")
            .expect("generated from the vocabulary");
        in_words(bundle.decide(&situation, now))
    });
    let reference = with_reference(|bundle| {
        let situation = bundle
            .parse_situation(&text, "gerada")
            .expect("generated from the vocabulary");
        in_words(bundle.decide(&situation, now))
    });
    prop_assert_eq!(native, reference, "native and Rhai differ on {}", text);
    Ok(())
}

/// A value of `shape` drawn from `seed`.
fn value(shape: &FactShape, seed: u64) -> serde_json::Value {
    use serde_json::Value;
    let pick = |n: usize| usize::try_from(seed % n.max(1) as u64).unwrap_or(0);
    match shape.kind {
        FactKind::Bool => Value::Bool(seed.is_multiple_of(2)),
        FactKind::Enum => Value::String(shape.values.get(pick(shape.values.len())).cloned().unwrap_or_default()),
        FactKind::Integer => {
            let (low, high) = shape.range;
            let span = u64::try_from(high.saturating_sub(low)).unwrap_or(0).saturating_add(1);
            Value::from(low.saturating_add(i64::try_from(seed % span.max(1)).unwrap_or(0)))
        }
        FactKind::Text => {
            Value::String(["Ana", "48213", "(21) 99999-0000", "", "ção \"aspas\" {{ x }}"][pick(5)].into())
        }
        FactKind::Date => {
            let day =
                chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::TimeDelta::days((seed % 4000) as i64);
            Value::String(day.format("%Y-%m-%d").to_string())
        }
        FactKind::Datetime => {
            let minutes = (seed % (4000 * 24 * 60)) as i64;
            let at = common::now() + chrono::TimeDelta::minutes(minutes - 2000 * 24 * 60);
            Value::String(at.to_rfc3339())
        }
    }
}

/// A situation (as JSON text) giving the facts picked by `picks`.
fn situation(picks: &[(usize, u64)]) -> String {
    let shapes = shapes();
    let mut root = serde_json::Map::new();
    for (index, seed) in picks {
        let shape = &shapes[index % shapes.len()];
        let mut node = &mut root;
        let segments: Vec<&str> = shape.path.split('.').collect();
        let (last, groups) = segments.split_last().unwrap();
        for group in groups {
            node = node
                .entry(group.to_string())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
                .as_object_mut()
                .unwrap();
        }
        node.insert(last.to_string(), value(shape, *seed));
    }
    serde_json::Value::Object(root).to_string()
}

/// The decision property on one generated situation.
fn decide_generated(bundle: &Bundle, picks: &[(usize, u64)]) -> Result<(), TestCaseError> {
    let text = situation(picks);
    let situation = bundle
        .parse_situation(&text, "gerada")
        .expect("generated from the vocabulary");
    let first = bundle.decide(&situation, common::now());
    let second = bundle.decide(&situation, common::now());
    prop_assert_eq!(&first, &second, "deterministic");
    match first {
        Err(DecideError::Rule(err)) => prop_assert!(false, "a rule failed on a valid situation: {}\n{}", err, text),
        Err(DecideError::Situation(_)) => {}
        Ok(decision) => {
            let json = serde_json::to_value(&decision).unwrap();
            for key in CONTRACT_KEYS {
                prop_assert!(json.get(key).is_some(), "contract key `{}` missing", key);
            }
            prop_assert_eq!(
                serde_json::to_string(&decision).unwrap(),
                serde_json::to_string(&second.unwrap()).unwrap()
            );
            for (name, value) in &decision.outputs {
                let values = bundle.output_values(name);
                prop_assert!(values.is_some(), "undeclared output `{}`", name);
                if let (Some(values), Some(text)) = (values.filter(|v| !v.is_empty()), value.as_str()) {
                    prop_assert!(
                        values.iter().any(|v| v == text),
                        "`{}` = {} is not declared",
                        name,
                        value
                    );
                }
            }
        }
    }
    Ok(())
}

const CONTRACT_KEYS: [&str; 7] = [
    "bundle", "outputs", "actions", "scripts", "missing", "warnings", "trace",
];

proptest! {
    // 192 cases keep CI short; PROPTEST_CASES runs longer.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(192)
    ))]

    #[test]
    fn decisions_on_vocabulary_valid_situations_are_total_deterministic_and_declared(
        picks in proptest::collection::vec((any::<usize>(), any::<u64>()), 0..24),
    ) {
        with_bundle(|bundle| decide_generated(bundle, &picks))?;
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_situation_reader(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(err) = with_bundle(|bundle| bundle.parse_situation(&bytes, "bytes")) {
            prop_assert!(!err.message.is_empty());
        }
    }


    #[test]
    fn mutated_examples_never_crash_reading_or_deciding(
        example in 0usize..16,
        at in any::<usize>(),
        cut in any::<bool>(),
        noise in proptest::collection::vec(any::<u8>(), 0..12),
    ) {
        let folder = common::policies().join("examples");
        let mut files: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let mut bytes = std::fs::read(&files[example % files.len()]).unwrap();
        let at = at % (bytes.len() + 1);
        if cut {
            bytes.truncate(at);
        }
        bytes.splice(at..at, noise);
        if let Ok(situation) = with_bundle(|bundle| bundle.parse_situation(&bytes, "mutado")) {
            let decided = with_bundle(|bundle| bundle.decide(&situation, common::now()));
            prop_assert!(!matches!(decided, Err(DecideError::Rule(_))), "{:?}", decided);
        }
    }

}

proptest! {
    // The contract of the native evaluator. 1,000 cases in a plain
    // `cargo test`; `.ci/run` runs it again with
    // `ROTEIRO_DIFFERENTIAL_CASES=10000`.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("ROTEIRO_DIFFERENTIAL_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000)
    ))]

    #[test]
    fn native_and_rhai_evaluators_decide_alike(
        picks in proptest::collection::vec((any::<usize>(), any::<u64>()), 0..24),
        minutes in -20_000i64..20_000,
    ) {
        same_on_both_evaluators(&picks, minutes)?;
    }
}

/// Every moment of a situation (its `now` included) written in `offset`:
/// the same instants, another way of writing them.
fn rewritten_in(value: &serde_json::Value, offset: chrono::FixedOffset) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(at) if text.contains('T') => {
                let at = at.with_timezone(&offset);
                // `Z` for UTC as most programs write it; `+00:00` otherwise.
                let written = if offset.local_minus_utc() == 0 {
                    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                } else {
                    at.to_rfc3339()
                };
                Value::String(written)
            }
            _ => value.clone(),
        },
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), rewritten_in(v, offset))).collect()),
        other => other.clone(),
    }
}

/// The offset property: the same instants written in two offsets decide
/// alike, byte for byte (the bundle reads every moment in its own zone).
fn same_in_any_offset(picks: &[(usize, u64)], seconds: i64, offsets: (i32, i32)) -> Result<(), TestCaseError> {
    let mut tree: serde_json::Value = serde_json::from_str(&situation(picks)).unwrap();
    let now = common::now() + chrono::TimeDelta::seconds(seconds);
    tree["now"] = serde_json::Value::String(now.to_rfc3339());
    let decide_in = |minutes: i32| {
        let offset = chrono::FixedOffset::east_opt(minutes * 60).unwrap();
        let text = rewritten_in(&tree, offset).to_string();
        with_bundle(|bundle| {
            let situation = bundle
                .parse_situation(&text, "gerada")
                .expect("generated from the vocabulary");
            let decided = bundle.decide(&situation, common::now());
            (
                text,
                decided
                    .map(|d| serde_json::to_string(&d).unwrap())
                    .map_err(|e| e.to_string()),
            )
        })
    };
    let (first_text, first) = decide_in(offsets.0);
    let (second_text, second) = decide_in(offsets.1);
    prop_assert_eq!(first, second, "\n{}\n{}", first_text, second_text);
    Ok(())
}

/// Offsets people and programs write: UTC (`Z`), Brasília, India's half
/// hour, Nepal's three quarters, the extremes.
const OFFSETS_MINUTES: [i32; 8] = [0, -180, 330, 345, -120, 840, -720, 60];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn the_same_instants_in_any_offset_give_the_same_decision(
        picks in proptest::collection::vec((any::<usize>(), any::<u64>()), 0..16),
        // Three days of seconds around the reference moment: every hour of
        // the day, both sides of midnight in Brasília and in UTC.
        seconds in -129_600i64..129_600,
        first in 0usize..8,
        second in prop_oneof![0usize..8, Just(usize::MAX)],
        arbitrary in -720i32..=840,
    ) {
        let second = OFFSETS_MINUTES.get(second).copied().unwrap_or(arbitrary);
        same_in_any_offset(&picks, seconds, (OFFSETS_MINUTES[first], second))?;
    }
}

proptest! {
    // Each case loads, lints and tests a whole bundle: fewer cases by
    // default, PROPTEST_CASES runs more.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn mutated_bundle_files_are_loaded_whole_or_rejected_never_crash(
        file in any::<usize>(),
        at in any::<usize>(),
        cut in any::<bool>(),
        noise in proptest::collection::vec(any::<u8>(), 0..12),
    ) {
        let mut files: Vec<SourceFile> = with_bundle(|bundle| bundle.files().to_vec());
        let index = file % files.len();
        let mut bytes = files[index].text.clone().into_bytes();
        let at = at % (bytes.len() + 1);
        if cut {
            bytes.truncate(at);
        }
        bytes.splice(at..at, noise);
        files[index].text = String::from_utf8_lossy(&bytes).into_owned();
        match Bundle::from_files(files) {
            Err(err) => prop_assert!(!err.problems.is_empty()),
            // What loads is linted and tested whole, without a crash.
            Ok(bundle) => {
                let _ = bundle.lint();
                let _ = bundle.run_tests(None, None);
            }
        }
    }
}
