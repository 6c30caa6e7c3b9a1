//! The bundle's time zone, by its IANA name.
//!
//! Every moment that enters a decision (a situation's `now`, a datetime
//! fact, the caller's clock) is read in this zone before any condition,
//! helper, template or calendar sees it: "16:00" means 16:00 in Brasília
//! whether the caller wrote `19:00Z` or `16:00-03:00`. The offset of each
//! moment comes from the tz database, so a zone that changes its offset
//! (Brazil had daylight saving until 2019) is right on both sides.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A named time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Default for Zone {
    fn default() -> Self {
        Self(Tz::UTC)
    }
}

impl Zone {
    /// The zone named `name` in the IANA database (`America/Sao_Paulo`).
    pub fn named(name: &str) -> Result<Self, String> {
        name.parse::<Tz>().map(Self).map_err(|_| {
            format!(
                "`{name}` não é um fuso horário da base IANA; escreva o nome do fuso, por exemplo America/Sao_Paulo"
            )
        })
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The same instant, as the zone's clock shows it.
    pub fn local<T: TimeZone>(self, at: &DateTime<T>) -> DateTime<FixedOffset> {
        at.with_timezone(&self.0).fixed_offset()
    }

    /// Whether `at` is already written in the zone's offset for its instant.
    pub fn shows(self, at: &DateTime<FixedOffset>) -> bool {
        self.local(at).offset() == at.offset()
    }

    /// The moment the zone's clock shows `local` (the earlier one when
    /// the clock goes back over it); `None` when the clock jumps over it.
    pub fn at(self, local: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
        self.0
            .from_local_datetime(&local)
            .earliest()
            .map(|at| at.fixed_offset())
    }

    /// The first moment of `day` in the zone (midnight, or the first hour
    /// that exists when the clock jumps over midnight).
    pub fn start_of(self, day: NaiveDate) -> Option<DateTime<FixedOffset>> {
        (0..=2u32).find_map(|hour| self.at(day.and_hms_opt(hour, 0, 0)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn the_same_instant_in_any_offset_reads_the_same_in_the_zone() {
        let zone = Zone::named("America/Sao_Paulo").unwrap();
        let expected = at("2026-12-08T16:00:00-03:00");
        for written in [
            "2026-12-08T19:00:00Z",
            "2026-12-09T00:30:00+05:30",
            "2026-12-08T16:00:00-03:00",
        ] {
            let local = zone.local(&at(written));
            assert_eq!(local.to_rfc3339(), expected.to_rfc3339(), "{written}");
        }
        // 01:00 UTC is still the previous day in Brasília.
        assert_eq!(
            zone.local(&at("2026-12-08T01:00:00Z")).to_rfc3339(),
            "2026-12-07T22:00:00-03:00"
        );
    }

    #[test]
    fn past_daylight_saving_comes_from_the_database() {
        let zone = Zone::named("America/Sao_Paulo").unwrap();
        // Summer 2018 had daylight saving in Brasília (-02:00); 2026 does not.
        assert_eq!(
            zone.local(&at("2018-12-08T12:00:00Z")).offset().local_minus_utc(),
            -2 * 3600
        );
        assert_eq!(
            zone.local(&at("2026-12-08T12:00:00Z")).offset().local_minus_utc(),
            -3 * 3600
        );
        // 2018-11-04 started daylight saving at midnight: the day began at 01:00.
        let day = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
        assert_eq!(zone.start_of(day).unwrap().to_rfc3339(), "2018-11-04T01:00:00-02:00");
    }

    #[test]
    fn a_fixed_offset_is_not_a_zone_name() {
        assert!(Zone::named("-03:00").is_err_and(|message| message.contains("America/Sao_Paulo")));
        assert!(Zone::named("America/Sao_Paolo").is_err());
        assert!(zone_shows());
    }

    fn zone_shows() -> bool {
        let zone = Zone::named("America/Sao_Paulo").unwrap();
        zone.shows(&at("2026-12-08T16:00:00-03:00")) && !zone.shows(&at("2026-12-08T19:00:00Z"))
    }
}
