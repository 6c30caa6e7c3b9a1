//! What a loaded bundle says about itself: identity, files, manifest,
//! vocabulary, rules, the functions rules may call, which evaluator runs
//! them and how many expressions run natively.

use std::collections::BTreeSet;

use crate::expr::sandbox;
use crate::facts::vocabulary::Vocabulary;
use crate::model::bundle::{Bundle, Evaluation, SourceFile, BUILTIN_CALLS};
use crate::model::policy::Publishing;
use crate::model::source::BundleInfo;

impl Bundle {
    /// The IANA name of the zone every moment is read in.
    pub fn time_zone(&self) -> &'static str {
        self.calendar.zone().name()
    }

    /// `at` as the bundle's zone shows it: the same instant, its offset the
    /// zone's. Callers convert a clock or a typed moment with it before
    /// showing or storing it; decisions convert every moment themselves.
    pub fn local<T: chrono::TimeZone>(&self, at: &chrono::DateTime<T>) -> chrono::DateTime<chrono::FixedOffset> {
        self.calendar.zone().local(at)
    }

    /// The bundle's zone, to read a moment typed as the zone's clock shows
    /// it ("08/12/2026 10:15") into an instant.
    pub fn zone(&self) -> crate::facts::zone::Zone {
        self.calendar.zone()
    }

    /// Chooses which evaluator runs the expressions (native by default);
    /// decisions are the same either way.
    pub fn set_evaluation(&mut self, evaluation: Evaluation) {
        self.evaluation = evaluation;
    }

    /// Which evaluator runs the expressions.
    pub fn evaluation(&self) -> Evaluation {
        self.evaluation
    }

    /// The expressions that run on Rhai because they use something the
    /// native tree does not compile: `(rule id, field, source)`.
    pub fn rhai_expressions(&self) -> Vec<(String, String, String)> {
        let mut out: Vec<(String, String, String)> = self
            .derivations
            .keys()
            .filter(|path| !self.native_derivations.contains_key(*path))
            .map(|path| {
                let source = self.vocabulary.fact(path).and_then(|fact| fact.spec.derive.clone());
                (
                    "vocabulary".to_string(),
                    format!("{path}.derive"),
                    source.unwrap_or_default(),
                )
            })
            .collect();
        for rule in &self.rules {
            for (field, expr) in rule.expressions() {
                if expr.native.is_none() {
                    out.push((rule.id.to_string(), field, expr.source.clone()));
                }
            }
        }
        out
    }

    /// How many expressions the bundle has, and how many run natively.
    pub fn native_coverage(&self) -> (usize, usize) {
        let mut total = self.derivations.len();
        let mut native = self.native_derivations.len();
        for rule in &self.rules {
            for (_, expr) in rule.expressions() {
                total += 1;
                native += usize::from(expr.native.is_some());
            }
        }
        (native, total)
    }

    /// Name, version and digest.
    pub fn info(&self) -> &BundleInfo {
        &self.info
    }

    /// Names this bundle by the release it was published as: every
    /// decision, log row, case and push then carries that version beside
    /// the digest (the manifest's own `version` is what the author wrote).
    pub fn set_release(&mut self, version: &str) {
        self.info.version = version.into();
    }

    /// What publishing a version of this bundle asks (`bundle.yaml`,
    /// `publishing`).
    pub fn publishing(&self) -> &Publishing {
        &self.manifest.publishing
    }

    /// The declared facts.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The files the bundle was loaded from, sorted by path.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The phases whose steps every call repeats (`bundle.yaml`
    /// `routine_phases`).
    pub fn routine_phases(&self) -> &[String] {
        &self.manifest.routine_phases
    }

    /// The facts asked first, in order (`bundle.yaml` `first_questions`).
    pub fn first_questions(&self) -> &[String] {
        &self.manifest.first_questions
    }

    /// The values an output may take, when the bundle lists them; `None`
    /// for an output it does not declare.
    pub fn output_values(&self, output: &str) -> Option<&[String]> {
        self.manifest
            .outputs
            .get(output)
            .map(|spec| spec.values.as_deref().unwrap_or_default())
    }

    /// The outputs a decision may set, in name order.
    pub fn output_names(&self) -> impl Iterator<Item = &str> {
        self.manifest.outputs.keys().map(String::as_str)
    }

    /// How people call `output` (`bundle.yaml`, its `label`), else its
    /// name with spaces for underscores.
    pub fn output_label(&self, output: &str) -> String {
        self.manifest
            .outputs
            .get(output)
            .and_then(|spec| spec.label.clone())
            .unwrap_or_else(|| output.replace('_', " "))
    }

    /// How people read `value` of `output`: its display name, else the
    /// value with spaces for underscores.
    pub fn output_value_name(&self, output: &str, value: &str) -> String {
        self.manifest
            .outputs
            .get(output)
            .and_then(|spec| spec.names.get(value).cloned())
            .unwrap_or_else(|| value.replace('_', " "))
    }

    /// A decided value of `output` as an analyst reads it: sim/não, a
    /// date as dd/mm/aaaa, a listed value by its display name.
    pub fn output_in_words(&self, output: &str, value: &serde_json::Value) -> String {
        use serde_json::Value as Json;
        match value {
            Json::Null => "a decidir".into(),
            Json::Bool(true) => "sim".into(),
            Json::Bool(false) => "não".into(),
            Json::String(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_or_else(
                |_| self.output_value_name(output, text),
                |date| date.format("%d/%m/%Y").to_string(),
            ),
            other => other.to_string(),
        }
    }

    pub(crate) fn file_text(&self, path: &str) -> &str {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map_or("", |f| f.text.as_str())
    }

    /// Every function a rule may call, by name: the sandbox's whole reach.
    pub fn callable_functions(&self) -> BTreeSet<String> {
        let mut names = sandbox::function_names(&self.engine);
        names.extend(BUILTIN_CALLS.iter().map(|name| name.to_string()));
        names
    }

    /// Ids of every rule, in evaluation order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.id.as_str())
    }
}
