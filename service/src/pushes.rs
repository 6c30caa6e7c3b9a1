//! Writing a case into its helpdesk ticket over HTTP: the preview, the
//! confirmed push (queued, then sent by the worker), and the pushes of a
//! ticket. The worker sends due pushes when one is queued and every
//! [`PUSH_INTERVAL`], so one left by a 429, an outage or a restart goes
//! out on its own.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use roteiro_decision_log::cases::{self, CaseDesk, Cases};
use roteiro_helpdesk::{deliver_due, Helpdesk, Preview, Pushes};
use serde_json::{json, Value};

use crate::cases::{asked, case_error, cases_of, desk_error, pool};
use crate::desk::Desk;
use crate::guard::Who;
use crate::reply::{self, ApiError};

/// How often queued pushes are looked at without a new one.
pub const PUSH_INTERVAL: Duration = Duration::from_secs(10);

use crate::params::Params;

fn unavailable(err: impl std::fmt::Display) -> ApiError {
    ApiError::unavailable(err.to_string())
}

/// The preview of `ticket`'s case as it is now, written by who asks; and
/// who that is.
fn preview(
    desk: &Desk,
    ticket: &str,
    who: &Who,
    query: &std::collections::BTreeMap<String, String>,
) -> Result<(Preview, String), ApiError> {
    if desk.helpdesk.is_none() {
        return Err(ApiError::unavailable(
            "o serviço está sem helpdesk: defina ROTEIRO_MOVIDESK_TOKEN e ROTEIRO_MOVIDESK_AGENT".into(),
        ));
    }
    let ticket = cases::ticket(ticket).map_err(case_error)?;
    let (now, by) = asked(desk, query, who)?;
    let served = desk.served();
    let pool = pool(desk)?;
    let mut case_desk = CaseDesk {
        bundle: &served.bundle,
        cases: cases_of(&pool)?,
        log: None,
        signed_in: who.signed_in(),
    };
    let view = case_desk.show(&ticket, now).map_err(desk_error)?;
    pool.give(case_desk.cases);
    let analyst = who.analyst(by);
    let public = query.get("public").is_some_and(|value| value == "true");
    Ok((
        Preview::of(&ticket, &view.decision, &served.bundle, &analyst, public),
        analyst,
    ))
}

/// `GET /v1/cases/{ticket}/push?public=true`: exactly what would be
/// written.
pub async fn show(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(ticket): Path<String>,
    Query(query): Params,
) -> Result<Response, ApiError> {
    let (previewed, _) = tokio::task::spawn_blocking(move || preview(&desk, &ticket, &who, &query))
        .await
        .map_err(|err| ApiError::internal(err.to_string()))??;
    Ok(reply::json(StatusCode::OK, &previewed))
}

/// `POST /v1/cases/{ticket}/push?public=true` with `{"marker": "..."}`,
/// the marker of the preview that was shown: queued (202) when the case
/// would still write that text, 409 when it changed since.
pub async fn push(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(ticket): Path<String>,
    Query(query): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let given: Value = serde_json::from_slice(&body).map_err(|err| ApiError::unreadable(err.to_string()))?;
    let shown = given["marker"].as_str().unwrap_or_default().to_string();
    let worker = desk.clone();
    let queued = tokio::task::spawn_blocking(move || {
        let (previewed, by) = preview(&desk, &ticket, &who, &query)?;
        if previewed.marker != shown {
            return Err(ApiError::with_status(
                StatusCode::CONFLICT,
                "o caso mudou desde a prévia: veja a prévia de novo antes de enviar".into(),
            ));
        }
        let pool = pool(&desk)?;
        let mut pushes: Pushes = pool.take().map_err(unavailable)?;
        let queued = pushes
            .enqueue(&previewed, &by, chrono::Utc::now())
            .map_err(unavailable)?;
        pool.give(pushes);
        Ok(queued)
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))??;
    worker.push_queued.notify_one();
    Ok(reply::json(StatusCode::ACCEPTED, &queued))
}

/// `GET /v1/cases/{ticket}/pushes`: the ticket's pushes, oldest first.
pub async fn list(State(desk): State<Arc<Desk>>, Path(ticket): Path<String>) -> Result<Response, ApiError> {
    let ticket = cases::ticket(&ticket).map_err(case_error)?;
    let listed = tokio::task::spawn_blocking(move || {
        let pool = pool(&desk)?;
        let mut pushes: Pushes = pool.take().map_err(unavailable)?;
        let listed = pushes.of_ticket(&ticket).map_err(unavailable)?;
        pool.give(pushes);
        Ok(listed)
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))??;
    Ok(reply::json(StatusCode::OK, &json!(listed)))
}

/// Sends due pushes when one is queued and every [`PUSH_INTERVAL`].
pub async fn worker(desk: Arc<Desk>) {
    let (Some(helpdesk), Some(pool)) = (desk.helpdesk.clone(), desk.pool()) else {
        return;
    };
    let mut first = true;
    loop {
        // Pushes left queued by the last run go out at once.
        if !std::mem::take(&mut first) {
            tokio::select! {
                () = desk.push_queued.notified() => {}
                () = tokio::time::sleep(PUSH_INTERVAL) => {}
            }
        }
        let (helpdesk, pool) = (helpdesk.clone(), pool.clone());
        // Two connections of the process's pool, given back after a good
        // round (dropped after a failure).
        let round = tokio::task::spawn_blocking(move || {
            let (mut pushes, mut cases): (Pushes, Cases) = (pool.take()?, pool.take()?);
            let done = deliver_due(
                helpdesk.as_ref() as &dyn Helpdesk,
                &mut pushes,
                &mut cases,
                &chrono::Utc::now,
            )?;
            pool.give(pushes);
            pool.give(cases);
            Ok::<_, roteiro_decision_log::LogError>(done)
        })
        .await;
        match round {
            Ok(Ok(done)) => {
                if !done.is_empty() {
                    tracing::info!(envios = done.len(), "envios ao helpdesk tentados");
                }
            }
            Ok(Err(err)) => tracing::warn!("envios ao helpdesk: {err}"),
            Err(_) => {}
        }
    }
}
