//! How the service is doing: `/healthz` (the contract's health: the
//! bundle serving and the last refused edit), `/metrics`, `/v1/stats` (the
//! numbers of `roteiro stats`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::cases;
use crate::decisions::{bundle_summary, BundleSummary};
use crate::desk::{Desk, Refusal};
use crate::params::{self, Params};
use crate::reply::{self, ApiError};

/// `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct HealthBody {
    /// `ok`, or `reload_refused` when the last edit of the bundle was.
    pub status: &'static str,
    /// The bundle serving.
    pub bundle: BundleSummary,
    /// The last refused edit, file by file.
    pub refused_reload: Option<Refusal>,
}

/// The bundle serving and the last refused edit, file by file (the
/// contract's health: 200 while a good bundle serves).
pub async fn health(State(desk): State<Arc<Desk>>) -> Response {
    let refused_reload = desk.refused();
    let body = HealthBody {
        status: if refused_reload.is_some() {
            "reload_refused"
        } else {
            "ok"
        },
        bundle: bundle_summary(&desk),
        refused_reload,
    };
    reply::json(StatusCode::OK, &body)
}

pub async fn metrics(State(desk): State<Arc<Desk>>) -> Response {
    let follow_ups = cases::follow_up_metrics(&desk).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        format!("{}{}{follow_ups}", desk.metrics.render(), desk.log_metrics()),
    )
        .into_response()
}

/// `GET /v1/stats?since=AAAA-MM-DD`: the numbers of `roteiro stats`, read
/// from the decision log on a blocking thread.
pub async fn stats(State(desk): State<Arc<Desk>>, Query(query): Params) -> Result<Response, ApiError> {
    if desk.log_address().is_none() {
        return Err(ApiError::unavailable("o serviço está sem log de decisões".into()));
    }
    let since = params::since(&query)?;
    let served = desk.served();
    let numbers = tokio::task::spawn_blocking(move || {
        let filter = roteiro_decision_log::Filter {
            since,
            ..Default::default()
        };
        let records = desk.read_log(&filter)?;
        Ok::<_, roteiro_decision_log::LogError>(roteiro_decision_log::stats(&records, served.bundle.rule_ids()))
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
    .map_err(|err| ApiError::unavailable(err.to_string()))?;
    Ok(reply::json(StatusCode::OK, &numbers))
}
