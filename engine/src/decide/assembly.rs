//! Assembling a decision: each rule the index lets through applied in the
//! bundle's order (flows, first-match groups and contexts first), its
//! outputs, actions, scripts and reminders rendered, and the decision put
//! together with its missing facts, assumptions, warnings and trace.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use rhai::Dynamic;

use crate::decide::decision::{Action, Assumed, Decision, FollowUp, Missing, Script};
use crate::decide::error::DecideError;
use crate::decide::evaluate::{Evaluator, Failure, Truth};
use crate::decide::flows::{self, GivenGroups, KnownCondition};
use crate::decide::follow_ups::{self, Due, Pending};
use crate::decide::situation::Situation;
use crate::decide::trace::{RuleStatus, Trace};
use crate::expr::budget::Budget;
use crate::expr::probe::lock;
use crate::expr::sandbox;
use crate::expr::slots::SlotFact;
use crate::facts::shared::Shared;
use crate::facts::vocabulary::{FactValue, NOW};
use crate::model;
use crate::model::bundle::{Bundle, Evaluation, Expr, Item, Rule, Segment};

/// What an item of a rule is: names the field an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Action,
    Script,
    Reminder,
    FollowUp,
}

impl ItemKind {
    fn field(self) -> &'static str {
        match self {
            Self::Action => "actions",
            Self::Script => "scripts",
            Self::Reminder => "reminders",
            Self::FollowUp => "follow_ups",
        }
    }
}

/// A value a fired rule gives an output: its priority, the rule, and the
/// value (one written in the rule is borrowed from the bundle).
type Candidate<'b> = (i64, usize, Cow<'b, serde_json::Value>);

/// What a decision is being assembled from.
struct Assembly<'b> {
    /// Each output's values by the rules that set them.
    candidates: BTreeMap<&'b str, Vec<Candidate<'b>>>,
    actions: Vec<(usize, Action)>,
    scripts: Vec<(usize, Script)>,
    reminders: Vec<Script>,
    follow_ups: Vec<Pending>,
    missing: BTreeMap<Shared, Vec<Shared>>,
    missing_order: Vec<Shared>,
    /// The slots of the defaults relied on (slot order is path order).
    assumed: BTreeSet<usize>,
    trace: Trace,
    warnings: Vec<String>,
    /// Where texts made for this decision are written before they are
    /// shared: one buffer, not one growing string per text.
    scratch: String,
}

impl Assembly<'_> {
    /// A text written by `write`, as one allocation of its exact length.
    fn shared_text(&mut self, write: impl FnOnce(&mut String)) -> Shared {
        self.scratch.clear();
        write(&mut self.scratch);
        Shared::from(self.scratch.as_str())
    }

    fn need(&mut self, facts: &BTreeSet<Shared>, by: &Shared) {
        for fact in facts {
            let entry = self.missing.entry(fact.clone()).or_default();
            if entry.is_empty() {
                self.missing_order.push(fact.clone());
            }
            if !entry.contains(by) {
                entry.push(by.clone());
            }
        }
    }
}

impl Bundle {
    /// Decides what to do in `situation`.
    ///
    /// Time is an input: the engine never reads the clock. `now` is the
    /// moment of the decision when the situation gives no `now` of its own
    /// (the situation's wins); the decision then lists it under `assumed`,
    /// so a reader sees which clock it was made with.
    ///
    /// Fails only when a rule itself is broken at run time (a type error, a
    /// runaway expression); missing facts are part of the decision.
    pub fn decide(&self, situation: &Situation, now: DateTime<FixedOffset>) -> Result<Decision, DecideError> {
        let _budget = Budget::start(Some(Duration::from_millis(self.manifest.limits.decision_ms)));
        let evaluator = Evaluator::new(self, self.facts_with_now(situation, now));
        let mut assembly = Assembly {
            candidates: BTreeMap::new(),
            actions: Vec::new(),
            scripts: Vec::new(),
            reminders: Vec::new(),
            follow_ups: Vec::new(),
            missing: BTreeMap::new(),
            missing_order: Vec::new(),
            assumed: BTreeSet::new(),
            trace: Trace::new(self.trace_words.clone()),
            warnings: Vec::new(),
            scratch: String::new(),
        };
        let in_situation = |err: DecideError| match err {
            DecideError::Situation(mut err) => {
                err.location.file.clone_from(&situation.origin);
                DecideError::Situation(err)
            }
            other => other,
        };
        assembly.warnings = self.contradicted_derivations(&evaluator, situation);
        let mut groups = GivenGroups::new(&self.context_groups, situation);
        let ended = flows::ended_flows(self, &evaluator, &mut groups).map_err(in_situation)?;
        let mut group_winners: BTreeMap<&str, &str> = BTreeMap::new();
        // The rules left out are those the index passes over: they did not
        // fire, for their usual reason, which is how the trace starts.
        let visits = match self.evaluation {
            Evaluation::Native => self.rule_index.visits(&evaluator.table),
            Evaluation::Rhai => (0..self.rules.len()).collect(),
        };
        for index in visits {
            let Some(rule) = self.rules.get(index) else {
                continue;
            };
            if let Some(why) = ended.stopped_by(rule) {
                assembly.trace.set_why(index, RuleStatus::Skipped, why.clone());
                continue;
            }
            let winner = rule
                .group
                .as_deref()
                .and_then(|group| group_winners.get(group).map(|w| (group, *w)));
            if let Some((group, winner)) = winner {
                let why = format!("não avaliada: `{winner}` já disparou no grupo `{group}`");
                assembly.trace.set_why(index, RuleStatus::Skipped, why.into());
                continue;
            }
            let lacking = rule.required.iter().position(|(group, _)| !groups.gives(*group));
            if let Some(position) = lacking {
                // The first group's reason is among the rule's words; a
                // later group's is the entry's own.
                match rule.required.get(position) {
                    Some((_, why)) if position > 0 => assembly.trace.set_why(index, RuleStatus::NotFired, why.clone()),
                    _ => assembly.trace.set_out_of_context(index),
                }
                continue;
            }
            let fired = self
                .apply(&evaluator, index, rule, ended.condition(index), &mut assembly)
                .map_err(in_situation)?;
            if let (true, Some(group)) = (fired, rule.group.as_deref()) {
                group_winners.insert(group, &rule.id);
            }
        }
        if let (false, Some(slot)) = (situation.facts.contains_key(NOW), self.vocabulary.slot(NOW)) {
            assembly.assumed.insert(slot);
        }
        Ok(self.finish(assembly, situation, now))
    }

    /// A derived fact the situation gives that its derivation contradicts
    /// (`monitoring.week` 2 with a delivery date that makes it week 3): the
    /// given value is used, and the decision says so instead of choosing
    /// silently. A derivation that cannot be worked out says nothing.
    fn contradicted_derivations(&self, evaluator: &Evaluator<'_>, situation: &Situation) -> Vec<String> {
        let mut warnings = Vec::new();
        for (path, ast) in self.derivations.iter() {
            let Some(given) = situation.facts.get(path) else {
                continue;
            };
            let expr = Expr::new(String::new(), ast.clone(), self.native_derivations.get(path).cloned());
            let Ok(Ok(derived)) = evaluator.value(&expr) else {
                continue;
            };
            let derived = sandbox::display(&derived);
            if derived != given.display() {
                let label = self
                    .vocabulary
                    .fact(path)
                    .and_then(|fact| fact.spec.label.clone())
                    .unwrap_or_else(|| path.clone());
                warnings.push(format!(
                    "`{path}` ({label}) veio como `{}`, mas os outros fatos da situação dão `{derived}`; valendo o informado: confira",
                    given.display()
                ));
            }
        }
        lock(&evaluator.probe).assumed.clear();
        warnings
    }

    /// The situation's facts, with `now` given when the situation has none.
    pub(crate) fn facts_with_now(
        &self,
        situation: &Situation,
        now: DateTime<FixedOffset>,
    ) -> Arc<BTreeMap<String, FactValue>> {
        let mut facts = Arc::clone(&situation.facts);
        if !facts.contains_key(NOW) {
            let now = FactValue::DateTime(self.local(&now));
            Arc::make_mut(&mut facts).insert(NOW.to_string(), now);
        }
        facts
    }

    /// Applies one rule; true when it fired.
    fn apply<'b>(
        &'b self,
        evaluator: &Evaluator<'_>,
        index: usize,
        rule: &'b Rule,
        known: Option<&KnownCondition>,
        out: &mut Assembly<'b>,
    ) -> Result<bool, DecideError> {
        let fail = |field: &str, failure: Failure| failure.for_rule(self, rule, None, field);
        if evaluator.rules_out(rule) {
            // Passed over by its leading equality: nothing ran, nothing was
            // read or assumed.
            return Ok(false);
        }
        let truth = match (&rule.when, known) {
            (Some(_), Some(known)) => {
                lock(&evaluator.probe).assumed.extend_from_slice(&known.assumed);
                known.truth.clone()
            }
            (Some(expr), None) => evaluator.condition(expr).map_err(|failure| fail("when", failure))?,
            (None, _) => Truth::True,
        };
        match &truth {
            Truth::True => self.fire(evaluator, index, rule, out)?,
            Truth::False => {}
            Truth::Undecided(facts) => note_undecided(index, rule, facts, out),
        }
        // A default shapes the decision whether the rule fired or not: a
        // rule that did not fire because `asks_deadline` was assumed false
        // is as much an assumption as one that fired.
        out.assumed.extend(lock(&evaluator.probe).assumed.drain(..));
        Ok(truth == Truth::True)
    }

    /// A rule that fired: its outputs become candidates, the trace shows
    /// what it set and computed, and its items are rendered.
    fn fire<'b>(
        &'b self,
        evaluator: &Evaluator<'_>,
        index: usize,
        rule: &'b Rule,
        out: &mut Assembly<'b>,
    ) -> Result<(), DecideError> {
        let fail = |field: &str, failure: Failure| failure.for_rule(self, rule, None, field);
        for (name, value) in rule.set.iter() {
            out.candidates
                .entry(name)
                .or_default()
                .push((rule.priority, index, Cow::Borrowed(value)));
        }
        // The trace shares the rule's outputs unless it computes some.
        let mut computed = BTreeMap::new();
        for (name, expr) in &rule.compute {
            let field = format!("compute.{name}");
            match evaluator.value(expr).map_err(|failure| fail(&field, failure))? {
                Ok(value) => {
                    let json = self
                        .output_json(name, &value)
                        .map_err(|message| fail(&field, Failure::Rule(message)))?;
                    computed.insert(name.clone(), json.clone());
                    out.candidates
                        .entry(name)
                        .or_default()
                        .push((rule.priority, index, Cow::Owned(json)));
                }
                Err(facts) => out.need(&facts, &rule.id),
            }
        }
        let sets = if computed.is_empty() {
            Arc::clone(&rule.set)
        } else {
            let mut sets = (*rule.set).clone();
            sets.append(&mut computed);
            Arc::new(sets)
        };
        out.trace.set_fired(index, sets);
        for item in &rule.actions {
            if let Some(text) = self.render_item(evaluator, rule, item, ItemKind::Action, out)? {
                let action = Action {
                    id: item.id.clone(),
                    text,
                    team: item.team.clone(),
                    r#macro: item.macro_name.clone(),
                    phase: item.phase_name.clone(),
                    rule: rule.id.clone(),
                    source: rule.source.clone(),
                };
                out.actions.push((item.phase, action));
            }
        }
        for item in &rule.scripts {
            if let Some(text) = self.render_item(evaluator, rule, item, ItemKind::Script, out)? {
                out.scripts.push((item.phase, script(item, rule, text)));
            }
        }
        for item in &rule.reminders {
            if let Some(text) = self.render_item(evaluator, rule, item, ItemKind::Reminder, out)? {
                out.reminders.push(script(item, rule, text));
            }
        }
        for follow_up in &rule.follow_ups {
            self.follow_up(evaluator, rule, follow_up, out)?;
        }
        Ok(())
    }

    /// A follow-up of a fired rule, unless what it waits for has come: its
    /// text, and when it is due.
    fn follow_up(
        &self,
        evaluator: &Evaluator<'_>,
        rule: &Rule,
        follow_up: &model::bundle::FollowUp,
        out: &mut Assembly<'_>,
    ) -> Result<(), DecideError> {
        let item = &follow_up.item;
        let fail = |key: &str, failure: Failure| {
            let field = format!("follow_ups.{}.{key}", item.id);
            failure.for_rule(self, rule, Some(&item.id), &field)
        };
        if let Some(until) = &follow_up.until {
            if evaluator.condition(until).map_err(|failure| fail("until", failure))? == Truth::True {
                return Ok(());
            }
        }
        let Some(text) = self.render_item(evaluator, rule, item, ItemKind::FollowUp, out)? else {
            return Ok(());
        };
        // A due time that needs a fact the situation lacks stays unknown
        // and names the fact on the follow-up: it changes when, not what,
        // so it is not among the decision's missing facts.
        let (due, needs) = match &follow_up.due {
            // A wait the procedure gives no deadline: open, undated.
            None => (None, Vec::new()),
            Some(expr) => match evaluator.value(expr).map_err(|failure| fail("due", failure))? {
                Ok(value) => (
                    Some(Due::of(&value).map_err(|message| fail("due", Failure::Rule(message)))?),
                    Vec::new(),
                ),
                Err(facts) => (None, facts.into_iter().collect()),
            },
        };
        out.follow_ups.push(Pending {
            due,
            follow_up: FollowUp {
                id: item.id.clone(),
                text,
                team: item.team.clone(),
                due: None,
                due_text: None,
                overdue: false,
                needs,
                until: follow_up.until_words.clone(),
                rule: rule.id.clone(),
                source: rule.source.clone(),
            },
        });
        Ok(())
    }

    /// The item's text when its own condition holds.
    fn render_item(
        &self,
        evaluator: &Evaluator<'_>,
        rule: &Rule,
        item: &Item,
        kind: ItemKind,
        out: &mut Assembly<'_>,
    ) -> Result<Option<Shared>, DecideError> {
        let fail = |key: &str, failure: Failure| {
            let field = format!("{}.{}.{key}", kind.field(), item.id);
            failure.for_rule(self, rule, Some(&item.id), &field)
        };
        // The name a missing fact is needed by; only built when one is.
        let label = || format!("{}#{}", rule.id, item.id);
        if let Some(expr) = &item.when {
            match evaluator.condition(expr).map_err(|failure| fail("when", failure))? {
                Truth::True => {}
                Truth::False => return Ok(None),
                Truth::Undecided(facts) => {
                    out.need(&facts, &label().into());
                    return Ok(None);
                }
            }
        }
        if let Some(literal) = &item.literal {
            return Ok(Some(literal.clone()));
        }
        let mut text = std::mem::take(&mut out.scratch);
        text.clear();
        for segment in &item.text {
            match segment {
                Segment::Literal(literal) => text.push_str(literal),
                Segment::Placeholder(expr) => {
                    match evaluator
                        .write_text(expr, &mut text)
                        .map_err(|failure| fail("text", failure))?
                    {
                        Ok(()) => {}
                        Err(facts) => {
                            let labels: Vec<String> = facts
                                .iter()
                                .map(|fact| {
                                    self.vocabulary
                                        .fact(fact)
                                        .map_or_else(|| format!("[{fact}]"), |f| f.label())
                                })
                                .collect();
                            text.push_str(&labels.join(" "));
                            // What a shown text needs to be carried out is
                            // asked, in an action as in a script; facts marked
                            // optional only show their label.
                            let needed: BTreeSet<Shared> = facts
                                .into_iter()
                                .filter(|fact| !self.vocabulary.fact(fact).is_some_and(|f| f.spec.optional))
                                .collect();
                            out.need(&needed, &label().into());
                        }
                    }
                }
            }
        }
        let shared = Shared::from(text.as_str());
        out.scratch = text;
        Ok(Some(shared))
    }

    fn output_json(&self, name: &str, value: &Dynamic) -> Result<serde_json::Value, String> {
        let spec = self
            .manifest
            .outputs
            .get(name)
            .ok_or_else(|| format!("saída desconhecida `{name}`"))?;
        use crate::model::policy::OutputKind;
        match spec.kind {
            OutputKind::Bool => value
                .as_bool()
                .map(serde_json::Value::Bool)
                .map_err(|kind| format!("esperado true ou false, veio {kind}")),
            OutputKind::Date => value
                .clone()
                .try_cast::<chrono::NaiveDate>()
                .map(|date| serde_json::Value::String(date.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| format!("esperada uma data, veio {}", value.type_name())),
            OutputKind::Text => {
                let text = value
                    .clone()
                    .into_string()
                    .map_err(|kind| format!("esperado texto, veio {kind}"))?;
                match &spec.values {
                    Some(values) if !values.contains(&text) => Err(format!(
                        "valor `{text}` não permitido; permitidos: {}",
                        values.join(", ")
                    )),
                    _ => Ok(serde_json::Value::String(text)),
                }
            }
        }
    }

    fn finish(&self, mut out: Assembly<'_>, situation: &Situation, now: DateTime<FixedOffset>) -> Decision {
        // The moment the decision is made as of, in the bundle's offset.
        let decided_at = self.local(&situation.now().unwrap_or(now));
        let mut warnings = situation.warnings.clone();
        warnings.append(&mut out.warnings);
        let mut outputs = BTreeMap::new();
        for (name, candidates) in &out.candidates {
            let best = candidates
                .iter()
                .map(|(priority, _, _)| *priority)
                .max()
                .unwrap_or_default();
            let top = || candidates.iter().filter(|(priority, _, _)| *priority == best);
            let Some((_, winner_index, winner)) = top().next() else {
                continue;
            };
            if top().any(|(_, _, value)| value != winner) {
                let who = top()
                    .map(|(_, index, value)| format!("`{}` = {value}", self.rules[*index].id))
                    .collect::<Vec<_>>()
                    .join(", ");
                warnings.push(format!(
                    "conflito na saída `{name}` entre regras de mesma prioridade ({best}): {who}; valendo {winner} (primeira na ordem do bundle)"
                ));
            }
            for (_, index, value) in candidates {
                if index != winner_index && value != winner {
                    out.trace.overridden(*index, name);
                }
            }
            outputs.insert((*name).to_string(), winner.clone().into_owned());
        }
        out.actions.sort_by_key(|(phase, _)| *phase);
        out.scripts.sort_by_key(|(phase, _)| *phase);
        let assumed = self.assumed(&out, now);
        let missing = out
            .missing_order
            .iter()
            .map(|fact| Missing {
                fact: fact.clone(),
                question: self.slot_fact(fact).map(|f| f.question.clone()).unwrap_or_default(),
                needed_by: out.missing.remove(fact).unwrap_or_default(),
            })
            .collect();
        self.with_open_outputs(Decision {
            bundle: self.info.clone(),
            outputs,
            actions: out.actions.into_iter().map(|(_, action)| action).collect(),
            scripts: out.scripts.into_iter().map(|(_, script)| script).collect(),
            reminders: out.reminders,
            follow_ups: follow_ups::finish(out.follow_ups, decided_at, self.calendar.zone()),
            missing,
            open_outputs: BTreeMap::new(),
            assumed,
            warnings,
            trace: out.trace,
        })
    }

    /// The declared fact at `path`, by slot.
    fn slot_fact(&self, path: &str) -> Option<&SlotFact> {
        self.slots.get(self.vocabulary.slot(path)?)
    }

    /// Defaults the rules relied on, and the moment when the caller gave it.
    fn assumed(&self, out: &Assembly<'_>, now: DateTime<FixedOffset>) -> Vec<Assumed> {
        out.assumed
            .iter()
            .filter_map(|slot| {
                let fact = self.slots.get(*slot)?;
                let value = if fact.path == NOW {
                    FactValue::DateTime(self.local(&now)).display().into()
                } else {
                    fact.default_shown.clone()
                };
                Some(Assumed {
                    fact: fact.path.clone(),
                    value,
                    question: fact.question.clone(),
                })
            })
            .collect()
    }
}

/// A rule whose condition depends on facts the situation lacks: they are
/// missing, and the trace says which and what the condition was.
fn note_undecided(index: usize, rule: &Rule, facts: &BTreeSet<Shared>, out: &mut Assembly<'_>) {
    out.need(facts, &rule.id);
    let condition = rule.when.as_ref().map_or("(sempre)", |expr| expr.source.as_str());
    let why = out.shared_text(|why| {
        why.push_str("indeterminado, falta saber: ");
        for (at, fact) in facts.iter().enumerate() {
            if at > 0 {
                why.push_str(", ");
            }
            why.push_str(fact);
        }
        why.push_str(" (condição: ");
        why.push_str(condition);
        why.push(')');
    });
    out.trace.set_why(index, RuleStatus::Undecided, why);
}

fn script(item: &Item, rule: &Rule, text: Shared) -> Script {
    Script {
        id: item.id.clone(),
        text,
        rule: rule.id.clone(),
        source: rule.source.clone(),
    }
}

#[cfg(test)]
mod tests {

    use chrono::DateTime;

    use crate::decide::trace::RuleStatus;

    /// The moment every test here decides at.
    fn now() -> DateTime<chrono::FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00-03:00").unwrap()
    }

    const PROCEDURE: &str = "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: caso.kind == \"k2\"\n    actions:\n      - {id: fixa, text: Abra o chamado.}\n      - {id: nome, text: 'Fale com {{ caso.name }}.'}\n";

    #[test]
    fn a_text_without_placeholders_is_the_bundle_s_own_and_a_template_is_rendered() {
        let bundle = crate::test_bundle::with_procedure(PROCEDURE);
        let now = now();
        let texts = |name: &str| {
            let situation = bundle
                .parse_situation(format!("caso: {{kind: k2, name: {name}}}"), "s.yaml")
                .unwrap();
            let decision = bundle.decide(&situation, now).unwrap();
            decision
                .actions
                .iter()
                .map(|action| action.text.clone())
                .collect::<Vec<_>>()
        };
        let (ana, bia) = (texts("Ana"), texts("Bia"));
        assert_eq!(
            ana.iter().map(|text| text.as_str()).collect::<Vec<_>>(),
            ["Abra o chamado.", "Fale com Ana."]
        );
        assert_eq!(bia[1].as_str(), "Fale com Bia.");
        // The same allocation in both decisions: nothing was written again.
        assert!(std::ptr::eq(ana[0].as_str(), bia[0].as_str()));
        assert!(!std::ptr::eq(ana[1].as_str(), bia[1].as_str()));
    }

    #[test]
    fn a_rule_that_ends_a_flow_assumes_what_its_condition_read_once_decided() {
        let procedure = "document: d.txt\ntitle: t\nrules:\n  - id: fim\n    section: '1'\n    phase: a\n    when: caso.kind == \"k2\" && !caso.flag\n    stops: [f]\n    set: {route: fim}\n  - id: dentro\n    section: '2'\n    phase: a\n    flow: f\n    set: {route: dentro}\n";
        let bundle = crate::test_bundle::with_procedure(procedure);
        let now = now();
        let situation = bundle.parse_situation("caso: {kind: k2}", "s.yaml").unwrap();
        let decision = bundle.decide(&situation, now).unwrap();
        assert_eq!(decision.outputs.get("route"), Some(&serde_json::json!("fim")));
        let assumed: Vec<&str> = decision.assumed.iter().map(|assumed| assumed.fact.as_str()).collect();
        assert_eq!(assumed, ["caso.flag", "now"]);
        let whys: Vec<&str> = decision.trace.iter().map(|entry| entry.why).collect();
        assert_eq!(whys[1], "não avaliada: `fim` encerrou o fluxo `f`");
    }

    #[test]
    fn a_rule_out_of_context_says_which_group_the_situation_lacks() {
        let procedure = "document: d.txt\ntitle: t\ncontext: [caso, outro]\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    set: {route: x}\n";
        let bundle = crate::test_bundle::with_procedure(procedure);
        let now = now();
        let why = |text: &str| {
            let situation = bundle.parse_situation(text, "s.yaml").unwrap();
            let decision = bundle.decide(&situation, now).unwrap();
            let entry = decision.trace.get(0).unwrap();
            (entry.status, entry.why.to_string())
        };
        let lacking = |group: &str| {
            (
                RuleStatus::NotFired,
                format!("fora de contexto: a situação não traz `{group}`"),
            )
        };
        assert_eq!(why("outro: {nome: Ana}"), lacking("caso"));
        assert_eq!(why("caso: {name: Ana}"), lacking("outro"));
        assert_eq!(why("caso: {name: Ana}\noutro: {nome: Bia}").0, RuleStatus::Fired);
    }
}
