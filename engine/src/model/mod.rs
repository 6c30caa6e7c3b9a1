//! The compiled bundle: what loading produces and deciding reads. Nothing
//! here reads a file or makes a decision; both stages meet on these types.

pub(crate) mod bundle;
pub(crate) mod parameters;
pub(crate) mod policy;
pub(crate) mod rule_index;
pub(crate) mod source;
