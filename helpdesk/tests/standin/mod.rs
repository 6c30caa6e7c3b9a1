//! A local stand-in for Movidesk's public Tickets API v1, following its
//! public documentation:
//!
//! - "API do Movidesk - Tickets",
//!   <https://atendimento.movidesk.com/kb/article/256/movidesk-ticket-api>
//!   (base `https://api.movidesk.com/public/v1`, `/tickets` with GET, POST
//!   and PATCH, the ticket layout: `id`, `subject`, `status`, `clients`,
//!   `actions` with `type` 1 internal / 2 public, `description`,
//!   `createdBy`; the `token` query parameter; `$select` to choose fields);
//! - "[Enterprise] Tickets API",
//!   <https://support.zenvia.com/kb/en/article/510136/tickets-api-enterprise>
//!   (10 requests a minute; after 3 failed requests, 429 "Too many failed
//!   requests" blocks for 60 seconds, the wait in the `retry-after`
//!   header).
//!
//! What it does, and nothing more: a wrong or missing token is 401; `GET
//! /tickets?id=N` answers one ticket, with only the `$select` fields when
//! given, and a list (no `id`) without `$select` is 400; `PATCH
//! /tickets?id=N` replaces every array field it is sent (actions without
//! an `id` get a new one); past the budget a request is 429; three failed
//! requests in a row block the caller for `block` (60 s as documented,
//! shorter in tests) with `retry-after`. Tests can make the next requests
//! fail with a status or stall past the client's timeout. Every request is
//! recorded as received (method, path, query, JSON body).
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
use serde_json::{json, Value};

/// One request as the stand-in received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub body: Option<Value>,
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
}

struct Inner {
    rules: Rules,
    tickets: BTreeMap<String, Value>,
    seen: Vec<Seen>,
    recent: VecDeque<Instant>,
    failures_in_a_row: u32,
    blocked_until: Option<Instant>,
    next_action_id: u64,
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
            },
            tickets: BTreeMap::new(),
            seen: Vec::new(),
            recent: VecDeque::new(),
            failures_in_a_row: 0,
            blocked_until: None,
            next_action_id: 0,
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

    /// Puts a ticket in place.
    pub fn put_ticket(&self, ticket: Value) {
        let id = ticket["id"].as_str().expect("a ticket id").to_string();
        self.with(|inner| inner.tickets.insert(id, ticket));
    }

    /// The ticket as it is now.
    pub fn ticket(&self, id: &str) -> Option<Value> {
        self.with(|inner| inner.tickets.get(id).cloned())
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.with(|inner| inner.seen.clone())
    }

    /// Changes the rules.
    pub fn rules(&self, change: impl FnOnce(&mut Rules)) {
        self.with(|inner| change(&mut inner.rules));
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn tickets(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    Query(query): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Response {
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
    let response = inner.handle(&method, &query, &body);
    if response.status().is_success() {
        inner.failures_in_a_row = 0;
    } else {
        inner.failures_in_a_row += 1;
        if inner.failures_in_a_row >= 3 && inner.blocked_until.is_none() {
            inner.blocked_until = Some(Instant::now() + inner.rules.block);
        }
    }
    response
}

impl Inner {
    fn handle(&mut self, method: &Method, query: &BTreeMap<String, String>, body: &[u8]) -> Response {
        let now = Instant::now();
        if let Some(until) = self.blocked_until {
            if until > now {
                let mut refused = answer(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"message": "Too many failed requests"}),
                );
                let seconds = until.duration_since(now).as_secs() + 1;
                refused
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                return refused;
            }
            self.blocked_until = None;
            self.failures_in_a_row = 0;
        }
        let window = self.rules.window;
        while self.recent.front().is_some_and(|at| now.duration_since(*at) > window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.rules.per_minute {
            let mut refused = answer(StatusCode::TOO_MANY_REQUESTS, json!({"message": "Rate limit"}));
            let oldest = self.recent.front().copied().unwrap_or(now);
            let seconds = window.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
            refused
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return refused;
        }
        self.recent.push_back(now);
        if let Some(status) = self.rules.fail_next.pop_front() {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return answer(status, json!({"message": "falha simulada"}));
        }
        if query.get("token") != Some(&self.rules.token) {
            return answer(StatusCode::UNAUTHORIZED, json!({"message": "Token inválido"}));
        }
        let Some(id) = query.get("id") else {
            if !query.contains_key("$select") {
                return answer(
                    StatusCode::BAD_REQUEST,
                    json!({"message": "$select é obrigatório em listas"}),
                );
            }
            let list: Vec<Value> = self
                .tickets
                .values()
                .map(|t| selected(t, query.get("$select")))
                .collect();
            return answer(StatusCode::OK, Value::Array(list));
        };
        match *method {
            Method::GET => match self.tickets.get(id) {
                Some(ticket) => answer(StatusCode::OK, selected(ticket, query.get("$select"))),
                None => answer(StatusCode::NOT_FOUND, json!({"message": "Ticket não encontrado"})),
            },
            Method::PATCH => self.patch(id, body),
            _ => answer(StatusCode::METHOD_NOT_ALLOWED, json!({})),
        }
    }

    /// Every field sent replaces the ticket's; arrays are replaced whole.
    fn patch(&mut self, id: &str, body: &[u8]) -> Response {
        let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(body) else {
            return answer(StatusCode::BAD_REQUEST, json!({"message": "corpo inválido"}));
        };
        let Some(Value::Object(ticket)) = self.tickets.get_mut(id) else {
            return answer(StatusCode::NOT_FOUND, json!({"message": "Ticket não encontrado"}));
        };
        for (field, mut value) in changes {
            if field == "actions" {
                let highest = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|action| action["id"].as_u64())
                    .max()
                    .unwrap_or(0);
                let mut next_id = highest.max(self.next_action_id) + 1;
                for action in value.as_array_mut().into_iter().flatten() {
                    if action.get("id").is_none_or(Value::is_null) {
                        action["id"] = json!(next_id);
                        self.next_action_id = next_id;
                        next_id += 1;
                    }
                }
            }
            ticket.insert(field, value);
        }
        answer(StatusCode::OK, json!({}))
    }
}

/// The ticket with only the `$select` fields (comma-separated), or whole.
fn selected(ticket: &Value, select: Option<&String>) -> Value {
    let Some(select) = select else {
        return ticket.clone();
    };
    let fields: Vec<&str> = select.split(',').map(str::trim).collect();
    let kept = ticket
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| fields.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Value::Object(kept)
}
