//! Loading a bundle: reading its files within bounds, parsing each kind of
//! file (manifest, vocabulary, catalog, calendar, procedures), checking
//! every reference, and locating each problem at its file, line and field.

mod by_rule;
pub(crate) mod context;
pub(crate) mod error;
pub(crate) mod files;
mod items;
pub(crate) mod loader;
pub(crate) mod manifest;
mod native_pass;
pub(crate) mod parameters;
pub(crate) mod problems;
pub(crate) mod procedures;
mod rhai_messages;
pub(crate) mod yaml_hints;
