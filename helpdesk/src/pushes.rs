//! The queue of pushes, in the log's database (migrations 0004, 0006 and
//! 0007): a push is written before anything is sent, so a 429, an outage
//! or a restart of roteiro only delays it. Written exactly once: every try
//! reads the ticket for the push's marker first, and a write is recorded
//! before it is sent, so a write that may have landed (the helpdesk
//! failed, never answered, or took it but does not show it yet) is
//! confirmed by later reads, never sent again while it may still show.
//!
//! Several processes (replicas of `serve`, a `case push`) work one queue:
//! a process claims one due push at a time for [`CLAIM_MINUTES`] (an
//! atomic conditional update; `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! claimers pass each other's rows), and only the holder of the claim may
//! record that it writes or how the try went. A claim taken over after it
//! ran out makes the old holder's records change nothing. One live push
//! per marker is a unique index: a confirmation sent to two replicas at
//! once queues one push.

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

/// How long a claim on a push lasts: longer than one try (three requests
/// within their timeouts and the budget's wait), so it only runs out when
/// its holder died.
pub const CLAIM_MINUTES: i64 = 5;

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

// The id is read as text under another name: `ORDER BY id` must sort the
// number, not the text column PostgreSQL would otherwise take it for.
const COLUMNS: &str = "CAST(id AS TEXT) AS id_text, ticket, CAST(public AS TEXT), text, marker, requested_by, requested_at, state, CAST(attempts AS TEXT), next_try_at, result, written, written_at";

/// Longest a queued push waits between tries.
const MAX_BACKOFF_MINUTES: i64 = 60;

/// Most pushes one delivery round takes on.
const MAX_PER_ROUND: usize = 50;

/// A moment as the queue stores it: UTC, microseconds, `Z`, so text order
/// is time order and the database picks the due pushes itself.
fn moment(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl roteiro_decision_log::db::OnDb for Pushes {
    fn from_db(db: Db) -> Self {
        Self { db }
    }

    fn into_db(self) -> Db {
        self.db
    }
}

impl Pushes {
    /// Opens (creating and migrating) the database at `address`.
    pub fn open(address: &str) -> Result<Self, LogError> {
        Ok(Self { db: Db::open(address)? })
    }

    /// Queues `preview` unless a push with its marker is already queued or
    /// written (the same text is never written twice; a unique index holds
    /// it when two processes queue at once); the push.
    pub fn enqueue(&mut self, preview: &Preview, by: &str, at: DateTime<Utc>) -> Result<Push, LogError> {
        let at_text = moment(at);
        self.db.execute(
            "INSERT INTO pushes (ticket, public, text, marker, requested_by, requested_at, state, attempts, next_try_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'fila', 0, $7) ON CONFLICT (marker) WHERE state <> 'falhou' DO NOTHING",
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
        select(
            &mut self.db,
            "WHERE marker = $1 AND state <> 'falhou'",
            &[Param::Text(&preview.marker)],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| LogError::Database("o envio não foi guardado".into()))
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

    /// Claims the oldest queued push due at `now` whose claim is free or
    /// ran out, for `claim` until [`CLAIM_MINUTES`] after `now`.
    pub fn claim_next(&mut self, claim: &str, now: DateTime<Utc>) -> Result<Option<Push>, LogError> {
        let (now_text, until) = (moment(now), moment(now + TimeDelta::minutes(CLAIM_MINUTES)));
        let skip = if matches!(self.db, Db::Postgres(_)) {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // The outer conditions repeat the inner ones: on PostgreSQL a row
        // another claimer changed meanwhile is looked at again once its
        // lock is free, and no longer matches.
        let free = "state = 'fila' AND next_try_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3)";
        let claimed = self.db.execute(
            &format!(
                "UPDATE pushes SET claim = $1, claimed_until = $2 WHERE {free} AND id = \
                 (SELECT id FROM pushes WHERE {free} ORDER BY id LIMIT 1{skip})"
            ),
            &[Param::Text(claim), Param::Text(&until), Param::Text(&now_text)],
        )?;
        if claimed == 0 {
            return Ok(None);
        }
        Ok(select(
            &mut self.db,
            "WHERE claim = $1 AND state = 'fila'",
            &[Param::Text(claim)],
        )?
        .into_iter()
        .next())
    }

    /// Records that a write of `push` is about to be sent (`Enviado`), was
    /// taken (`Aceito`), or surely did not land (`None`); false when
    /// `claim` no longer holds the push (then nothing is recorded, and
    /// nothing may be sent).
    fn written(
        &mut self,
        push: &Push,
        claim: &str,
        written: Option<Written>,
        now: DateTime<Utc>,
    ) -> Result<bool, LogError> {
        let at = moment(now);
        let changed = self.db.execute(
            "UPDATE pushes SET written = $1, written_at = $2 WHERE id = $3 AND claim = $4 AND state = 'fila'",
            &[
                Param::Maybe(written.map(Written::name)),
                Param::Maybe(written.map(|_| at.as_str())),
                Param::Int(push.id),
                Param::Text(claim),
            ],
        )?;
        Ok(changed == 1)
    }

    /// Records how a try of `push` under `claim` went and frees the
    /// claim; false when the claim no longer holds it (a newer state is
    /// never overwritten).
    fn finish(
        &mut self,
        push: &Push,
        claim: &str,
        outcome: &Result<String, HelpdeskError>,
        now: DateTime<Utc>,
    ) -> Result<bool, LogError> {
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
        let changed = self.db.execute(
            "UPDATE pushes SET state = $1, attempts = $2, next_try_at = $3, result = $4, claim = NULL, claimed_until = NULL \
             WHERE id = $5 AND claim = $6 AND state = 'fila'",
            &[
                Param::Text(state.name()),
                Param::Int(attempts),
                Param::Text(&moment(next)),
                Param::Text(&result),
                Param::Int(push.id),
                Param::Text(claim),
            ],
        )?;
        Ok(changed == 1)
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

/// A claim no other process will hold: 128 random bits.
fn new_claim() -> Result<String, LogError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| LogError::Database(format!("sem aleatoriedade do sistema: {err}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Tries every due push once (at most a round's worth), each under a
/// claim of its own taken at the moment `clock` tells, recording each
/// outcome on the push and in its case's history; the pushes tried, as
/// they now are.
pub fn deliver_due(
    helpdesk: &dyn Helpdesk,
    pushes: &mut Pushes,
    cases: &mut Cases,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<Vec<Push>, LogError> {
    let mut delivered = Vec::new();
    while delivered.len() < MAX_PER_ROUND {
        let claim = new_claim()?;
        let Some(push) = pushes.claim_next(&claim, clock())? else {
            break;
        };
        let outcome = try_once(helpdesk, pushes, &push, &claim, clock())?;
        let now = clock();
        if !pushes.finish(&push, &claim, &outcome, now)? {
            tracing::warn!(
                envio = push.id,
                "outro processo assumiu o envio; este resultado não foi gravado"
            );
            continue;
        }
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
    claim: &str,
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
    // Sent only by the claim's holder: a process whose claim ran out and
    // was taken over sends nothing.
    if !pushes.written(push, claim, Some(Written::Enviado), now)? {
        return Ok(Err(HelpdeskError::Unconfirmed));
    }
    match helpdesk.write_action(&push.ticket, &action) {
        Ok(()) => {
            pushes.written(push, claim, Some(Written::Aceito), now)?;
        }
        Err(err) if err.may_have_written() => return Ok(Err(err)),
        Err(err) => {
            pushes.written(push, claim, None, now)?;
            return Ok(Err(err));
        }
    }
    Ok(match helpdesk.find_action(&push.ticket, &push.marker) {
        Ok(Some(action)) => Ok(action),
        Ok(None) => Err(HelpdeskError::Unconfirmed),
        Err(err) => Err(err),
    })
}
