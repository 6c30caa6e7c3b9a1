//! The cases as stored: tables `cases`, `case_events` and
//! `case_follow_ups` (migration 0002), one query surface over SQLite and
//! PostgreSQL.
//!
//! Two analysts answering one case at once never lose an answer: each
//! change names the version it was made on, and a change made on an older
//! version is refused as a conflict (optimistic locking), to be made again
//! on the case as it now is.

use crate::db::{Db, Param};
use crate::LogError;

/// Longest ticket number taken (Movidesk's are numeric, a few digits).
const MAX_TICKET_DIGITS: usize = 12;

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Case {
    /// The helpdesk ticket (protocol) number.
    pub ticket: String,
    /// The situation so far, as the JSON `decide` reads.
    pub situation: String,
    /// Bumped by every change; a change names the version it was made on.
    pub version: i64,
    /// When it was opened (RFC 3339) and by whom.
    pub opened_at: String,
    /// Who opened it.
    pub opened_by: String,
    /// When it was closed, if it was.
    pub closed_at: Option<String>,
    /// Why it was closed.
    pub closed_reason: Option<String>,
}

/// One thing that happened to a case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseEvent {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub by: String,
    /// `aberto`, `resposta`, `decisao`, `pendencia_fechada`, `encerrado`.
    pub kind: String,
    /// What, as JSON.
    pub detail: String,
}

/// A follow-up of a case, as the last decision left it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseFollowUp {
    /// The case's ticket.
    pub ticket: String,
    /// The follow-up's id.
    pub id: String,
    /// What to do then.
    pub text: String,
    /// Team that does it.
    pub team: Option<String>,
    /// When it is due (`YYYY-MM-DD` or RFC 3339).
    pub due: Option<String>,
    /// The same as people read it.
    pub due_text: Option<String>,
    /// The condition that closes it.
    pub until: Option<String>,
    /// The rule that asked for it.
    pub rule: String,
    /// When it was closed, and why (open while absent).
    pub closed: Option<(String, String)>,
}

impl CaseEvent {
    /// As JSON, its detail read back from its stored text.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "at": self.at,
            "by": self.by,
            "kind": self.kind,
            "detail": serde_json::from_str::<serde_json::Value>(&self.detail).unwrap_or(serde_json::Value::Null),
        })
    }
}

impl CaseFollowUp {
    /// As JSON, with whether it is overdue at `now`.
    pub fn to_json(&self, now: chrono::DateTime<chrono::FixedOffset>) -> serde_json::Value {
        let mut item = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut item {
            map.insert("overdue".into(), serde_json::Value::Bool(self.overdue(now)));
        }
        item
    }

    /// Whether it was due before `now`: a day from the next day on.
    pub fn overdue(&self, now: chrono::DateTime<chrono::FixedOffset>) -> bool {
        let Some(due) = self.due.as_deref() else { return false };
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(due) {
            return at < now;
        }
        chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").is_ok_and(|day| day < now.date_naive())
    }
}

/// Why a case could not be read or changed, in Portuguese.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// Not a ticket number.
    #[error("número de ticket inválido `{0}`: use só dígitos (até {MAX_TICKET_DIGITS}), como o protocolo do Movidesk")]
    Ticket(String),
    /// No case for that ticket.
    #[error("não há caso aberto para o ticket {0}; abra com `roteiro case open {0}`")]
    NotFound(String),
    /// A case for that ticket exists already.
    #[error("o ticket {0} já tem um caso; retome com `roteiro case show {0}`")]
    Exists(String),
    /// Someone changed the case since it was read.
    #[error("o caso do ticket {ticket} mudou enquanto você respondia (versão {current}, você respondia sobre a {expected}): veja o caso de novo e responda outra vez")]
    Conflict {
        /// The case.
        ticket: String,
        /// The version the change was made on.
        expected: i64,
        /// The version it is now.
        current: i64,
    },
    /// The case is closed.
    #[error("o caso do ticket {0} está encerrado")]
    Closed(String),
    /// The database refused or could not be reached.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// Checks a ticket number: digits only, as the helpdesk gives them.
pub fn ticket(text: &str) -> Result<String, CaseError> {
    let ok = !text.is_empty() && text.len() <= MAX_TICKET_DIGITS && text.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(text.to_string())
    } else {
        let shown: String = text.chars().take(40).collect();
        Err(CaseError::Ticket(shown))
    }
}

/// The cases of one database.
pub struct Cases {
    db: Db,
}

const CASE_COLUMNS: &str = "ticket, situation, CAST(version AS TEXT), opened_at, opened_by, closed_at, closed_reason";

impl crate::db::OnDb for Cases {
    fn from_db(db: Db) -> Self {
        Self { db }
    }

    fn into_db(self) -> Db {
        self.db
    }
}

impl Cases {
    /// Opens (creating and migrating) the database at `address`, as the
    /// decision log does.
    pub fn open(address: &str) -> Result<Self, LogError> {
        let db = Db::open(address)?;
        Ok(Self { db })
    }

    /// The case of `ticket`, if there is one.
    pub fn case(&mut self, ticket: &str) -> Result<Option<Case>, CaseError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE ticket = $1");
        let rows = self.db.rows(&sql, &[Param::Text(ticket)])?;
        Ok(rows.into_iter().next().map(case_of))
    }

    /// Opens a case with its first situation.
    pub fn open_case(&mut self, ticket: &str, situation: &str, by: &str, at: &str) -> Result<Case, CaseError> {
        self.db.transaction(|db| {
            let exists = db.rows("SELECT ticket FROM cases WHERE ticket = $1", &[Param::Text(ticket)])?;
            if !exists.is_empty() {
                return Err(CaseError::Exists(ticket.to_string()));
            }
            db.execute(
                "INSERT INTO cases (ticket, situation, version, opened_at, opened_by) VALUES ($1, $2, 1, $3, $4)",
                &[
                    Param::Text(ticket),
                    Param::Text(situation),
                    Param::Text(at),
                    Param::Text(by),
                ],
            )?;
            event(db, ticket, at, by, "aberto", "{}")?;
            Ok(())
        })?;
        self.case(ticket)?
            .ok_or_else(|| CaseError::NotFound(ticket.to_string()))
    }

    /// Replaces the case's situation with `situation`, made on `version`:
    /// refused as a conflict when the case changed since.
    pub fn answer(
        &mut self,
        ticket: &str,
        version: i64,
        situation: &str,
        detail: &str,
        by: &str,
        at: &str,
    ) -> Result<Case, CaseError> {
        self.db.transaction(|db| {
            let changed = db.execute(
                "UPDATE cases SET situation = $1, version = version + 1 WHERE ticket = $2 AND version = $3 AND closed_at IS NULL",
                &[Param::Text(situation), Param::Text(ticket), Param::Int(version)],
            )?;
            if changed == 0 {
                let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE ticket = $1");
                let found = db.rows(&sql, &[Param::Text(ticket)])?.into_iter().next().map(case_of);
                return Err(match found {
                    None => CaseError::NotFound(ticket.to_string()),
                    Some(case) if case.closed_at.is_some() => CaseError::Closed(ticket.to_string()),
                    Some(case) => CaseError::Conflict {
                        ticket: ticket.to_string(),
                        expected: version,
                        current: case.version,
                    },
                });
            }
            event(db, ticket, at, by, "resposta", detail)
        })?;
        self.case(ticket)?
            .ok_or_else(|| CaseError::NotFound(ticket.to_string()))
    }

    /// Records a decision made on the case and makes its follow-ups what
    /// the decision says: new ones open, those it no longer shows closed
    /// (what they waited for came, or the rule no longer applies).
    pub fn record_decision(
        &mut self,
        ticket: &str,
        detail: &str,
        follow_ups: &[CaseFollowUp],
        by: &str,
        at: &str,
    ) -> Result<(), CaseError> {
        self.db.transaction(|db| {
            event(db, ticket, at, by, "decisao", detail)?;
            let open = db.rows(
                "SELECT id FROM case_follow_ups WHERE ticket = $1 AND closed_at IS NULL",
                &[Param::Text(ticket)],
            )?;
            for id in open.into_iter().filter_map(|row| row.into_iter().next().flatten()) {
                if !follow_ups.iter().any(|follow_up| follow_up.id == id) {
                    close_follow_up(db, ticket, &id, "a decisão não a mostra mais (condição atendida)", by, at)?;
                }
            }
            for follow_up in follow_ups {
                // A wait keeps the due time it started with (a due of
                // "now, while Financeiro is open" must not move with every
                // look); one whose due was unknown takes it when known.
                let kept = db.execute(
                    "UPDATE case_follow_ups SET text = $1, team = $2, due = COALESCE(due, $3), due_text = COALESCE(due_text, $4), until_text = $5, rule = $6 WHERE ticket = $7 AND id = $8 AND closed_at IS NULL",
                    &[
                        Param::Text(&follow_up.text),
                        Param::Maybe(follow_up.team.as_deref()),
                        Param::Maybe(follow_up.due.as_deref()),
                        Param::Maybe(follow_up.due_text.as_deref()),
                        Param::Maybe(follow_up.until.as_deref()),
                        Param::Text(&follow_up.rule),
                        Param::Text(ticket),
                        Param::Text(&follow_up.id),
                    ],
                )?;
                if kept > 0 {
                    continue;
                }
                // New, or reopened after it closed: it starts again now.
                db.execute("DELETE FROM case_follow_ups WHERE ticket = $1 AND id = $2", &[
                    Param::Text(ticket),
                    Param::Text(&follow_up.id),
                ])?;
                db.execute(
                    "INSERT INTO case_follow_ups (ticket, id, text, team, due, due_text, until_text, rule, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        Param::Text(ticket),
                        Param::Text(&follow_up.id),
                        Param::Text(&follow_up.text),
                        Param::Maybe(follow_up.team.as_deref()),
                        Param::Maybe(follow_up.due.as_deref()),
                        Param::Maybe(follow_up.due_text.as_deref()),
                        Param::Maybe(follow_up.until.as_deref()),
                        Param::Text(&follow_up.rule),
                        Param::Text(at),
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// Closes one follow-up by hand, with the reason.
    pub fn close_follow_up(
        &mut self,
        ticket: &str,
        id: &str,
        reason: &str,
        by: &str,
        at: &str,
    ) -> Result<(), CaseError> {
        self.db
            .transaction(|db| close_follow_up(db, ticket, id, reason, by, at))
    }

    /// Closes the case, and every follow-up still open, with the reason.
    pub fn close(&mut self, ticket: &str, reason: &str, by: &str, at: &str) -> Result<(), CaseError> {
        self.db.transaction(|db| {
            let changed = db.execute(
                "UPDATE cases SET closed_at = $1, closed_reason = $2, version = version + 1 WHERE ticket = $3 AND closed_at IS NULL",
                &[Param::Text(at), Param::Text(reason), Param::Text(ticket)],
            )?;
            if changed == 0 {
                let exists = db.rows("SELECT ticket FROM cases WHERE ticket = $1", &[Param::Text(ticket)])?;
                return Err(if exists.is_empty() {
                    CaseError::NotFound(ticket.to_string())
                } else {
                    CaseError::Closed(ticket.to_string())
                });
            }
            db.execute(
                "UPDATE case_follow_ups SET closed_at = $1, closed_reason = $2 WHERE ticket = $3 AND closed_at IS NULL",
                &[Param::Text(at), Param::Text("caso encerrado"), Param::Text(ticket)],
            )?;
            let detail = serde_json::json!({ "motivo": reason }).to_string();
            event(db, ticket, at, by, "encerrado", &detail)
        })
    }

    /// Retention: deletes every case closed before `before` with what it
    /// holds of people (its situation, history and follow-ups) and its
    /// finished pushes; open cases and pushes still queued stay. The
    /// number of cases deleted.
    ///
    /// A case's closing moment is RFC 3339 text in whatever offset it was
    /// written, so it is compared as an instant here, not as text.
    pub fn prune_closed(&mut self, before: chrono::DateTime<chrono::Utc>) -> Result<u64, CaseError> {
        let closed = self
            .db
            .rows("SELECT ticket, closed_at FROM cases WHERE closed_at IS NOT NULL", &[])?;
        let old: Vec<String> = closed
            .into_iter()
            .filter_map(|row| {
                let mut row = row.into_iter();
                let ticket = row.next().flatten()?;
                let at = chrono::DateTime::parse_from_rfc3339(&row.next().flatten()?).ok()?;
                (at < before).then_some(ticket)
            })
            .collect();
        for ticket in &old {
            self.db.transaction(|db| -> Result<(), CaseError> {
                let ticket = Param::Text(ticket);
                db.execute(
                    "DELETE FROM case_events WHERE ticket = $1",
                    std::slice::from_ref(&ticket),
                )?;
                db.execute(
                    "DELETE FROM case_follow_ups WHERE ticket = $1",
                    std::slice::from_ref(&ticket),
                )?;
                db.execute(
                    "DELETE FROM pushes WHERE ticket = $1 AND state <> 'fila'",
                    std::slice::from_ref(&ticket),
                )?;
                db.execute("DELETE FROM cases WHERE ticket = $1", &[ticket])?;
                Ok(())
            })?;
        }
        Ok(old.len() as u64)
    }

    /// Adds a line to the case's history (`detail` is JSON text), for
    /// what happens to a case outside its answers and decisions: a push to
    /// its ticket.
    pub fn note(&mut self, ticket: &str, kind: &str, detail: &str, by: &str, at: &str) -> Result<(), CaseError> {
        if self.case(ticket)?.is_none() {
            return Err(CaseError::NotFound(ticket.to_string()));
        }
        event(&mut self.db, ticket, at, by, kind, detail)
    }

    /// Everything that happened to the case, oldest first.
    pub fn events(&mut self, ticket: &str) -> Result<Vec<CaseEvent>, CaseError> {
        let rows = self.db.rows(
            "SELECT at, by_whom, kind, detail FROM case_events WHERE ticket = $1 ORDER BY id",
            &[Param::Text(ticket)],
        )?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut cells = row.into_iter().map(Option::unwrap_or_default);
                let mut next = || cells.next().unwrap_or_default();
                CaseEvent {
                    at: next(),
                    by: next(),
                    kind: next(),
                    detail: next(),
                }
            })
            .collect())
    }

    /// The follow-ups of one case (open only, or all), in the order they
    /// are due.
    pub fn follow_ups(&mut self, ticket: &str, open_only: bool) -> Result<Vec<CaseFollowUp>, CaseError> {
        let filter = if open_only { " AND closed_at IS NULL" } else { "" };
        let sql = format!("SELECT {FOLLOW_UP_COLUMNS} FROM case_follow_ups WHERE ticket = $1{filter}");
        let mut found: Vec<CaseFollowUp> = self
            .db
            .rows(&sql, &[Param::Text(ticket)])?
            .into_iter()
            .map(follow_up_of)
            .collect();
        found.sort_by_key(due_order);
        Ok(found)
    }

    /// Every open follow-up of every open case, soonest first; only one
    /// team's when `team` is given.
    pub fn due(&mut self, team: Option<&str>) -> Result<Vec<CaseFollowUp>, CaseError> {
        let sql = format!(
            "SELECT {FOLLOW_UP_COLUMNS} FROM case_follow_ups f WHERE f.closed_at IS NULL AND ($1 = '' OR f.team = $1) AND EXISTS (SELECT 1 FROM cases c WHERE c.ticket = f.ticket AND c.closed_at IS NULL)"
        );
        let mut found: Vec<CaseFollowUp> = self
            .db
            .rows(&sql, &[Param::Text(team.unwrap_or_default())])?
            .into_iter()
            .map(follow_up_of)
            .collect();
        found.sort_by_key(due_order);
        Ok(found)
    }
}

const FOLLOW_UP_COLUMNS: &str = "ticket, id, text, team, due, due_text, until_text, rule, closed_at, closed_reason";

/// Soonest first: a day sorts by its date, a moment by its UTC instant;
/// those without a due time last.
fn due_order(follow_up: &CaseFollowUp) -> (bool, String, String) {
    let key = follow_up.due.as_deref().map(|due| {
        chrono::DateTime::parse_from_rfc3339(due)
            .map(|at| at.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_else(|_| format!("{due}T00:00:00"))
    });
    (key.is_none(), key.unwrap_or_default(), follow_up.ticket.clone())
}

fn event(db: &mut Db, ticket: &str, at: &str, by: &str, kind: &str, detail: &str) -> Result<(), CaseError> {
    db.execute(
        "INSERT INTO case_events (ticket, at, by_whom, kind, detail) VALUES ($1, $2, $3, $4, $5)",
        &[
            Param::Text(ticket),
            Param::Text(at),
            Param::Text(by),
            Param::Text(kind),
            Param::Text(detail),
        ],
    )?;
    Ok(())
}

fn close_follow_up(db: &mut Db, ticket: &str, id: &str, reason: &str, by: &str, at: &str) -> Result<(), CaseError> {
    let changed = db.execute(
        "UPDATE case_follow_ups SET closed_at = $1, closed_reason = $2 WHERE ticket = $3 AND id = $4 AND closed_at IS NULL",
        &[Param::Text(at), Param::Text(reason), Param::Text(ticket), Param::Text(id)],
    )?;
    if changed == 0 {
        return Err(CaseError::NotFound(format!("{ticket} (pendência `{id}`)")));
    }
    let detail = serde_json::json!({ "pendencia": id, "motivo": reason }).to_string();
    event(db, ticket, at, by, "pendencia_fechada", &detail)
}

fn case_of(row: Vec<Option<String>>) -> Case {
    let mut cells = row.into_iter();
    let mut next = || cells.next().flatten();
    Case {
        ticket: next().unwrap_or_default(),
        situation: next().unwrap_or_default(),
        version: next().and_then(|v| v.parse().ok()).unwrap_or_default(),
        opened_at: next().unwrap_or_default(),
        opened_by: next().unwrap_or_default(),
        closed_at: next(),
        closed_reason: next(),
    }
}

fn follow_up_of(row: Vec<Option<String>>) -> CaseFollowUp {
    let mut cells = row.into_iter();
    let mut next = || cells.next().flatten();
    let (ticket, id, text, team, due, due_text, until, rule) =
        (next(), next(), next(), next(), next(), next(), next(), next());
    let closed = next().map(|at| (at, next().unwrap_or_default()));
    CaseFollowUp {
        ticket: ticket.unwrap_or_default(),
        id: id.unwrap_or_default(),
        text: text.unwrap_or_default(),
        team,
        due,
        due_text,
        until,
        rule: rule.unwrap_or_default(),
        closed,
    }
}
