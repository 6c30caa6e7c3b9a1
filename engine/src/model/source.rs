//! Where a bundle and its rules come from: the identity every decision
//! names and the document and section every rule cites.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::facts::shared::Shared;

/// Identity of a bundle.
// Every decision names it: shared words, not three new strings each time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BundleInfo {
    /// The manifest's name.
    pub name: Shared,
    /// The manifest's version.
    pub version: Shared,
    /// Digest of every file of the bundle: changes with any edit.
    pub digest: Shared,
}

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// File name of the source document.
    pub document: Shared,
    /// Section or item of the document.
    pub section: Shared,
}
