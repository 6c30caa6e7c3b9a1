//! Making a decision: the situation read and checked, its facts as a table,
//! the rules it can concern found by the rule index, conditions run on the
//! native tree or in the Rhai sandbox within a time budget, and the
//! decision document assembled with its trace.

pub(crate) mod assembly;
pub(crate) mod batch;
pub(crate) mod decision;
pub(crate) mod error;
pub(crate) mod evaluate;
pub(crate) mod flows;
mod follow_ups;
mod reader;
mod seeds;
pub(crate) mod situation;
pub(crate) mod trace;
