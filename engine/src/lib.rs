//! roteiro's engine: policy bundles in YAML, conditions in Rhai, decisions out.
//!
//! ```no_run
//! // Runs as `the_crate_example_decides` in tests/engine.rs.
//! use roteiro_engine::Bundle;
//!
//! let bundle = Bundle::load_dir(std::path::Path::new("policies"))?;
//! let situation = bundle.parse_situation("request:\n  topic: boleto\n", "example.yaml")?;
//! // Time is an input: the moment the situation pins, else the one given here.
//! let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00")?;
//! let decision = bundle.decide(&situation, now)?;
//! println!("{}", serde_json::to_string_pretty(&decision)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The engine knows nothing about any business: facts, outputs, catalogs,
//! calendars and rules all come from the bundle.
#![deny(missing_docs)]

// Grouped by stage: a newcomer finds a concept by its folder.
mod decide;
mod load;
mod tools;

// Short paths inside the crate (`crate::bundle`, `crate::evaluate`): each
// module is named once here, and its folder says which stage it belongs to.
use decide::{batch, budget, decision, evaluate, native, sandbox, shared, situation, slots};
use load::{bundle, calendar, error, input, locate, policy, scan, suggest, template, vocabulary, yaml_hints};
use tools::{analysis, diff, explain, lint, policy_test, schema};

pub use analysis::Warning;
pub use batch::in_parallel;
pub use bundle::{folder_fingerprint, Bundle, Evaluation, SourceFile};
pub use decision::{Action, Assumed, BundleInfo, Decision, Missing, RuleStatus, Script, Source, TraceEntry};
pub use diff::{compare_decisions, DecisionChange, ItemChange};
pub use error::{BundleError, DecideError, Location, Problem, RuleError, SituationError};
pub use explain::{split_parts, Explanation, OutputWinner, PartValue, RuleExplanation};
pub use lint::LintFinding;
pub use policy::LINTS;
pub use policy::{
    ActionSpec, BusinessHours, CalendarFile, CatalogFile, Expectation, FactKind, FactSpec, LintAllow, Manifest,
    OutputKind, OutputSpec, PolicyTestCase, PolicyTestFile, ProcedureFile, RuleSpec, ScriptSpec, TimezoneSpec,
    VocabularyFile,
};
pub use policy_test::{compare, CaseOutcome, TestReport};
pub use schema::type_schemas;
pub use shared::Shared;
pub use situation::Situation;
pub use vocabulary::FactValue;

impl Bundle {
    /// Reads and validates a situation (YAML, or JSON when it starts with `{`).
    /// `origin` names the input in errors. A field the vocabulary does not
    /// know is an error: the engine never decides on a situation it half
    /// understood.
    pub fn parse_situation(&self, text: impl AsRef<[u8]>, origin: &str) -> Result<Situation, SituationError> {
        situation::parse(text.as_ref(), origin, &self.reading(false))
    }

    /// As [`Bundle::parse_situation`], but unknown fields are ignored with a
    /// warning (`--lenient`).
    pub fn parse_situation_lenient(&self, text: impl AsRef<[u8]>, origin: &str) -> Result<Situation, SituationError> {
        situation::parse(text.as_ref(), origin, &self.reading(true))
    }

    /// Validates a situation already parsed as YAML (as in policy tests).
    pub fn situation_from_yaml(&self, value: serde_yaml::Value, origin: &str) -> Result<Situation, SituationError> {
        situation::from_value(value, origin, &self.reading(false))
    }

    /// The situation as a JSON document `decide` reads back (dates as
    /// `YYYY-MM-DD`, moments in RFC 3339). Facts marked `personal` in the
    /// vocabulary are masked unless `keep_personal`.
    pub fn situation_json(&self, situation: &Situation, keep_personal: bool) -> serde_json::Value {
        let mut root = serde_json::Map::new();
        'facts: for (path, value) in &situation.facts {
            let personal = self.vocabulary.fact(path).is_some_and(|fact| fact.spec.personal);
            let value = match value {
                _ if personal && !keep_personal => serde_json::Value::String("***".into()),
                FactValue::Bool(flag) => serde_json::Value::Bool(*flag),
                FactValue::Integer(n) => serde_json::Value::from(*n),
                FactValue::Text(text) => serde_json::Value::String(text.clone()),
                FactValue::Date(date) => serde_json::Value::String(date.format("%Y-%m-%d").to_string()),
                FactValue::DateTime(at) => serde_json::Value::String(at.to_rfc3339()),
            };
            let mut node = &mut root;
            let segments: Vec<&str> = path.split('.').collect();
            let Some((last, groups)) = segments.split_last() else {
                continue;
            };
            for group in groups {
                // A path is never both a fact and a group (the loader checks).
                node = match node
                    .entry((*group).to_string())
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
                {
                    serde_json::Value::Object(map) => map,
                    _ => continue 'facts,
                };
            }
            node.insert((*last).to_string(), value);
        }
        serde_json::Value::Object(root)
    }

    /// Largest situation read, in bytes: read at most one byte more.
    pub fn situation_limit(&self) -> u64 {
        self.manifest.limits.situation_bytes
    }

    fn reading(&self, lenient: bool) -> situation::Reading<'_> {
        situation::Reading {
            vocabulary: &self.vocabulary,
            limit: self.manifest.limits.situation_bytes,
            lenient,
        }
    }
}
