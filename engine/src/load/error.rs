//! Errors of the library: what went wrong, where, and in which rule.
//!
//! Loading collects every problem of a bundle before failing, so a process
//! owner fixes all mistakes in one pass; each problem keeps the file, the
//! position, the rule id and the field it is about.

use std::fmt;

use serde::Serialize;

/// Where a problem sits in a file. Lines and columns start at 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Path of the file, relative to the bundle folder (or as given).
    pub file: String,
    /// Line, when known.
    pub line: Option<usize>,
    /// Column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ", linha {line}")?;
            if let Some(column) = self.column {
                write!(f, ", coluna {column}")?;
            }
        }
        Ok(())
    }
}

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

/// A situation that does not fit the bundle's vocabulary.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error, Serialize)]
pub struct SituationError {
    /// Where it is (file as given by the caller).
    pub location: Location,
    /// Dotted path of the offending field, when the problem is in a field.
    pub field: Option<String>,
    /// What was found there.
    pub found: Option<String>,
    /// What is allowed there.
    pub allowed: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for SituationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "situação inválida {}: ", self.location)?;
        if let Some(field) = &self.field {
            write!(f, "campo `{field}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(found) = &self.found {
            write!(f, "; encontrado {found}")?;
        }
        if let Some(allowed) = &self.allowed {
            write!(f, "; permitido: {allowed}")?;
        }
        Ok(())
    }
}

/// A rule that failed while deciding (a bug in the policy, not in the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("regra `{rule}` ({}), {field}: {message}", Location { file: file.clone(), line: *line, column: None })]
pub struct RuleError {
    /// Id of the rule (or fact, for derived facts).
    pub rule: String,
    /// File the rule comes from.
    pub file: String,
    /// Line of the failing field in that file.
    pub line: Option<usize>,
    /// Which expression failed: `when`, `compute.block_date`, `actions[0].text`...
    pub field: String,
    /// What Rhai reported.
    pub message: String,
}

/// Why a decision could not be made: the situation's fault or the bundle's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum DecideError {
    /// A value the situation gives cannot be computed with (e.g. a date
    /// that a rule's helper takes out of the calendar's range).
    #[error(transparent)]
    Situation(#[from] SituationError),
    /// A rule is broken at run time, or the decision ran out of its budget.
    #[error(transparent)]
    Rule(#[from] RuleError),
}
