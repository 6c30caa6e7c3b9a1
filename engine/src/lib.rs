//! roteiro's engine: policy bundles in YAML, conditions in Rhai, decisions out.
//!
//! ```no_run
//! // Runs as `the_crate_example_decides` in engine/tests/library.rs.
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

// Grouped by stage, each folder a boundary: `text/` reads what people
// wrote, `expr/` is the rules' expression language, `model/` the compiled
// bundle, `load/` builds it from files, `decide/` reads it against a
// situation, `tools/` serves process owners around decisions.
mod api;
mod decide;
mod expr;
mod facts;
mod load;
mod model;
mod parallel;
#[cfg(test)]
mod test_bundle;
mod text;
mod tools;

// The crate root names what a caller needs to load a bundle and decide;
// the decision's parts and the process owners' reports are grouped below.
pub use decide::decision::Decision;
pub use decide::error::{DecideError, RuleError, SituationError};
pub use decide::situation::Situation;
pub use facts::spec::FactKind;
pub use facts::vocabulary::{plain, Choices, Fact, FactValue};
pub use facts::zone::Zone;
pub use load::error::{BundleError, Problem};
pub use load::files::{folder_fingerprint, FolderFingerprint};
pub use model::bundle::{Bundle, Evaluation, SourceFile};
pub use model::policy::Publishing;
pub use parallel::in_parallel;
pub use text::locate::Location;
pub use tools::schema::type_schemas;

/// The parts of a [`Decision`], as its fields hold them.
pub mod output {
    pub use crate::decide::decision::{Action, Assumed, Missing, Script};
    pub use crate::decide::trace::{RuleStatus, Trace, TraceEntry};
    pub use crate::facts::shared::Shared;
    pub use crate::model::source::{BundleInfo, Source};
}

/// What process owners read around decisions: static analysis, writing
/// lints, explanations, decision diffs and policy test reports.
pub mod report {
    pub use crate::tools::analysis::Warning;
    pub use crate::tools::diff::{compare_decisions, DecisionChange, ItemChange};
    pub use crate::tools::explain::{split_parts, Explanation, OutputWinner, PartValue, RuleExplanation};
    pub use crate::tools::lint::LintFinding;
    pub use crate::tools::policy_test::{CaseOutcome, TestReport};
    pub use crate::tools::words::RuleInWords;
}
