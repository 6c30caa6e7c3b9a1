//! Every replica serves the database's active release: each second it
//! reads which release is active and, when that changed, loads it and
//! swaps it in whole (a request keeps the bundle it started with, so none
//! is decided with a mix). A release that does not load is refused: the
//! replica keeps the one it has, says so in `/healthz` and in its row of
//! the replicas' table (`roteiro replicas`), and does not try the same
//! version again until another is activated.

use std::sync::Arc;

use roteiro_decision_log::db::DbPool;
use roteiro_decision_log::LogError;
use roteiro_releases::Releases;

use crate::desk::Desk;
use crate::replicas::Registry;

/// The active release's version and files, when one was ever activated.
pub fn active(pool: &DbPool) -> Result<Option<(String, Vec<roteiro_engine::SourceFile>)>, String> {
    let mut releases: Releases = pool.take().map_err(|err| err.to_string())?;
    let Some(active) = releases.active().map_err(|err| err.to_string())? else {
        pool.give(releases);
        return Ok(None);
    };
    let files = releases
        .files(&active.version)
        .map_err(|err| err.to_string())?
        .unwrap_or_default();
    pool.give(releases);
    Ok(Some((active.version, files)))
}

/// What this replica learned of the releases so far.
#[derive(Default)]
struct Following {
    /// The version that did not load, not tried again.
    refused: Option<String>,
    /// Why, as the replicas' table says it.
    problem: Option<String>,
}

/// Follows the active release of the database behind `pool` until the
/// service stops.
pub async fn follow(desk: Arc<Desk>, pool: Arc<DbPool>, registry: Option<Arc<Registry>>) {
    let following = Arc::new(std::sync::Mutex::new(Following::default()));
    let mut ticker = tokio::time::interval(crate::RELOAD_INTERVAL);
    loop {
        ticker.tick().await;
        let (desk, pool, registry, following) = (desk.clone(), pool.clone(), registry.clone(), following.clone());
        let _ = tokio::task::spawn_blocking(move || {
            let mut following = following.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Err(err) = check(&desk, &pool, &mut following) {
                tracing::warn!("versões publicadas não conferidas: {err}");
                return;
            }
            if let Some(registry) = registry {
                let release = desk.served().release.clone();
                if let Err(err) = registry.serving(release.as_deref(), following.problem.as_deref(), chrono::Utc::now())
                {
                    tracing::warn!("a versão desta réplica não foi registrada: {err}");
                }
            }
        })
        .await;
    }
}

/// Reads the active release and swaps it in when it is new here.
fn check(desk: &Desk, pool: &DbPool, following: &mut Following) -> Result<(), LogError> {
    let mut releases: Releases = pool.take()?;
    let Some(active) = releases.active()? else {
        pool.give(releases);
        return Ok(());
    };
    let serving = desk.served().release.clone();
    if serving.as_deref() == Some(active.version.as_str()) {
        // Back on the release it serves (a rollback past one it refused):
        // nothing is refused any more.
        if following.refused.take().is_some() {
            desk.forget_refusal();
        }
        *following = Following::default();
        pool.give(releases);
        return Ok(());
    }
    if following.refused.as_deref() == Some(active.version.as_str()) {
        pool.give(releases);
        return Ok(());
    }
    let files = releases
        .files(&active.version)
        .map_err(|err| LogError::Database(err.to_string()))?
        .unwrap_or_default();
    pool.give(releases);
    match desk.serve_release(&active.version, files) {
        Ok(()) => *following = Following::default(),
        Err(problem) => {
            following.refused = Some(active.version);
            following.problem = Some(problem);
        }
    }
    Ok(())
}
