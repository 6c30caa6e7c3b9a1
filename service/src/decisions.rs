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
use serde::Serialize;

use crate::desk::Desk;
use crate::guard::Who;
use crate::reply::{self, ApiError};

/// The situation in the body, read against the serving bundle.
fn situation(bundle: &Bundle, body: Result<Bytes, BytesRejection>) -> Result<Situation, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(crate::MAX_BODY_BYTES)
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

/// Who is logged in fills the facts the vocabulary marks `from_login`.
fn signed_in(bundle: &Bundle, situation: &mut Situation, who: &Who) -> Result<(), ApiError> {
    let Some(identity) = &who.0 else { return Ok(()) };
    bundle
        .sign_in(situation, &identity.name)
        .map_err(|err| ApiError::situation(&err))
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
    let mut situation = situation(&served.bundle, body)?;
    signed_in(&served.bundle, &mut situation, &who)?;
    let recorder = desk.signed(who.name_or(None));
    let mut decided =
        decide_and_record(&served.bundle, &situation, clock(), "serve", &recorder).map_err(|err| decide_error(&err))?;
    // A 200 means the decision is in the log (when the log waits for its
    // commits, which is the default).
    if !decided.receipt.recorded().await {
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

/// `GET /v1/vocabulary`: what the page builds its questions from.
#[derive(Debug, Serialize)]
pub struct VocabularyBody<'b> {
    /// The top-level groups (`contact`, `request`...).
    pub groups: Vec<&'b str>,
    /// The IANA zone every moment is typed and shown in.
    pub time_zone: &'static str,
    /// The facts asked first, in order.
    pub first_questions: &'b [String],
    /// The phases whose steps every call repeats, folded when docked.
    pub routine_phases: &'b [String],
    /// Every declared fact.
    pub facts: Vec<FactBody<'b>>,
    /// Every output a decision may set, as people read it.
    pub outputs: Vec<OutputBody<'b>>,
}

/// One output as the page shows it.
#[derive(Debug, Serialize)]
pub struct OutputBody<'b> {
    /// Its key in a decision's `outputs` (`route`).
    pub name: &'b str,
    /// How people call it ("Time responsável").
    pub label: String,
    /// Each listed value by its display name.
    pub names: std::collections::BTreeMap<&'b str, String>,
}

/// One section of an `enum` fact's menu.
#[derive(Debug, Serialize)]
pub struct MenuBody<'b> {
    /// What its values have in common; none when the fact is not grouped.
    pub title: Option<&'b str>,
    /// Its values, in the order they are offered.
    pub values: Vec<&'b str>,
}

/// One fact as the page shows and asks it.
#[derive(Debug, Serialize)]
pub struct FactBody<'b> {
    /// Dotted path (`request.topic`).
    pub path: &'b str,
    /// `bool`, `text`, `enum`, `integer`, `date`, `datetime`.
    pub kind: roteiro_engine::FactKind,
    /// How a text names it while unknown.
    pub label: Option<&'b str>,
    /// What it means.
    pub description: &'b str,
    /// The question that asks it.
    pub question: &'b str,
    /// The values of an `enum`.
    pub values: Option<&'b [String]>,
    /// Each value of an `enum` by its display name ("Não cliente").
    pub names: std::collections::BTreeMap<&'b str, String>,
    /// The values of an `enum` as they are offered: titled sections
    /// ("Equipamentos") in order, each sorted by display name.
    pub menu: Vec<MenuBody<'b>>,
    /// The value assumed when it is not given, as shown.
    pub default: Option<String>,
    /// Computed from other facts, never asked.
    pub derived: bool,
    /// Filled with the logged-in person's name by the service, never
    /// asked of someone logged in.
    pub from_login: bool,
    /// Bounds of an `integer`.
    pub minimum: Option<i64>,
    /// Bounds of an `integer`.
    pub maximum: Option<i64>,
    /// Longest text.
    pub max_length: Option<usize>,
}

pub async fn vocabulary(State(desk): State<Arc<Desk>>) -> Response {
    let served = desk.served();
    let vocabulary = served.bundle.vocabulary();
    let body = VocabularyBody {
        groups: vocabulary
            .children("")
            .into_iter()
            .filter(|(_, group)| *group)
            .map(|(name, _)| name)
            .collect(),
        time_zone: served.bundle.time_zone(),
        first_questions: served.bundle.first_questions(),
        routine_phases: served.bundle.routine_phases(),
        facts: vocabulary
            .facts()
            .map(|fact| FactBody {
                path: &fact.path,
                kind: fact.kind(),
                label: fact.declared_label(),
                description: fact.description(),
                question: fact.question(),
                values: (fact.kind() == roteiro_engine::FactKind::Enum).then(|| fact.values()),
                names: fact.values().iter().map(|v| (v.as_str(), fact.value_name(v))).collect(),
                menu: (fact.kind() == roteiro_engine::FactKind::Enum)
                    .then(|| fact.menu())
                    .into_iter()
                    .flatten()
                    .map(|choices| MenuBody {
                        title: choices.title,
                        values: choices.values,
                    })
                    .collect(),
                default: fact.default.as_ref().map(|value| value.display()),
                derived: fact.derived(),
                from_login: fact.filled_from_login(),
                minimum: fact.bounds().0,
                maximum: fact.bounds().1,
                max_length: fact.max_length(),
            })
            .collect(),
        outputs: served
            .bundle
            .output_names()
            .map(|name| OutputBody {
                name,
                label: served.bundle.output_label(name),
                names: (served.bundle.output_values(name).unwrap_or_default().iter())
                    .map(|v| (v.as_str(), served.bundle.output_value_name(name, v)))
                    .collect(),
            })
            .collect(),
    };
    reply::json(StatusCode::OK, &body)
}

/// `GET /v1/bundle`, and the bundle part of `/healthz`.
#[derive(Debug, Serialize)]
pub struct BundleSummary {
    /// The bundle's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its digest.
    pub digest: String,
    /// How many rules.
    pub rules: usize,
    /// When it was loaded (RFC 3339).
    pub loaded_at: String,
    /// The published release it is (`null`: a folder or the embedded
    /// bundle, not a published version).
    pub release: Option<String>,
}

pub fn bundle_summary(desk: &Desk) -> BundleSummary {
    let served = desk.served();
    let info = served.bundle.info();
    BundleSummary {
        name: info.name.to_string(),
        version: info.version.to_string(),
        digest: info.digest.to_string(),
        rules: served.bundle.rule_ids().count(),
        loaded_at: served.loaded_at.to_rfc3339(),
        release: served.release.clone(),
    }
}

/// `GET /v1/rules`: every rule in words, for "Por quê?".
pub async fn rules(State(desk): State<Arc<Desk>>) -> Response {
    let served = desk.served();
    let bundle = served.bundle.clone();
    match tokio::task::spawn_blocking(move || bundle.rules_in_words()).await {
        Ok(rules) => reply::json(StatusCode::OK, &rules),
        Err(err) => axum::response::IntoResponse::into_response(ApiError::internal(err.to_string())),
    }
}

/// `GET /v1/bundle`.
pub async fn bundle(State(desk): State<Arc<Desk>>) -> Response {
    reply::json(StatusCode::OK, &bundle_summary(&desk))
}
