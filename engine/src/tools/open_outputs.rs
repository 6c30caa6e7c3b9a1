//! Outputs a decision has not settled yet: what the decision lists under
//! `open_outputs`, and the page and the text output show "a decidir"
//! instead of the value they hold for now (before the scope of a training
//! is known, the route is Suporte or IO, not Suporte).

use std::collections::{BTreeMap, HashMap};

use crate::decide::decision::Decision;
use crate::decide::trace::RuleStatus;
use crate::model::bundle::{Bundle, Rule};

impl Bundle {
    /// The decision with its open outputs listed: only a rule waiting for
    /// a missing fact leaves one open.
    pub(crate) fn with_open_outputs(&self, mut decision: Decision) -> Decision {
        if !decision.missing.is_empty() {
            decision.open_outputs = self.open_outputs(&decision);
        }
        decision
    }

    /// Each output a rule still undecided (waiting for a missing fact)
    /// would set, at a priority that reaches the rules that set it, with
    /// the missing facts that decide it, in the decision's order.
    fn open_outputs(&self, decision: &Decision) -> BTreeMap<String, Vec<String>> {
        // Outputs are few: a list scanned beats hashing each name.
        let mut settled_at: Vec<(&str, i64)> = Vec::new();
        let mut undecided = Vec::new();
        // The trace holds one status per rule, in the bundle's order.
        for (status, rule) in decision.trace.statuses().zip(&self.rules) {
            match status {
                RuleStatus::Fired => {
                    for output in outputs_of(rule) {
                        match settled_at.iter_mut().find(|(name, _)| *name == output) {
                            Some((_, best)) => *best = (*best).max(rule.priority),
                            None => settled_at.push((output, rule.priority)),
                        }
                    }
                }
                RuleStatus::Undecided => undecided.push(rule),
                RuleStatus::NotFired | RuleStatus::Skipped => {}
            }
        }
        // What each rule waits for, in the decision's order, read once
        // (`needed_by` names a rule, or a rule#part).
        let mut waits_for: HashMap<&str, Vec<&str>> = HashMap::new();
        for missing in &decision.missing {
            for needed in &missing.needed_by {
                let rule = needed.split('#').next().unwrap_or_default();
                let facts = waits_for.entry(rule).or_default();
                if facts.last() != Some(&missing.fact.as_ref()) {
                    facts.push(missing.fact.as_ref());
                }
            }
        }
        let mut open: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for rule in undecided {
            for output in outputs_of(rule) {
                let settled = settled_at.iter().find(|(name, _)| *name == output);
                if settled.is_some_and(|(_, best)| rule.priority < *best) {
                    continue;
                }
                let deciding = open.entry(output).or_default();
                for fact in waits_for.get(rule.id.as_ref()).into_iter().flatten() {
                    if !deciding.contains(fact) {
                        deciding.push(fact);
                    }
                }
            }
        }
        (open.into_iter())
            .map(|(output, facts)| (output.to_string(), facts.into_iter().map(str::to_string).collect()))
            .collect()
    }
}

/// The outputs a rule sets when it fires, fixed or computed.
fn outputs_of(rule: &Rule) -> impl Iterator<Item = &str> {
    (rule.set.keys().map(String::as_str)).chain(rule.compute.iter().map(|(output, _)| output.as_str()))
}
