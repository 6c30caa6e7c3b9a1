//! Making a decision: evaluate every rule against a situation.
//!
//! Conditions are three-valued. When a condition reads an absent fact that
//! has few values (a boolean, an enum), the evaluator tries each value in
//! turn (a depth-first walk over the choices the condition actually reaches)
//! and looks at the outcomes: all true, the rule fires; all false, it does
//! not; both, it is undecided and the facts it read are missing. An absent
//! fact with many values (a date, a text) makes the run unknown at once. So
//! `request.topic == "integracao_delivery" && request.from_zero` with topic
//! `configuracao_sat` is simply false and asks for nothing.
//!
//! A decision visits the rules the rule index lets through (the others
//! cannot fire and read nothing) and runs each condition on its native tree
//! where it has one, on Rhai otherwise; both explore absent facts through
//! the same probe, so they give the same decision byte for byte.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use rhai::{Dynamic, EvalAltResult};

use crate::decide::decision::{Action, Assumed, Decision, Missing, Script};
use crate::decide::error::{DecideError, RuleError, SituationError};
use crate::decide::situation::Situation;
use crate::decide::trace::RuleStatus;
use crate::decide::trace::Trace;
use crate::expr::budget;
use crate::expr::budget::Budget;
use crate::expr::native;
use crate::expr::native::tree::{Stop, Val};
use crate::expr::sandbox::{self, lock, Probe, ProbeParts, SharedProbe};
use crate::expr::scan;
use crate::expr::slots::SlotFact;
use crate::model::bundle::{Bundle, Evaluation, Expr, Item, Rule, Segment};
use crate::model::shared::Shared;
use crate::model::vocabulary::{FactValue, NOW};
use crate::text::locate;
use crate::text::locate::Location;

/// Most runs spent exploring one condition before calling it undecided.
const MAX_RUNS: usize = 512;

/// Outcome of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Truth {
    True,
    False,
    /// Depends on these absent facts.
    Undecided(BTreeSet<Shared>),
}

/// What the runs of one condition gave.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Outcomes {
    /// Some combination made it true.
    pub seen_true: bool,
    /// Some combination made it false.
    pub seen_false: bool,
    /// Some run read a fact it could not try.
    pub unknown: bool,
    /// Static analysis only: the first failure met, and whether every run
    /// failed (in a decision the first failure ends the evaluation).
    pub failure: Option<String>,
    /// Every run failed.
    pub always_failed: bool,
}

/// Why an expression gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The decision's wall-clock budget ran out.
    Budget,
    /// A value the situation gives took a helper out of range.
    Data {
        /// The situation's facts the expression reads.
        facts: Vec<(String, FactValue)>,
        /// What went wrong.
        message: String,
    },
    /// The rule itself is wrong: a type error, a runaway loop.
    Rule(String),
}

impl Failure {
    /// In words, for analysis and explanations.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Budget => "orçamento de tempo da decisão esgotado".into(),
            Self::Data { message, .. } | Self::Rule(message) => message.clone(),
        }
    }
}

/// Why a run ended without an answer.
pub(crate) enum RunFailure {
    Failure(Failure),
    /// The native tree met something only Rhai answers exactly.
    Rhai,
}

pub(crate) struct Evaluator<'b> {
    bundle: &'b Bundle,
    /// `now`'s date, for the native tree's `today`.
    today: Option<chrono::NaiveDate>,
    /// The situation's facts by slot, for the native tree.
    table: Vec<Option<Val>>,
    probe: SharedProbe,
    /// Runs so far: the budget's timer is read every [`BUDGET_EVERY`] runs,
    /// not on each (reading it costs as much as a short condition).
    runs: std::cell::Cell<u32>,
}

/// How many runs go between two looks at the decision's budget.
const BUDGET_EVERY: u32 = 16;

impl<'b> Evaluator<'b> {
    pub(crate) fn new(bundle: &'b Bundle, facts: Arc<BTreeMap<String, FactValue>>) -> Self {
        let today_date = match facts.get(NOW) {
            Some(FactValue::DateTime(now)) => Some(now.date_naive()),
            _ => None,
        };
        let table = native::eval::fact_table(&bundle.vocabulary, &facts);
        let probe = Probe::new(
            facts,
            ProbeParts {
                vocabulary: bundle.vocabulary.clone(),
                slots: bundle.slots.clone(),
                derivations: bundle.derivations.clone(),
                catalog: bundle.catalog.clone(),
                today: today_date,
            },
        );
        Self {
            bundle,
            today: today_date,
            table,
            runs: std::cell::Cell::new(0),
            probe: Arc::new(std::sync::Mutex::new(probe)),
        }
    }

    /// An evaluator for static analysis: nothing is known, not even `now`,
    /// and `given(...)` is tried both ways.
    pub(crate) fn symbolic(bundle: &'b Bundle) -> Self {
        let evaluator = Self::new(bundle, Arc::default());
        lock(&evaluator.probe).symbolic = true;
        evaluator
    }

    /// A static-analysis evaluator that knows only the moment: rules that
    /// read the clock run, the rest is explored as in [`Evaluator::symbolic`].
    pub(crate) fn symbolic_at(bundle: &'b Bundle, now: DateTime<FixedOffset>) -> Self {
        let facts = BTreeMap::from([(NOW.to_string(), FactValue::DateTime(now))]);
        let evaluator = Self::new(bundle, Arc::new(facts));
        lock(&evaluator.probe).symbolic = true;
        evaluator
    }

    /// Counts a run, and every [`BUDGET_EVERY`] runs looks at the budget.
    fn tick(&self) -> Result<(), Failure> {
        let runs = self.runs.get().wrapping_add(1);
        self.runs.set(runs);
        if runs % BUDGET_EVERY == 0 && budget::exceeded() {
            return Err(Failure::Budget);
        }
        Ok(())
    }

    /// One run on Rhai; `Ok(None)` when it read an unknown fact.
    fn run(&self, expr: &Expr) -> Result<Option<Dynamic>, Failure> {
        self.tick()?;
        {
            let mut probe = lock(&self.probe);
            probe.assigned.clear();
            probe.aborted = false;
        }
        let mut scope = sandbox::scope_for(&self.probe);
        let ast = self.bundle.rhai_ast(expr).map_err(Failure::Rule)?;
        let result = self.bundle.engine.eval_ast_with_scope::<Dynamic>(&mut scope, ast);
        if lock(&self.probe).aborted {
            return Ok(None);
        }
        result.map(Some).map_err(|err| self.failure(expr, &err))
    }

    /// One run on the native tree; `Ok(None)` when it read an unknown fact.
    fn run_native(&self, probe: &mut Probe, block: &native::tree::Block) -> Result<Option<Val>, RunFailure> {
        let mut context = self.native_context(probe, block)?;
        stopped(native::eval::run(block, &mut context))
    }

    /// One run of a condition on the native tree; `Ok(None)` when it read
    /// an unknown fact.
    fn run_native_truth(&self, probe: &mut Probe, block: &native::tree::Block) -> Result<Option<bool>, RunFailure> {
        let mut context = self.native_context(probe, block)?;
        stopped(native::eval::truth(block, &mut context))
    }

    /// Counts a run and readies the probe for it.
    fn native_context<'p>(
        &'p self,
        probe: &'p mut Probe,
        block: &'p native::tree::Block,
    ) -> Result<native::eval::Context<'p>, RunFailure> {
        self.tick().map_err(RunFailure::Failure)?;
        probe.assigned.clear();
        probe.aborted = false;
        Ok(native::eval::Context {
            table: &self.table,
            probe,
            narrowing: &block.narrowing,
            calendar: &self.bundle.calendar,
            today: self.today,
        })
    }

    /// Whether the rule's leading equality is false on a fact the situation
    /// gives: exactly what running it would find, without running it.
    fn rules_out(&self, rule: &Rule) -> bool {
        self.bundle.evaluation == Evaluation::Native
            && rule
                .discriminant
                .as_ref()
                .is_some_and(|discriminant| discriminant.rules_out(&self.table))
    }

    /// The native tree of an expression, when it has one and it is chosen.
    fn native_of<'e>(&self, expr: &'e Expr) -> Option<&'e native::tree::Block> {
        match self.bundle.evaluation {
            Evaluation::Native => expr.native.as_deref(),
            Evaluation::Rhai => None,
        }
    }

    /// What a Rhai error means: the budget, the situation's data (a helper
    /// taken out of range by a value the situation gives), or the rule.
    fn failure(&self, expr: &Expr, err: &EvalAltResult) -> Failure {
        let inner = err.unwrap_inner();
        if matches!(inner, EvalAltResult::ErrorTerminated(..)) {
            return Failure::Budget;
        }
        // Rhai's "(line 1, position N)" is inside the expression; the error
        // names the rule's line in its YAML file instead.
        let text = inner.to_string();
        let message = text
            .strip_suffix(&format!(" ({})", inner.position()))
            .unwrap_or(&text)
            .to_string();
        if matches!(
            inner,
            EvalAltResult::ErrorArithmetic(..) | EvalAltResult::ErrorDataTooLarge(..)
        ) {
            let probe = lock(&self.probe);
            let facts: Vec<(String, FactValue)> = scan::scan(&expr.source)
                .paths
                .iter()
                .filter_map(|path| {
                    let dotted = path.dotted();
                    probe.facts.get(&dotted).map(|value| (dotted, value.clone()))
                })
                .collect();
            if !facts.is_empty() && !probe.symbolic {
                return Failure::Data { facts, message };
            }
        }
        Failure::Rule(message)
    }

    pub(crate) fn condition(&self, expr: &Expr) -> Result<Truth, Failure> {
        let outcomes = self.outcomes(expr, true)?;
        Ok(if outcomes.unknown || (outcomes.seen_true && outcomes.seen_false) {
            Truth::Undecided(lock(&self.probe).read_paths())
        } else if outcomes.seen_true {
            Truth::True
        } else {
            Truth::False
        })
    }

    /// What the runs of an expression gave, over every choice explored;
    /// `condition` when it must give true or false. In a decision the first
    /// failure is the answer; in static analysis failures are counted.
    pub(crate) fn outcomes(&self, expr: &Expr, condition: bool) -> Result<Outcomes, Failure> {
        if let Some(block) = self.native_of(expr) {
            // One lock for the whole exploration: the native tree never
            // calls into Rhai, which takes the probe's lock itself.
            let mut probe = lock(&self.probe);
            // The tree only adds to what is assumed: cutting back undoes it.
            let assumed = probe.assumed.len();
            let mut runner = NativeRuns {
                evaluator: self,
                probe: &mut probe,
                block,
                condition,
            };
            match self.explore(&mut runner) {
                Ok(outcomes) => return Ok(outcomes),
                Err(RunFailure::Failure(failure)) => return Err(failure),
                // Start over on Rhai, as if the native tree had not run.
                Err(RunFailure::Rhai) => probe.assumed.truncate(assumed),
            }
        }
        // Rhai tries the values the native tree would, whichever runs.
        let narrowing = expr.native.as_ref().map(|block| block.narrowing.clone());
        lock(&self.probe).narrowing = narrowing.unwrap_or_default();
        let mut runner = RhaiRuns {
            evaluator: self,
            expr,
            condition,
        };
        let explored = self.explore(&mut runner);
        lock(&self.probe).narrowing = native::tree::Narrowing::default();
        match explored {
            Ok(outcomes) => Ok(outcomes),
            Err(RunFailure::Failure(failure)) => Err(failure),
            Err(RunFailure::Rhai) => Err(Failure::Rule("o avaliador Rhai não deu resposta".into())),
        }
    }

    /// Runs an expression over every combination of choices (see the
    /// module's comment); a run gives a truth, or `Some(true)` for a value.
    fn explore(&self, runner: &mut impl Runs) -> Result<Outcomes, RunFailure> {
        let symbolic = runner.with_probe(|probe| {
            probe.start(true);
            probe.symbolic
        });
        let mut outcomes = Outcomes::default();
        let (mut runs, mut failed) = (0, 0);
        loop {
            match runner.run() {
                Ok(None) => outcomes.unknown = true,
                Ok(Some(true)) => outcomes.seen_true = true,
                Ok(Some(false)) => outcomes.seen_false = true,
                Err(RunFailure::Failure(failure)) if symbolic && failure != Failure::Budget => {
                    failed += 1;
                    outcomes.failure.get_or_insert(failure.message());
                }
                Err(other) => return Err(other),
            }
            runs += 1;
            if !runner.with_probe(Probe::next_choice) {
                break;
            }
            if runs >= MAX_RUNS {
                outcomes.unknown = true;
                break;
            }
        }
        outcomes.always_failed = failed > 0 && failed == runs;
        // A failure in static analysis is as good as unknown for what the
        // condition can be: nothing is proven from it.
        outcomes.unknown |= outcomes.failure.is_some();
        Ok(outcomes)
    }

    /// Writes the text of a placeholder as people read it at the end of
    /// `out`, or gives the absent facts it needs.
    pub(crate) fn write_text(&self, expr: &Expr, out: &mut String) -> Result<Result<(), BTreeSet<Shared>>, Failure> {
        let value = match self.native_value(expr) {
            Some(answer) => match answer? {
                Ok(value) if value.write_display(out) => return Ok(Ok(())),
                Ok(value) => Ok(value.to_dynamic()),
                Err(facts) => Err(facts),
            },
            None => self.rhai_value(expr)?,
        };
        Ok(value.map(|value| out.push_str(&sandbox::display(&value))))
    }

    /// The value of an expression, or the absent facts it needs.
    pub(crate) fn value(&self, expr: &Expr) -> Result<Result<Dynamic, BTreeSet<Shared>>, Failure> {
        match self.native_value(expr) {
            Some(answer) => answer.map(|value| value.map(|value| value.to_dynamic())),
            None => self.rhai_value(expr),
        }
    }

    /// One run on the native tree; `None` when the expression has no tree
    /// or only Rhai can answer it (then it is as if the tree had not run).
    fn native_value(&self, expr: &Expr) -> Option<Result<Result<Val, BTreeSet<Shared>>, Failure>> {
        let block = self.native_of(expr)?;
        let mut probe = lock(&self.probe);
        let assumed = probe.assumed.len();
        probe.start(false);
        match self.run_native(&mut probe, block) {
            Ok(Some(value)) => Some(Ok(Ok(value))),
            Ok(None) => Some(Ok(Err(probe.read_paths()))),
            Err(RunFailure::Failure(failure)) => Some(Err(failure)),
            Err(RunFailure::Rhai) => {
                probe.assumed.truncate(assumed);
                None
            }
        }
    }

    /// One run on Rhai: the value, or the absent facts it needs.
    fn rhai_value(&self, expr: &Expr) -> Result<Result<Dynamic, BTreeSet<Shared>>, Failure> {
        lock(&self.probe).start(false);
        Ok(match self.run(expr)? {
            Some(value) => Ok(value),
            None => Err(lock(&self.probe).read_paths()),
        })
    }
}

/// How an exploration runs its expression: on the native tree, holding the
/// probe throughout, or on Rhai, which takes the probe's lock as it reads.
trait Runs {
    /// Works on the probe between runs.
    fn with_probe<R>(&mut self, work: impl FnOnce(&mut Probe) -> R) -> R;
    /// One run: a truth, `Some(true)` for a value, `None` when unknown.
    fn run(&mut self) -> Result<Option<bool>, RunFailure>;
}

struct NativeRuns<'e, 'b, 'p> {
    evaluator: &'e Evaluator<'b>,
    probe: &'p mut Probe,
    block: &'e native::tree::Block,
    condition: bool,
}

impl Runs for NativeRuns<'_, '_, '_> {
    fn with_probe<R>(&mut self, work: impl FnOnce(&mut Probe) -> R) -> R {
        work(self.probe)
    }

    fn run(&mut self) -> Result<Option<bool>, RunFailure> {
        if self.condition {
            // A condition that is not a truth stops the tree: Rhai words
            // that error.
            return self.evaluator.run_native_truth(self.probe, self.block);
        }
        Ok(self.evaluator.run_native(self.probe, self.block)?.map(|_| true))
    }
}

struct RhaiRuns<'e, 'b> {
    evaluator: &'e Evaluator<'b>,
    expr: &'e Expr,
    condition: bool,
}

impl Runs for RhaiRuns<'_, '_> {
    fn with_probe<R>(&mut self, work: impl FnOnce(&mut Probe) -> R) -> R {
        work(&mut lock(&self.evaluator.probe))
    }

    fn run(&mut self) -> Result<Option<bool>, RunFailure> {
        let value = self.evaluator.run(self.expr).map_err(RunFailure::Failure)?;
        match value {
            Some(value) if self.condition => value.as_bool().map(Some).map_err(|kind| {
                RunFailure::Failure(Failure::Rule(format!("uma condição dá true ou false; esta deu {kind}")))
            }),
            Some(_) => Ok(Some(true)),
            None => Ok(None),
        }
    }
}

/// A native run's outcome as the exploration counts it.
fn stopped<T>(outcome: Result<T, Stop>) -> Result<Option<T>, RunFailure> {
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(Stop::Unknown) => Ok(None),
        Err(Stop::Rhai) => Err(RunFailure::Rhai),
    }
}

/// What an item of a rule is: names the field an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Action,
    Script,
    Reminder,
}

impl ItemKind {
    fn field(self) -> &'static str {
        match self {
            Self::Action => "actions",
            Self::Script => "scripts",
            Self::Reminder => "reminders",
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
        let ended = self.ended_flows(&evaluator, &mut groups).map_err(in_situation)?;
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

    /// The flows ended by rules that fire, worked out before any rule runs,
    /// so a rule ends a flow wherever the flow's rules sit in the bundle.
    fn ended_flows<'r>(
        &'r self,
        evaluator: &Evaluator<'_>,
        groups: &mut GivenGroups<'_>,
    ) -> Result<EndedFlows<'r>, DecideError> {
        let mut ended = EndedFlows::default();
        for (index, rule) in self
            .rule_index
            .stoppers()
            .iter()
            .filter_map(|index| Some((*index, self.rules.get(*index)?)))
        {
            if rule.required.iter().any(|(group, _)| !groups.gives(*group)) {
                continue;
            }
            let fires = match &rule.when {
                None => true,
                Some(expr) => {
                    let truth = evaluator
                        .condition(expr)
                        .map_err(|failure| self.decide_error(rule, None, "when", failure))?;
                    let fires = truth == Truth::True;
                    // What the condition assumed is its own: taken out of
                    // the probe, the next stopper starts clean.
                    let assumed = std::mem::take(&mut lock(&evaluator.probe).assumed);
                    ended.conditions.push(KnownCondition {
                        rule: index,
                        truth,
                        assumed,
                    });
                    fires
                }
            };
            if fires {
                ended.stoppers.insert(&rule.id);
                for flow in &rule.stops {
                    // Written once per ended flow, shared by each rule it skips.
                    ended
                        .flows
                        .entry(flow.as_str())
                        .or_insert_with(|| format!("não avaliada: `{}` encerrou o fluxo `{flow}`", rule.id).into());
                }
            }
        }
        Ok(ended)
    }

    /// The situation's facts, with `now` given when the situation has none.
    pub(crate) fn facts_with_now(
        &self,
        situation: &Situation,
        now: DateTime<FixedOffset>,
    ) -> Arc<BTreeMap<String, FactValue>> {
        let mut facts = Arc::clone(&situation.facts);
        if !facts.contains_key(NOW) {
            let now = FactValue::DateTime(now.with_timezone(&self.offset));
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
        let fail = |field: &str, failure: Failure| self.decide_error(rule, None, field, failure);
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
            Truth::True | Truth::False => {}
            Truth::Undecided(facts) => {
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
        }
        if truth == Truth::True {
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
        }
        // A default shapes the decision whether the rule fired or not: a
        // rule that did not fire because `asks_deadline` was assumed false
        // is as much an assumption as one that fired.
        out.assumed.extend(lock(&evaluator.probe).assumed.drain(..));
        Ok(truth == Truth::True)
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
            self.decide_error(rule, Some(&item.id), &field, failure)
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

    /// The error of a failed expression, at its line in the rule's file:
    /// against the situation when a value it gives caused it, else against
    /// the rule.
    fn decide_error(&self, rule: &Rule, item: Option<&str>, field: &str, failure: Failure) -> DecideError {
        let key = field.rsplit('.').next().unwrap_or(field);
        let mut anchors = vec![("id", Some(rule.id.as_str()))];
        anchors.extend(item.map(|id| ("id", Some(id))));
        anchors.push((key, None));
        let text = self.file_text(&rule.file);
        let line = locate::line_of(text, &anchors).or_else(|| locate::line_of(text, &anchors[..1]));
        let at = Location {
            file: rule.file.clone(),
            line,
            column: None,
        };
        let message = match failure {
            Failure::Budget => format!(
                "a decisão passou do orçamento de {} ms (`limits.decision_ms` em bundle.yaml) nesta regra",
                self.manifest.limits.decision_ms
            ),
            Failure::Rule(message) => message,
            Failure::Data { facts, message } => {
                let found = facts
                    .iter()
                    .map(|(path, value)| format!("`{path}` = `{}`", value.display()))
                    .collect::<Vec<_>>()
                    .join(", ");
                return DecideError::Situation(SituationError {
                    location: Location {
                        file: String::new(),
                        line: None,
                        column: None,
                    },
                    field: facts.first().map(|(path, _)| path.clone()),
                    found: Some(found),
                    allowed: None,
                    message: format!(
                        "a regra `{}` ({at}, campo `{field}`) não consegue calcular com este valor: {message}",
                        rule.id
                    ),
                });
            }
        };
        DecideError::Rule(RuleError {
            rule: rule.id.to_string(),
            file: rule.file.clone(),
            line,
            field: field.to_string(),
            message,
        })
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
        Decision {
            bundle: self.info.clone(),
            outputs,
            actions: out.actions.into_iter().map(|(_, action)| action).collect(),
            scripts: out.scripts.into_iter().map(|(_, script)| script).collect(),
            reminders: out.reminders,
            missing,
            assumed,
            warnings,
            trace: out.trace,
        }
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
                    FactValue::DateTime(now.with_timezone(&self.offset)).display().into()
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

/// Flows ended in one decision, each by the first rule that ended it.
#[derive(Default)]
struct EndedFlows<'r> {
    /// Each ended flow, with why the rules it skips were not evaluated.
    flows: BTreeMap<&'r str, Shared>,
    /// Rules that ended a flow: they stay, even in a flow they ended.
    stoppers: BTreeSet<&'r str>,
    /// The conditions worked out to find them, in the bundle's order: the
    /// main pass reuses them instead of running them again.
    conditions: Vec<KnownCondition>,
}

/// A condition already run in this decision: its truth and the slots of
/// the defaults it assumed (the same every run, as the situation is).
struct KnownCondition {
    rule: usize,
    truth: Truth,
    assumed: Vec<usize>,
}

impl<'r> EndedFlows<'r> {
    /// The condition of the rule at `index`, when the pre-pass ran it.
    fn condition(&self, index: usize) -> Option<&KnownCondition> {
        let at = self.conditions.binary_search_by_key(&index, |known| known.rule).ok()?;
        self.conditions.get(at)
    }

    /// Why a rule of an ended flow was not evaluated (the rule that ended
    /// the flow and the flow), or `None` when its flow goes on.
    fn stopped_by(&self, rule: &Rule) -> Option<&Shared> {
        let why = self.flows.get(rule.flow.as_deref()?)?;
        (!self.stoppers.contains(rule.id.as_str())).then_some(why)
    }
}

/// Whether the situation gives each group rules require, asked once per
/// group and decision.
struct GivenGroups<'s> {
    names: &'s [String],
    situation: &'s Situation,
    given: Vec<Option<bool>>,
}

impl<'s> GivenGroups<'s> {
    fn new(names: &'s [String], situation: &'s Situation) -> Self {
        Self {
            names,
            situation,
            given: vec![None; names.len()],
        }
    }

    /// Whether the situation gives the group at `index` of `names`.
    fn gives(&mut self, index: usize) -> bool {
        let (Some(known), Some(name)) = (self.given.get_mut(index), self.names.get(index)) else {
            return false;
        };
        *known.get_or_insert_with(|| self.situation.gives_group(name))
    }
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

    use crate::RuleStatus;

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
