//! Reading text that people wrote: bounds, encoding and nesting checked
//! before parsing, places named by line, and "você quis dizer" suggestions.
//! Used alike for bundle files and situations.

pub(crate) mod input;
pub(crate) mod locate;
pub(crate) mod suggest;
