//! Cases over HTTP: open a ticket's case, read it (decided again with the
//! bundle in force), answer it, close it, and list what every open case
//! waits for. The work is `roteiro_decision_log::cases::CaseDesk`'s, run on
//! a blocking thread against the service's log database.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike as _;
use chrono::{DateTime, FixedOffset};
use roteiro_decision_log::cases::{self, CaseDesk, CaseError, CaseEvent, CaseFollowUp, CaseView, Cases, DeskError};
use roteiro_decision_log::db::DbPool;
use serde_json::{json, Value};

use crate::desk::Desk;
use crate::guard::Who;
use crate::reply::{self, ApiError};

use crate::params::Params;

/// What a case request's query says: `now=` (the moment to decide and
/// measure lateness as of) and who asks (the authenticated caller, else
/// `by=`).
pub fn asked(
    desk: &Desk,
    query: &std::collections::BTreeMap<String, String>,
    who: &Who,
) -> Result<(DateTime<FixedOffset>, Option<String>), ApiError> {
    let by = query.get("by").map(|by| stored("by", by)).transpose()?;
    Ok((moment(desk, query.get("now"))?, who.name_or(by)))
}

/// A caller's text that is stored as it is (a name, a reason, a team):
/// refused with a 400 when it holds a NUL character, which PostgreSQL does
/// not store (it would otherwise fail the write, a 503).
fn stored(name: &str, text: &str) -> Result<String, ApiError> {
    if text.contains('\0') {
        return Err(ApiError::bad_parameter(
            name,
            "um texto com o caractere nulo (U+0000)",
            "texto sem U+0000",
        ));
    }
    Ok(text.to_string())
}

/// `GET /v1/cases/{ticket}?now=...`: the case, decided again now.
pub async fn show(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(ticket): Path<String>,
    Query(query): Params,
) -> Result<Response, ApiError> {
    let (now, _) = asked(&desk, &query, &who)?;
    work(desk, &ticket, &who, StatusCode::OK, now, move |case_desk, ticket| {
        case_desk.show(ticket, now)
    })
    .await
}

/// `POST /v1/cases/{ticket}`: opens the case; the body is its first
/// situation (JSON, `{}` for none).
pub async fn open(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(ticket): Path<String>,
    Query(query): Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| ApiError::unreadable(rejection.body_text()))?;
    let (now, by) = asked(&desk, &query, &who)?;
    // Read as every situation is: bytes that are not UTF-8 are refused,
    // never replaced.
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_parameter("corpo", "bytes que não são UTF-8", "uma situação JSON em UTF-8"))?;
    work(
        desk,
        &ticket,
        &who,
        StatusCode::CREATED,
        now,
        move |case_desk, ticket| case_desk.open(ticket, &text, "corpo", by.as_deref(), now),
    )
    .await
}

/// `POST /v1/cases/{ticket}/answers`: `{"answers": {"fact": value},
/// "version": N, "by": "..."}`; 409 when the case changed since version N.
pub async fn answer(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(ticket): Path<String>,
    Query(query): Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let now = moment(&desk, query.get("now"))?;
    let request = json_body(body)?;
    let Some(given) = request.get("answers").and_then(Value::as_object) else {
        return Err(ApiError::bad_parameter(
            "answers",
            kind_of(request.get("answers")),
            "um objeto {\"fato\": valor}",
        ));
    };
    let answers: Vec<(String, Value)> = given
        .iter()
        .map(|(fact, value)| (fact.clone(), value.clone()))
        .collect();
    let version = request.get("version").and_then(Value::as_i64);
    let by = who.name_or(request.get("by").and_then(Value::as_str).map(str::to_string));
    work(desk, &ticket, &who, StatusCode::OK, now, move |case_desk, ticket| {
        case_desk.answer_values(ticket, &answers, version, by.as_deref(), now)
    })
    .await
}

/// `POST /v1/cases/{ticket}/close`: `{"reason": "...", "follow_up": "id"}`
/// closes the case, or only that follow-up.
pub async fn close(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(ticket): Path<String>,
    Query(query): Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let now = moment(&desk, query.get("now"))?;
    let request = json_body(body)?;
    let Some(reason) = request.get("reason").and_then(Value::as_str) else {
        return Err(ApiError::bad_parameter(
            "reason",
            kind_of(request.get("reason")),
            "o motivo, em texto",
        ));
    };
    let reason = stored("reason", reason)?;
    let text = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .map(|text| stored(name, text))
            .transpose()
    };
    let follow_up = text("follow_up")?;
    let by = who.analyst(text("by")?);
    let ticket = cases::ticket(&ticket).map_err(case_error)?;
    let pool = pool(&desk)?;
    tokio::task::spawn_blocking(move || {
        let mut store = cases_of(&pool)?;
        let at = now.to_rfc3339();
        match &follow_up {
            Some(id) => store.close_follow_up(&ticket, id, &reason, &by, &at),
            None => store.close(&ticket, &reason, &by, &at),
        }
        .map_err(case_error)?;
        pool.give(store);
        Ok(reply::json(
            StatusCode::OK,
            &json!({ "ticket": ticket, "closed": follow_up.unwrap_or_else(|| "case".into()) }),
        ))
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
}

/// `GET /v1/cases?due=true&team=io&now=...`: every open follow-up of every
/// open case, soonest first, each marked overdue or not.
pub async fn due(State(desk): State<Arc<Desk>>, Query(query): Params) -> Result<Response, ApiError> {
    let now = moment(&desk, query.get("now"))?;
    let team = query.get("team").map(|team| stored("team", team)).transpose()?;
    let pool = pool(&desk)?;
    tokio::task::spawn_blocking(move || {
        let mut store = cases_of(&pool)?;
        let list = store.due(team.as_deref()).map_err(case_error)?;
        pool.give(store);
        Ok(reply::json(StatusCode::OK, &follow_ups(&list, now)))
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
}

/// The open and overdue follow-ups of every open case, as Prometheus
/// gauges read at the scrape (nothing when the service has no log, or the
/// database cannot be read now).
pub async fn follow_up_metrics(desk: &Desk) -> String {
    let Ok(pool) = pool(desk) else {
        return String::new();
    };
    let now = desk.served().bundle.local(&chrono::Utc::now());
    let counted = tokio::task::spawn_blocking(move || {
        let mut store: Cases = pool.take().ok()?;
        let list = store.due(None).ok()?;
        pool.give(store);
        Some((list.len(), list.iter().filter(|f| f.overdue(now)).count()))
    })
    .await;
    let Ok(Some((open, overdue))) = counted else {
        return String::new();
    };
    format!(
        "# HELP roteiro_follow_ups_open Pendências abertas em casos abertos.\n# TYPE roteiro_follow_ups_open gauge\nroteiro_follow_ups_open {open}\n# HELP roteiro_follow_ups_overdue Pendências abertas já atrasadas.\n# TYPE roteiro_follow_ups_overdue gauge\nroteiro_follow_ups_overdue {overdue}\n"
    )
}

/// Runs `job` on the case of `ticket` with the bundle being served.
async fn work(
    desk: Arc<Desk>,
    ticket: &str,
    who: &Who,
    status: StatusCode,
    now: DateTime<FixedOffset>,
    job: impl FnOnce(&mut CaseDesk<'_>, &str) -> Result<CaseView, DeskError> + Send + 'static,
) -> Result<Response, ApiError> {
    let ticket = cases::ticket(ticket).map_err(case_error)?;
    let pool = pool(&desk)?;
    let served = desk.served();
    let signer = who.name_or(None);
    let signed_in = who.signed_in();
    let (mut view, ticket) = tokio::task::spawn_blocking(move || {
        let store = cases_of(&pool)?;
        let signed = desk.signed(signer);
        let mut case_desk = CaseDesk {
            bundle: &served.bundle,
            cases: store,
            log: Some(&signed),
            signed_in,
        };
        let view = job(&mut case_desk, &ticket).map_err(desk_error)?;
        pool.give(case_desk.cases);
        Ok::<_, ApiError>((view, ticket))
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))??;
    if !view.receipt.recorded().await {
        // The case holds the change; only the log's copy of the decision
        // is missing.
        tracing::warn!(ticket = %ticket, "a decisão do caso não foi gravada no log de decisões");
    }
    let body = json!({
        "case": view.case,
        "decision": view.decision,
        "follow_ups": follow_ups(&view.open, now),
        "history": view.history.iter().map(CaseEvent::to_json).collect::<Vec<_>>(),
    });
    Ok(reply::json(status, &body))
}

fn follow_ups(list: &[CaseFollowUp], now: DateTime<FixedOffset>) -> Value {
    Value::Array(list.iter().map(|f| f.to_json(now)).collect())
}

/// What a body's field holds, by kind only: a request's contents (names,
/// phones) are never echoed in an error.
fn kind_of(value: Option<&Value>) -> &'static str {
    match value {
        None | Some(Value::Null) => "nada",
        Some(Value::Bool(_)) => "um booleano",
        Some(Value::Number(_)) => "um número",
        Some(Value::String(_)) => "um texto",
        Some(Value::Array(_)) => "uma lista",
        Some(Value::Object(_)) => "um objeto",
    }
}

/// A request's body read as JSON.
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let body = body.map_err(|rejection| ApiError::unreadable(rejection.body_text()))?;
    serde_json::from_slice(&body).map_err(|err| ApiError::unreadable(err.to_string()))
}

pub fn pool(desk: &Desk) -> Result<Arc<DbPool>, ApiError> {
    desk.pool()
        .ok_or_else(|| ApiError::unavailable("o serviço está sem banco de dados: casos precisam do log".into()))
}

/// The cases, over a connection of the pool.
pub fn cases_of(pool: &DbPool) -> Result<Cases, ApiError> {
    pool.take().map_err(|err| case_error(err.into()))
}

/// `now=` as RFC 3339 in any offset; absent, the clock (time is the
/// caller's input when it pins it). Either way read in the served bundle's
/// zone, so a day is overdue by Brasília's calendar, not the caller's.
/// The years a case's moment may fall in.
const CASE_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

fn moment(desk: &Desk, text: Option<&String>) -> Result<DateTime<FixedOffset>, ApiError> {
    let at = match text {
        None => chrono::Utc::now().fixed_offset(),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .ok()
            // A case's history is written with this moment: a year no
            // support case lives in (9999) is refused, not recorded.
            .filter(|at| CASE_YEARS.contains(&at.year()))
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "now",
                    text,
                    "um momento RFC 3339 entre os anos 2000 e 2100, como 2026-12-08T10:15:00-03:00",
                )
            })?,
    };
    Ok(desk.served().bundle.local(&at))
}

pub fn desk_error(err: DeskError) -> ApiError {
    match err {
        DeskError::Case(err) => case_error(err),
        DeskError::Situation(err) => ApiError::situation(&err),
        DeskError::Decide(roteiro_engine::DecideError::Situation(err)) => ApiError::situation(&err),
        DeskError::Decide(roteiro_engine::DecideError::Rule(err)) => ApiError::rule(&err),
        DeskError::Answer(_) | DeskError::UnknownFact(_) => {
            ApiError::with_status(StatusCode::BAD_REQUEST, err.to_string())
        }
    }
}

pub fn case_error(err: CaseError) -> ApiError {
    let status = match &err {
        CaseError::Ticket(_) => StatusCode::BAD_REQUEST,
        CaseError::NotFound(_) => StatusCode::NOT_FOUND,
        CaseError::Exists(_) | CaseError::Conflict { .. } | CaseError::Closed(_) => StatusCode::CONFLICT,
        CaseError::Log(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    ApiError::with_status(status, err.to_string())
}
