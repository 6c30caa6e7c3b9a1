//! The vocabulary by slot: what reading a fact the situation does not give
//! needs (its default, the values to try, whether it is derived), worked out
//! once at load, so a run reads an absent fact without a lookup by name and
//! without building its list of values again.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::AST;

use crate::expr::native::tree::{Block, Val};
use crate::facts::shared::Shared;
use crate::facts::vocabulary::{FactValue, Vocabulary};

/// One declared fact, at its slot.
#[derive(Debug, Clone)]
pub(crate) struct SlotFact {
    /// Dotted path.
    pub path: Shared,
    /// The question that asks for it.
    pub question: Shared,
    /// The vocabulary's default.
    pub default: Option<Val>,
    /// The default as people read it (empty without one).
    pub default_shown: Shared,
    /// The values an absent fact is tried with (booleans and enums, in
    /// declaration order); empty when it cannot be tried.
    pub domain: Box<[Val]>,
    /// Whether a `derive` gives it.
    pub derived: bool,
    /// The derivation compiled natively, when it is.
    pub native_derivation: Option<Arc<Block>>,
}

/// Every declared fact, by slot (see `Vocabulary::slot`).
#[derive(Debug, Clone, Default)]
pub(crate) struct FactSlots(Vec<SlotFact>);

impl FactSlots {
    pub(crate) fn new(
        vocabulary: &Vocabulary,
        derivations: &BTreeMap<String, Arc<AST>>,
        native_derivations: &BTreeMap<String, Arc<Block>>,
    ) -> Self {
        let mut slots: Vec<SlotFact> = vocabulary
            .facts()
            .map(|fact| SlotFact {
                path: fact.path.as_str().into(),
                question: fact.spec.question.as_str().into(),
                default: fact.default.as_ref().map(Val::of),
                default_shown: fact.default.as_ref().map(FactValue::display).unwrap_or_default().into(),
                domain: fact.domain().iter().map(Val::of).collect(),
                derived: derivations.contains_key(&fact.path),
                native_derivation: native_derivations.get(&fact.path).cloned(),
            })
            .collect();
        slots.shrink_to_fit();
        Self(slots)
    }

    /// The fact at `slot`.
    pub(crate) fn get(&self, slot: usize) -> Option<&SlotFact> {
        self.0.get(slot)
    }

    /// How many facts there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The path of the fact at `slot`.
    pub(crate) fn path(&self, slot: usize) -> Option<&Shared> {
        self.0.get(slot).map(|fact| &fact.path)
    }
}
