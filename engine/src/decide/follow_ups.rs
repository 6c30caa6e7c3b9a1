//! Follow-ups: what a fired rule says must happen later, when it is due
//! (worked out by the rule's own expression, with the bundle's calendar)
//! and whether it is already overdue at the decision's moment. A
//! follow-up whose `until` condition holds is closed and not shown.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rhai::Dynamic;

use crate::decide::decision::FollowUp;
use crate::facts::calendar;
use crate::facts::zone::Zone;

/// When a follow-up is due: a day, or a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    Day(NaiveDate),
    At(DateTime<FixedOffset>),
}

impl Due {
    /// The value a `due` expression gave, which must be a date or a moment.
    pub(super) fn of(value: &Dynamic) -> Result<Self, String> {
        if let Some(day) = value.clone().try_cast::<NaiveDate>() {
            return Ok(Self::Day(day));
        }
        if let Some(at) = value.clone().try_cast::<DateTime<FixedOffset>>() {
            return Ok(Self::At(at));
        }
        Err(format!(
            "`due` dá uma data ou um momento (por exemplo `add_days(...)`, `add_minutes(...)`), veio {}",
            value.type_name()
        ))
    }

    /// Whether it falls before `now`: a day is overdue from the next day on.
    fn overdue(self, now: DateTime<FixedOffset>) -> bool {
        match self {
            Self::Day(day) => day < now.date_naive(),
            Self::At(at) => at < now,
        }
    }

    /// The moment it starts, for ordering (a day starts at its first
    /// moment in the bundle's zone).
    fn start(self, zone: Zone) -> Option<DateTime<FixedOffset>> {
        match self {
            Self::Day(day) => zone.start_of(day),
            Self::At(at) => Some(at),
        }
    }
}

/// A follow-up of this decision, its due time still a value.
pub(super) struct Pending {
    pub due: Option<Due>,
    pub follow_up: FollowUp,
}

/// The follow-ups as the decision shows them: soonest first (those whose
/// due time is unknown last, in bundle order), each marked overdue or not
/// at `now`, the decision's moment in the bundle's `zone`, and shown in
/// that zone.
pub(super) fn finish(mut pending: Vec<Pending>, now: DateTime<FixedOffset>, zone: Zone) -> Vec<FollowUp> {
    pending.sort_by_key(|p| (p.due.is_none(), p.due.and_then(|due| due.start(zone))));
    pending
        .into_iter()
        .map(|Pending { due, mut follow_up }| {
            match due {
                Some(Due::Day(day)) => {
                    follow_up.due = Some(day.format("%Y-%m-%d").to_string());
                    follow_up.due_text = Some(calendar::format_date(day));
                }
                Some(Due::At(at)) => {
                    let at = zone.local(&at);
                    follow_up.due = Some(at.to_rfc3339());
                    follow_up.due_text = Some(calendar::format_datetime(at));
                }
                None => {}
            }
            follow_up.overdue = due.is_some_and(|due| due.overdue(now));
            follow_up
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn pending(id: &str, due: Option<Due>) -> Pending {
        Pending {
            due,
            follow_up: FollowUp {
                id: id.into(),
                text: "t".into(),
                team: None,
                due: None,
                due_text: None,
                overdue: false,
                needs: Vec::new(),
                until: None,
                rule: "r".into(),
                source: crate::model::source::Source {
                    document: "d".into(),
                    section: "1".into(),
                },
            },
        }
    }

    #[test]
    fn soonest_first_unknown_last_and_overdue_against_the_moment_given() {
        let now = at("2026-12-08T10:15:00-03:00");
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let shown = finish(
            vec![
                pending("sem-prazo", None),
                pending("amanha", Some(Due::Day(day("2026-12-09")))),
                pending("hoje", Some(Due::Day(day("2026-12-08")))),
                pending("cedo", Some(Due::At(at("2026-12-08T12:00:00Z")))),
                pending("ontem", Some(Due::Day(day("2026-12-07")))),
            ],
            now,
            Zone::named("America/Sao_Paulo").unwrap(),
        );
        let order: Vec<&str> = shown.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(order, ["ontem", "hoje", "cedo", "amanha", "sem-prazo"]);
        let overdue: Vec<bool> = shown.iter().map(|f| f.overdue).collect();
        // A day is overdue from the next day on; 12:00 UTC is 09:00 in Brasília.
        assert_eq!(overdue, [true, false, true, false, false]);
        assert_eq!(shown[2].due.as_deref(), Some("2026-12-08T09:00:00-03:00"));
        assert_eq!(shown[2].due_text.as_deref(), Some("08/12/2026 09:00"));
        assert_eq!(shown[0].due_text.as_deref(), Some("07/12/2026"));
    }

    #[test]
    fn a_due_expression_gives_a_date_or_a_moment_and_nothing_else() {
        assert!(Due::of(&Dynamic::from(at("2026-12-08T10:00:00-03:00"))).is_ok());
        assert!(Due::of(&Dynamic::from_int(3)).is_err_and(|message| message.contains("data ou um momento")));
    }
}
