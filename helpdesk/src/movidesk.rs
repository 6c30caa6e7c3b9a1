//! Movidesk's public REST API v1, as its documentation describes it
//! ("API do Movidesk - Tickets", atendimento.movidesk.com/kb/article/256,
//! and "[Enterprise] Tickets API", support.zenvia.com/kb/en/article/510136):
//!
//! - a ticket is read with `GET /tickets?id=N`, its scalar fields chosen
//!   with `$select` and the `clients` and `actions` lists with `$expand`
//!   (each with its own `$select`); a ticket last updated more than 90
//!   days ago is only under `GET /tickets/past`, which is read only;
//! - an action is added with `PATCH /tickets?id=N` carrying only the new
//!   action, without an `id`: the field table gives an action's `id` "when
//!   it is necessary to change an existing action", so an action sent with
//!   one is an edit, and the ticket's other actions are never sent back;
//! - the token is the `token` query parameter; 10 requests a minute per
//!   account (kept with [`Turns`], never more in any 60 s, shared by every
//!   process through the log's database when there is one); after three
//!   failed requests a 429 blocks for 60 s, its wait in `retry-after`,
//!   which is obeyed (by every process) up to `max_wait`; past it the push
//!   is left queued, never dropped.
//!
//! Not documented, so read both ways: a ticket that does not exist may be
//! a 404 or an empty (or `null`, or `[]`) 2xx; a read by id may answer the
//! ticket or a list holding it.

use std::time::{Duration, Instant};

use roteiro_decision_log::db::DbPool;
use serde_json::{json, Value};

use crate::turns::{Turns, Wait};
use crate::{Helpdesk, HelpdeskError, MovideskConfig, NewAction, Ticket};

/// The scalar fields read of a ticket.
const SELECT: &str = "id,subject,status";

/// The lists read of a ticket, expanded with only what roteiro uses:
/// the client's name, and each action's text to find a push's marker.
const EXPAND: &str = "clients($select=businessName),actions($select=id,type,description,isDeleted)";

/// Most tries of one request through 429s within `max_wait`.
const MAX_TRIES: usize = 6;

/// Largest answer read (a ticket with all its actions).
const MAX_ANSWER_BYTES: u64 = 8 * 1024 * 1024;

/// A Movidesk account.
pub struct Movidesk {
    config: MovideskConfig,
    agent: ureq::Agent,
    turns: Turns,
}

enum Verb<'a> {
    Get,
    Patch(&'a Value),
}

/// Where tickets are: updated in the last 90 days, or older.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Tickets,
    Past,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Self::Tickets => "/tickets",
            Self::Past => "/tickets/past",
        }
    }
}

/// A ticket as read, and whether it came from `/tickets/past`.
struct Read {
    ticket: Value,
    past: bool,
}

impl Movidesk {
    /// A client for the account `config` names, keeping its budget in this
    /// process alone (a command run with no database).
    pub fn new(config: MovideskConfig) -> Self {
        let turns = Turns::local(config.per_minute, config.minute);
        Self::with_turns(config, turns)
    }

    /// A client whose budget every process using the database of `pool`
    /// shares: the account's 10 requests a minute hold for all of them
    /// together.
    pub fn sharing(config: MovideskConfig, pool: std::sync::Arc<DbPool>) -> Self {
        let account = account_key(&config);
        let turns = Turns::shared(pool, account, config.per_minute, config.minute);
        Self::with_turns(config, turns)
    }

    fn with_turns(config: MovideskConfig, turns: Turns) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .timeout_global(Some(config.timeout))
                .http_status_as_error(false)
                .build(),
        );
        Self { agent, config, turns }
    }

    /// Waits for a turn, or says how long it would have been.
    fn wait_turn(&self, started: Instant) -> Result<(), HelpdeskError> {
        loop {
            let wait = match self.turns.take() {
                Ok(()) => return Ok(()),
                Err(Wait::For(wait)) => wait,
                Err(Wait::Unread(err)) => {
                    return Err(HelpdeskError::Transport(format!(
                        "o orçamento de requisições não foi lido: {err}"
                    )))
                }
            };
            if started.elapsed() + wait > self.config.max_wait {
                return Err(HelpdeskError::RateLimited(wait.as_secs().max(1)));
            }
            std::thread::sleep(wait);
        }
    }

    /// One request to `route` about ticket `id`, through the budget and
    /// any 429; its JSON answer (`null` when empty).
    fn call(&self, verb: Verb<'_>, route: Route, id: &str, query: &[(&str, &str)]) -> Result<Value, HelpdeskError> {
        let started = Instant::now();
        let url = format!("{}{}", self.config.base_url.trim_end_matches('/'), route.path());
        let mut last_wait = 60;
        for _ in 0..MAX_TRIES {
            self.wait_turn(started)?;
            let pairs = [("token", self.config.token.expose()), ("id", id)]
                .into_iter()
                .chain(query.iter().copied());
            let sent = match verb {
                Verb::Get => self.agent.get(&url).query_pairs(pairs).call(),
                Verb::Patch(body) => self.agent.patch(&url).query_pairs(pairs).send_json(body),
            };
            let mut response = sent.map_err(|err| self.transport(&err))?;
            let status = response.status().as_u16();
            if status == 429 {
                let seconds = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .unwrap_or(60);
                tracing::info!(seconds, "helpdesk pediu espera (429)");
                self.turns.block_for(Duration::from_secs(seconds));
                last_wait = seconds;
                continue;
            }
            let text = response
                .body_mut()
                .with_config()
                .limit(MAX_ANSWER_BYTES)
                .read_to_string()
                .map_err(|err| self.transport(&err))?;
            return match status {
                200..=299 if text.trim().is_empty() => Ok(Value::Null),
                200..=299 => serde_json::from_str(&text).map_err(|err| HelpdeskError::Refused(status, err.to_string())),
                401 | 403 => Err(HelpdeskError::Unauthorized),
                404 => Err(HelpdeskError::NotFound(id.to_string())),
                500..=599 => Err(HelpdeskError::Server(status)),
                _ => Err(HelpdeskError::Refused(
                    status,
                    // Masked before the cut (a whole token) and after it
                    // (a piece of one left at the end).
                    self.config.token.redact(&shortened(&self.config.token.redact(&text))),
                )),
            };
        }
        Err(HelpdeskError::RateLimited(last_wait.max(1)))
    }

    fn transport(&self, err: &impl ToString) -> HelpdeskError {
        HelpdeskError::Transport(self.config.token.redact(&err.to_string()))
    }

    /// Ticket `id` from `/tickets`, or from `/tickets/past` when it is not
    /// among the last 90 days' tickets.
    fn read(&self, id: &str) -> Result<Read, HelpdeskError> {
        let query = [("$select", SELECT), ("$expand", EXPAND)];
        for (route, past) in [(Route::Tickets, false), (Route::Past, true)] {
            match self.call(Verb::Get, route, id, &query) {
                Ok(answer) => {
                    if let Some(ticket) = ticket_in(answer, id) {
                        return Ok(Read { ticket, past });
                    }
                }
                Err(HelpdeskError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Err(HelpdeskError::NotFound(id.to_string()))
    }
}

/// The account as the shared budget names it: a SHA-256 of the API's
/// address and the token (the token itself is never stored).
fn account_key(config: &MovideskConfig) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(config.base_url.trim_end_matches('/').as_bytes());
    hasher.update(b"\n");
    hasher.update(config.token.expose().as_bytes());
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The ticket `id` in an answer: the ticket itself, or the one in a list
/// holding it; nothing for an empty answer.
fn ticket_in(answer: Value, id: &str) -> Option<Value> {
    match answer {
        Value::Object(fields) if !fields.is_empty() => Some(Value::Object(fields)),
        Value::Array(list) => list.into_iter().find(|ticket| id_text(&ticket["id"]) == id),
        _ => None,
    }
}

/// An id as text, whether Movidesk sent it as a string or a number.
fn id_text(id: &Value) -> String {
    match id {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn shortened(text: &str) -> String {
    text.chars().take(200).collect()
}

/// The id of the action, not deleted, whose description holds `marker`.
fn action_with(ticket: &Value, marker: &str) -> Option<String> {
    ticket["actions"].as_array()?.iter().find_map(|action| {
        let deleted = action["isDeleted"].as_bool().unwrap_or(false);
        let holds = action["description"].as_str().is_some_and(|text| text.contains(marker));
        (holds && !deleted).then(|| id_text(&action["id"]))
    })
}

/// What is sent to add `action`: the new action alone, without an id.
pub(crate) fn new_action_body(action: &NewAction, agent_id: &str) -> Value {
    json!({"actions": [{
        "type": if action.public { 2 } else { 1 },
        "description": action.description,
        "createdBy": {"id": agent_id},
    }]})
}

impl Helpdesk for Movidesk {
    fn ticket(&self, id: &str) -> Result<Ticket, HelpdeskError> {
        let Read { ticket, past } = self.read(id)?;
        let text = |field: &str| ticket[field].as_str().map(str::to_string);
        Ok(Ticket {
            id: Some(id_text(&ticket["id"]))
                .filter(|found| !found.is_empty())
                .unwrap_or_else(|| id.to_string()),
            subject: text("subject"),
            status: text("status"),
            client_name: ticket["clients"][0]["businessName"].as_str().map(str::to_string),
            read_only: past,
        })
    }

    fn find_action(&self, id: &str, marker: &str) -> Result<Option<String>, HelpdeskError> {
        let read = self.read(id)?;
        match action_with(&read.ticket, marker) {
            Some(found) => Ok(Some(found)),
            None if read.past => Err(HelpdeskError::ReadOnly(id.to_string())),
            None => Ok(None),
        }
    }

    fn write_action(&self, id: &str, action: &NewAction) -> Result<(), HelpdeskError> {
        let body = new_action_body(action, &self.config.agent_id);
        self.call(Verb::Patch(&body), Route::Tickets, id, &[]).map(|_| ())
    }
}
