//! Movidesk's public REST API v1: `GET /tickets?id=N&$select=...` and
//! `PATCH /tickets?id=N`, the token as the `token` query parameter.
//! Array fields are replaced by a PATCH, so an action is added by reading
//! the ticket's actions, appending, and sending them all back.
//!
//! Within the documented budget (10 requests a minute, kept here with a
//! GCRA limiter) and obeying `retry-after` on a 429: a request waits its
//! turn, up to `max_wait`; past it the push is left queued for later,
//! never dropped.

use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};

use crate::{Helpdesk, HelpdeskError, MovideskConfig, NewAction, Ticket};

/// Fields read of a ticket: no more than an action needs.
const SELECT: &str = "id,subject,status,clients,actions";

/// Most tries of one request through 429s within `max_wait`.
const MAX_TRIES: usize = 6;

/// A Movidesk account.
pub struct Movidesk {
    config: MovideskConfig,
    agent: ureq::Agent,
    budget: DefaultDirectRateLimiter,
    /// Until when Movidesk asked to wait (its last `retry-after`).
    blocked_until: Mutex<Option<Instant>>,
}

enum Verb<'a> {
    Get,
    Patch(&'a Value),
}

impl Movidesk {
    /// A client for the account `config` names.
    pub fn new(config: MovideskConfig) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .timeout_global(Some(config.timeout))
                .http_status_as_error(false)
                .build(),
        );
        let per_minute = NonZeroU32::new(config.per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            budget: RateLimiter::direct(Quota::per_minute(per_minute)),
            agent,
            config,
            blocked_until: Mutex::new(None),
        }
    }

    /// Waits for the budget and any `retry-after`, or says how long it
    /// would have been.
    fn wait_turn(&self, started: Instant) -> Result<(), HelpdeskError> {
        loop {
            let blocked = *self.blocked_until.lock().unwrap_or_else(PoisonError::into_inner);
            let wait = match blocked {
                Some(until) if until > Instant::now() => until - Instant::now(),
                _ => match self.budget.check() {
                    Ok(()) => return Ok(()),
                    Err(not_until) => not_until.wait_time_from(DefaultClock::default().now()),
                },
            };
            if started.elapsed() + wait > self.config.max_wait {
                return Err(HelpdeskError::RateLimited(wait.as_secs().max(1)));
            }
            std::thread::sleep(wait);
        }
    }

    /// One request to `/tickets` with `query`, through the budget and any
    /// 429; its JSON answer (`null` when empty).
    fn tickets(&self, verb: Verb<'_>, query: &[(&str, &str)]) -> Result<Value, HelpdeskError> {
        let started = Instant::now();
        let url = format!("{}/tickets", self.config.base_url.trim_end_matches('/'));
        for _ in 0..MAX_TRIES {
            self.wait_turn(started)?;
            let pairs = std::iter::once(("token", self.config.token.expose())).chain(query.iter().copied());
            let sent = match verb {
                Verb::Get => self.agent.get(&url).query_pairs(pairs).call(),
                Verb::Patch(body) => self.agent.patch(&url).query_pairs(pairs).send_json(body),
            };
            let mut response =
                sent.map_err(|err| HelpdeskError::Transport(self.config.token.redact(&err.to_string())))?;
            let status = response.status().as_u16();
            if status == 429 {
                let seconds = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .unwrap_or(60);
                tracing::info!(seconds, "helpdesk pediu espera (429)");
                *self.blocked_until.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(Instant::now() + Duration::from_secs(seconds));
                continue;
            }
            let text = response
                .body_mut()
                .with_config()
                .limit(8 * 1024 * 1024)
                .read_to_string()
                .map_err(|err| HelpdeskError::Transport(self.config.token.redact(&err.to_string())))?;
            return match status {
                200..=299 if text.trim().is_empty() => Ok(Value::Null),
                200..=299 => serde_json::from_str(&text).map_err(|err| HelpdeskError::Refused(status, err.to_string())),
                401 | 403 => Err(HelpdeskError::Unauthorized),
                404 => Err(HelpdeskError::NotFound(query_id(query))),
                500..=599 => Err(HelpdeskError::Server(status)),
                _ => Err(HelpdeskError::Refused(
                    status,
                    // Masked before the cut (a whole token) and after it
                    // (a piece of one left at the end).
                    self.config.token.redact(&shortened(&self.config.token.redact(&text))),
                )),
            };
        }
        let wait = self
            .blocked_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map_or(60, |until| {
                until.saturating_duration_since(Instant::now()).as_secs().max(1)
            });
        Err(HelpdeskError::RateLimited(wait))
    }

    fn read(&self, id: &str) -> Result<Value, HelpdeskError> {
        self.tickets(Verb::Get, &[("id", id), ("$select", SELECT)])
    }
}

fn query_id(query: &[(&str, &str)]) -> String {
    query
        .iter()
        .find(|(key, _)| *key == "id")
        .map_or_else(String::new, |(_, id)| (*id).to_string())
}

fn shortened(text: &str) -> String {
    text.chars().take(200).collect()
}

/// The id of the action whose description holds `marker`.
fn action_with(ticket: &Value, marker: &str) -> Option<String> {
    ticket["actions"].as_array()?.iter().find_map(|action| {
        action["description"]
            .as_str()
            .is_some_and(|text| text.contains(marker))
            .then(|| match &action["id"] {
                Value::String(id) => id.clone(),
                other => other.to_string(),
            })
    })
}

impl Helpdesk for Movidesk {
    fn ticket(&self, id: &str) -> Result<Ticket, HelpdeskError> {
        let read = self.read(id)?;
        let text = |field: &str| read[field].as_str().map(str::to_string);
        let client = &read["clients"][0];
        Ok(Ticket {
            id: text("id").unwrap_or_else(|| id.to_string()),
            subject: text("subject"),
            status: text("status"),
            client_name: client["businessName"].as_str().map(str::to_string),
        })
    }

    fn add_action(&self, id: &str, action: &NewAction) -> Result<String, HelpdeskError> {
        let before = self.read(id)?;
        if let Some(written) = action_with(&before, &action.marker) {
            return Ok(written);
        }
        let mut actions = before["actions"].as_array().cloned().unwrap_or_default();
        actions.push(json!({
            "type": if action.public { 2 } else { 1 },
            "description": action.description,
            "createdBy": {"id": self.config.agent_id},
        }));
        self.tickets(Verb::Patch(&json!({ "actions": actions })), &[("id", id)])?;
        let after = self.read(id)?;
        action_with(&after, &action.marker)
            .ok_or_else(|| HelpdeskError::Refused(200, "a ação enviada não aparece no ticket".into()))
    }
}
