//! The probe: what one evaluation reads. Every fact a condition reads,
//! given or absent, goes through it, on the native tree as in Rhai; the
//! exploration of absent facts (see `decide::evaluate`) tries values
//! through its choices, and it records the defaults assumed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;
use rhai::AST;

use crate::expr::catalog::Catalog;
use crate::expr::native::tree::{Narrowing, Val};
use crate::expr::slots::FactSlots;
use crate::facts::shared::Shared;
use crate::facts::vocabulary::{FactValue, Vocabulary};

/// The probe of one evaluation, shared with the fact groups Rhai holds.
/// A decision runs on one thread, so the lock is never contended; it is
/// there so a loaded bundle can be shared by every thread of a service.
pub type SharedProbe = Arc<Mutex<Probe>>;

/// The probe, whatever a panicking holder left behind: a probe is rebuilt
/// for every run, so a poisoned one is still consistent enough to read.
pub fn lock(probe: &SharedProbe) -> MutexGuard<'_, Probe> {
    probe.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a choice of the exploration tries values for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// An absent enumerable fact, by slot.
    Fact(usize),
    /// `given(...)` in static analysis, by its place in `Probe::given_keys`.
    Given(usize),
}

/// One pending choice for an absent enumerable fact (see `evaluate`).
#[derive(Debug, Clone)]
pub struct Choice {
    /// What is being tried.
    pub key: Key,
    /// How many values it has.
    pub len: usize,
    /// The value tried in the current run.
    pub index: usize,
}

/// What the facts read during one evaluation looked like.
///
/// Facts are kept by slot (their place in the vocabulary) and values as the
/// index of the value tried, so reading an absent fact allocates nothing.
pub struct Probe {
    /// The facts the situation gives.
    pub facts: Arc<BTreeMap<String, FactValue>>,
    /// The declared vocabulary.
    pub vocabulary: Arc<Vocabulary>,
    /// The vocabulary by slot: defaults, values to try, derivations.
    pub slots: Arc<FactSlots>,
    /// Compiled `derive` expressions of derived facts.
    pub derivations: Arc<BTreeMap<String, Arc<AST>>>,
    /// The catalog, which every Rhai expression sees as `catalog`.
    pub catalog: Catalog,
    /// The decision's date, which every Rhai expression sees as `today`.
    pub today: Option<NaiveDate>,
    /// Whether absent enumerable facts are tried value by value (conditions)
    /// or simply unknown (texts and computed values).
    pub branching: bool,
    /// The choices of the exploration, outermost first.
    pub choices: Vec<Choice>,
    /// The value (its index) given to each absent fact tried in the
    /// current run, in the order the run reached them.
    pub assigned: Vec<(Key, usize)>,
    /// Absent facts read, over all runs, by slot.
    pub reads: Vec<usize>,
    /// Set when the current run read an absent fact it could not try.
    pub aborted: bool,
    /// Absent facts read through their vocabulary default, by slot.
    pub assumed: Vec<usize>,
    /// Static analysis: every fact is unknown and `given(...)` is a choice too.
    pub symbolic: bool,
    /// The groups and facts `given(...)` asked about, in static analysis.
    given_keys: Vec<String>,
    /// How many times a run met something the situation does not give (an
    /// absent fact, a symbolic `given`): a derivation that met nothing is a
    /// function of the situation alone, and its value can be kept.
    pub(crate) absent_reads: u64,
    /// Derived facts worked out from the situation alone, by slot.
    derived: Vec<Option<Val>>,
    /// The values of the expression Rhai explores that are worth trying,
    /// when its native tree narrowed them (see `native::tree::Narrowing`): the
    /// native tree passes its own instead.
    pub narrowing: Narrowing,
}

impl Probe {
    /// A probe over the situation's facts, before any run.
    pub fn new(facts: Arc<BTreeMap<String, FactValue>>, bundle_parts: ProbeParts) -> Self {
        Self {
            facts,
            vocabulary: bundle_parts.vocabulary,
            slots: bundle_parts.slots,
            derivations: bundle_parts.derivations,
            catalog: bundle_parts.catalog,
            today: bundle_parts.today,
            branching: false,
            choices: Vec::new(),
            assigned: Vec::new(),
            reads: Vec::new(),
            aborted: false,
            assumed: Vec::new(),
            symbolic: false,
            given_keys: Vec::new(),
            absent_reads: 0,
            derived: Vec::new(),
            narrowing: Narrowing::default(),
        }
    }

    /// A derived fact's value, when it was worked out from the situation
    /// alone earlier in this decision.
    pub(crate) fn derived_value(&self, slot: usize) -> Option<Val> {
        self.derived.get(slot).cloned().flatten()
    }

    /// Keeps a derived fact's value for the rest of the decision; only for
    /// values that read nothing absent (see `absent_reads`).
    pub(crate) fn keep_derived(&mut self, slot: usize, value: Val) {
        if self.derived.len() <= slot {
            self.derived.resize(self.slots.len(), None);
        }
        if let Some(kept) = self.derived.get_mut(slot) {
            *kept = Some(value);
        }
    }

    /// Readies the probe for exploring one expression: conditions try
    /// absent enumerable facts (`branching`), texts and values do not.
    pub(crate) fn start(&mut self, branching: bool) {
        self.branching = branching;
        self.choices.clear();
        self.reads.clear();
    }

    /// Moves to the next combination of choices; false when all were tried.
    pub(crate) fn next_choice(&mut self) -> bool {
        let depth = self.assigned.len();
        self.choices.truncate(depth);
        while let Some(choice) = self.choices.last_mut() {
            if choice.index + 1 < choice.len {
                choice.index += 1;
                return true;
            }
            self.choices.pop();
        }
        false
    }

    /// Reads a fact by path, as Rhai does.
    pub(crate) fn read(&mut self, path: &str) -> Read {
        if let Some(value) = self.facts.get(path) {
            return Read::Value(Val::of(value));
        }
        let Some(slot) = self.vocabulary.slot(path) else {
            return Read::Unknown;
        };
        let narrowing = std::mem::take(&mut self.narrowing);
        let absent = self.read_absent(slot, narrowing.of(slot));
        self.narrowing = narrowing;
        match absent {
            Absent::Value(value) => Read::Value(value),
            Absent::Unknown => Read::Unknown,
            Absent::Derive => match self.derivations.get(path) {
                Some(ast) => Read::Derive(ast.clone()),
                None => Read::Unknown,
            },
        }
    }

    /// Reads a fact the situation does not give: it is derived, or has a
    /// default, or is tried value by value (those of `narrowed`, indexes
    /// into its values, when given), or is unknown (and the run is aborted).
    pub(crate) fn read_absent(&mut self, slot: usize, narrowed: Option<&[usize]>) -> Absent {
        // What the slot holds is looked up again where it is used, not kept
        // across the probe's updates: no copy of the table's handle, whose
        // counter every thread deciding on the bundle would share.
        let Some((derived, defaulted, values)) = self
            .slots
            .get(slot)
            .map(|fact| (fact.derived, fact.default.is_some(), fact.domain.len()))
        else {
            return Absent::Unknown;
        };
        if derived {
            return Absent::Derive;
        }
        self.absent_reads += 1;
        // The choice is a position in the values tried.
        let tried = |choice: usize| narrowed.map_or(Some(choice), |indexes| indexes.get(choice).copied());
        if let Some(choice) = self.assigned_index(Key::Fact(slot)) {
            let value = tried(choice).and_then(|index| self.domain_value(slot, index));
            return value.map_or(Absent::Unknown, Absent::Value);
        }
        if defaulted && !self.symbolic {
            if !self.assumed.contains(&slot) {
                self.assumed.push(slot);
            }
            let default = self.slots.get(slot).and_then(|fact| fact.default.clone());
            return default.map_or(Absent::Unknown, Absent::Value);
        }
        if !self.reads.contains(&slot) {
            self.reads.push(slot);
        }
        let chosen = if self.branching {
            let values = narrowed.map_or(values, <[usize]>::len);
            self.choose(Key::Fact(slot), values)
                .and_then(tried)
                .and_then(|index| self.domain_value(slot, index))
        } else {
            None
        };
        match chosen {
            Some(value) => Absent::Value(value),
            None => {
                self.aborted = true;
                Absent::Unknown
            }
        }
    }

    /// The value at `index` of the values the fact at `slot` is tried with.
    fn domain_value(&self, slot: usize, index: usize) -> Option<Val> {
        self.slots.get(slot)?.domain.get(index).cloned()
    }

    fn assigned_index(&self, key: Key) -> Option<usize> {
        self.assigned
            .iter()
            .find_map(|(assigned, index)| (*assigned == key).then_some(*index))
    }

    /// The value (its index) tried for `key` in this run, opening a new
    /// choice the first time the run reaches it; `None` when it has none.
    fn choose(&mut self, key: Key, len: usize) -> Option<usize> {
        if let Some(index) = self.assigned_index(key) {
            return Some(index);
        }
        let depth = self.assigned.len();
        let index = match self.choices.get(depth) {
            Some(choice) if choice.key == key => choice.index,
            _ => {
                self.choices.truncate(depth);
                self.choices.push(Choice { key, len, index: 0 });
                0
            }
        };
        if index >= len {
            return None;
        }
        self.assigned.push((key, index));
        Some(index)
    }

    /// `given(...)`: known in a decision, a choice in static analysis.
    pub(crate) fn given(&mut self, key: &str, known: bool) -> bool {
        if !self.symbolic {
            return known;
        }
        self.absent_reads += 1;
        let place = match self.given_keys.iter().position(|given| given == key) {
            Some(place) => place,
            None => {
                self.given_keys.push(key.to_string());
                self.given_keys.len() - 1
            }
        };
        // Tried true first, then false.
        self.choose(Key::Given(place), 2) == Some(0)
    }

    /// The paths of the absent facts read, in path order.
    pub(crate) fn read_paths(&self) -> BTreeSet<Shared> {
        self.reads
            .iter()
            .filter_map(|slot| self.slots.path(*slot).cloned())
            .collect()
    }
}

/// What a probe needs from the bundle.
pub struct ProbeParts {
    /// The declared vocabulary.
    pub vocabulary: Arc<Vocabulary>,
    /// The vocabulary by slot.
    pub slots: Arc<FactSlots>,
    /// Compiled `derive` expressions of derived facts.
    pub derivations: Arc<BTreeMap<String, Arc<AST>>>,
    /// The catalog.
    pub catalog: Catalog,
    /// The decision's date, if it has one.
    pub today: Option<NaiveDate>,
}

/// A fact read by path.
pub(crate) enum Read {
    Value(Val),
    Derive(Arc<AST>),
    Unknown,
}

/// An absent fact read by slot.
pub(crate) enum Absent {
    Value(Val),
    /// Its derivation gives it.
    Derive,
    Unknown,
}
