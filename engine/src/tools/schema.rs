//! JSON Schemas: of the policy files and the decision (from the Rust types),
//! and of the situation (from a bundle's vocabulary, which is data).

use schemars::schema_for;
use serde_json::{json, Map, Value};

use crate::decide::decision::Decision;
use crate::model::bundle::Bundle;
use crate::model::policy::{
    CalendarFile, CatalogFile, FactKind, Manifest, ParametersFile, PolicyTestFile, ProcedureFile, VocabularyFile,
};

/// Every schema generated from the Rust types, by file stem.
pub fn type_schemas() -> Vec<(&'static str, Value)> {
    let value = |schema: schemars::Schema| serde_json::to_value(schema).unwrap_or(Value::Null);
    vec![
        ("bundle", value(schema_for!(Manifest))),
        ("vocabulary", value(schema_for!(VocabularyFile))),
        ("catalog", value(schema_for!(CatalogFile))),
        ("calendar", value(schema_for!(CalendarFile))),
        ("parameters", value(schema_for!(ParametersFile))),
        ("procedure", value(schema_for!(ProcedureFile))),
        ("policy-test", value(schema_for!(PolicyTestFile))),
        ("decision", value(schema_for!(Decision))),
    ]
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
