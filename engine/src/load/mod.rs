//! Loading a bundle: reading its files within bounds, parsing each kind of
//! file (manifest, vocabulary, catalog, calendar, procedures), checking
//! every reference, and locating each problem at its file, line and field.

pub(crate) mod bundle;
mod by_rule;
pub(crate) mod calendar;
pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod input;
pub(crate) mod locate;
pub(crate) mod manifest;
mod native_pass;
pub(crate) mod policy;
pub(crate) mod procedures;
pub(crate) mod scan;
pub(crate) mod suggest;
pub(crate) mod template;
pub(crate) mod vocabulary;
pub(crate) mod yaml_hints;
