//! Static analysis of a loaded bundle, for `roteiro check`.
//!
//! Conditions are explored with nothing known (the evaluator's symbolic
//! mode): every boolean and enum fact, and every `given(...)`, is tried both
//! ways. A rule whose condition is false in every combination can never
//! fire; two rules that set different values for one output at the same
//! priority conflict when some combination makes both conditions true.
//! Conditions that read dates, texts or numbers cannot be settled this way
//! and are left alone: the analysis only reports what it can prove.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::decide::evaluate::Evaluator;
use crate::expr::sandbox;
use crate::expr::scan;
use crate::expr::template::{self, Piece};
use crate::model::bundle::{Bundle, Expr, Rule, Segment, GLOBALS};
use crate::text::locate;
use crate::text::locate::Location;

/// One warning of the static analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Where it is.
    pub location: Location,
    /// Kind: `always_fails`, `unlabeled_fact`, `never_fires`,
    /// `output_conflict`, `unused_fact`, `unused_catalog`.
    pub kind: String,
    /// The rule, fact or catalog entry concerned.
    pub item: String,
    /// What was found, in words.
    pub message: String,
}

impl Bundle {
    /// Everything the static analysis finds; empty for a clean bundle.
    pub fn analyze(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let evaluator = Evaluator::symbolic(self);
        for rule in &self.rules {
            if let Some(when) = &rule.when {
                let never = evaluator.outcomes(when, true).is_ok_and(|o| !o.seen_true && !o.unknown);
                if never {
                    warnings.push(self.rule_warning(
                        rule,
                        "never_fires",
                        format!(
                            "a condição `{}` é falsa para todos os valores possíveis: a regra nunca dispara",
                            when.source
                        ),
                    ));
                }
            }
        }
        warnings.extend(self.always_failing());
        warnings.extend(self.unlabeled());
        warnings.extend(self.unnamed_values());
        warnings.extend(self.unhandled_values());
        warnings.extend(self.conflicts(&evaluator));
        warnings.extend(self.unused());
        warnings
    }

    /// Expressions that fail in every combination the analysis tries, at
    /// every sample moment: a helper always out of range, a type error.
    /// Publishing such a rule would make every decision that reaches it
    /// fail, so `check` stops on them.
    fn always_failing(&self) -> Vec<Warning> {
        // A weekday morning, a weekday evening and a Sunday night, in the
        // bundle's zone: rules that read the clock meet their usual cases.
        let samples: Vec<DateTime<FixedOffset>> = [(2026, 12, 8, 10), (2026, 12, 9, 19), (2026, 12, 13, 23)]
            .iter()
            .filter_map(|&(year, month, day, hour)| {
                let date = NaiveDate::from_ymd_opt(year, month, day)?;
                self.calendar.zone().at(date.and_hms_opt(hour, 30, 0)?)
            })
            .collect();
        let evaluators: Vec<Evaluator<'_>> = samples
            .into_iter()
            .map(|now| Evaluator::symbolic_at(self, now))
            .collect();
        let mut warnings = Vec::new();
        for rule in &self.rules {
            let mut expressions: Vec<(String, &Expr, bool)> = Vec::new();
            expressions.extend(rule.when.iter().map(|expr| ("when".to_string(), expr, true)));
            expressions.extend(
                rule.compute
                    .iter()
                    .map(|(name, expr)| (format!("compute.{name}"), expr, false)),
            );
            for follow_up in &rule.follow_ups {
                let id = &follow_up.item.id;
                expressions.extend(follow_up.due.iter().map(|expr| (format!("{id}.due"), expr, false)));
                expressions.extend(follow_up.until.iter().map(|expr| (format!("{id}.until"), expr, true)));
            }
            let follow_up_items = rule.follow_ups.iter().map(|follow_up| &follow_up.item);
            for item in rule
                .actions
                .iter()
                .chain(&rule.scripts)
                .chain(&rule.reminders)
                .chain(follow_up_items)
            {
                expressions.extend(item.when.iter().map(|expr| (format!("{}.when", item.id), expr, true)));
                for segment in &item.text {
                    if let Segment::Placeholder(expr) = segment {
                        expressions.push((format!("{}.text", item.id), expr, false));
                    }
                }
            }
            for (field, expr, condition) in expressions {
                let mut failure = None;
                let always = evaluators
                    .iter()
                    .all(|evaluator| match evaluator.outcomes(expr, condition) {
                        Ok(outcomes) if outcomes.always_failed => {
                            failure = failure.take().or(outcomes.failure);
                            true
                        }
                        _ => false,
                    });
                if let (true, Some(failure)) = (always, failure) {
                    warnings.push(self.rule_warning(
                        rule,
                        "always_fails",
                        format!(
                            "`{field}` (`{}`) falha em todos os casos testados: {failure}",
                            expr.source
                        ),
                    ));
                }
            }
        }
        warnings
    }

    /// Facts without a label: a text that cannot fill them would print the
    /// raw path (`[request.equipment.homologated]`) to an analyst.
    fn unlabeled(&self) -> Vec<Warning> {
        let text = self.file_text(crate::model::bundle::VOCABULARY);
        self.vocabulary
            .facts()
            .filter(|fact| fact.spec.label.as_deref().is_none_or(|label| label.trim().is_empty()))
            .map(|fact| Warning {
                location: Location {
                    file: crate::model::bundle::VOCABULARY.into(),
                    line: locate::line_of(text, &[(fact.path.as_str(), None)]),
                    column: None,
                },
                kind: "unlabeled_fact".into(),
                item: fact.path.clone(),
                message: "fato sem `label`: um texto que não puder preenchê-lo mostraria o caminho cru ao analista"
                    .into(),
            })
            .collect()
    }

    /// Enum values and output values without a display name: the page,
    /// `ask` and the text output would show the raw value to an analyst.
    fn unnamed_values(&self) -> Vec<Warning> {
        let warning = |file: &str, anchor: &str, item: String, missing: Vec<&String>| Warning {
            location: Location {
                file: file.into(),
                line: locate::line_of(self.file_text(file), &[(anchor, None)]),
                column: None,
            },
            kind: "unnamed_value".into(),
            message: format!(
                "valores sem nome de exibição em `names` (o analista veria o valor cru): {}",
                missing.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            ),
            item,
        };
        let mut warnings: Vec<Warning> = self
            .vocabulary
            .facts()
            .filter_map(|fact| {
                let missing: Vec<&String> = fact
                    .values()
                    .iter()
                    .filter(|v| !fact.value_names().contains_key(*v))
                    .collect();
                (!missing.is_empty())
                    .then(|| warning(crate::model::bundle::VOCABULARY, &fact.path, fact.path.clone(), missing))
            })
            .collect();
        for (name, output) in &self.manifest.outputs {
            let values = output.values.as_deref().unwrap_or_default();
            let missing: Vec<&String> = values.iter().filter(|v| !output.names.contains_key(*v)).collect();
            if !missing.is_empty() {
                warnings.push(warning(
                    crate::model::bundle::MANIFEST,
                    name,
                    format!("outputs.{name}"),
                    missing,
                ));
            }
        }
        warnings
    }

    /// Enum values no rule or derivation names while most of their
    /// siblings are named: a value added to the vocabulary (a new plan)
    /// that every rule would silently pass over. Values the fact lists
    /// under `no_rule` take the general path on purpose.
    fn unhandled_values(&self) -> Vec<Warning> {
        let mut named = self.value_uses();
        let text = self.file_text(crate::model::bundle::VOCABULARY);
        let mut warnings = Vec::new();

        for fact in self.vocabulary.facts().filter(|fact| !fact.values().is_empty()) {
            let seen = named.remove(&fact.path).unwrap_or_default();
            let values = fact.values();
            let unnamed: Vec<&String> = values
                .iter()
                .filter(|value| !seen.contains_key(*value) && !fact.spec.no_rule.contains(value))
                .collect();
            // Only where the rules sort most of the values: a fact read for
            // one value (`contact.channel == "plantao"`) leaves the rest alone.
            if unnamed.is_empty() || seen.len() * 2 < values.len() {
                continue;
            }
            let examples: Vec<String> = (values.iter())
                .filter_map(|value| Some(format!("`{value}` em `{}`", seen.get(value)?.first()?)))
                .take(3)
                .collect();
            for value in unnamed {
                warnings.push(Warning {
                    location: Location {
                        file: crate::model::bundle::VOCABULARY.into(),
                        line: locate::line_of(text, &[(fact.path.as_str(), None)]),
                        column: None,
                    },
                    kind: "unhandled_value".into(),
                    item: fact.path.clone(),
                    message: format!(
                        "`{value}` em `{}` não aparece em nenhuma regra, e os outros valores aparecem ({}): escreva as regras de `{value}` ou, se ele segue o caminho geral, liste-o em `no_rule`",
                        fact.path,
                        examples.join(", ")
                    ),
                });
            }
        }
        warnings
    }

    /// For each fact, each literal value its comparisons name (`==`,
    /// `!=`, `in [...]`) and the rules (or derivations) naming it: where an
    /// owner finds the topic lists that decide a derived fact or a
    /// catch-all rule (`check --verbose`).
    pub fn value_uses(&self) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
        let mut named: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        let mut note = |source: &str, place: &str| {
            for comparison in scan::scan(source).comparisons {
                for literal in comparison.literals {
                    let places = named
                        .entry(comparison.path.clone())
                        .or_default()
                        .entry(literal)
                        .or_default();
                    if !places.iter().any(|known| known == place) {
                        places.push(place.to_string());
                    }
                }
            }
        };
        for rule in &self.rules {
            for (_, expr) in rule.expressions() {
                note(&expr.source, &rule.id);
            }
        }
        for fact in self.vocabulary.facts() {
            if let Some(derive) = &fact.spec.derive {
                note(derive, &format!("derive de {}", fact.path));
            }
        }
        named
    }

    fn rule_warning(&self, rule: &Rule, kind: &str, message: String) -> Warning {
        let text = self.file_text(&rule.file);
        Warning {
            location: Location {
                file: rule.file.clone(),
                line: locate::line_of(text, &[("id", Some(rule.id.as_str()))]),
                column: None,
            },
            kind: kind.into(),
            item: rule.id.to_string(),
            message,
        }
    }

    fn conflicts(&self, evaluator: &Evaluator<'_>) -> Vec<Warning> {
        let scope = sandbox::compile_scope(&self.vocabulary, &GLOBALS);
        let mut warnings = Vec::new();
        for (i, first) in self.rules.iter().enumerate() {
            for second in &self.rules[i + 1..] {
                if first.priority != second.priority || (first.group.is_some() && first.group == second.group) {
                    continue;
                }
                for (name, value) in first.set.iter() {
                    let Some((_, other)) = second.set.iter().find(|(n, _)| *n == name) else {
                        continue;
                    };
                    if other == value {
                        continue;
                    }
                    let both = format!(
                        "({}) && ({})",
                        first.when.as_ref().map_or("true", |w| w.source.as_str()),
                        second.when.as_ref().map_or("true", |w| w.source.as_str())
                    );
                    let Ok(ast) = self.engine.compile_with_scope(&scope, &both) else {
                        continue;
                    };
                    let together = evaluator
                        .outcomes(&Expr::new(both, std::sync::Arc::new(ast), None), true)
                        .is_ok_and(|o| o.seen_true);
                    if together {
                        warnings.push(self.rule_warning(
                            second,
                            "output_conflict",
                            format!(
                                "pode definir `{name}` = {other} junto com `{}` ({value}), com a mesma prioridade {}",
                                first.id, first.priority
                            ),
                        ));
                    }
                }
            }
        }
        warnings
    }

    /// Every fact path (and each of its prefixes) and catalog entry that
    /// some condition, text, derivation, macro or team names.
    fn used_names(&self) -> BTreeSet<String> {
        let procedures: Vec<_> = self.procedure_files().collect();
        let mut sources: Vec<String> = Vec::new();
        for (_, procedure) in &procedures {
            sources.extend(procedure.context.iter().cloned());
            for rule in &procedure.rules {
                sources.extend(rule.when.iter().cloned());
                sources.extend(rule.compute.values().cloned());
                sources.extend(rule.context.iter().flatten().cloned());
                let texts = rule
                    .actions
                    .iter()
                    .flat_map(|a| [Some(&a.text), a.when.as_ref()])
                    .chain(
                        rule.scripts
                            .iter()
                            .chain(&rule.reminders)
                            .flat_map(|s| [Some(&s.text), s.when.as_ref()]),
                    )
                    .chain(rule.follow_ups.iter().flat_map(|f| [Some(&f.text), f.when.as_ref()]))
                    .flatten();
                // A follow-up's due time and closing condition are whole
                // expressions, not texts with placeholders.
                for follow_up in &rule.follow_ups {
                    sources.extend(follow_up.due.iter().cloned());
                    sources.extend(follow_up.until.iter().cloned());
                }
                for text in texts {
                    for piece in template::split(text).unwrap_or_default() {
                        match piece {
                            Piece::Placeholder { source, .. } => sources.push(source),
                            Piece::Literal(_) if !text.contains("{{") => sources.push(text.clone()),
                            Piece::Literal(_) => {}
                        }
                    }
                }
            }
        }
        for fact in self.vocabulary.facts() {
            sources.extend(fact.spec.derive.iter().cloned());
        }
        let mut used: BTreeSet<String> = BTreeSet::new();
        for source in &sources {
            for path in scan::scan(source).paths {
                for end in 1..=path.segments.len() {
                    used.insert(path.segments[..end].join("."));
                }
            }
            used.extend(bracket_paths(source));
        }
        // An action's `macro:` and `team:` name catalog entries too.
        for rule in procedures.iter().flat_map(|(_, p)| &p.rules) {
            for action in &rule.actions {
                used.extend(action.r#macro.iter().map(|key| format!("catalog.macros.{key}")));
                used.extend(action.team.iter().map(|key| format!("catalog.teams.{key}")));
            }
            for follow_up in &rule.follow_ups {
                used.extend(follow_up.team.iter().map(|key| format!("catalog.teams.{key}")));
            }
        }
        used
    }

    /// Facts and catalog entries nothing refers to.
    fn unused(&self) -> Vec<Warning> {
        let used = self.used_names();
        let mut warnings = Vec::new();
        let vocabulary_text = self.file_text(crate::model::bundle::VOCABULARY);
        for fact in self.vocabulary.facts() {
            if fact.path != crate::facts::vocabulary::NOW && !used.contains(&fact.path) {
                warnings.push(Warning {
                    location: Location {
                        file: "vocabulary.yaml".into(),
                        line: locate::line_of(vocabulary_text, &[(fact.path.as_str(), None)]),
                        column: None,
                    },
                    kind: "unused_fact".into(),
                    item: fact.path.clone(),
                    message: "fato declarado que nenhuma regra, texto ou fato derivado usa".into(),
                });
            }
        }
        let catalog_text = self.file_text(crate::model::bundle::CATALOG);
        for (kind, entries) in self.catalog.lists() {
            for key in entries.keys() {
                let path = format!("catalog.{kind}.{key}");
                if !used.contains(&path) {
                    warnings.push(Warning {
                        location: Location {
                            file: "catalog.yaml".into(),
                            line: locate::line_of(catalog_text, &[(kind.as_str(), None), (key.as_str(), None)]),
                            column: None,
                        },
                        kind: "unused_catalog".into(),
                        item: path,
                        message: "entrada do catálogo que nenhuma regra usa".into(),
                    });
                }
            }
        }
        warnings
    }
}

/// `path["key"]` reads in an expression, as dotted paths
/// (`catalog.ticket_codes["000001"]`, `request["module"]`).
fn bracket_paths(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = source[from..].find("[\"") {
        let at = from + found;
        let before = &source[..at];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        let inner = &source[at + 2..];
        if let (false, Some(end)) = (start == at, inner.find('"')) {
            out.push(format!("{}.{}", &source[start..at], &inner[..end]));
        }
        from = at + 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::bracket_paths;

    #[test]
    fn bracket_reads_become_paths() {
        assert_eq!(
            bracket_paths(r#"catalog.ticket_codes["000001"] + request["module"]"#),
            ["catalog.ticket_codes.000001", "request.module"]
        );
    }
}
