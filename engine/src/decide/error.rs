//! Why a decision could not be made: a situation that does not fit the
//! vocabulary (the caller's fault), or a rule that failed (the bundle's).

use std::fmt;

use serde::Serialize;

use crate::text::locate::Location;

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
