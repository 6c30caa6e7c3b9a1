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

mod analysis;
mod bundle;
mod calendar;
mod decision;
mod diff;
mod error;
mod evaluate;
mod explain;
mod lint;
mod locate;
mod policy;
mod policy_test;
mod sandbox;
mod scan;
mod schema;
mod situation;
mod template;
mod vocabulary;

pub use analysis::Warning;
pub use bundle::{Bundle, SourceFile};
pub use decision::{Action, Assumed, BundleInfo, Decision, Missing, RuleStatus, Script, Source, TraceEntry};
pub use diff::{compare_decisions, DecisionChange};
pub use error::{BundleError, Location, Problem, RuleError, SituationError};
pub use explain::{split_parts, Explanation, OutputWinner, PartValue, RuleExplanation};
pub use lint::{LintFinding, LINTS};
pub use policy::{
    ActionSpec, BusinessHours, CalendarFile, CatalogFile, Expectation, FactKind, FactSpec, LintAllow, Manifest,
    OutputKind, OutputSpec, PolicyTestCase, PolicyTestFile, ProcedureFile, RuleSpec, ScriptSpec, TimezoneSpec,
    VocabularyFile,
};
pub use policy_test::{compare, CaseOutcome, TestReport};
pub use schema::type_schemas;
pub use situation::Situation;
pub use vocabulary::FactValue;

impl Bundle {
    /// Reads and validates a situation (YAML, or JSON when it starts with `{`).
    /// `origin` names the input in errors.
    pub fn parse_situation(&self, text: &str, origin: &str) -> Result<Situation, SituationError> {
        situation::parse(text, origin, &self.vocabulary)
    }

    /// Validates a situation already parsed as YAML (as in policy tests).
    pub fn situation_from_yaml(&self, value: serde_yaml::Value, origin: &str) -> Result<Situation, SituationError> {
        situation::from_value(value, origin, &self.vocabulary)
    }
}
