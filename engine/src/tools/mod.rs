//! What process owners use around decisions: static analysis, the writing
//! lints, explanations, conditions in words, diffs, policy tests and the
//! JSON Schemas of the files.

pub(crate) mod analysis;
pub(crate) mod diff;
pub(crate) mod explain;
pub(crate) mod lint;
pub(crate) mod open_outputs;
pub(crate) mod policy_test;
pub(crate) mod schema;
pub(crate) mod words;
