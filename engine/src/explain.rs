//! The trace in words: for each rule, the value of each part of its
//! condition, the facts it lacked, and which rule won each output.
//!
//! Explaining is for people reading one decision, so it compiles the parts
//! of each condition on demand instead of keeping them in the bundle.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::bundle::{Bundle, Expr, GLOBALS};
use crate::decision::{Decision, RuleStatus, Source};
use crate::error::DecideError;
use crate::evaluate::{Evaluator, Truth};
use crate::sandbox;
use crate::scan;
use crate::situation::Situation;

/// One part of a condition and what it was worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartValue {
    /// The part, as written.
    pub expression: String,
    /// `verdadeiro`, `falso` or `indeterminado`.
    pub value: String,
    /// The facts it reads and their values (`ausente` when not given).
    pub facts: Vec<(String, String)>,
}

/// One rule, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleExplanation {
    /// Rule id.
    pub rule: String,
    /// What happened to it.
    pub status: RuleStatus,
    /// Its source.
    pub source: Source,
    /// Why, as in the trace.
    pub why: String,
    /// The top-level parts of its condition (split at `&&` and `||`).
    pub parts: Vec<PartValue>,
}

/// Which rule gave an output its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputWinner {
    /// Output name.
    pub output: String,
    /// Its value.
    pub value: serde_json::Value,
    /// The rule that set it.
    pub rule: String,
    /// Rules that set it to another value and lost.
    pub overridden: Vec<String>,
}

/// A decision with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The decision itself.
    pub decision: Decision,
    /// Every rule, in bundle order.
    pub rules: Vec<RuleExplanation>,
    /// The winner of each output.
    pub outputs: Vec<OutputWinner>,
}

/// Splits a condition at its top-level `&&` and `||` (outside brackets and
/// strings); a condition without them is one part.
pub fn split_parts(source: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut current = String::new();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        current.push(next);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' | '`' => {
                    quote = Some(c);
                    current.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' => {
                    depth -= 1;
                    current.push(c);
                }
                '&' | '|' if depth == 0 && chars.peek() == Some(&c) => {
                    chars.next();
                    parts.push(current.trim().to_string());
                    current.clear();
                }
                _ => current.push(c),
            },
        }
    }
    parts.push(current.trim().to_string());
    parts.retain(|part| !part.is_empty());
    parts
}

impl Bundle {
    /// Decides and explains the decision.
    pub fn explain(&self, situation: &Situation, now: DateTime<FixedOffset>) -> Result<Explanation, DecideError> {
        let decision = self.decide(situation, now)?;
        let facts = self.facts_with_now(situation, now);
        let evaluator = Evaluator::new(self, facts.clone());
        let scope = sandbox::compile_scope(&self.vocabulary, &GLOBALS);
        let mut rules = Vec::new();
        for (rule, entry) in self.rules.iter().zip(&decision.trace) {
            let mut parts = Vec::new();
            let evaluated = matches!(
                entry.status,
                RuleStatus::Fired | RuleStatus::NotFired | RuleStatus::Undecided
            ) && !entry.why.starts_with("fora de contexto");
            if let (Some(when), true) = (&rule.when, evaluated) {
                for source in split_parts(&when.source) {
                    let value = match self.engine.compile_with_scope(&scope, &source) {
                        Ok(ast) => match evaluator.condition(&Expr {
                            native: None,
                            source: source.clone(),
                            ast,
                        }) {
                            Ok(Truth::True) => "verdadeiro".to_string(),
                            Ok(Truth::False) => "falso".to_string(),
                            Ok(Truth::Undecided(missing)) => {
                                format!(
                                    "indeterminado (falta {})",
                                    missing.into_iter().collect::<Vec<_>>().join(", ")
                                )
                            }
                            Err(failure) => format!("erro: {}", failure.message()),
                        },
                        Err(_) => "parte composta (veja a condição inteira)".to_string(),
                    };
                    let mut read = Vec::new();
                    for path in scan::scan(&source).paths {
                        let dotted = path.dotted();
                        if self.vocabulary.fact(&dotted).is_some() && !read.iter().any(|(p, _)| *p == dotted) {
                            let shown = self.shown_value(&evaluator, &facts, &dotted, &scope);
                            read.push((dotted, shown));
                        }
                    }
                    parts.push(PartValue {
                        expression: source,
                        value,
                        facts: read,
                    });
                }
            }
            rules.push(RuleExplanation {
                rule: rule.id.to_string(),
                status: entry.status,
                source: entry.source.clone(),
                why: entry.why.to_string(),
                parts,
            });
        }
        let outputs = decision
            .outputs
            .iter()
            .filter_map(|(name, value)| {
                let winner = decision
                    .trace
                    .iter()
                    .find(|e| e.sets.get(name) == Some(value) && !e.overridden.contains(name))?;
                Some(OutputWinner {
                    output: name.clone(),
                    value: value.clone(),
                    rule: winner.rule.to_string(),
                    overridden: decision
                        .trace
                        .iter()
                        .filter(|e| e.overridden.contains(name))
                        .map(|e| e.rule.to_string())
                        .collect(),
                })
            })
            .collect();
        Ok(Explanation {
            decision,
            rules,
            outputs,
        })
    }
}

impl Bundle {
    /// A fact's value for people: given, derived, assumed by default, or absent.
    fn shown_value(
        &self,
        evaluator: &Evaluator<'_>,
        facts: &std::collections::BTreeMap<String, crate::vocabulary::FactValue>,
        path: &str,
        scope: &rhai::Scope<'static>,
    ) -> String {
        if let Some(value) = facts.get(path) {
            return value.display();
        }
        let fact = self.vocabulary.fact(path);
        if let Some(default) = fact.and_then(|f| f.default.as_ref()) {
            return format!("{} (padrão)", default.display());
        }
        if fact.is_some_and(|f| f.spec.derive.is_some()) {
            if let Ok(ast) = self.engine.compile_with_scope(scope, path) {
                let expr = Expr {
                    native: None,
                    source: path.to_string(),
                    ast,
                };
                if let Ok(Ok(value)) = evaluator.value(&expr) {
                    return format!("{} (derivado)", sandbox::display(&value));
                }
            }
        }
        "ausente".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::split_parts;

    #[test]
    fn splits_only_at_top_level() {
        assert_eq!(
            split_parts(r#"a.b && (c || d) || e == "x && y""#),
            ["a.b", "(c || d)", r#"e == "x && y""#]
        );
        assert_eq!(split_parts("single"), ["single"]);
    }
}
