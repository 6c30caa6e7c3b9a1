//! `GET /v1/diff`: what the bundle in force would decide differently from
//! what was decided, replaying the log's situations (each as of the
//! moment it was decided) and comparing the outputs and the rules that
//! fired (what the log keeps of each decision). The process owner's check after an edit, over
//! HTTP, like `roteiro diff --from-log` at the command line.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::DateTime;
use roteiro_decision_log::{Filter, Record};
use roteiro_engine::Bundle;
use serde::Serialize;
use serde_json::Value;

use crate::desk::Desk;
use crate::reply::{self, ApiError};

/// Most logged decisions replayed by one request (the latest ones).
const MAX_REPLAYED: usize = 5_000;

/// Most changes listed in the answer (all are counted).
const MAX_LISTED: usize = 100;

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

/// `GET /v1/diff`: the log's latest situations decided again with the
/// bundle serving.
#[derive(Debug, Serialize)]
pub struct DiffBody {
    /// The digest of the bundle that decided again.
    pub bundle: String,
    /// Situations decided again.
    pub compared: usize,
    /// Those whose outputs and fired rules stayed.
    pub same: usize,
    /// Those that changed.
    pub changed: usize,
    /// Those that no longer read (the vocabulary changed) or fail.
    pub unreadable: usize,
    /// The first changes.
    pub changes: Vec<Change>,
}

/// One situation whose decision changed.
#[derive(Debug, Serialize)]
pub struct Change {
    /// The log's record.
    pub id: i64,
    /// The moment it was decided as of.
    pub decided_as_of: String,
    /// Outputs and fired rules then.
    pub before: Outcome,
    /// And now.
    pub after: Outcome,
}

/// What a decision's comparison looks at.
#[derive(Debug, Serialize, PartialEq)]
pub struct Outcome {
    /// The outputs.
    pub outputs: Value,
    /// The fired rules.
    pub rules: Vec<String>,
}

/// The latest records decided again and compared output by output.
fn replay(bundle: &Bundle, records: &[Record]) -> DiffBody {
    let (mut same, mut unreadable, mut changes) = (0usize, 0usize, Vec::new());
    let latest = records.iter().rev().take(MAX_REPLAYED);
    let compared = latest.len();
    for record in latest {
        let Some(after) = decide_again(bundle, record) else {
            unreadable += 1;
            continue;
        };
        let before = Outcome {
            outputs: record.outputs.clone(),
            rules: record.fired.clone(),
        };
        if after == before {
            same += 1;
        } else {
            changes.push(Change {
                id: record.id,
                decided_as_of: record.decided_as_of.clone(),
                before,
                after,
            });
        }
    }
    let changed = changes.len();
    changes.truncate(MAX_LISTED);
    DiffBody {
        bundle: bundle.info().digest.to_string(),
        compared,
        same,
        changed,
        unreadable,
        changes,
    }
}

/// The outputs and fired rules the bundle gives the record's situation
/// now; `None` when the situation no longer fits the vocabulary or a rule
/// fails.
fn decide_again(bundle: &Bundle, record: &Record) -> Option<Outcome> {
    let situation = bundle.parse_situation(record.situation.to_string(), "log").ok()?;
    let now = DateTime::parse_from_rfc3339(&record.decided_as_of).ok()?;
    let decision = bundle.decide(&situation, now).ok()?;
    let rules = decision
        .trace
        .iter()
        .filter(|entry| entry.fired)
        .map(|entry| entry.rule.to_string())
        .collect();
    Some(Outcome {
        outputs: serde_json::to_value(&decision.outputs).ok()?,
        rules,
    })
}
