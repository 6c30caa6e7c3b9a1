//! `/v1/releases`: the published versions of the bundle over HTTP, for
//! process owners and admins: the list with its history, one release,
//! what changed between two, approving a proposed one and activating an
//! earlier one (a rollback, with why). The same store and rules as
//! `roteiro releases`, `release` and `rollback`; who acts is the caller.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roteiro_releases::{changes, Event, Release, ReleaseError, Releases};
use serde::Serialize;

use crate::cases::pool;
use crate::desk::Desk;
use crate::guard::Who;
use crate::reply::{self, ApiError};

/// Events listed with the releases.
const EVENTS_LISTED: i64 = 100;

/// Most files an uploaded bundle may have.
const MAX_FILES: usize = 1_000;

/// How far back the log's decisions are decided again for the impact.
const IMPACT_DAYS: i64 = 30;

/// `POST /v1/releases`: a bundle to publish, file by file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// What changes and why.
    pub note: String,
    /// Each file's path inside the bundle (`procedures/004-io.yaml`) and
    /// its text.
    pub files: std::collections::BTreeMap<String, String>,
}

/// `GET /v1/releases`.
#[derive(Debug, Serialize)]
pub struct ReleasesBody {
    /// Every release, the newest first.
    pub releases: Vec<Release>,
    /// What was done to them, the newest first.
    pub events: Vec<Event>,
    /// The replicas on the database and the release each serves.
    pub replicas: Vec<crate::replicas::Replica>,
}

/// `GET /v1/releases/{from}/diff/{to}`.
#[derive(Debug, Serialize)]
pub struct ChangesBody {
    /// The earlier release.
    pub from: String,
    /// The later one.
    pub to: String,
    /// What changed, one line each, in words.
    pub changes: Vec<String>,
}

fn release_error(err: ReleaseError) -> ApiError {
    let status = match &err {
        ReleaseError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
        ReleaseError::NotFound(_) => StatusCode::NOT_FOUND,
        ReleaseError::OwnApproval(_) => StatusCode::FORBIDDEN,
        ReleaseError::NoteMissing => StatusCode::BAD_REQUEST,
        ReleaseError::Stored(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    };
    ApiError::with_status(status, err.to_string())
}

/// Runs `work` on the releases of the service's database, off the
/// runtime's threads.
async fn on_releases<T: Send + 'static>(
    desk: Arc<Desk>,
    work: impl FnOnce(&mut Releases, &Desk) -> Result<T, ReleaseError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let pool = pool(&desk)?;
        let mut releases: Releases = pool.take().map_err(|err| ApiError::unavailable(err.to_string()))?;
        let done = work(&mut releases, &desk).map_err(release_error);
        if done.is_ok() {
            pool.give(releases);
        }
        done
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
}

/// `GET /v1/releases`: the releases, their history and the replicas.
pub async fn list(State(desk): State<Arc<Desk>>) -> Result<Response, ApiError> {
    let body = on_releases(desk, |releases, desk| {
        let replicas = match desk.pool() {
            Some(pool) => pool.with(|db| crate::replicas::list(db, chrono::Utc::now()))?,
            None => Vec::new(),
        };
        Ok(ReleasesBody {
            releases: releases.list()?,
            events: releases.events(EVENTS_LISTED)?,
            replicas,
        })
    })
    .await?;
    Ok(reply::json(StatusCode::OK, &body))
}

/// `GET /v1/releases/{version}`.
pub async fn show(State(desk): State<Arc<Desk>>, Path(version): Path<String>) -> Result<Response, ApiError> {
    let release = on_releases(desk, move |releases, _| {
        releases.get(&version)?.ok_or(ReleaseError::NotFound(version))
    })
    .await?;
    Ok(reply::json(StatusCode::OK, &release))
}

/// `GET /v1/releases/{from}/diff/{to}`: what changed, in words.
pub async fn diff(
    State(desk): State<Arc<Desk>>,
    Path((from, to)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let body = on_releases(desk, move |releases, _| {
        let mut files = |version: &str| {
            releases
                .files(version)?
                .ok_or_else(|| ReleaseError::NotFound(version.to_string()))
        };
        let (before, after) = (files(&from)?, files(&to)?);
        Ok(ChangesBody {
            changes: changes::between(&before, &after),
            from,
            to,
        })
    })
    .await?;
    Ok(reply::json(StatusCode::OK, &body))
}

/// The `note` of a JSON body (`{"note": "..."}`); empty without one.
fn note_of(body: &Bytes) -> Result<String, ApiError> {
    if body.is_empty() {
        return Ok(String::new());
    }
    let given: serde_json::Value = serde_json::from_slice(body).map_err(|err| ApiError::unreadable(err.to_string()))?;
    Ok(given["note"].as_str().unwrap_or_default().trim().to_string())
}

/// The caller's name: who approves or rolls back is always someone.
fn actor(who: &Who) -> Result<String, ApiError> {
    who.name_or(None)
        .ok_or_else(|| ApiError::forbidden("aprovar e voltar versões pede alguém identificado por um token"))
}

/// The files of an upload, refused when a path could leave the bundle or
/// is not a YAML file.
fn uploaded_files(body: &Bytes) -> Result<(String, Vec<roteiro_engine::SourceFile>), ApiError> {
    let given: PublishBody = serde_json::from_slice(body).map_err(|err| ApiError::unreadable(err.to_string()))?;
    if given.note.trim().is_empty() {
        return Err(ApiError::bad_parameter(
            "note",
            "(vazio)",
            "o que muda nesta versão e por quê",
        ));
    }
    if given.files.is_empty() || given.files.len() > MAX_FILES {
        let found = given.files.len().to_string();
        return Err(ApiError::bad_parameter(
            "files",
            &found,
            "de 1 a 1000 arquivos do pacote",
        ));
    }
    let mut files = Vec::new();
    for (path, text) in given.files {
        let inside = !path.starts_with('/')
            && !path
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..");
        if !inside || !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            return Err(ApiError::bad_parameter(
                "files",
                &path,
                "caminhos relativos de arquivos .yaml dentro do pacote, como procedures/004-io.yaml",
            ));
        }
        files.push(roteiro_engine::SourceFile { path, text });
    }
    Ok((given.note, files))
}

/// `POST /v1/releases` with `{"note": "...", "files": {"bundle.yaml":
/// "...", ...}}`: the same gates as `roteiro publish`; 422 with each
/// gate when one fails (nothing stored), else 201 with the release
/// (proposed when the bundle asks for approval).
pub async fn publish(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let author = actor(&who)?;
    let (note, files) = uploaded_files(&body)?;
    let now = chrono::Utc::now();
    let records = match desk.log_address() {
        Some(_) => {
            let reader = desk.clone();
            tokio::task::spawn_blocking(move || {
                reader.read_log(&roteiro_decision_log::Filter {
                    since: Some(now - chrono::TimeDelta::days(IMPACT_DAYS)),
                    ..Default::default()
                })
            })
            .await
            .map_err(|err| ApiError::internal(err.to_string()))?
            .map_err(|err| ApiError::unavailable(err.to_string()))?
        }
        None => Vec::new(),
    };
    let (gates, draft) = tokio::task::spawn_blocking(move || roteiro_releases::prepare(files, &note, &records, now))
        .await
        .map_err(|err| ApiError::internal(err.to_string()))?;
    let Some(draft) = draft else {
        let refused =
            serde_json::json!({"error": "a versão não passou nos portões; nada foi publicado", "gates": gates});
        return Ok(reply::json(StatusCode::UNPROCESSABLE_ENTITY, &refused));
    };
    let release = on_releases(desk, move |releases, _| releases.publish(&draft, &author, now)).await?;
    Ok(reply::json(StatusCode::CREATED, &release))
}

/// What the caller does to one release: approve it or make it active.
type Change = fn(&mut Releases, &str, &str, &str, chrono::DateTime<chrono::Utc>) -> Result<Release, ReleaseError>;

/// `change` done by the caller to release `version`, with the body's
/// note; the release as it stands after.
async fn change_release(
    desk: Arc<Desk>,
    who: &Who,
    version: String,
    body: &Bytes,
    change: Change,
) -> Result<Response, ApiError> {
    let (name, note) = (actor(who)?, note_of(body)?);
    let release = on_releases(desk, move |releases, _| {
        change(releases, &version, &name, &note, chrono::Utc::now())
    })
    .await?;
    Ok(reply::json(StatusCode::OK, &release))
}

/// `POST /v1/releases/{version}/approve` with `{"note": "..."}`: the
/// caller approves a release someone else proposed; it becomes active.
pub async fn approve(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(version): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_release(desk, &who, version, &body, Releases::approve).await
}

/// `POST /v1/releases/{version}/activate` with `{"note": "why"}`: an
/// earlier release active again (a rollback, recorded with why).
pub async fn activate(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(version): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_release(desk, &who, version, &body, Releases::roll_back).await
}
