//! Snapshots of the decisions the shipped bundle makes on the situation
//! corpus (`tests/situations/`) and on the analysts' examples
//! (`policies/examples/`). A change of behaviour shows up in review.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use std::path::Path;

use roteiro_engine::Decision;

/// The decision without what changes on every edit of the bundle (its
/// digest) and without the rules that simply did not apply, in the order
/// its JSON has.
fn reviewable(mut decision: Decision) -> serde_yaml::Value {
    decision.bundle.digest = "[digest]".into();
    let mut value = serde_yaml::to_value(&decision).expect("a decision is data");
    if let Some(serde_yaml::Value::Sequence(trace)) = value.get_mut("trace") {
        trace.retain(|entry| entry.get("status").and_then(serde_yaml::Value::as_str) != Some("not_fired"));
    }
    value
}

fn snapshot_folder(folder: &Path, prefix: &str) -> usize {
    let bundle = common::shipped();
    let mut entries: Vec<_> = std::fs::read_dir(folder)
        .expect("folder exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    entries.sort();
    for path in &entries {
        let name = path.file_stem().expect("file name").to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).expect("readable situation");
        let situation = bundle.parse_situation(&text, &name).expect("valid situation");
        // A snapshot must not depend on the hour the suite runs.
        assert!(situation.now().is_some(), "{name} pins no `now`");
        let now = situation.now().expect("pinned");
        let decision = bundle.decide(&situation, now).expect("decision");
        insta::assert_yaml_snapshot!(format!("{prefix}{name}"), reviewable(decision));
    }
    entries.len()
}

#[test]
fn corpus_decisions() {
    let count = snapshot_folder(&common::root().join("tests/situations"), "");
    assert!(count >= 30, "the corpus holds {count} situations");
}

#[test]
fn example_decisions() {
    let count = snapshot_folder(&common::policies().join("examples"), "example-");
    assert!(count >= 5, "one example per procedure at least, found {count}");
}
