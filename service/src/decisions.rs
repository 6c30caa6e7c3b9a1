//! Deciding over HTTP: `POST /v1/decide` (byte for byte `roteiro decide
//! --format json`, recorded in the log before the 200), `POST
//! /v1/explain`, and what the page reads of the bundle: its vocabulary and
//! what it is.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use roteiro_decision_log::decide_and_record;
use roteiro_engine::{Bundle, DecideError, Situation};
use serde_json::json;

use crate::desk::Desk;
use crate::guard::Who;
use crate::reply::{self, ApiError};

/// The situation in the body, read against the serving bundle.
fn situation(bundle: &Bundle, body: Result<Bytes, BytesRejection>) -> Result<Situation, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large()
        } else {
            ApiError::unreadable(rejection.body_text())
        }
    })?;
    bundle
        .parse_situation(&body, "corpo")
        .map_err(|err| ApiError::situation(&err))
}

/// The moment of a request that pins none: the service's clock, listed by
/// the decision under `assumed`.
fn clock() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

fn decide_error(err: &DecideError) -> ApiError {
    match err {
        DecideError::Situation(err) => ApiError::situation(err),
        DecideError::Rule(err) => ApiError::rule(err),
    }
}

pub async fn decide(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let served = desk.served();
    let situation = situation(&served.bundle, body)?;
    let recorder = desk.signed(who.name_or(None));
    let decided =
        decide_and_record(&served.bundle, &situation, clock(), "serve", &recorder).map_err(|err| decide_error(&err))?;
    // A 200 means the decision is in the log (when the log waits for its
    // commits, which is the default).
    if !recorder.recorded().await {
        return Err(ApiError::unavailable(
            "a decisão foi tomada mas não pôde ser gravada no log; tente de novo".into(),
        ));
    }
    let decision = decided.decision;
    let route = decision
        .outputs
        .get("route")
        .and_then(|r| r.as_str())
        .unwrap_or("nenhuma");
    let fired = decision
        .trace
        .iter()
        .filter(|entry| entry.fired)
        .map(|entry| entry.rule.to_string());
    desk.metrics.decided(route, fired, decided.latency);
    Ok(reply::json(StatusCode::OK, &decision))
}

pub async fn explain(State(desk): State<Arc<Desk>>, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let served = desk.served();
    let situation = situation(&served.bundle, body)?;
    let explanation = served
        .bundle
        .explain(&situation, clock())
        .map_err(|err| decide_error(&err))?;
    Ok(reply::json(StatusCode::OK, &explanation))
}

pub async fn vocabulary(State(desk): State<Arc<Desk>>) -> Response {
    let served = desk.served();
    let facts: Vec<_> = served
        .bundle
        .vocabulary()
        .facts()
        .map(|fact| {
            json!({
                "fato": fact.path,
                "tipo": fact.spec.kind,
                "rotulo": fact.spec.label,
                "descricao": fact.spec.description,
                "pergunta": fact.spec.question,
                "valores": fact.spec.values,
                "padrao": fact.default.as_ref().map(|value| value.display()),
                "derivado": fact.spec.derive.is_some(),
                "minimo": fact.spec.minimum,
                "maximo": fact.spec.maximum,
                "max_caracteres": fact.spec.max_length,
            })
        })
        .collect();
    let groups: Vec<&str> = served
        .bundle
        .vocabulary()
        .children("")
        .into_iter()
        .filter(|(_, group)| *group)
        .map(|(name, _)| name)
        .collect();
    let first = &served.bundle.manifest().first_questions;
    reply::json(
        StatusCode::OK,
        &json!({"grupos": groups, "primeiras": first, "fatos": facts}),
    )
}

pub fn bundle_summary(desk: &Desk) -> serde_json::Value {
    let served = desk.served();
    let info = served.bundle.info();
    json!({
        "name": info.name,
        "version": info.version,
        "digest": info.digest,
        "rules": served.bundle.rule_ids().count(),
        "loaded_at": served.loaded_at.to_rfc3339(),
    })
}

pub async fn bundle(State(desk): State<Arc<Desk>>) -> Response {
    reply::json(StatusCode::OK, &bundle_summary(&desk))
}
