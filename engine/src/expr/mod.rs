//! The expression language of rules: references scanned, placeholders
//! parsed, the native tree, and the Rhai sandbox with its budget. Loading
//! compiles expressions with it; deciding runs them.

pub(crate) mod budget;
pub(crate) mod catalog;
pub(crate) mod native;
pub(crate) mod probe;
pub(crate) mod sandbox;
pub(crate) mod scan;
pub(crate) mod slots;
pub(crate) mod template;
