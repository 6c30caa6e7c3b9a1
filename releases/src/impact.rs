//! The impact of a bundle on real traffic: the log's latest situations
//! decided again (each as of the moment it was decided) and compared with
//! what was decided, outputs and fired rules. What `/v1/diff` answers and
//! what `roteiro publish` shows before asking for confirmation.

use std::collections::BTreeMap;

use chrono::DateTime;
use roteiro_decision_log::Record;
use roteiro_engine::Bundle;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most logged decisions decided again (the latest ones).
pub const MAX_REPLAYED: usize = 5_000;

/// Most changes listed (all are counted).
const MAX_LISTED: usize = 100;

/// The latest situations of the log decided again with one bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    /// The digest of the bundle that decided again.
    pub bundle: String,
    /// Situations decided again.
    pub compared: usize,
    /// Those whose outputs and fired rules stayed.
    pub same: usize,
    /// Those that changed.
    pub changed: usize,
    /// Those that no longer read (the vocabulary changed) or fail.
    pub unreadable: usize,
    /// How many changed situations each rule is part of: fired before and
    /// not now, or now and not before; most first.
    #[serde(default)]
    pub by_rule: Vec<RuleImpact>,
    /// The first changes.
    pub changes: Vec<Change>,
}

/// A rule and the changed situations it fired differently in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleImpact {
    /// The rule.
    pub rule: String,
    /// Situations where it fired before but not now.
    pub stopped: usize,
    /// Situations where it fires now but did not before.
    pub started: usize,
}

/// One situation whose decision changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The log's record.
    pub id: i64,
    /// The moment it was decided as of.
    pub decided_as_of: String,
    /// Outputs and fired rules then.
    pub before: Outcome,
    /// And now.
    pub after: Outcome,
}

/// What a decision's comparison looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The outputs.
    pub outputs: Value,
    /// The fired rules.
    pub rules: Vec<String>,
}

/// The latest of `records` (oldest first) decided again with `bundle`.
pub fn replay(bundle: &Bundle, records: &[Record]) -> Impact {
    let (mut same, mut unreadable, mut changes) = (0usize, 0usize, Vec::new());
    let mut by_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let latest = records.iter().rev().take(MAX_REPLAYED);
    let compared = latest.len();
    for record in latest {
        let Some(after) = decide_again(bundle, record) else {
            unreadable += 1;
            continue;
        };
        let before = Outcome {
            outputs: record.outputs.clone(),
            rules: record.fired.clone(),
        };
        if after == before {
            same += 1;
            continue;
        }
        for rule in before.rules.iter().filter(|rule| !after.rules.contains(rule)) {
            by_rule.entry(rule.clone()).or_default().0 += 1;
        }
        for rule in after.rules.iter().filter(|rule| !before.rules.contains(rule)) {
            by_rule.entry(rule.clone()).or_default().1 += 1;
        }
        changes.push(Change {
            id: record.id,
            decided_as_of: record.decided_as_of.clone(),
            before,
            after,
        });
    }
    let changed = changes.len();
    changes.truncate(MAX_LISTED);
    let mut by_rule: Vec<RuleImpact> = by_rule
        .into_iter()
        .map(|(rule, (stopped, started))| RuleImpact { rule, stopped, started })
        .collect();
    by_rule.sort_by_key(|rule| std::cmp::Reverse(rule.stopped + rule.started));
    Impact {
        bundle: bundle.info().digest.to_string(),
        compared,
        same,
        changed,
        unreadable,
        by_rule,
        changes,
    }
}

/// The outputs and fired rules the bundle gives the record's situation
/// now; `None` when the situation no longer fits the vocabulary or a rule
/// fails.
fn decide_again(bundle: &Bundle, record: &Record) -> Option<Outcome> {
    let situation = bundle.parse_situation(record.situation.to_string(), "log").ok()?;
    let now = DateTime::parse_from_rfc3339(&record.decided_as_of).ok()?;
    let decision = bundle.decide(&situation, now).ok()?;
    let rules = decision
        .trace
        .iter()
        .filter(|entry| entry.fired)
        .map(|entry| entry.rule.to_string())
        .collect();
    Some(Outcome {
        outputs: serde_json::to_value(&decision.outputs).ok()?,
        rules,
    })
}
