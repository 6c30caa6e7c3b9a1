//! A bundle that cannot be used: every problem of it, collected before
//! failing, so a process owner fixes all mistakes in one pass; each problem
//! keeps the file, the position, the rule id and the field it is about.

use std::fmt;

use serde::Serialize;

use crate::text::locate::Location;

/// One mistake found in a policy bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where it is.
    pub location: Location,
    /// The rule (or fact, or catalog entry) it belongs to.
    pub item: Option<String>,
    /// The field inside that item, e.g. `when` or `actions[2].macro`.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The offending line as the bundle holds it, for showing under the
    /// message. Taken from the files the loader accepted, never read again
    /// from disk, so no error echoes a file outside the bundle.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if let Some(item) = &self.item {
            write!(f, "`{item}`")?;
            if let Some(field) = &self.field {
                write!(f, ", campo `{field}`")?;
            }
            write!(f, ": ")?;
        } else if let Some(field) = &self.field {
            write!(f, "campo `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// A policy bundle that cannot be used; nothing of it was loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub struct BundleError {
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        writeln!(
            f,
            "pacote de políticas inválido: {count} problema{}",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}
