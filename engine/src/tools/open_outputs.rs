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
        let mut settled_at: HashMap<&str, i64> = HashMap::new();
        let mut undecided = Vec::new();
        // The trace holds one entry per rule, in the bundle's order.
        for (entry, rule) in decision.trace.iter().zip(&self.rules) {
            debug_assert_eq!(entry.rule, rule.id.as_ref());
            match entry.status {
                RuleStatus::Fired => {
                    for output in outputs_of(rule) {
                        let best = settled_at.entry(output).or_insert(i64::MIN);
                        *best = (*best).max(rule.priority);
                    }
                }
                RuleStatus::Undecided => undecided.push(rule),
                RuleStatus::NotFired | RuleStatus::Skipped => {}
            }
        }
        let mut open: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for rule in undecided {
            for output in outputs_of(rule) {
                if rule.priority < settled_at.get(output).copied().unwrap_or(i64::MIN) {
                    continue;
                }
                let deciding = open.entry(output.to_string()).or_default();
                let waits = |needed: &crate::facts::shared::Shared| needed.split('#').next() == Some(rule.id.as_ref());
                for missing in decision.missing.iter().filter(|m| m.needed_by.iter().any(waits)) {
                    if !deciding.iter().any(|fact| **fact == *missing.fact) {
                        deciding.push(missing.fact.to_string());
                    }
                }
            }
        }
        open
    }
}

/// The outputs a rule sets when it fires, fixed or computed.
fn outputs_of(rule: &Rule) -> impl Iterator<Item = &str> {
    (rule.set.keys().map(String::as_str)).chain(rule.compute.iter().map(|(output, _)| output.as_str()))
}
