//! The trace: why each rule of the bundle fired or not.
//!
//! Every decision traces every rule, and most entries only repeat words the
//! bundle wrote at load: the rule's id, its source, its reason for firing or
//! not. So a trace keeps one status per rule, plus the few entries with
//! words or outputs of their own (undecided, skipped, fired with outputs),
//! beside the bundle's table of those words: tracing a rule costs a byte,
//! not four reference counts. Readers get borrowed [`TraceEntry`] views; the
//! JSON is the contract's list of entries, unchanged.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::facts::shared::Shared;
use crate::model::bundle::RuleWords;
use crate::model::source::Source;

/// Outcome of a rule's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// The condition held.
    Fired,
    /// The condition did not hold.
    NotFired,
    /// The condition depends on facts the situation does not give.
    Undecided,
    /// An earlier rule of its first-match group fired, so it was not tried.
    Skipped,
}

/// An entry's status, with the one common reason an entry reads from its
/// rule's words besides firing or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Status(RuleStatus),
    OutOfContext,
}

impl Mark {
    fn status(self) -> RuleStatus {
        match self {
            Self::Status(status) => status,
            Self::OutOfContext => RuleStatus::NotFired,
        }
    }
}

/// Why each rule fired or not, in the bundle's order.
#[derive(Clone)]
pub struct Trace {
    words: Arc<[RuleWords]>,
    /// One status per entry; entry `i` is the rule `words[i]`.
    statuses: Vec<Mark>,
    /// The entries with more than their rule's usual words, by entry.
    details: Vec<(usize, Detail)>,
}

/// What one entry says beyond its status. The outputs sit inline (a
/// shared map and a list): few entries of a decision have a detail,
/// and a box apiece cost an allocation each.
#[derive(Clone, Default)]
struct Detail {
    /// Its own reason (undecided, skipped), instead of the rule's.
    why: Option<Shared>,
    outputs: Option<Outputs>,
}

/// The outputs a fired rule set.
#[derive(Clone, Default)]
struct Outputs {
    /// Shared with the rule when it computes nothing.
    sets: Arc<BTreeMap<String, serde_json::Value>>,
    overridden: Vec<String>,
}

impl Detail {
    fn outputs(&mut self) -> &mut Outputs {
        self.outputs.get_or_insert_with(Outputs::default)
    }
}

/// One rule's outcome, as read from a [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TraceEntry<'t> {
    /// Rule id.
    pub rule: &'t str,
    /// Whether it fired.
    pub fired: bool,
    /// `fired`, `not_fired`, `undecided` (facts missing) or `skipped`.
    pub status: RuleStatus,
    /// Why, in words.
    pub why: &'t str,
    /// Document and section it encodes.
    pub source: &'t Source,
    /// Outputs it set, when it fired.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sets: &'t BTreeMap<String, serde_json::Value>,
    /// Outputs it set that another rule overrode.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub overridden: &'t [String],
}

/// What an entry without outputs reads as its outputs.
static NO_OUTPUTS: BTreeMap<String, serde_json::Value> = BTreeMap::new();

impl Trace {
    /// A trace over a bundle's rules in which no rule fired yet: each
    /// entry reads as its rule's usual "did not fire" until it is set.
    pub(crate) fn new(words: Arc<[RuleWords]>) -> Self {
        let statuses = vec![Mark::Status(RuleStatus::NotFired); words.len()];
        Self {
            words,
            statuses,
            details: Vec::new(),
        }
    }

    /// Sets the entry of the rule at `index`, with its usual words.
    pub(crate) fn set(&mut self, index: usize, status: RuleStatus) {
        self.mark(index, Mark::Status(status));
    }

    /// Sets the rule at `index` as not fired for lack of the first group
    /// its context requires.
    pub(crate) fn set_out_of_context(&mut self, index: usize) {
        self.mark(index, Mark::OutOfContext);
    }

    fn mark(&mut self, index: usize, mark: Mark) {
        if let Some(entry) = self.statuses.get_mut(index) {
            *entry = mark;
        }
    }

    /// Sets the entry of the rule at `index`, with words of its own.
    pub(crate) fn set_why(&mut self, index: usize, status: RuleStatus, why: Shared) {
        self.set(index, status);
        self.detail(index).why = Some(why);
    }

    /// Sets the rule at `index` as fired, with the outputs it set.
    pub(crate) fn set_fired(&mut self, index: usize, sets: Arc<BTreeMap<String, serde_json::Value>>) {
        self.set(index, RuleStatus::Fired);
        if !sets.is_empty() {
            self.detail(index).outputs().sets = sets;
        }
    }

    /// Notes that the output `name` the rule at `index` set was overridden.
    pub(crate) fn overridden(&mut self, index: usize, name: &str) {
        self.detail(index).outputs().overridden.push(name.to_string());
    }

    /// The detail of the entry at `index`, made when it has none. Rules are
    /// set in order, so it is almost always the last one.
    fn detail(&mut self, index: usize) -> &mut Detail {
        let at = match self.details.binary_search_by_key(&index, |(entry, _)| *entry) {
            Ok(at) => at,
            Err(at) => {
                self.details.insert(at, (index, Detail::default()));
                at
            }
        };
        &mut self.details[at].1
    }

    /// How many rules it traces.
    pub fn len(&self) -> usize {
        self.statuses.len()
    }

    /// Whether it traces no rule.
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
    }

    /// The entry at `index`.
    pub fn get(&self, index: usize) -> Option<TraceEntry<'_>> {
        let status = *self.statuses.get(index)?;
        let words = self.words.get(index)?;
        let detail = self
            .details
            .binary_search_by_key(&index, |(entry, _)| *entry)
            .ok()
            .and_then(|at| self.details.get(at))
            .map(|(_, detail)| detail);
        Some(entry(words, status, detail))
    }

    /// Each rule's status alone, in the bundle's order.
    pub(crate) fn statuses(&self) -> impl Iterator<Item = RuleStatus> + '_ {
        self.statuses.iter().map(|mark| mark.status())
    }

    /// The entries, in the bundle's order.
    pub fn iter(&self) -> impl Iterator<Item = TraceEntry<'_>> {
        let mut details = self.details.iter().peekable();
        self.statuses
            .iter()
            .zip(self.words.iter())
            .enumerate()
            .map(move |(index, (status, words))| {
                let detail = details.next_if(|(entry, _)| *entry == index).map(|(_, detail)| detail);
                entry(words, *status, detail)
            })
    }
}

fn entry<'t>(words: &'t RuleWords, mark: Mark, detail: Option<&'t Detail>) -> TraceEntry<'t> {
    let why = match (detail.and_then(|detail| detail.why.as_deref()), mark) {
        (Some(why), _) => why,
        (None, Mark::Status(RuleStatus::Fired)) => &words.reasons[0],
        (None, Mark::OutOfContext) => &words.out_of_context,
        (None, _) => &words.reasons[1],
    };
    let status = mark.status();
    let outputs = detail.and_then(|detail| detail.outputs.as_ref());
    TraceEntry {
        rule: &words.id,
        fired: status == RuleStatus::Fired,
        status,
        why,
        source: &words.source,
        sets: outputs.map_or(&NO_OUTPUTS, |outputs| &outputs.sets),
        overridden: outputs.map_or(&[], |outputs| &outputs.overridden),
    }
}

impl<'t> IntoIterator for &'t Trace {
    type Item = TraceEntry<'t>;
    type IntoIter = Box<dyn Iterator<Item = TraceEntry<'t>> + 't>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl PartialEq for Trace {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Trace {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

// An entry as JSON gives it: the schema, and the form a decision is read
// back from. (`skip_serializing_if` keeps the schema free of defaults.)
#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "TraceEntry", description = "Outcome of one rule.")]
#[expect(dead_code, reason = "`fired` is read for the schema; `status` says the same")]
struct OwnedEntry {
    /// Rule id.
    rule: Shared,
    /// Whether it fired.
    fired: bool,
    /// `fired`, `not_fired`, `undecided` (facts missing) or `skipped`.
    status: RuleStatus,
    /// Why, in words.
    why: Shared,
    /// Document and section it encodes.
    source: Source,
    /// Outputs it set, when it fired.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    sets: BTreeMap<String, serde_json::Value>,
    /// Outputs it set that another rule overrode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    overridden: Vec<String>,
}

impl<'de> Deserialize<'de> for Trace {
    /// A trace read back from JSON: each entry keeps its own words.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let owned = Vec::<OwnedEntry>::deserialize(deserializer)?;
        let mut words = Vec::with_capacity(owned.len());
        let mut trace = Trace::new(Arc::from([]));
        for (index, entry) in owned.into_iter().enumerate() {
            trace.statuses.push(Mark::Status(entry.status));
            words.push(RuleWords {
                id: entry.rule,
                source: entry.source,
                reasons: [entry.why.clone(), entry.why.clone()],
                out_of_context: entry.why,
            });
            if !entry.sets.is_empty() || !entry.overridden.is_empty() {
                let outputs = Outputs {
                    sets: Arc::new(entry.sets),
                    overridden: entry.overridden,
                };
                let detail = Detail {
                    why: None,
                    outputs: Some(outputs),
                };
                trace.details.push((index, detail));
            }
        }
        trace.words = Arc::from(words);
        Ok(trace)
    }
}

impl JsonSchema for Trace {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        <Vec<OwnedEntry>>::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Vec<OwnedEntry>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn words(id: &str) -> RuleWords {
        RuleWords {
            id: id.into(),
            source: Source {
                document: "doc.txt".into(),
                section: "1".into(),
            },
            reasons: [format!("{id} disparou").into(), format!("{id} não disparou").into()],
            out_of_context: format!("{id} fora de contexto").into(),
        }
    }

    /// Four rules: one that did not fire, one undecided, one that fired
    /// setting an output another overrode, one that fired setting nothing
    /// (set out of order, as nothing forbids).
    fn sample() -> Trace {
        let mut trace = Trace::new(Arc::from(vec![words("a"), words("b"), words("c"), words("d")]));
        trace.set_fired(3, Arc::default());
        trace.set_why(1, RuleStatus::Undecided, "falta saber: x".into());
        trace.set_fired(
            2,
            Arc::new(BTreeMap::from([("route".to_string(), serde_json::json!("io"))])),
        );
        trace.overridden(2, "route");
        trace.overridden(3, "team");
        trace
    }

    #[test]
    fn an_entry_out_of_context_reads_its_rule_s_words_and_did_not_fire() {
        let mut trace = Trace::new(Arc::from(vec![words("a"), words("b")]));
        trace.set_out_of_context(1);
        let entry = trace.get(1).unwrap();
        assert_eq!(
            (entry.status, entry.fired, entry.why),
            (RuleStatus::NotFired, false, "b fora de contexto")
        );
        assert_eq!(trace.get(0).map(|entry| entry.why), Some("a não disparou"));
    }

    #[test]
    fn entries_read_their_rule_s_words_unless_they_have_their_own() {
        let trace = sample();
        let whys: Vec<&str> = trace.iter().map(|entry| entry.why).collect();
        assert_eq!(whys, ["a não disparou", "falta saber: x", "c disparou", "d disparou"]);
        let fired: Vec<&str> = trace
            .iter()
            .filter(|entry| entry.fired)
            .map(|entry| entry.rule)
            .collect();
        assert_eq!(fired, ["c", "d"]);
        assert_eq!(trace.get(2).map(|entry| entry.sets.len()), Some(1));
        assert_eq!(
            trace.get(2).map(|entry| entry.overridden),
            Some(&["route".to_string()][..])
        );
        // An entry with no detail until it was overridden.
        assert_eq!(
            trace.get(3).map(|entry| entry.overridden),
            Some(&["team".to_string()][..])
        );
        assert!(trace.get(4).is_none());
    }

    #[test]
    fn get_and_iter_agree() {
        let trace = sample();
        let by_index: Vec<TraceEntry<'_>> = (0..trace.len()).filter_map(|index| trace.get(index)).collect();
        assert_eq!(by_index, trace.iter().collect::<Vec<_>>());
    }

    #[test]
    fn json_reads_back_to_the_same_trace() {
        let trace = sample();
        let json = serde_json::to_string(&trace).unwrap();
        assert!(json.starts_with(r#"[{"rule":"a","fired":false,"status":"not_fired","why":"a não disparou","source":{"document":"doc.txt","section":"1"}},"#));
        let back: Trace = serde_json::from_str(&json).unwrap();
        assert_eq!(back, trace);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}
