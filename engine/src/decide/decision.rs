//! The decision: what the analyst does next, says, lacks, and why.
//!
//! Its JSON form is the contract other programs rely on (`CONTRACT.md`,
//! section 3); field names never change.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decide::trace::Trace;
use crate::facts::shared::Shared;
use crate::model::source::{BundleInfo, Source};

/// The result of evaluating a situation against a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// Which bundle decided.
    pub bundle: BundleInfo,
    /// Decided values (`route`, `io_scheduling`, `block_date`...).
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Ordered steps for the analyst.
    pub actions: Vec<Action>,
    /// What to say or send to the client, placeholders filled.
    pub scripts: Vec<Script>,
    /// Guidelines that apply to this service (tone, documentation).
    pub reminders: Vec<Script>,
    /// What must happen later, soonest first: what the procedure waits for
    /// is data, not memory.
    pub follow_ups: Vec<FollowUp>,
    /// Facts that would change the decision, with the question to ask.
    pub missing: Vec<Missing>,
    /// Outputs not settled yet, each with the missing facts that decide
    /// it: a rule still waiting for an answer may set it, at a priority
    /// that reaches the value shown for now (before the scope of a
    /// training is known, the route is Suporte or IO). Absent when every
    /// output is settled.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub open_outputs: BTreeMap<String, Vec<String>>,
    /// Facts the decision took from the vocabulary's defaults.
    pub assumed: Vec<Assumed>,
    /// Conflicts and ignored input, in words.
    pub warnings: Vec<String>,
    /// Why each rule fired or not.
    pub trace: Trace,
}

/// A step for the analyst.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    /// Stable id of the step.
    pub id: Shared,
    /// What to do, in Portuguese.
    pub text: Shared,
    /// Team that does it.
    pub team: Option<Shared>,
    /// Exact name of the macro to apply.
    pub r#macro: Option<Shared>,
    /// Phase of the service the step belongs to.
    pub phase: Shared,
    /// Rule that contributed the step.
    pub rule: Shared,
    /// Document and section it comes from.
    pub source: Source,
}

/// A text to say or send, or a reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Script {
    /// Stable id of the text.
    pub id: Shared,
    /// The text, placeholders filled.
    pub text: Shared,
    /// Rule that contributed it.
    pub rule: Shared,
    /// Document and section it comes from.
    pub source: Source,
}

/// Something that must happen later, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FollowUp {
    /// Stable id of the follow-up.
    pub id: Shared,
    /// What to do then, in Portuguese.
    pub text: Shared,
    /// Team that does it.
    pub team: Option<Shared>,
    /// When it is due: a day (`YYYY-MM-DD`) or a moment (RFC 3339); absent
    /// while a fact it is worked out from is missing.
    pub due: Option<String>,
    /// The same as people read it (`dd/mm/yyyy` or `dd/mm/yyyy HH:MM`).
    pub due_text: Option<String>,
    /// Whether it was due before the decision's moment.
    pub overdue: bool,
    /// Facts its due time is worked out from that the situation lacks
    /// (then `due` is absent).
    pub needs: Vec<Shared>,
    /// The condition that closes it, in words (fact labels, "e", "ou",
    /// "não"; the rule's Rhai where it has no wording).
    pub until: Option<Shared>,
    /// Rule that contributed it.
    pub rule: Shared,
    /// Document and section it comes from.
    pub source: Source,
}

/// A fact that would change the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Missing {
    /// Dotted path of the fact.
    pub fact: Shared,
    /// The question to ask, in Portuguese.
    pub question: Shared,
    /// Rules (and texts) waiting for it.
    pub needed_by: Vec<Shared>,
}

impl Decision {
    /// The missing facts, most decisive first: the one more rules and texts
    /// wait for comes first (the topic before anything else), ties in the
    /// decision's order. What `ask` asks one at a time.
    pub fn most_decisive_missing(&self) -> Vec<&Missing> {
        let mut missing: Vec<&Missing> = self.missing.iter().collect();
        missing.sort_by_key(|m| std::cmp::Reverse(m.needed_by.len()));
        missing
    }
}

/// A fact taken from its vocabulary default because the situation lacks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Assumed {
    /// Dotted path of the fact.
    pub fact: Shared,
    /// The value assumed, as people read it.
    pub value: Shared,
    /// The question that would confirm it.
    pub question: Shared,
}
