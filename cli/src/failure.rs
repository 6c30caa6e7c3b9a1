//! Why a command failed, and with which exit status of the contract: the
//! commands return a [`Failure`] and `main` says it on stderr and exits
//! with its status, in one place.

use std::fmt;

use roteiro_engine::{BundleError, DecideError, SituationError};

use crate::Status;

/// A failed command: the status it exits with and what stderr says.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub status: Status,
    /// What went wrong, in Portuguese (may span lines).
    pub message: String,
}

impl Failure {
    /// Exit 1: neither the situation nor the bundle.
    pub fn failed(message: impl fmt::Display) -> Self {
        Self {
            status: Status::Failed,
            message: message.to_string(),
        }
    }

    /// Exit 2: the situation.
    pub fn situation(message: impl fmt::Display) -> Self {
        Self {
            status: Status::InvalidSituation,
            message: message.to_string(),
        }
    }
}

impl From<BundleError> for Failure {
    fn from(err: BundleError) -> Self {
        Self {
            status: Status::InvalidBundle,
            message: render_error(&err),
        }
    }
}

impl From<SituationError> for Failure {
    fn from(err: SituationError) -> Self {
        Self::situation(err)
    }
}

/// Whose fault decides the status: 2 for a value of the situation, 3 for
/// a rule.
impl From<DecideError> for Failure {
    fn from(err: DecideError) -> Self {
        match err {
            DecideError::Situation(err) => Self::situation(err),
            DecideError::Rule(err) => Self {
                status: Status::InvalidBundle,
                message: format!("pacote de políticas inválido: {err}"),
            },
        }
    }
}

/// What stderr says: the message, ending its last line.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.ends_with('\n') {
            f.write_str(&self.message)
        } else {
            writeln!(f, "{}", self.message)
        }
    }
}

/// A bundle error with the offending line of each file under its problem,
/// as the loader read it (never read again from disk).
pub fn render_error(error: &BundleError) -> String {
    let count = error.problems.len();
    let mut out = format!(
        "pacote de políticas inválido: {count} problema{}\n",
        if count == 1 { "" } else { "s" }
    );
    for problem in &error.problems {
        out.push_str(&format!("  {problem}\n"));
        if let (Some(line), Some(source)) = (problem.location.line, &problem.source_line) {
            let width = line.to_string().len();
            out.push_str(&format!("  {:width$} |\n  {line} | {source}\n", ""));
            if let Some(column) = problem.location.column {
                out.push_str(&format!("  {:width$} | {:>column$}\n", "", "^"));
            }
        }
    }
    out
}
