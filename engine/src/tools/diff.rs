//! What changes between two decisions on the same situation: how a process
//! owner sees the effect of an edit before publishing it.
//!
//! Every change says what kind it is (added, removed, reworded), shows the
//! old and new wording of a reworded text, and names the rule behind it: the
//! rule that owns the step or text, or that set the output.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::decide::decision::Decision;
use crate::decide::trace::RuleStatus;

/// One step or text that differs, with the rule behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemChange {
    /// `action` or `script`.
    pub kind: &'static str,
    /// The step's or text's id.
    pub id: String,
    /// The rule that contributes it (in the new decision, else the base one).
    pub rule: String,
    /// The wording before; `None` when it is new.
    pub before: Option<String>,
    /// The wording after; `None` when it is gone.
    pub after: Option<String>,
}

impl ItemChange {
    /// `added`, `removed` or `reworded`.
    pub fn what(&self) -> &'static str {
        match (&self.before, &self.after) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "reworded",
        }
    }
}

/// The differences between the decision of the base bundle and the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecisionChange {
    /// Outputs whose value changed: (name, before, after); `null` = unset.
    pub outputs: Vec<(String, String, String)>,
    /// Action ids only the new decision has.
    pub actions_added: Vec<String>,
    /// Action ids only the base decision has.
    pub actions_removed: Vec<String>,
    /// Action ids whose text (or macro) changed.
    pub actions_changed: Vec<String>,
    /// Script ids added, removed or reworded.
    pub scripts_changed: Vec<String>,
    /// Missing facts added or removed.
    pub missing_changed: Vec<String>,
    /// Facts the new decision asks and the base did not.
    pub missing_added: Vec<String>,
    /// Facts the base decision asked and the new one does not.
    pub missing_removed: Vec<String>,
    /// Every step and text that differs, with its wording and its rule.
    pub items: Vec<ItemChange>,
    /// Rules whose outcome changed (fired, not fired, undecided, skipped).
    pub rules: Vec<String>,
    /// What each rule behind a change changed: its items and outputs.
    pub by_rule: BTreeMap<String, Vec<String>>,
}

impl DecisionChange {
    /// Whether the two decisions are the same for an analyst.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty() && self.items.is_empty() && self.missing_changed.is_empty()
    }
}

/// `(id, text, rule)` of a decision's actions (text and macro together) or
/// scripts.
type Texts = Vec<(String, String, String)>;

fn actions(decision: &Decision) -> Texts {
    decision
        .actions
        .iter()
        .map(|a| {
            let text = match &a.r#macro {
                Some(name) => format!("{} [macro: {name}]", a.text),
                None => a.text.to_string(),
            };
            (a.id.to_string(), text, a.rule.to_string())
        })
        .collect()
}

fn scripts(decision: &Decision) -> Texts {
    decision
        .scripts
        .iter()
        .map(|s| (s.id.to_string(), s.text.to_string(), s.rule.to_string()))
        .collect()
}

/// Added, removed and reworded items between two lists, in the new list's
/// order then the removed ones.
fn item_changes(kind: &'static str, base: &Texts, new: &Texts) -> Vec<ItemChange> {
    let mut out = Vec::new();
    for (id, text, rule) in new {
        let old = base.iter().find(|(old_id, ..)| old_id == id);
        if old.is_some_and(|(_, old_text, _)| old_text == text) {
            continue;
        }
        out.push(ItemChange {
            kind,
            id: id.clone(),
            rule: rule.clone(),
            before: old.map(|(_, old_text, _)| old_text.clone()),
            after: Some(text.clone()),
        });
    }
    for (id, text, rule) in base {
        if !new.iter().any(|(new_id, ..)| new_id == id) {
            out.push(ItemChange {
                kind,
                id: id.clone(),
                rule: rule.clone(),
                before: Some(text.clone()),
                after: None,
            });
        }
    }
    out
}

/// Compares the base decision with the new one.
pub fn compare_decisions(base: &Decision, new: &Decision) -> DecisionChange {
    let mut change = DecisionChange::default();
    let mut by_rule: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let names: BTreeSet<&String> = base.outputs.keys().chain(new.outputs.keys()).collect();
    for name in names {
        let show = |d: &Decision| d.outputs.get(name).map_or("null".to_string(), |v| v.to_string());
        let (before, after) = (show(base), show(new));
        if before != after {
            // The rule that set the value now, or the one whose value is gone.
            let setter = [new, base].into_iter().find_map(|d| {
                d.trace
                    .iter()
                    .find(|t| t.fired && t.sets.contains_key(name) && !t.overridden.contains(name))
                    .map(|t| t.rule.to_string())
            });
            if let Some(rule) = setter {
                by_rule.entry(rule).or_default().push(format!("saída {name}"));
            }
            change.outputs.push((name.clone(), before, after));
        }
    }
    let action_changes = item_changes("action", &actions(base), &actions(new));
    let script_changes = item_changes("script", &scripts(base), &scripts(new));
    for item in &action_changes {
        match item.what() {
            "added" => change.actions_added.push(item.id.clone()),
            "removed" => change.actions_removed.push(item.id.clone()),
            _ => change.actions_changed.push(item.id.clone()),
        }
    }
    change.scripts_changed = script_changes.iter().map(|item| item.id.clone()).collect();
    change.items = action_changes.into_iter().chain(script_changes).collect();
    for item in &change.items {
        by_rule.entry(item.rule.clone()).or_default().push(item.id.clone());
    }

    let asked = |d: &Decision| d.missing.iter().map(|m| m.fact.to_string()).collect::<BTreeSet<_>>();
    let (before, after) = (asked(base), asked(new));
    change.missing_added = after.difference(&before).cloned().collect();
    change.missing_removed = before.difference(&after).cloned().collect();
    change.missing_changed = before.symmetric_difference(&after).cloned().collect();

    let (before, after) = (outcomes(base), outcomes(new));
    let mut rules: BTreeSet<String> = before
        .keys()
        .chain(after.keys())
        .filter(|rule| match (before.get(*rule), after.get(*rule)) {
            (Some(was), Some(is)) => was != is,
            // A rule only one bundle has changes a decision only where it
            // fires: a new rule that never fired here is not blamed.
            (Some((status, _)), None) | (None, Some((status, _))) => *status == RuleStatus::Fired,
            (None, None) => false,
        })
        .map(|rule| (*rule).to_string())
        .collect();
    rules.extend(by_rule.keys().cloned());
    change.rules = rules.into_iter().collect();
    change.by_rule = by_rule;
    change
}

/// Each rule's outcome (status and outputs set) by rule id: the two
/// bundles may order or name their rules differently, and looking each
/// rule up by a scan would be quadratic in the rules.
fn outcomes(decision: &Decision) -> BTreeMap<&str, (RuleStatus, &BTreeMap<String, serde_json::Value>)> {
    decision.trace.iter().map(|t| (t.rule, (t.status, t.sets))).collect()
}
