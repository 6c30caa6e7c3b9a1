//! Which rules a decision visits.
//!
//! Most rules start with an equality on a fact that tells them apart
//! (`request.topic == "boleto"`). When the situation gives that fact another
//! value the rule cannot fire and reads nothing else, so its trace entry is
//! its usual "did not fire" and nothing else of the decision depends on it.
//! The index lists, for each value of such a fact, the rules the value lets
//! through: a decision visits those and passes over the rest without
//! looking at them. It gives exactly what [`Discriminant::rules_out`] would,
//! rule by rule, in time that grows with the rules visited.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::expr::native::tree::{Discriminant, Val};

/// The rules a decision visits, by the values of the facts that tell them
/// apart.
#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    /// Rules every decision visits, in the bundle's order.
    always: Vec<usize>,
    /// Rules led by an equality on a fact, by the fact's slot.
    by_slot: Vec<SlotRules>,
    /// Rules that end flows when they fire, which every decision looks at
    /// before the others.
    stoppers: Vec<usize>,
}

#[derive(Debug)]
struct SlotRules {
    slot: usize,
    /// The rules each value lets through, in the bundle's order.
    by_value: HashMap<Arc<str>, Vec<usize>>,
    /// Every rule led by an equality on this fact: all are visited when the
    /// situation does not give it as text.
    all: Vec<usize>,
}

impl RuleIndex {
    /// The index over rules given in the bundle's order, each with whether
    /// it ends flows and the equality that may pass it over: `None` for a
    /// rule always visited (no such equality, or a trace that would say
    /// more than "did not fire": an ended flow, a group already won, a
    /// missing context).
    pub(crate) fn new<'r>(rules: impl IntoIterator<Item = (bool, Option<&'r Discriminant>)>) -> Self {
        let mut index = Self::default();
        for (rule, (stopper, discriminant)) in rules.into_iter().enumerate() {
            if stopper {
                index.stoppers.push(rule);
            }
            let Some((slot, values)) = discriminant.and_then(Discriminant::texts) else {
                index.always.push(rule);
                continue;
            };
            let at = match index.by_slot.iter().position(|known| known.slot == slot) {
                Some(at) => at,
                None => {
                    index.by_slot.push(SlotRules {
                        slot,
                        by_value: HashMap::new(),
                        all: Vec::new(),
                    });
                    index.by_slot.len() - 1
                }
            };
            let Some(slot_rules) = index.by_slot.get_mut(at) else {
                continue;
            };
            slot_rules.all.push(rule);
            // Once per value, however often the condition repeats it.
            let distinct: BTreeSet<&Arc<str>> = values.collect();
            for value in distinct {
                slot_rules.by_value.entry(value.clone()).or_default().push(rule);
            }
        }
        index
    }

    /// The rules that end flows, in the bundle's order.
    pub(crate) fn stoppers(&self) -> &[usize] {
        &self.stoppers
    }

    /// The rules to visit given the situation's facts by slot, in the
    /// bundle's order.
    pub(crate) fn visits(&self, table: &[Option<Val>]) -> Vec<usize> {
        let mut visits = self.always.clone();
        for slot_rules in &self.by_slot {
            let rules = match table.get(slot_rules.slot) {
                Some(Some(Val::Text(given))) => slot_rules.by_value.get(given).map_or(&[][..], Vec::as_slice),
                _ => &slot_rules.all,
            };
            visits.extend_from_slice(rules);
        }
        visits.sort_unstable();
        visits
    }
}
