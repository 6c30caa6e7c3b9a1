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

/// The zone stored moments are shown in: the bundle's this folder uses
/// (`policies/`, else the embedded one), UTC if none loads.
pub fn shown_zone() -> roteiro_engine::Zone {
    crate::source::load(None)
        .map(|bundle| bundle.zone())
        .unwrap_or_default()
}

/// A stored moment (RFC 3339) as people read it, `dd/mm/aaaa HH:MM` on
/// `zone`'s clock ("UTC" added when that is the zone); as stored when it
/// is not a moment.
pub fn shown(at: &str, zone: roteiro_engine::Zone) -> String {
    match DateTime::parse_from_rfc3339(at) {
        Ok(moment) if zone.name() == "UTC" => format!("{} UTC", zone.local(&moment).format("%d/%m/%Y %H:%M")),
        Ok(moment) => zone.local(&moment).format("%d/%m/%Y %H:%M").to_string(),
        Err(_) => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_moment_is_shown_on_the_zones_clock() {
        let zone = roteiro_engine::Zone::named("America/Sao_Paulo").unwrap();
        assert_eq!(shown("2026-12-07T17:36:42.123+00:00", zone), "07/12/2026 14:36");
        assert_eq!(
            shown("2026-12-07T17:36:42Z", roteiro_engine::Zone::default()),
            "07/12/2026 17:36 UTC"
        );
        assert_eq!(shown("-", zone), "-");
    }
}
