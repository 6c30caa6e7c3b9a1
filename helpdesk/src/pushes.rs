//! The queue of pushes, in the log's database (migration 0004): a push is
//! written before anything is sent, so a 429, an outage or a restart of
//! roteiro only delays it; each delivery looks for its marker in the
//! ticket first, so a push is written exactly once.

use chrono::{DateTime, TimeDelta, Utc};
use roteiro_decision_log::cases::Cases;
use roteiro_decision_log::db::{Db, Param};
use roteiro_decision_log::LogError;

use crate::{Helpdesk, HelpdeskError, Preview};

/// Where a push is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PushState {
    /// Waiting to be written (again).
    Fila,
    /// Written; `result` holds the action's id.
    Feito,
    /// Refused for good (an unknown ticket, a refused token); `result`
    /// says why.
    Falhou,
}

impl PushState {
    fn name(self) -> &'static str {
        match self {
            Self::Fila => "fila",
            Self::Feito => "feito",
            Self::Falhou => "falhou",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "feito" => Self::Feito,
            "falhou" => Self::Falhou,
            _ => Self::Fila,
        }
    }
}

/// One push.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Push {
    /// Its number.
    pub id: i64,
    /// The ticket written to.
    pub ticket: String,
    /// Public or internal.
    pub public: bool,
    /// The whole text, marker included.
    pub text: String,
    /// The marker ending the text.
    pub marker: String,
    /// Who asked for it.
    pub requested_by: String,
    /// When (RFC 3339).
    pub requested_at: String,
    /// Where it is.
    pub state: PushState,
    /// Tries so far.
    pub attempts: i64,
    /// The next try, while queued (RFC 3339 in UTC, fixed width: see
    /// [`moment`]).
    pub next_try_at: String,
    /// The action's id, or why it failed.
    pub result: Option<String>,
}

/// The pushes of one database.
pub struct Pushes {
    db: Db,
}

const COLUMNS: &str = "CAST(id AS TEXT), ticket, CAST(public AS TEXT), text, marker, requested_by, requested_at, state, CAST(attempts AS TEXT), next_try_at, result";

/// Longest a queued push waits between tries.
const MAX_BACKOFF_MINUTES: i64 = 60;

/// Most pushes one delivery round takes on.
const MAX_PER_ROUND: i64 = 50;

/// A moment as the queue stores it: UTC, microseconds, `Z`, so text order
/// is time order and the database picks the due pushes itself.
fn moment(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Pushes {
    /// Opens (creating and migrating) the database at `address`.
    pub fn open(address: &str) -> Result<Self, LogError> {
        Ok(Self { db: Db::open(address)? })
    }

    /// Queues `preview` unless a push with its marker is already queued or
    /// written (the same text is never written twice); the push.
    pub fn enqueue(&mut self, preview: &Preview, by: &str, at: DateTime<Utc>) -> Result<Push, LogError> {
        let at_text = moment(at);
        self.db.transaction(|db| {
            let existing = select(db, "WHERE marker = $1 AND state <> 'falhou'", &[Param::Text(&preview.marker)])?;
            if let Some(push) = existing.into_iter().next() {
                return Ok(push);
            }
            db.execute(
                "INSERT INTO pushes (ticket, public, text, marker, requested_by, requested_at, state, attempts, next_try_at) VALUES ($1, $2, $3, $4, $5, $6, 'fila', 0, $7)",
                &[
                    Param::Text(&preview.ticket),
                    Param::Int(i64::from(preview.public)),
                    Param::Text(&preview.text),
                    Param::Text(&preview.marker),
                    Param::Text(by),
                    Param::Text(&at_text),
                    Param::Text(&at_text),
                ],
            )?;
            select(db, "WHERE marker = $1 AND state = 'fila'", &[Param::Text(&preview.marker)])?
                .into_iter()
                .next()
                .ok_or_else(|| LogError::Database("o envio não foi guardado".into()))
        })
    }

    /// The push numbered `id`.
    pub fn get(&mut self, id: i64) -> Result<Option<Push>, LogError> {
        Ok(select(&mut self.db, "WHERE id = $1", &[Param::Int(id)])?
            .into_iter()
            .next())
    }

    /// The pushes of `ticket`, oldest first.
    pub fn of_ticket(&mut self, ticket: &str) -> Result<Vec<Push>, LogError> {
        select(&mut self.db, "WHERE ticket = $1 ORDER BY id", &[Param::Text(ticket)])
    }

    /// Queued pushes whose next try is due at `now`, oldest first (at
    /// most a round's worth: pushes waiting longer never hide due ones).
    pub fn due(&mut self, now: DateTime<Utc>) -> Result<Vec<Push>, LogError> {
        select(
            &mut self.db,
            &format!("WHERE state = 'fila' AND next_try_at <= $1 ORDER BY id LIMIT {MAX_PER_ROUND}"),
            &[Param::Text(&moment(now))],
        )
    }

    /// Records how a try of push `id` went.
    fn finish(
        &mut self,
        push: &Push,
        outcome: &Result<String, HelpdeskError>,
        now: DateTime<Utc>,
    ) -> Result<(), LogError> {
        let attempts = push.attempts + 1;
        let (state, result, next) = match outcome {
            Ok(action) => (PushState::Feito, action.clone(), now),
            Err(err) if err.is_transient() => {
                // 1, 2, 4... minutes, at most an hour; a 429's own wait
                // when it asked for longer.
                let doubling = 1i64 << attempts.clamp(0, 6);
                let mut wait = TimeDelta::minutes(doubling.min(MAX_BACKOFF_MINUTES));
                if let HelpdeskError::RateLimited(seconds) = err {
                    wait = wait.max(TimeDelta::seconds(i64::try_from(*seconds).unwrap_or(60)));
                }
                (PushState::Fila, err.to_string(), now + wait)
            }
            Err(err) => (PushState::Falhou, err.to_string(), now),
        };
        self.db.execute(
            "UPDATE pushes SET state = $1, attempts = $2, next_try_at = $3, result = $4 WHERE id = $5",
            &[
                Param::Text(state.name()),
                Param::Int(attempts),
                Param::Text(&moment(next)),
                Param::Text(&result),
                Param::Int(push.id),
            ],
        )?;
        Ok(())
    }
}

fn select(db: &mut Db, tail: &str, params: &[Param<'_>]) -> Result<Vec<Push>, LogError> {
    let rows = db.rows(&format!("SELECT {COLUMNS} FROM pushes {tail}"), params)?;
    Ok(rows.into_iter().filter_map(push_of).collect())
}

fn push_of(row: Vec<Option<String>>) -> Option<Push> {
    let [id, ticket, public, text, marker, by, at, state, attempts, next, result]: [Option<String>; 11] =
        row.try_into().ok()?;
    Some(Push {
        id: id?.parse().ok()?,
        ticket: ticket?,
        public: public.as_deref() == Some("1"),
        text: text?,
        marker: marker?,
        requested_by: by?,
        requested_at: at?,
        state: PushState::parse(&state?),
        attempts: attempts?.parse().ok()?,
        next_try_at: next?,
        result,
    })
}

/// Tries every due push once, recording each outcome on the push and in
/// its case's history; the pushes as they now are.
pub fn deliver_due(
    helpdesk: &dyn Helpdesk,
    pushes: &mut Pushes,
    cases: &mut Cases,
    now: DateTime<Utc>,
) -> Result<Vec<Push>, LogError> {
    let mut delivered = Vec::new();
    for push in pushes.due(now)? {
        let action = Preview {
            ticket: push.ticket.clone(),
            public: push.public,
            text: push.text.clone(),
            marker: push.marker.clone(),
        }
        .action();
        let outcome = helpdesk.add_action(&push.ticket, &action);
        pushes.finish(&push, &outcome, now)?;
        let detail = match &outcome {
            Ok(action) => serde_json::json!({"envio": push.id, "acao": action}),
            Err(err) => serde_json::json!({"envio": push.id, "erro": err.to_string()}),
        };
        // The case may be gone from this database; the push keeps its own
        // record either way.
        let _ = cases.note(
            &push.ticket,
            "envio_helpdesk",
            &detail.to_string(),
            "roteiro",
            &now.to_rfc3339(),
        );
        if let Some(now_is) = pushes.get(push.id)? {
            delivered.push(now_is);
        }
        if matches!(outcome, Err(HelpdeskError::RateLimited(_))) {
            // The budget is spent for everyone: the rest waits its turn.
            break;
        }
    }
    Ok(delivered)
}
