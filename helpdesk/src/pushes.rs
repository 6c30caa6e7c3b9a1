//! The queue of pushes, in the log's database (migrations 0004 and 0006):
//! a push is written before anything is sent, so a 429, an outage or a
//! restart of roteiro only delays it. Written exactly once: every try
//! reads the ticket for the push's marker first, and a write is recorded
//! before it is sent, so a write that may have landed (the helpdesk
//! failed, never answered, or took it but does not show it yet) is
//! confirmed by later reads, never sent again while it may still show.

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

/// How far a push's write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Written {
    /// Sent, its answer unknown (the helpdesk failed or never answered).
    Enviado,
    /// Taken by the helpdesk.
    Aceito,
}

impl Written {
    fn name(self) -> &'static str {
        match self {
            Self::Enviado => "enviado",
            Self::Aceito => "aceito",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "enviado" => Some(Self::Enviado),
            "aceito" => Some(Self::Aceito),
            _ => None,
        }
    }
}

/// How long a write sent without an answer may still show in the ticket:
/// past it, the write is taken as lost and sent again (an assumption:
/// Movidesk documents no delay between a write and its read).
const SENT_WINDOW_MINUTES: i64 = 10;

/// How long a write the helpdesk took is waited for before the push is
/// given up as failed, for a person to look at the ticket.
const ACCEPTED_WINDOW_HOURS: i64 = 24;

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
    /// How far its write went, if one was sent.
    pub written: Option<Written>,
    /// When the write was sent (RFC 3339 in UTC).
    pub written_at: Option<String>,
}

/// The pushes of one database.
pub struct Pushes {
    db: Db,
}

const COLUMNS: &str = "CAST(id AS TEXT), ticket, CAST(public AS TEXT), text, marker, requested_by, requested_at, state, CAST(attempts AS TEXT), next_try_at, result, written, written_at";

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

    /// Records that a write of `push` is about to be sent (`Enviado`), was
    /// taken (`Aceito`), or surely did not land (`None`).
    fn written(&mut self, push: &Push, written: Option<Written>, now: DateTime<Utc>) -> Result<(), LogError> {
        let at = moment(now);
        self.db.execute(
            "UPDATE pushes SET written = $1, written_at = $2 WHERE id = $3",
            &[
                Param::Maybe(written.map(Written::name)),
                Param::Maybe(written.map(|_| at.as_str())),
                Param::Int(push.id),
            ],
        )?;
        Ok(())
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
    let [id, ticket, public, text, marker, by, at, state, attempts, next, result, written, written_at]: [Option<String>;
        13] = row.try_into().ok()?;
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
        written: written.as_deref().and_then(Written::parse),
        written_at,
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
        let outcome = try_once(helpdesk, pushes, &push, now)?;
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

/// One try of `push`: a read for its marker, then a write only when no
/// earlier write may still show, then a read to confirm it; the outer
/// error is the queue's own.
fn try_once(
    helpdesk: &dyn Helpdesk,
    pushes: &mut Pushes,
    push: &Push,
    now: DateTime<Utc>,
) -> Result<Result<String, HelpdeskError>, LogError> {
    match helpdesk.find_action(&push.ticket, &push.marker) {
        Ok(Some(action)) => return Ok(Ok(action)),
        Ok(None) => {}
        Err(err) => return Ok(Err(err)),
    }
    let since = push
        .written_at
        .as_deref()
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| now.signed_duration_since(at));
    match (push.written, since) {
        (Some(Written::Aceito), Some(since)) if since < TimeDelta::hours(ACCEPTED_WINDOW_HOURS) => {
            return Ok(Err(HelpdeskError::Unconfirmed))
        }
        (Some(Written::Aceito), _) => {
            let at = push.written_at.clone().unwrap_or_default();
            return Ok(Err(HelpdeskError::NotShown(at)));
        }
        (Some(Written::Enviado), Some(since)) if since < TimeDelta::minutes(SENT_WINDOW_MINUTES) => {
            return Ok(Err(HelpdeskError::Unconfirmed))
        }
        _ => {}
    }
    let action = Preview {
        ticket: push.ticket.clone(),
        public: push.public,
        text: push.text.clone(),
        marker: push.marker.clone(),
    }
    .action();
    // Recorded before it is sent: a crash during the write leaves a push
    // that reads before it writes again.
    pushes.written(push, Some(Written::Enviado), now)?;
    match helpdesk.write_action(&push.ticket, &action) {
        Ok(()) => pushes.written(push, Some(Written::Aceito), now)?,
        Err(err) if err.may_have_written() => return Ok(Err(err)),
        Err(err) => {
            pushes.written(push, None, now)?;
            return Ok(Err(err));
        }
    }
    Ok(match helpdesk.find_action(&push.ticket, &push.marker) {
        Ok(Some(action)) => Ok(action),
        Ok(None) => Err(HelpdeskError::Unconfirmed),
        Err(err) => Err(err),
    })
}
