//! A local stand-in for Movidesk's public Tickets API v1. Each behaviour
//! names the page it follows; what no page states is marked ASSUMPTION.
//!
//! Pages:
//! - [T] "API do Movidesk - Tickets",
//!   <https://atendimento.movidesk.com/kb/article/256/movidesk-ticket-api>;
//! - [E] "[Enterprise] Tickets API",
//!   <https://support.zenvia.com/kb/en/article/510136/tickets-api-enterprise>.
//!
//! Behaviours:
//! - [T] base `https://api.movidesk.com/public/v1`; `/tickets` answers GET,
//!   POST and PATCH; the token is the `token` query parameter (a wrong or
//!   missing one is 401, ASSUMPTION on the status).
//! - [E] `/tickets/past` answers GET only and holds the tickets last
//!   updated more than 90 days ago; `/tickets` holds the others (here:
//!   tickets put with [`StandIn::put_past_ticket`] are only under `past`;
//!   a PATCH there is 405, a PATCH of such a ticket on `/tickets` is 404,
//!   ASSUMPTION on both statuses).
//! - [T] the ticket layout (`id`, `subject`, `status`, `clients` with
//!   `businessName`, `actions` with `id`, `type` 1 internal / 2 public,
//!   `description`, `createdBy`, `isDeleted`); `$select` chooses fields.
//!   `clients` and `actions` are lists of their own layouts, returned only
//!   when named in `$expand`, each with its own `($select=...)` (the OData
//!   query options the API takes; ASSUMPTION that a list is left out unless
//!   expanded, as the public clients of the API all expand them).
//! - [T] an action's `id` is given "when it is necessary to change an
//!   existing action": a PATCH's action without an `id` is added (new id,
//!   not deleted), one with an `id` edits that action's `type` and
//!   `description`; an unknown `id` is 400 (ASSUMPTION); the ticket's other
//!   actions are untouched. Other fields sent replace the ticket's.
//! - A GET of a ticket that does not exist: 404 by default; an empty body,
//!   `null` or `[]` with 200 when told ([`Missing`]) (ASSUMPTION: no page
//!   says, so the client must read all of them as "not found").
//! - [T][E] 10 requests a minute (the window shorter in tests); past it, 429
//!   with `retry-after` (ASSUMPTION on the header for this case).
//! - [E] after three failed requests in a row, 429 "Too many failed
//!   requests" for 60 s (`block`, shorter in tests), the wait in
//!   `retry-after`; a request that succeeds ends the run of failures.
//!
//! For tests: the next requests can fail with a status or stall past the
//! client's timeout, and the next reads can miss the newest actions (a
//! read that lags a write). Every request is recorded as received
//! (method, path, query, JSON body).
#![allow(dead_code, reason = "each test crate uses a different part")]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

/// One request as the stand-in received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub body: Option<Value>,
}

/// How a GET answers for a ticket that is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    NotFound,
    EmptyBody,
    Null,
    EmptyList,
}

/// What a test can make the stand-in do.
pub struct Rules {
    pub token: String,
    pub per_minute: usize,
    /// The window the budget counts in (a minute, as documented).
    pub window: Duration,
    pub block: Duration,
    /// Statuses the next requests answer with, in order.
    pub fail_next: VecDeque<u16>,
    /// Stall the next request this long (a timeout for the client).
    pub stall_next: Option<Duration>,
    pub missing: Missing,
    /// The next this many reads after a PATCH do not show the actions it
    /// added.
    pub lagging_reads: usize,
    /// The next PATCH answers this status: after doing its work when the
    /// flag is set (a write that landed and then failed), or without.
    pub fail_next_patch: Option<(u16, bool)>,
}

struct Inner {
    rules: Rules,
    tickets: BTreeMap<String, Value>,
    past: BTreeMap<String, Value>,
    seen: Vec<Seen>,
    /// Requests answered 429 (over the budget, or blocked).
    refused: usize,
    recent: VecDeque<Instant>,
    failures_in_a_row: u32,
    blocked_until: Option<Instant>,
    next_action_id: u64,
    /// Actions the lagging reads leave out.
    unseen: Vec<u64>,
}

/// A running stand-in on a loopback port.
pub struct StandIn {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _runtime: tokio::runtime::Runtime,
}

impl StandIn {
    /// Starts with `token`, the documented budget (10 a minute) and a
    /// block of `block`.
    pub fn start(token: &str, block: Duration) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            rules: Rules {
                token: token.to_string(),
                per_minute: 10,
                window: Duration::from_secs(60),
                block,
                fail_next: VecDeque::new(),
                stall_next: None,
                missing: Missing::NotFound,
                lagging_reads: 0,
                fail_next_patch: None,
            },
            tickets: BTreeMap::new(),
            past: BTreeMap::new(),
            seen: Vec::new(),
            refused: 0,
            recent: VecDeque::new(),
            failures_in_a_row: 0,
            blocked_until: None,
            next_action_id: 1000,
            unseen: Vec::new(),
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let addr = listener.local_addr().expect("address");
        let app = Router::new()
            .route("/public/v1/tickets", get(tickets).patch(tickets))
            .route("/public/v1/tickets/past", get(tickets).patch(tickets))
            .with_state(inner.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            addr,
            inner,
            _runtime: runtime,
        }
    }

    /// The base URL a client is pointed at.
    pub fn base(&self) -> String {
        format!("http://{}/public/v1", self.addr)
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts a ticket updated in the last 90 days in place.
    pub fn put_ticket(&self, ticket: Value) {
        let id = ticket["id"].as_str().expect("a ticket id").to_string();
        self.with(|inner| inner.tickets.insert(id, ticket));
    }

    /// Puts a ticket last updated more than 90 days ago in place.
    pub fn put_past_ticket(&self, ticket: Value) {
        let id = ticket["id"].as_str().expect("a ticket id").to_string();
        self.with(|inner| inner.past.insert(id, ticket));
    }

    /// The ticket as it is now, wherever it is.
    pub fn ticket(&self, id: &str) -> Option<Value> {
        self.with(|inner| inner.tickets.get(id).or_else(|| inner.past.get(id)).cloned())
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.with(|inner| inner.seen.clone())
    }

    /// How many requests were answered 429 so far.
    pub fn refused(&self) -> usize {
        self.with(|inner| inner.refused)
    }

    /// Changes the rules.
    pub fn rules(&self, change: impl FnOnce(&mut Rules)) {
        self.with(|inner| change(&mut inner.rules));
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn waiting(message: &str, seconds: u64) -> Response {
    let mut refused = answer(StatusCode::TOO_MANY_REQUESTS, json!({"message": message}));
    refused
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    refused
}

async fn tickets(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    Query(query): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Response {
    let past = uri.path().ends_with("/past");
    let stall = {
        let mut inner = inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.seen.push(Seen {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: query.clone(),
            body: serde_json::from_slice(&body).ok(),
        });
        inner.rules.stall_next.take()
    };
    if let Some(stall) = stall {
        tokio::time::sleep(stall).await;
    }
    let mut inner = inner.lock().unwrap_or_else(PoisonError::into_inner);
    let response = inner.handle(&method, &query, &body, past);
    if response.status().is_success() {
        inner.failures_in_a_row = 0;
    } else if response.status() != StatusCode::TOO_MANY_REQUESTS {
        inner.failures_in_a_row += 1;
        if inner.failures_in_a_row >= 3 && inner.blocked_until.is_none() {
            inner.blocked_until = Some(Instant::now() + inner.rules.block);
        }
    }
    response
}

impl Inner {
    /// The block and the budget, in that order; `None` lets the request in.
    fn refusal(&mut self, now: Instant) -> Option<Response> {
        if let Some(until) = self.blocked_until {
            if until > now {
                return Some(waiting(
                    "Too many failed requests",
                    until.duration_since(now).as_secs() + 1,
                ));
            }
            self.blocked_until = None;
            self.failures_in_a_row = 0;
        }
        let window = self.rules.window;
        while self.recent.front().is_some_and(|at| now.duration_since(*at) >= window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.rules.per_minute {
            let oldest = self.recent.front().copied().unwrap_or(now);
            let seconds = window.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
            return Some(waiting("Rate limit", seconds));
        }
        self.recent.push_back(now);
        None
    }

    fn handle(&mut self, method: &Method, query: &BTreeMap<String, String>, body: &[u8], past: bool) -> Response {
        if let Some(refused) = self.refusal(Instant::now()) {
            self.refused += 1;
            return refused;
        }
        if let Some(status) = self.rules.fail_next.pop_front() {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return answer(status, json!({"message": "falha simulada"}));
        }
        if query.get("token") != Some(&self.rules.token) {
            return answer(StatusCode::UNAUTHORIZED, json!({"message": "Token inválido"}));
        }
        let Some(id) = query.get("id").cloned() else {
            return answer(StatusCode::BAD_REQUEST, json!({"message": "informe o id do ticket"}));
        };
        match (method.clone(), past) {
            (Method::GET, _) => self.read(&id, query, past),
            (Method::PATCH, false) => match self.rules.fail_next_patch.take() {
                Some((status, landed)) => {
                    if landed {
                        self.patch(&id, body);
                    }
                    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    answer(status, json!({"message": "falha simulada"}))
                }
                None => self.patch(&id, body),
            },
            _ => answer(StatusCode::METHOD_NOT_ALLOWED, json!({"message": "somente leitura"})),
        }
    }

    fn read(&mut self, id: &str, query: &BTreeMap<String, String>, past: bool) -> Response {
        let found = if past { self.past.get(id) } else { self.tickets.get(id) };
        let Some(ticket) = found.cloned() else {
            return match self.rules.missing {
                Missing::NotFound => answer(StatusCode::NOT_FOUND, json!({"message": "Ticket não encontrado"})),
                Missing::EmptyBody => StatusCode::OK.into_response(),
                Missing::Null => answer(StatusCode::OK, Value::Null),
                Missing::EmptyList => answer(StatusCode::OK, json!([])),
            };
        };
        let mut shown = selected(&ticket, query.get("$select"), query.get("$expand"));
        if self.rules.lagging_reads > 0 && !self.unseen.is_empty() {
            self.rules.lagging_reads -= 1;
            let unseen = self.unseen.clone();
            if let Some(actions) = shown["actions"].as_array_mut() {
                actions.retain(|action| !action["id"].as_u64().is_some_and(|id| unseen.contains(&id)));
            }
        }
        answer(StatusCode::OK, shown)
    }

    /// Scalar fields sent replace the ticket's; actions are added (no id)
    /// or edited (an id).
    fn patch(&mut self, id: &str, body: &[u8]) -> Response {
        let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(body) else {
            return answer(StatusCode::BAD_REQUEST, json!({"message": "corpo inválido"}));
        };
        let Some(Value::Object(ticket)) = self.tickets.get_mut(id) else {
            return answer(StatusCode::NOT_FOUND, json!({"message": "Ticket não encontrado"}));
        };
        let mut updated = ticket.clone();
        let mut added = Vec::new();
        for (field, value) in changes {
            if field != "actions" {
                updated.insert(field, value);
                continue;
            }
            let actions = updated
                .entry("actions")
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .map(std::mem::take)
                .unwrap_or_default();
            let mut actions = actions;
            for sent in value.as_array().into_iter().flatten() {
                match sent.get("id").filter(|id| !id.is_null()) {
                    None => {
                        self.next_action_id += 1;
                        let mut new = sent.clone();
                        new["id"] = json!(self.next_action_id);
                        new["isDeleted"] = json!(false);
                        added.push(self.next_action_id);
                        actions.push(new);
                    }
                    Some(existing) => {
                        let Some(edited) = actions.iter_mut().find(|action| action["id"] == *existing) else {
                            return answer(StatusCode::BAD_REQUEST, json!({"message": "ação inexistente"}));
                        };
                        for editable in ["type", "description"] {
                            if let Some(value) = sent.get(editable) {
                                edited[editable] = value.clone();
                            }
                        }
                    }
                }
            }
            updated.insert("actions".into(), Value::Array(actions));
        }
        *ticket = updated;
        self.unseen = added;
        answer(StatusCode::OK, json!({}))
    }
}

/// The ticket with only the `$select` scalar fields (whole when none),
/// and the `$expand` lists with their own `$select`.
fn selected(ticket: &Value, select: Option<&String>, expand: Option<&String>) -> Value {
    let fields: Option<Vec<&str>> = select.map(|select| select.split(',').map(str::trim).collect());
    let lists = expansions(expand.map_or("", String::as_str));
    let mut shown = Map::new();
    for (name, value) in ticket.as_object().into_iter().flatten() {
        if value.is_array() && matches!(name.as_str(), "clients" | "actions") {
            if let Some(inner) = lists.get(name.as_str()) {
                let items = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| selected(item, inner.as_ref(), None))
                    .collect();
                shown.insert(name.clone(), Value::Array(items));
            }
        } else if fields.as_ref().is_none_or(|fields| fields.contains(&name.as_str())) {
            shown.insert(name.clone(), value.clone());
        }
    }
    Value::Object(shown)
}

/// `clients($select=a,b),actions` → {clients: Some("a,b"), actions: None}.
fn expansions(expand: &str) -> BTreeMap<&str, Option<String>> {
    let mut lists = BTreeMap::new();
    let mut depth = 0;
    let mut start = 0;
    let mut pieces = Vec::new();
    for (at, c) in expand.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                pieces.push(&expand[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    pieces.push(&expand[start..]);
    for piece in pieces.into_iter().map(str::trim).filter(|piece| !piece.is_empty()) {
        match piece.split_once('(') {
            Some((name, options)) => {
                let select = options
                    .trim_end_matches(')')
                    .split(';')
                    .find_map(|option| option.strip_prefix("$select="))
                    .map(str::to_string);
                lists.insert(name.trim(), select);
            }
            None => {
                lists.insert(piece, None);
            }
        }
    }
    lists
}
