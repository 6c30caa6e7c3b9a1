//! Dates and business time, computed with chrono from the bundle's calendar.
//!
//! Holidays and opening hours are data (`calendar.yaml`), so a process owner
//! adds next year's holidays without touching Rust.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Timelike, Weekday};

use crate::facts::zone::Zone;

/// Week-day names as written in `calendar.yaml`.
pub const WEEKDAY_NAMES: [&str; 7] = ["seg", "ter", "qua", "qui", "sex", "sab", "dom"];

/// When one department works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    days: BTreeSet<u32>,
    open: NaiveTime,
    close: NaiveTime,
}

impl Hours {
    /// Hours from week-day names (`seg`..`dom`) and `HH:MM` times.
    pub fn parse(days: &[String], open: &str, close: &str) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for day in days {
            let index = WEEKDAY_NAMES.iter().position(|name| name == day).ok_or_else(|| {
                format!(
                    "dia da semana desconhecido `{day}`; permitidos: {}",
                    WEEKDAY_NAMES.join(", ")
                )
            })?;
            set.insert(index as u32);
        }
        let open = parse_time(open)?;
        let close = parse_time(close)?;
        if open >= close {
            return Err(format!("a abertura {open} não é antes do fechamento {close}"));
        }
        Ok(Self { days: set, open, close })
    }
}

fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| format!("`{text}` não é um horário; esperado HH:MM, por exemplo 08:30"))
}

/// Holidays and business hours of a bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeMap<NaiveDate, String>,
    hours: BTreeMap<String, Hours>,
    zone: Zone,
}

impl Calendar {
    /// A calendar from its parsed parts, its days and hours those of `zone`.
    pub fn new(holidays: BTreeMap<NaiveDate, String>, hours: BTreeMap<String, Hours>, zone: Zone) -> Self {
        Self { holidays, hours, zone }
    }

    /// The zone whose days and hours these are.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Monday to Friday and not a holiday.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains_key(&date)
    }

    /// The date `days` business days after (or, negative, before) `date`;
    /// `None` when it falls outside the dates chrono holds.
    ///
    /// Whole weeks are skipped at once (any 7 days hold 5 weekdays), then
    /// the rest and the holidays met are walked day by day: the walk is
    /// bounded by the calendar's holidays, not by `days`. One week is left
    /// to the walk so that it always ends on a business day.
    pub fn add_business_days(&self, date: NaiveDate, days: i64) -> Option<NaiveDate> {
        let step = if days < 0 { -1 } else { 1 };
        let count = days.checked_abs()?;
        let weeks = (count / 5 - 1).max(0);
        let jumped = date.checked_add_signed(TimeDelta::try_weeks(weeks * step)?)?;
        // The days the jump passed over: after `date` going forward, before
        // it going back.
        let (low, high) = if step > 0 {
            (date, jumped)
        } else {
            (jumped.pred_opt()?, date.pred_opt()?)
        };
        let mut remaining = count - weeks * 5 + self.weekday_holidays_in(low, high);
        let mut current = jumped;
        let one_day = TimeDelta::try_days(step)?;
        while remaining > 0 {
            current = current.checked_add_signed(one_day)?;
            if self.is_business_day(current) {
                remaining -= 1;
            }
        }
        Some(current)
    }

    /// Business days strictly after `from` up to and including `to`
    /// (negative when `to` is before `from`), counted by weeks, not days.
    pub fn business_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (start, end, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
        let span = (end - start).num_days();
        let mut weekdays = span / 7 * 5;
        let mut current = start + TimeDelta::days(span / 7 * 7);
        while current < end {
            current += TimeDelta::days(1);
            if !matches!(current.weekday(), Weekday::Sat | Weekday::Sun) {
                weekdays += 1;
            }
        }
        sign * (weekdays - self.weekday_holidays_in(start, end))
    }

    /// Holidays on weekdays strictly after `low`, up to and including `high`.
    fn weekday_holidays_in(&self, low: NaiveDate, high: NaiveDate) -> i64 {
        if low >= high {
            return 0;
        }
        let count = self
            .holidays
            .range((Bound::Excluded(low), Bound::Included(high)))
            .filter(|(day, _)| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
            .count();
        i64::try_from(count).unwrap_or(i64::MAX)
    }

    /// Whether `department` is open at `at`; `None` when the calendar does
    /// not know the department.
    pub fn is_open(&self, department: &str, at: DateTime<FixedOffset>) -> Option<bool> {
        let hours = self.hours.get(department)?;
        let at = self.zone.local(&at);
        let date = at.date_naive();
        let weekday = date.weekday().num_days_from_monday();
        let time = at.time().with_nanosecond(0).unwrap_or(at.time());
        Some(
            hours.days.contains(&weekday)
                && !self.holidays.contains_key(&date)
                && time >= hours.open
                && time < hours.close,
        )
    }
}

/// `dd/mm/yyyy`, the only way dates are shown to people.
pub fn format_date(date: NaiveDate) -> String {
    // Written by hand for the years people meet (every decision shows
    // dates); chrono's formatter, which signs years past 9999, otherwise.
    if (0..=9999).contains(&date.year()) {
        format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
    } else {
        date.format("%d/%m/%Y").to_string()
    }
}

/// `dd/mm/yyyy HH:MM`.
pub fn format_datetime(at: DateTime<FixedOffset>) -> String {
    if (0..=9999).contains(&at.year()) {
        format!("{} {:02}:{:02}", format_date(at.date_naive()), at.hour(), at.minute())
    } else {
        at.format("%d/%m/%Y %H:%M").to_string()
    }
}

/// Parses `YYYY-MM-DD`, rejecting impossible dates such as 2026-02-30.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|err| format!("`{text}` não é uma data válida ({err}); esperado AAAA-MM-DD"))
}

/// Parses an RFC 3339 instant, e.g. `2026-12-08T10:15:00-03:00`.
pub fn parse_datetime(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text).map_err(|err| {
        format!("`{text}` não é data e hora válidas ({err}); esperado RFC 3339, por exemplo 2026-12-08T10:15:00-03:00")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        parse_date(text).unwrap_or_default()
    }

    fn calendar_with_holiday(holiday: &str) -> Calendar {
        let mut holidays = BTreeMap::new();
        holidays.insert(date(holiday), "Feriado".to_string());
        let hours = Hours::parse(&["seg", "ter", "qua", "qui", "sex"].map(String::from), "08:00", "18:00")
            .map(|hours| BTreeMap::from([("financeiro".to_string(), hours)]))
            .unwrap_or_default();
        Calendar::new(holidays, hours, Zone::named("America/Sao_Paulo").unwrap_or_default())
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let calendar = calendar_with_holiday("2026-12-25");
        // Wed 23/12 + 5 business days: 24 (Thu), 25 holiday, 28, 29, 30, 31.
        assert_eq!(
            calendar.add_business_days(date("2026-12-23"), 5),
            Some(date("2026-12-31"))
        );
        assert_eq!(
            calendar.business_days_between(date("2026-12-23"), date("2026-12-31")),
            5
        );
        assert_eq!(
            calendar.add_business_days(date("2026-12-31"), -5),
            Some(date("2026-12-23"))
        );
    }

    /// The walk the fast versions must agree with.
    fn naive_add(calendar: &Calendar, date: NaiveDate, days: i64) -> NaiveDate {
        let step = if days < 0 { -1 } else { 1 };
        let (mut current, mut remaining) = (date, days.abs());
        while remaining > 0 {
            current += TimeDelta::days(step);
            if calendar.is_business_day(current) {
                remaining -= 1;
            }
        }
        current
    }

    #[test]
    fn week_jumps_agree_with_walking_day_by_day() {
        let mut calendar = calendar_with_holiday("2026-12-25");
        for holiday in ["2027-01-01", "2026-12-26", "2027-01-04", "2027-02-15", "2027-02-16"] {
            calendar.holidays.insert(date(holiday), "Feriado".into());
        }
        let start = date("2026-12-10");
        for offset in 0..45 {
            let from = start + TimeDelta::days(offset);
            for days in -40..=40 {
                assert_eq!(
                    calendar.add_business_days(from, days),
                    Some(naive_add(&calendar, from, days)),
                    "{from} + {days}"
                );
                let to = from + TimeDelta::days(days);
                let walked = (1..=days.abs())
                    .filter(|i| calendar.is_business_day(from.min(to) + TimeDelta::days(*i)))
                    .count() as i64;
                assert_eq!(
                    calendar.business_days_between(from, to),
                    walked * days.signum(),
                    "{from} .. {to}"
                );
            }
        }
    }

    #[test]
    fn huge_counts_answer_at_once_or_say_out_of_range() {
        let calendar = calendar_with_holiday("2026-12-25");
        assert_eq!(calendar.add_business_days(date("2026-12-23"), i64::MAX), None);
        assert_eq!(calendar.add_business_days(date("2026-12-23"), i64::MIN), None);
        assert_eq!(calendar.add_business_days(date("2026-12-23"), -i64::MAX), None);
        let far = calendar.add_business_days(date("2026-12-23"), 50_000_000);
        assert!(far.is_some_and(|day| day.year() > 190_000));
        assert!(calendar.business_days_between(NaiveDate::MIN, NaiveDate::MAX) > 0);
    }

    #[test]
    fn opening_hours_respect_days_holidays_and_closing_time() {
        let calendar = calendar_with_holiday("2026-12-25");
        let at = |text: &str| parse_datetime(text).unwrap_or_default();
        assert_eq!(
            calendar.is_open("financeiro", at("2026-12-08T10:00:00-03:00")),
            Some(true)
        );
        assert_eq!(
            calendar.is_open("financeiro", at("2026-12-08T18:00:00-03:00")),
            Some(false)
        );
        assert_eq!(
            calendar.is_open("financeiro", at("2026-12-08T07:59:00-03:00")),
            Some(false)
        );
        assert_eq!(
            calendar.is_open("financeiro", at("2026-12-12T10:00:00-03:00")),
            Some(false)
        );
        assert_eq!(
            calendar.is_open("financeiro", at("2026-12-25T10:00:00-03:00")),
            Some(false)
        );
        assert_eq!(calendar.is_open("comercial", at("2026-12-08T10:00:00-03:00")), None);
    }

    #[test]
    fn opening_hours_are_read_in_the_calendars_zone_whatever_the_offset_written() {
        let calendar = calendar_with_holiday("2026-12-25");
        let at = |text: &str| parse_datetime(text).unwrap_or_default();
        // 16:00 in Brasília, written in UTC: open until 18:00.
        assert_eq!(calendar.is_open("financeiro", at("2026-12-08T19:00:00Z")), Some(true));
        // 17:59:59 open, 18:00:00 closed, to the second.
        assert_eq!(calendar.is_open("financeiro", at("2026-12-08T20:59:59Z")), Some(true));
        assert_eq!(calendar.is_open("financeiro", at("2026-12-08T21:00:00Z")), Some(false));
        // 11:00 UTC on Christmas is 08:00 on the holiday in Brasília.
        assert_eq!(calendar.is_open("financeiro", at("2026-12-25T11:00:00Z")), Some(false));
        // Saturday 00:30 in India is Friday 16:00 in Brasília: open.
        assert_eq!(
            calendar.is_open("financeiro", at("2026-12-12T00:30:00+05:30")),
            Some(true)
        );
    }

    #[test]
    fn impossible_dates_are_rejected() {
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_datetime("2026-12-08T25:00:00-03:00").is_err());
        assert_eq!(format_date(date("2026-12-05")), "05/12/2026");
    }
}
