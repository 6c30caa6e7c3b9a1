//! The JSON Schemas under `schemas/` are generated, never edited by hand:
//! this test fails when one is stale. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo test -p roteiro-engine --test schemas`. The
//! bundle carries the same schemas in `policies/schemas/`, which its
//! files' modelines name, so a copied bundle keeps them.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

#[test]
fn checked_in_schemas_match_the_code_and_the_vocabulary() {
    let mut expected: Vec<(String, serde_json::Value)> = roteiro_engine::type_schemas()
        .into_iter()
        .map(|(name, schema)| (name.to_string(), schema))
        .collect();
    expected.push(("situation".into(), common::shipped().situation_schema()));
    let folders = [common::root().join("schemas"), common::policies().join("schemas")];
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, schema) in expected {
        let text = serde_json::to_string_pretty(&schema).expect("serializable") + "\n";
        for folder in &folders {
            let path = folder.join(format!("{name}.schema.json"));
            if update {
                std::fs::create_dir_all(folder).expect("schema folder");
                std::fs::write(&path, &text).expect("write schema");
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
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

/// Copies `from` into `to`, folders included.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("folder");
    for entry in std::fs::read_dir(from).expect("folder") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[test]
fn a_copied_bundle_keeps_its_schemas_and_still_loads() {
    let copy = std::env::temp_dir().join(format!("roteiro-copied-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&common::policies(), &copy.join("somewhere/else"));
    let bundle_dir = copy.join("somewhere/else");
    let mut pending = vec![bundle_dir.clone()];
    let mut checked = 0;
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("file");
            let named = text
                .lines()
                .next()
                .and_then(|line| line.strip_prefix("# yaml-language-server: $schema="))
                .unwrap_or_else(|| panic!("{} names no schema", path.display()));
            let schema = path.parent().expect("parent").join(named);
            let resolved = schema
                .canonicalize()
                .unwrap_or_else(|_| panic!("{}: {named} does not resolve", path.display()));
            assert!(
                resolved.starts_with(bundle_dir.canonicalize().expect("bundle")),
                "{}: its schema {named} lies outside the bundle",
                path.display()
            );
            let parsed: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&resolved).expect("schema")).expect("a JSON schema");
            assert!(
                parsed.get("$schema").is_some() || parsed.get("type").is_some(),
                "{named}"
            );
            checked += 1;
        }
    }
    assert!(checked > 15, "only {checked} files checked");
    let loaded = roteiro_engine::Bundle::load_dir(&bundle_dir).expect("the copy loads");
    assert!(
        loaded.analyze().is_empty(),
        "the copy is as clean as the shipped bundle"
    );
    let _ = std::fs::remove_dir_all(copy);
}
