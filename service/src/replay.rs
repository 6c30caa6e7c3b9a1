//! `GET /v1/diff`: what the bundle in force would decide differently from
//! what was decided, replaying the log's situations (each as of the
//! moment it was decided) and comparing the outputs and the rules that
//! fired (what the log keeps of each decision). The process owner's check after an edit, over
//! HTTP, like `roteiro diff --from-log` at the command line.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use roteiro_decision_log::Filter;
use roteiro_releases::impact::replay;

use crate::desk::Desk;
use crate::reply::{self, ApiError};

use crate::params::Params;

/// `GET /v1/diff?since=AAAA-MM-DD`.
pub async fn diff(State(desk): State<Arc<Desk>>, Query(query): Params) -> Result<Response, ApiError> {
    let since = crate::params::since(&query)?;
    let served = desk.served();
    let reader = desk.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let records = reader.read_log(&Filter {
            since,
            ..Default::default()
        })?;
        Ok::<_, roteiro_decision_log::LogError>(replay(&served.bundle, &records))
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
    .map_err(|err| ApiError::unavailable(err.to_string()))?;
    Ok(reply::json(StatusCode::OK, &answer))
}
