//! The JSON Schemas under `schemas/` are generated, never edited by hand:
//! this test fails when one is stale. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo test -p roteiro-engine --test schemas`.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

#[test]
fn checked_in_schemas_match_the_code_and_the_vocabulary() {
    let mut expected: Vec<(String, serde_json::Value)> = roteiro_engine::type_schemas()
        .into_iter()
        .map(|(name, schema)| (name.to_string(), schema))
        .collect();
    expected.push(("situation".into(), common::shipped().situation_schema()));
    let folder = common::root().join("schemas");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, schema) in expected {
        let path = folder.join(format!("{name}.schema.json"));
        let text = serde_json::to_string_pretty(&schema).expect("serializable") + "\n";
        if update {
            std::fs::write(&path, &text).expect("write schema");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas (run UPDATE_SCHEMAS=1 cargo test -p roteiro-engine --test schemas): {stale:?}"
    );
}

#[test]
fn policy_files_point_editors_at_their_schema() {
    for file in common::shipped_files() {
        let first = file.text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("# yaml-language-server: $schema="),
            "{} does not start with a yaml-language-server $schema line",
            file.path
        );
    }
}

#[test]
fn example_and_corpus_situations_point_editors_at_the_situation_schema() {
    for folder in [
        common::policies().join("examples"),
        common::root().join("tests/situations"),
    ] {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("situation");
            let first = text.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("# yaml-language-server: $schema=")
                    && first.ends_with("schemas/situation.schema.json"),
                "{} does not point at the situation schema",
                path.display()
            );
        }
    }
}

#[test]
fn a_policy_tests_situation_is_checked_against_the_situation_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schemas/policy-test.schema.json")).expect("schema"),
    )
    .expect("json");
    let text = schema.to_string();
    assert!(text.contains(r#""$ref":"situation.schema.json""#), "{text}");
}
