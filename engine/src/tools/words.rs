//! A rule's condition in words, for people: fact labels instead of paths,
//! "e"/"ou"/"não" instead of `&&`/`||`/`!`, values in quotes.
//!
//! `request.topic == "sistema_bloqueado" && !system.blocked` reads
//! `assunto é “Sistema bloqueado” e não sistema bloqueado` (a value by
//! its display name, `names` in the vocabulary). What has no
//! wording here (a helper call, arithmetic) keeps its Rhai source, so the
//! text is always complete, only less plain.

use rhai::{Expr, Stmt};
use serde::Serialize;

use crate::facts::shared::Shared;
use crate::facts::vocabulary::Vocabulary;
use crate::model::bundle::Bundle;

/// A rule as "Por quê?" tells it: the procedure and section it encodes,
/// what it does and its condition in words.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInWords {
    /// The rule.
    pub rule: String,
    /// What it does, in a line.
    pub title: Option<String>,
    /// The source document's file.
    pub document: String,
    /// The procedure's title (its file's `title`).
    pub document_title: String,
    /// Section or item of the document.
    pub section: String,
    /// Its condition in words (`None`: it has none, it always applies).
    pub condition: Option<String>,
}

impl Bundle {
    /// Every rule in words, in file order: what the page shows under
    /// "Por quê?".
    pub fn rules_in_words(&self) -> Vec<RuleInWords> {
        self.procedure_files()
            .flat_map(|(_, procedure)| {
                let (document, document_title) = (procedure.document.clone(), procedure.title.clone());
                procedure.rules.into_iter().map(move |rule| RuleInWords {
                    condition: None,
                    title: rule.title,
                    document: document.clone(),
                    document_title: document_title.clone(),
                    section: rule.section,
                    rule: rule.id,
                })
            })
            .map(|mut words| {
                words.condition = self.condition_in_words(&words.rule);
                words
            })
            .collect()
    }

    /// The condition of rule `id` in words, or `None` for an unknown rule
    /// or one without a condition.
    pub fn condition_in_words(&self, id: &str) -> Option<String> {
        let rule = self.rules.iter().find(|rule| rule.id == id)?;
        Some(self.in_words(rule.when.as_ref()?))
    }

    /// Puts each follow-up's closing condition in words, once, when the
    /// bundle is built: every decision that shows it shares the text.
    pub(crate) fn word_follow_ups(&mut self) {
        let words: Vec<Vec<Option<Shared>>> = (self.rules.iter())
            .map(|rule| {
                (rule.follow_ups.iter())
                    .map(|follow_up| follow_up.until.as_ref().map(|expr| self.in_words(expr).into()))
                    .collect()
            })
            .collect();
        for (rule, words) in self.rules.iter_mut().zip(words) {
            for (follow_up, words) in rule.follow_ups.iter_mut().zip(words) {
                follow_up.until_words = words;
            }
        }
    }

    /// An expression in words; its Rhai source where it has no wording.
    fn in_words(&self, expr: &crate::model::bundle::Expr) -> String {
        let Ok(ast) = self.rhai_ast_once(expr) else {
            return expr.source.clone();
        };
        let words = match ast.statements() {
            [Stmt::Expr(inner)] => phrase(inner, &self.vocabulary, &expr.source),
            [Stmt::FnCall(call, _)] => call_phrase(&call.name, &call.args, &self.vocabulary, &expr.source),
            _ => None,
        };
        words.unwrap_or_else(|| expr.source.clone())
    }
}

fn phrase(expr: &Expr, vocabulary: &Vocabulary, source: &str) -> Option<String> {
    Some(match expr {
        Expr::And(items, _) => joined(items, " e ", vocabulary, source)?,
        Expr::Or(items, _) => joined(items, " ou ", vocabulary, source)?,
        Expr::FnCall(call, _) => {
            call_phrase(&call.name, &call.args, vocabulary, source).or_else(|| operand(expr, vocabulary))?
        }
        Expr::BoolConstant(b, _) => if *b { "sempre" } else { "nunca" }.to_string(),
        _ => operand(expr, vocabulary)?,
    })
}

fn joined(items: &[Expr], glue: &str, vocabulary: &Vocabulary, source: &str) -> Option<String> {
    let parts = items
        .iter()
        .map(|item| {
            let text = phrase(item, vocabulary, source)?;
            // A nested "ou" inside an "e" (and the reverse) keeps its grouping.
            Some(if matches!(item, Expr::And(..) | Expr::Or(..)) {
                format!("({text})")
            } else {
                text
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(parts.join(glue))
}

fn call_phrase(name: &str, args: &[Expr], vocabulary: &Vocabulary, source: &str) -> Option<String> {
    let relation = match name {
        "==" => Some("é"),
        "!=" => Some("não é"),
        "<" => Some("menor que"),
        "<=" => Some("até"),
        ">" => Some("maior que"),
        ">=" => Some("a partir de"),
        _ => None,
    };
    match (name, args) {
        (_, [a, b]) if relation.is_some() => Some(format!(
            "{} {} {}",
            operand(a, vocabulary)?,
            relation?,
            value_of(a, b, vocabulary).or_else(|| operand(b, vocabulary))?
        )),
        ("!", [inner]) => {
            let text = phrase(inner, vocabulary, source)?;
            Some(if matches!(inner, Expr::And(..) | Expr::Or(..)) {
                format!("não ({text})")
            } else {
                format!("não {text}")
            })
        }
        ("contains", [list, value]) => Some(format!(
            "{} é um de {}",
            operand(value, vocabulary)?,
            value_of(value, list, vocabulary).or_else(|| operand(list, vocabulary))?
        )),
        ("given", [group]) => Some(format!("há dados de {}", path(group)?)),
        ("given", [group, Expr::StringConstant(key, _)]) => {
            let fact = format!("{}.{key}", path(group)?);
            Some(format!("{} informado(a)", label(&fact, vocabulary)))
        }
        _ => None,
    }
}

/// The constant `value` (a text or a list of texts) compared with the
/// fact `fact`, by the fact's display names: `“Sistema bloqueado”`.
fn value_of(fact: &Expr, value: &Expr, vocabulary: &Vocabulary) -> Option<String> {
    let fact = vocabulary.fact(&path(fact)?)?;
    let named = |text: &str| format!("“{}”", fact.value_name(text));
    Some(match value {
        Expr::StringConstant(text, _) => named(text),
        Expr::DynamicConstant(items, _) => {
            let items = items.read_lock::<rhai::Array>()?;
            items
                .iter()
                .map(|item| named(&item.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        }
        Expr::Array(items, _) => items
            .iter()
            .map(|item| match item {
                Expr::StringConstant(text, _) => Some(named(text)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?
            .join(", "),
        _ => return None,
    })
}

/// A value or a fact, as people read it.
fn operand(expr: &Expr, vocabulary: &Vocabulary) -> Option<String> {
    Some(match expr {
        Expr::StringConstant(text, _) => format!("“{text}”"),
        Expr::IntegerConstant(n, _) => n.to_string(),
        Expr::BoolConstant(b, _) => if *b { "sim" } else { "não" }.to_string(),
        Expr::DynamicConstant(value, _) => {
            let items = value.read_lock::<rhai::Array>()?;
            let items: Vec<String> = items.iter().map(|item| format!("“{item}”")).collect();
            items.join(", ")
        }
        Expr::Array(items, _) => items
            .iter()
            .map(|item| operand(item, vocabulary))
            .collect::<Option<Vec<_>>>()?
            .join(", "),
        Expr::Variable(..) | Expr::Dot(..) | Expr::Index(..) => {
            let dotted = path(expr)?;
            label(&dotted, vocabulary)
        }
        // A helper keeps its name, its arguments in words:
        // `add_days(data de vencimento, 7)`.
        Expr::FnCall(call, _) => match (call.name.as_str(), call.args.as_slice()) {
            (op @ ("+" | "-" | "*" | "/"), [a, b]) => {
                format!("{} {op} {}", operand(a, vocabulary)?, operand(b, vocabulary)?)
            }
            (name, args) => format!(
                "{name}({})",
                args.iter()
                    .map(|arg| operand(arg, vocabulary))
                    .collect::<Option<Vec<_>>>()?
                    .join(", ")
            ),
        },
        _ => return None,
    })
}

fn label(path: &str, vocabulary: &Vocabulary) -> String {
    match path {
        "today" => "hoje".to_string(),
        "now" => "agora".to_string(),
        _ => vocabulary
            .fact(path)
            .and_then(|fact| fact.spec.label.clone())
            .unwrap_or_else(|| path.to_string()),
    }
}

/// `a.b["c"]` as `a.b.c`.
fn path(expr: &Expr) -> Option<String> {
    Some(match expr {
        Expr::Variable(variable, ..) => variable.1.to_string(),
        Expr::Property(property, _) => property.2.to_string(),
        Expr::Dot(pair, ..) => format!("{}.{}", path(&pair.lhs)?, path(&pair.rhs)?),
        Expr::Index(pair, ..) => match &pair.rhs {
            Expr::StringConstant(key, _) => format!("{}.{key}", path(&pair.lhs)?),
            _ => return None,
        },
        _ => return None,
    })
}
