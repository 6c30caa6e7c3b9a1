//! JSON Schemas: of the policy files and the decision (from the Rust types),
//! and of the situation (from a bundle's vocabulary, which is data).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use schemars::schema_for;
use serde_json::{json, Map, Value};

use crate::decide::decision::Decision;
use crate::model::bundle::Bundle;
use crate::model::policy::{
    CalendarFile, CatalogFile, FactKind, Manifest, ParametersFile, PolicyTestFile, ProcedureFile, VocabularyFile,
};

/// Every schema generated from the Rust types, by file stem. The policy
/// files' schemas describe each field in Portuguese, for the process
/// owners whose editors show them; the decision's keeps the doc comments.
pub fn type_schemas() -> Vec<(&'static str, Value)> {
    let value = |schema: schemars::Schema| serde_json::to_value(schema).unwrap_or(Value::Null);
    let mut policy_files = vec![
        ("bundle", value(schema_for!(Manifest))),
        ("vocabulary", value(schema_for!(VocabularyFile))),
        ("catalog", value(schema_for!(CatalogFile))),
        ("calendar", value(schema_for!(CalendarFile))),
        ("parameters", value(schema_for!(ParametersFile))),
        ("procedure", value(schema_for!(ProcedureFile))),
        ("policy-test", value(schema_for!(PolicyTestFile))),
    ];
    let portuguese = Portuguese::read();
    for (_, schema) in &mut policy_files {
        portuguese.describe(schema);
    }
    policy_files.push(("decision", value(schema_for!(Decision))));
    policy_files
}

/// The Portuguese descriptions of the policy files' fields, by key:
/// `Type`, `Type.field`, `Type=value` (see the file's header).
struct Portuguese {
    by_key: BTreeMap<String, String>,
    /// Keys with a description and no Portuguese text.
    missing: RefCell<Vec<String>>,
    /// Keys whose Portuguese text was used.
    used: RefCell<BTreeSet<String>>,
}

impl Portuguese {
    fn read() -> Self {
        // Checked by this module's tests: a broken file fails them.
        let by_key = serde_yaml::from_str(include_str!("schema_descriptions.pt.yaml")).unwrap_or_default();
        Self {
            by_key,
            missing: RefCell::default(),
            used: RefCell::default(),
        }
    }

    /// Replaces every description of `schema` (a root with `title`) by its
    /// Portuguese text.
    fn describe(&self, schema: &mut Value) {
        let title = schema
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.walk(schema, &title);
    }

    fn walk(&self, node: &mut Value, key: &str) {
        let Value::Object(map) = node else { return };
        if let Some(description) = map.get_mut("description") {
            match self.by_key.get(key) {
                Some(text) => {
                    *description = Value::String(text.trim().to_string());
                    self.used.borrow_mut().insert(key.to_string());
                }
                None => self.missing.borrow_mut().push(key.to_string()),
            }
        }
        for (field, child) in map.iter_mut() {
            match (field.as_str(), child) {
                ("properties", Value::Object(fields)) => {
                    for (name, schema) in fields {
                        self.walk(schema, &format!("{key}.{name}"));
                    }
                }
                ("$defs", Value::Object(types)) => {
                    for (name, schema) in types {
                        self.walk(schema, name);
                    }
                }
                ("oneOf" | "anyOf" | "allOf", Value::Array(variants)) => {
                    for variant in variants {
                        let value = variant
                            .get("const")
                            .and_then(Value::as_str)
                            .map(|v| format!("{key}={v}"));
                        self.walk(variant, value.as_deref().unwrap_or(key));
                    }
                }
                ("items" | "additionalProperties", child) => self.walk(child, key),
                _ => {}
            }
        }
    }
}

impl Bundle {
    /// The JSON Schema of a situation for this bundle's vocabulary.
    pub fn situation_schema(&self) -> Value {
        let mut root = group_schema(self, "");
        if let Value::Object(map) = &mut root {
            map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
            map.insert("title".into(), json!(format!("Situation ({})", self.info.name)));
        }
        root
    }
}

fn group_schema(bundle: &Bundle, group: &str) -> Value {
    let mut properties = Map::new();
    for (name, is_group) in bundle.vocabulary.children(group) {
        let path = if group.is_empty() {
            name.to_string()
        } else {
            format!("{group}.{name}")
        };
        let schema = if is_group {
            group_schema(bundle, &path)
        } else {
            match bundle.vocabulary.fact(&path) {
                Some(fact) => {
                    let mut schema = match fact.spec.kind {
                        FactKind::Bool => json!({"anyOf": [{"type": "boolean"}, {"enum": ["sim", "não", "nao"]}]}),
                        FactKind::Text => json!({"type": ["string", "integer"]}),
                        FactKind::Integer => json!({"type": "integer"}),
                        FactKind::Enum => json!({"type": "string", "enum": fact.spec.values}),
                        FactKind::Date => json!({"type": "string", "format": "date"}),
                        FactKind::Datetime => json!({"type": "string", "format": "date-time"}),
                    };
                    if let Value::Object(map) = &mut schema {
                        map.insert("description".into(), json!(fact.spec.description));
                    }
                    schema
                }
                None => json!({}),
            }
        };
        properties.insert(name.to_string(), schema);
    }
    json!({"type": ["object", "null"], "properties": properties, "additionalProperties": false})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of a policy file is described in Portuguese, and every
    /// Portuguese text describes something that exists.
    #[test]
    fn every_policy_file_field_has_its_portuguese_description() {
        let portuguese = Portuguese::read();
        assert!(portuguese.by_key.len() > 100, "the descriptions file reads");
        for (_, mut schema) in type_schemas().into_iter().filter(|(stem, _)| *stem != "decision") {
            portuguese.describe(&mut schema);
        }
        assert_eq!(
            portuguese.missing.borrow().as_slice(),
            &[] as &[String],
            "fields with no Portuguese description"
        );
        let unused: Vec<&String> = portuguese
            .by_key
            .keys()
            .filter(|key| !portuguese.used.borrow().contains(*key))
            .collect();
        assert!(unused.is_empty(), "descriptions of nothing: {unused:?}");
    }
}
