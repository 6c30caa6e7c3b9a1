//! The trace in words: for each rule, the value of each part of its
//! condition, the facts it lacked, and which rule won each output.
//!
//! Explaining is for people reading one decision, so it compiles the parts
//! of each condition on demand instead of keeping them in the bundle.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::decide::decision::Decision;
use crate::decide::error::DecideError;
use crate::decide::evaluate::{Evaluator, Truth};
use crate::decide::situation::Situation;
use crate::decide::trace::RuleStatus;
use crate::expr::sandbox;
use crate::expr::scan;
use crate::model::bundle::{Bundle, Expr, GLOBALS};
use crate::model::source::Source;

/// One part of a condition and what it was worth: a node of the
/// condition's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartValue {
    /// The part, as written.
    pub expression: String,
    /// `verdadeiro`, `falso`, `indeterminado`, or `não avaliada` for a part
    /// after the one that decided (Rhai stops there too).
    pub value: String,
    /// The facts it reads and their values (`ausente` when not given);
    /// only on leaves.
    pub facts: Vec<(String, String)>,
    /// How `children` are joined: `e`, `ou` or `não`; `None` on a leaf.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join: Option<String>,
    /// The parts this one is made of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<PartValue>,
    /// This part settled its parent: the first false one of an `e`, the
    /// first true one of an `ou`.
    pub decided: bool,
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
    /// How the top-level parts are joined (`e`, `ou`); `None` for one part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join: Option<String>,
    /// The top-level parts of its condition, each a tree of its own parts.
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
    split_at(source, &["&&", "||"])
}

/// Splits at the top-level occurrences of any of `operators`.
fn split_at(source: &str, operators: &[&str]) -> Vec<String> {
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
                '&' | '|' if depth == 0 && chars.peek() == Some(&c) && operators.iter().any(|op| op.starts_with(c)) => {
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

/// `(inner)` without its brackets when they enclose the whole text.
fn unwrap_brackets(source: &str) -> Option<&str> {
    let inner = source.strip_prefix('(')?.strip_suffix(')')?;
    // `(a) && (b)` starts and ends with brackets that are not one pair.
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0).then_some(inner.trim())
}

/// A condition as a tree: `||` binds loosest, then `&&`, then `!`.
enum Shape {
    Join(&'static str, Vec<String>),
    Not(String),
    Leaf,
}

fn shape(source: &str) -> Shape {
    let either = split_at(source, &["||"]);
    if either.len() > 1 {
        return Shape::Join("ou", either);
    }
    let all = split_at(source, &["&&"]);
    if all.len() > 1 {
        return Shape::Join("e", all);
    }
    if let Some(inner) = unwrap_brackets(source) {
        return shape(inner);
    }
    match source.strip_prefix('!').map(str::trim) {
        Some(inner) if unwrap_brackets(inner).is_some() => Shape::Not(inner.to_string()),
        _ => Shape::Leaf,
    }
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
            let mut join = None;
            if let (Some(when), true) = (&rule.when, evaluated) {
                let explainer = Explainer {
                    bundle: self,
                    evaluator: &evaluator,
                    facts: &facts,
                    scope: &scope,
                };
                let root = explainer.node(&when.source, 0);
                match root.join.as_deref() {
                    Some("e" | "ou") => {
                        join = root.join;
                        parts = root.children;
                    }
                    _ => parts.push(root),
                }
            }
            rules.push(RuleExplanation {
                rule: rule.id.to_string(),
                status: entry.status,
                source: entry.source.clone(),
                why: entry.why.to_string(),
                join,
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

/// Deepest nesting a condition tree is explained to; deeper parts are
/// shown whole (policies are validated for nesting long before this).
const MAX_TREE_DEPTH: usize = 16;

/// What explaining one condition needs.
struct Explainer<'a> {
    bundle: &'a Bundle,
    evaluator: &'a Evaluator<'a>,
    facts: &'a std::collections::BTreeMap<String, crate::facts::vocabulary::FactValue>,
    scope: &'a rhai::Scope<'static>,
}

impl Explainer<'_> {
    /// The part `source`, evaluated, with its own parts below it.
    fn node(&self, source: &str, depth: usize) -> PartValue {
        let value = self.value(source);
        let shape = if depth < MAX_TREE_DEPTH {
            shape(source)
        } else {
            Shape::Leaf
        };
        let (join, children) = match shape {
            Shape::Join(join, sources) => {
                // `e` stops at the first false part, `ou` at the first true
                // one: the parts after it were never evaluated.
                let stop = if join == "e" { "falso" } else { "verdadeiro" };
                let mut settled = false;
                let children = sources
                    .iter()
                    .map(|part| {
                        if settled {
                            return skipped(part);
                        }
                        let mut child = self.node(part, depth + 1);
                        if child.value == stop {
                            child.decided = true;
                            settled = true;
                        }
                        child
                    })
                    .collect();
                (Some(join.to_string()), children)
            }
            Shape::Not(inner) => (Some("não".to_string()), vec![self.node(&inner, depth + 1)]),
            Shape::Leaf => (None, Vec::new()),
        };
        let facts = if children.is_empty() {
            self.facts_read(source)
        } else {
            Vec::new()
        };
        PartValue {
            expression: source.to_string(),
            value,
            facts,
            join,
            children,
            decided: false,
        }
    }

    fn value(&self, source: &str) -> String {
        match self.bundle.engine.compile_with_scope(self.scope, source) {
            Ok(ast) => match self
                .evaluator
                .condition(&Expr::new(source.to_string(), std::sync::Arc::new(ast), None))
            {
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
        }
    }

    fn facts_read(&self, source: &str) -> Vec<(String, String)> {
        let mut read: Vec<(String, String)> = Vec::new();
        for path in scan::scan(source).paths {
            let dotted = path.dotted();
            if self.bundle.vocabulary.fact(&dotted).is_some() && !read.iter().any(|(p, _)| *p == dotted) {
                let shown = self.bundle.shown_value(self.evaluator, self.facts, &dotted, self.scope);
                read.push((dotted, shown));
            }
        }
        read
    }
}

/// A part after the one that decided its parent.
fn skipped(source: &str) -> PartValue {
    PartValue {
        expression: source.to_string(),
        value: "não avaliada".to_string(),
        facts: Vec::new(),
        join: None,
        children: Vec::new(),
        decided: false,
    }
}

impl Bundle {
    /// A fact's value for people: given, derived, assumed by default, or absent.
    fn shown_value(
        &self,
        evaluator: &Evaluator<'_>,
        facts: &std::collections::BTreeMap<String, crate::facts::vocabulary::FactValue>,
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
                let expr = Expr::new(path.to_string(), std::sync::Arc::new(ast), None);
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
    use super::{shape, split_parts, Shape};

    #[test]
    fn a_condition_becomes_a_tree_or_binding_loosest() {
        let Shape::Join(join, parts) = shape("a && b || !(c && d)") else {
            panic!("an `ou` at the top");
        };
        assert_eq!(
            (join, parts.as_slice()),
            ("ou", ["a && b".to_string(), "!(c && d)".to_string()].as_slice())
        );
        assert!(matches!(shape("!(c && d)"), Shape::Not(inner) if inner == "(c && d)"));
        assert!(matches!(shape("(a || b)"), Shape::Join("ou", _)));
        assert!(matches!(shape("(a) && (b)"), Shape::Join("e", _)));
        assert!(matches!(shape("!a"), Shape::Leaf));
    }

    #[test]
    fn splits_only_at_top_level() {
        assert_eq!(
            split_parts(r#"a.b && (c || d) || e == "x && y""#),
            ["a.b", "(c || d)", r#"e == "x && y""#]
        );
        assert_eq!(split_parts("single"), ["single"]);
    }
}
