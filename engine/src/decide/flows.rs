//! Which flows a situation ends and which context groups it gives, worked
//! out once per decision before the rules are applied: a rule that takes
//! the case elsewhere ends its flows wherever their rules sit.

use std::collections::{BTreeMap, BTreeSet};

use crate::decide::error::DecideError;
use crate::decide::evaluate::{Evaluator, Truth};
use crate::decide::situation::Situation;
use crate::expr::probe::lock;
use crate::facts::shared::Shared;
use crate::model::bundle::{Bundle, Rule};

/// The flows ended by rules that fire, worked out before any rule runs,
/// so a rule ends a flow wherever the flow's rules sit in the bundle.
pub(super) fn ended_flows<'r>(
    bundle: &'r Bundle,
    evaluator: &Evaluator<'_>,
    groups: &mut GivenGroups<'_>,
) -> Result<EndedFlows<'r>, DecideError> {
    let mut ended = EndedFlows::default();
    for (index, rule) in bundle
        .rule_index
        .stoppers()
        .iter()
        .filter_map(|index| Some((*index, bundle.rules.get(*index)?)))
    {
        if rule.required.iter().any(|(group, _)| !groups.gives(*group)) {
            continue;
        }
        let fires = match &rule.when {
            None => true,
            Some(expr) => {
                let truth = evaluator
                    .condition(expr)
                    .map_err(|failure| failure.for_rule(bundle, rule, None, "when"))?;
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

/// Flows ended in one decision, each by the first rule that ended it.
#[derive(Default)]
pub(super) struct EndedFlows<'r> {
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
pub(super) struct KnownCondition {
    rule: usize,
    pub(super) truth: Truth,
    pub(super) assumed: Vec<usize>,
}

impl<'r> EndedFlows<'r> {
    /// The condition of the rule at `index`, when the pre-pass ran it.
    pub(super) fn condition(&self, index: usize) -> Option<&KnownCondition> {
        let at = self.conditions.binary_search_by_key(&index, |known| known.rule).ok()?;
        self.conditions.get(at)
    }

    /// Why a rule of an ended flow was not evaluated (the rule that ended
    /// the flow and the flow), or `None` when its flow goes on.
    pub(super) fn stopped_by(&self, rule: &Rule) -> Option<&Shared> {
        let why = self.flows.get(rule.flow.as_deref()?)?;
        (!self.stoppers.contains(rule.id.as_str())).then_some(why)
    }
}

/// Whether the situation gives each group rules require, asked once per
/// group and decision.
pub(super) struct GivenGroups<'s> {
    names: &'s [String],
    situation: &'s Situation,
    given: Vec<Option<bool>>,
}

impl<'s> GivenGroups<'s> {
    pub(super) fn new(names: &'s [String], situation: &'s Situation) -> Self {
        Self {
            names,
            situation,
            given: vec![None; names.len()],
        }
    }

    /// Whether the situation gives the group at `index` of `names`.
    pub(super) fn gives(&mut self, index: usize) -> bool {
        let (Some(known), Some(name)) = (self.given.get_mut(index), self.names.get(index)) else {
            return false;
        };
        *known.get_or_insert_with(|| self.situation.gives_group(name))
    }
}
