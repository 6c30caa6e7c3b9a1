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
mod decide;
mod expr;
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
pub use load::error::{BundleError, Problem};
pub use load::files::{folder_fingerprint, FolderFingerprint};
pub use model::bundle::{Bundle, Evaluation, SourceFile};
pub use model::policy::FactKind;
pub use model::vocabulary::FactValue;
pub use parallel::in_parallel;
pub use text::locate::Location;
pub use tools::schema::type_schemas;

/// The parts of a [`Decision`], as its fields hold them.
pub mod output {
    pub use crate::decide::decision::{Action, Assumed, Missing, Script};
    pub use crate::decide::trace::{RuleStatus, Trace, TraceEntry};
    pub use crate::model::shared::Shared;
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
}

impl Bundle {
    /// Reads and validates a situation (YAML, or JSON when it starts with `{`).
    /// `origin` names the input in errors. A field the vocabulary does not
    /// know is an error: the engine never decides on a situation it half
    /// understood.
    pub fn parse_situation(&self, text: impl AsRef<[u8]>, origin: &str) -> Result<Situation, SituationError> {
        decide::situation::parse(text.as_ref(), origin, &self.reading(false))
    }

    /// As [`Bundle::parse_situation`], but unknown fields are ignored with a
    /// warning (`--lenient`).
    pub fn parse_situation_lenient(&self, text: impl AsRef<[u8]>, origin: &str) -> Result<Situation, SituationError> {
        decide::situation::parse(text.as_ref(), origin, &self.reading(true))
    }

    /// Validates a situation already parsed as YAML (as in policy tests).
    pub(crate) fn situation_from_yaml(
        &self,
        value: serde_yaml::Value,
        origin: &str,
    ) -> Result<Situation, SituationError> {
        decide::situation::from_value(value, origin, &self.reading(false))
    }

    /// The situation as the text of a JSON document `decide` reads back
    /// (groups nested, dates as `YYYY-MM-DD`, moments in RFC 3339). Facts
    /// marked `personal` in the vocabulary are masked unless
    /// `keep_personal`.
    ///
    /// Written straight from the sorted facts, with no JSON tree in
    /// between: the decision log stores one per decision. The facts of a
    /// group sort together (they share the prefix `group.`), so each group
    /// is opened once.
    pub fn situation_json(&self, situation: &Situation, keep_personal: bool) -> String {
        let mut out = Vec::with_capacity(64 + 32 * situation.facts.len());
        self.write_situation_json(situation, keep_personal, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// As [`Bundle::situation_json`], appended to `out` (the decision log
    /// writes a row's columns into one buffer).
    pub fn write_situation_json(&self, situation: &Situation, keep_personal: bool, out: &mut Vec<u8>) {
        use std::io::Write as _;
        // The groups open around the fact being written.
        let mut open: Vec<&str> = Vec::new();
        // Whether the object being written has no member yet.
        let mut empty = true;
        out.push(b'{');
        for (path, value) in situation.facts.iter() {
            let (groups, last) = match path.rsplit_once('.') {
                Some((groups, last)) => (Some(groups), last),
                None => (None, path.as_str()),
            };
            let mut groups = groups.into_iter().flat_map(|groups| groups.split('.')).peekable();
            let mut common = 0;
            while common < open.len() && groups.peek() == open.get(common) {
                groups.next();
                common += 1;
            }
            while open.len() > common {
                open.pop();
                out.push(b'}');
                empty = false;
            }
            for group in groups {
                json_key(out, group, empty);
                out.push(b'{');
                open.push(group);
                empty = true;
            }
            json_key(out, last, empty);
            empty = false;
            let start = out.len();
            let written = match value {
                _ if !keep_personal && self.vocabulary.is_personal(path) => serde_json::to_writer(&mut *out, "***"),
                FactValue::Bool(flag) => serde_json::to_writer(&mut *out, flag),
                FactValue::Integer(n) => serde_json::to_writer(&mut *out, n),
                FactValue::Text(text) => serde_json::to_writer(&mut *out, text),
                FactValue::Date(date) => write!(out, "\"{}\"", date.format("%Y-%m-%d")).map_err(serde_json::Error::io),
                FactValue::DateTime(at) => serde_json::to_writer(&mut *out, &at.to_rfc3339()),
            };
            // Writing into memory cannot fail; a value that somehow did is
            // written as null rather than half-written.
            if written.is_err() {
                out.truncate(start);
                out.extend_from_slice(b"null");
            }
        }
        out.extend(std::iter::repeat_n(b'}', open.len() + 1));
    }

    /// Largest situation read, in bytes: read at most one byte more.
    pub fn situation_limit(&self) -> u64 {
        self.manifest.limits.situation_bytes
    }

    fn reading(&self, lenient: bool) -> decide::situation::Reading<'_> {
        decide::situation::Reading {
            vocabulary: &self.vocabulary,
            limit: self.manifest.limits.situation_bytes,
            lenient,
        }
    }
}

/// `"key":`, after a comma unless it is the object's first member.
fn json_key(out: &mut Vec<u8>, key: &str, first: bool) {
    if !first {
        out.push(b',');
    }
    if serde_json::to_writer(&mut *out, key).is_err() {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b':');
}
