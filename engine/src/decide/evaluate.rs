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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use rhai::{Dynamic, EvalAltResult};

use crate::decide::error::{DecideError, RuleError, SituationError};
use crate::expr::budget;
use crate::expr::native;
use crate::expr::native::tree::{Stop, Val};
use crate::expr::probe::{lock, Probe, ProbeParts, SharedProbe};
use crate::expr::sandbox;
use crate::expr::scan;
use crate::facts::shared::Shared;
use crate::facts::vocabulary::{FactValue, NOW};
use crate::model::bundle::{Bundle, Evaluation, Expr, Rule};
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
    pub(super) table: Vec<Option<Val>>,
    pub(super) probe: SharedProbe,
    /// Runs so far: the budget's timer is read every [`BUDGET_EVERY`] runs,
    /// not on each (reading it costs as much as a short condition).
    runs: std::cell::Cell<u32>,
}

/// How many runs go between two looks at the decision's budget.
const BUDGET_EVERY: u32 = 16;

impl<'b> Evaluator<'b> {
    pub(crate) fn new(bundle: &'b Bundle, mut facts: Arc<BTreeMap<String, FactValue>>) -> Self {
        // Whoever built the facts (a parsed situation, `set_now`, an
        // answer), every moment is read in the bundle's zone.
        crate::decide::situation::localize(&mut facts, bundle.calendar.zone());
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
        if runs.is_multiple_of(BUDGET_EVERY) && budget::exceeded() {
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
    pub(super) fn rules_out(&self, rule: &Rule) -> bool {
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

impl Failure {
    /// The error of a failed expression, at its line in the rule's file:
    /// against the situation when a value it gives caused it, else against
    /// the rule.
    pub(crate) fn for_rule(self, bundle: &Bundle, rule: &Rule, item: Option<&str>, field: &str) -> DecideError {
        let key = field.rsplit('.').next().unwrap_or(field);
        let mut anchors = vec![("id", Some(rule.id.as_str()))];
        anchors.extend(item.map(|id| ("id", Some(id))));
        anchors.push((key, None));
        let text = bundle.file_text(&rule.file);
        let line = locate::line_of(text, &anchors).or_else(|| locate::line_of(text, &anchors[..1]));
        let at = Location {
            file: rule.file.clone(),
            line,
            column: None,
        };
        let message = match self {
            Failure::Budget => format!(
                "a decisão passou do orçamento de {} ms (`limits.decision_ms` em bundle.yaml) nesta regra",
                bundle.manifest.limits.decision_ms
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
}
