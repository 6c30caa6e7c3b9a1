//! What changes between two decisions on the same situation: how a process
//! owner sees the effect of an edit before publishing it.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::decision::Decision;

/// The differences between the decision of the base bundle and the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecisionChange {
    /// Outputs whose value changed: (name, before, after); `null` = unset.
    pub outputs: Vec<(String, String, String)>,
    /// Action ids only the new decision has.
    pub actions_added: Vec<String>,
    /// Action ids only the base decision has.
    pub actions_removed: Vec<String>,
    /// Action ids whose text changed.
    pub actions_changed: Vec<String>,
    /// Script ids added, removed or reworded.
    pub scripts_changed: Vec<String>,
    /// Missing facts added or removed.
    pub missing_changed: Vec<String>,
    /// Rules whose outcome changed (fired, not fired, undecided, skipped).
    pub rules: Vec<String>,
}

impl DecisionChange {
    /// Whether the two decisions are the same for an analyst.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
            && self.actions_added.is_empty()
            && self.actions_removed.is_empty()
            && self.actions_changed.is_empty()
            && self.scripts_changed.is_empty()
            && self.missing_changed.is_empty()
    }
}

fn symmetric(before: &[&str], after: &[&str]) -> Vec<String> {
    let before: BTreeSet<&str> = before.iter().copied().collect();
    let after: BTreeSet<&str> = after.iter().copied().collect();
    before.symmetric_difference(&after).map(|s| s.to_string()).collect()
}

/// Compares the base decision with the new one.
pub fn compare_decisions(base: &Decision, new: &Decision) -> DecisionChange {
    let mut change = DecisionChange::default();
    let names: BTreeSet<&String> = base.outputs.keys().chain(new.outputs.keys()).collect();
    for name in names {
        let show = |d: &Decision| d.outputs.get(name).map_or("null".to_string(), |v| v.to_string());
        let (before, after) = (show(base), show(new));
        if before != after {
            change.outputs.push((name.clone(), before, after));
        }
    }
    for action in &new.actions {
        match base.actions.iter().find(|a| a.id == action.id) {
            None => change.actions_added.push(action.id.to_string()),
            Some(old) if old.text != action.text || old.r#macro != action.r#macro => {
                change.actions_changed.push(action.id.to_string())
            }
            Some(_) => {}
        }
    }
    for action in &base.actions {
        if !new.actions.iter().any(|a| a.id == action.id) {
            change.actions_removed.push(action.id.to_string());
        }
    }
    let scripts = |d: &Decision| {
        d.scripts
            .iter()
            .map(|s| format!("{}\u{0}{}", s.id, s.text))
            .collect::<Vec<_>>()
    };
    let (old_scripts, new_scripts) = (scripts(base), scripts(new));
    let mut changed: BTreeSet<String> = BTreeSet::new();
    for entry in symmetric(
        &old_scripts.iter().map(String::as_str).collect::<Vec<_>>(),
        &new_scripts.iter().map(String::as_str).collect::<Vec<_>>(),
    ) {
        changed.insert(entry.split('\u{0}').next().unwrap_or_default().to_string());
    }
    change.scripts_changed = changed.into_iter().collect();
    change.missing_changed = symmetric(
        &base.missing.iter().map(|m| m.fact.as_str()).collect::<Vec<_>>(),
        &new.missing.iter().map(|m| m.fact.as_str()).collect::<Vec<_>>(),
    );
    // A rule is behind a change when its outcome or the values it set
    // changed, or when it owns a step or text that changed.
    let outcome = |d: &Decision, rule: &str| {
        d.trace
            .iter()
            .find(|t| t.rule == rule)
            .map(|t| (t.status, t.sets.clone()))
    };
    let mut rules: BTreeSet<String> = base
        .trace
        .iter()
        .chain(&new.trace)
        .map(|t| t.rule.as_str())
        .filter(|rule| outcome(base, rule) != outcome(new, rule))
        .map(str::to_string)
        .collect();
    let touched: BTreeSet<&str> = change
        .actions_added
        .iter()
        .chain(&change.actions_removed)
        .chain(&change.actions_changed)
        .chain(&change.scripts_changed)
        .map(String::as_str)
        .collect();
    for decision in [base, new] {
        let owners = decision
            .actions
            .iter()
            .map(|a| (&a.id, &a.rule))
            .chain(decision.scripts.iter().map(|s| (&s.id, &s.rule)));
        for (id, rule) in owners {
            if touched.contains(id.as_str()) {
                rules.insert(rule.to_string());
            }
        }
    }
    change.rules = rules.into_iter().collect();
    change
}
