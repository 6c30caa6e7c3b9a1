//! The moment a command decides as of.
//!
//! The engine never reads the clock; the command line is the one place that
//! does, and only when neither `--now` nor the situation pins the moment.
//! The decision then lists `now` under `assumed`.

use chrono::{DateTime, FixedOffset, Utc};
use roteiro_engine::Bundle;

/// Parses `--now` (RFC 3339, e.g. `2026-12-08T10:15:00-03:00`).
pub fn parse(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
        format!("`{text}` não é data e hora válidas; esperado RFC 3339, por exemplo 2026-12-08T10:15:00-03:00")
    })
}

/// The system clock in the bundle's zone: the fallback for a situation
/// that pins no `now`.
pub fn system(bundle: &Bundle) -> DateTime<FixedOffset> {
    bundle.local(&Utc::now())
}

/// The moment a command works as of: `pinned` (`--now`, or the situation's
/// own) when given, else the system clock; either way read in the bundle's
/// zone, so it is shown and recorded as Brasília's clock reads it.
pub fn now(bundle: &Bundle, pinned: Option<DateTime<FixedOffset>>) -> DateTime<FixedOffset> {
    pinned.map_or_else(|| system(bundle), |at| bundle.local(&at))
}
