//! What every request shares: the bundle being served, its reloads and the
//! metrics.
//!
//! A reload is loaded and validated off the request path, then swapped in
//! whole; a request holds the `Arc` it started with, so a reload never tears
//! a decision. A broken edit is refused: the last good bundle keeps
//! serving and the refusal (file, line, message) is shown by `/healthz`
//! and the page until a good edit replaces it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use roteiro_decision_log::{Filter, LogError, Logging, Receipt, Record, Recorder, Row};
use roteiro_engine::{folder_fingerprint, Bundle, FolderFingerprint};
use serde::Serialize;

use crate::metrics::Metrics;
use crate::LogConfig;

/// Longest a read of the log waits for the answered decisions to reach it.
const FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// One problem of a refused reload.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedProblem {
    /// File inside the bundle.
    pub file: String,
    /// Line, when known.
    pub line: Option<usize>,
    /// The problem, in Portuguese, with its field.
    pub message: String,
}

/// The last reload that was refused.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// When it was refused (RFC 3339).
    pub at: String,
    /// Every problem of the edit.
    pub problems: Vec<RefusedProblem>,
}

/// The bundle being served and when it was loaded.
pub struct Served {
    /// The bundle.
    pub bundle: Arc<Bundle>,
    /// When it was loaded.
    pub loaded_at: DateTime<Utc>,
    /// The published release it is (`None`: a folder or the embedded
    /// bundle).
    pub release: Option<String>,
}

/// The state shared by every request.
pub struct Desk {
    served: RwLock<Arc<Served>>,
    refused: RwLock<Option<Refusal>>,
    folder: Option<PathBuf>,
    /// The decision log, while it is open.
    log: Mutex<Option<LogConfig>>,
    /// The connections cases, pushes and tokens are kept through.
    pool: Option<Arc<roteiro_decision_log::db::DbPool>>,
    /// Counters and latencies for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The helpdesk cases are written into, when configured.
    pub helpdesk: Option<Arc<roteiro_helpdesk::Movidesk>>,
    /// Wakes the push worker when a push is queued.
    pub push_queued: tokio::sync::Notify,
}

impl Desk {
    /// A desk serving `bundle`; `folder` is where reloads come from; `log`
    /// is the decision log and the process's one handle on its database,
    /// which cases, pushes and releases go through.
    pub fn new(bundle: Bundle, folder: Option<PathBuf>, log: Option<LogConfig>) -> Self {
        Self {
            pool: log.as_ref().map(|log| log.pool.clone()),
            log: Mutex::new(log),
            served: RwLock::new(Arc::new(Served {
                bundle: Arc::new(bundle),
                loaded_at: Utc::now(),
                release: None,
            })),
            refused: RwLock::new(None),
            folder,
            metrics: Arc::new(Metrics::default()),
            helpdesk: None,
            push_queued: tokio::sync::Notify::new(),
        }
    }

    /// The desk serving the published release `version` (its bundle is the
    /// one given to [`Desk::new`]).
    pub fn with_release(self, version: Option<String>) -> Self {
        let served = self.served();
        *self.served.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Served {
            bundle: served.bundle.clone(),
            loaded_at: served.loaded_at,
            release: version,
        });
        self
    }

    /// The desk writing cases into `helpdesk`.
    pub fn with_helpdesk(mut self, helpdesk: roteiro_helpdesk::Movidesk) -> Self {
        self.helpdesk = Some(Arc::new(helpdesk));
        self
    }

    /// The log as `who` records into it: the authenticated caller is the
    /// analyst of every row it makes.
    pub fn signed(&self, who: Option<String>) -> Signed<'_> {
        Signed { desk: self, who }
    }

    /// The bundle serving now, held for the whole request.
    pub fn served(&self) -> Arc<Served> {
        self.served.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The log writer's counters as Prometheus lines.
    pub fn log_metrics(&self) -> String {
        let guard = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(log) = guard.as_ref() else {
            return String::new();
        };
        let counts = log.writer.counts();
        let read = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        format!(
            "# HELP roteiro_log_written_total Decisões gravadas no log.\n# TYPE roteiro_log_written_total counter\nroteiro_log_written_total {}\n# HELP roteiro_log_failures_total Falhas ao gravar no log (cada uma é tentada de novo).\n# TYPE roteiro_log_failures_total counter\nroteiro_log_failures_total {}\n# HELP roteiro_log_dropped_total Decisões descartadas (fila cheia sem diário, ou diário cheio).\n# TYPE roteiro_log_dropped_total counter\nroteiro_log_dropped_total {}\n# HELP roteiro_log_spilled_total Decisões guardadas no diário do log até o banco voltar (banco fora do ar, memória cheia).\n# TYPE roteiro_log_spilled_total counter\nroteiro_log_spilled_total {}\n",
            read(&counts.written),
            read(&counts.failures),
            read(&counts.dropped),
            read(&counts.spilled)
        )
    }

    /// Writes what the log still holds and stops its writer.
    pub fn close_log(&self) {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(log) = log {
            log.writer.close();
        }
    }

    /// Where the decision log is, when there is one.
    pub fn log_address(&self) -> Option<&str> {
        self.pool.as_deref().map(roteiro_decision_log::db::DbPool::address)
    }

    /// The database's connections, when the service has a log.
    pub fn pool(&self) -> Option<Arc<roteiro_decision_log::db::DbPool>> {
        self.pool.clone()
    }

    /// The logged decisions `filter` keeps, read on a connection of the
    /// process's pool, once what was answered is in. Blocking.
    pub fn read_log(&self, filter: &Filter) -> Result<Vec<Record>, LogError> {
        let Some(pool) = self.pool.as_deref() else {
            return Err(LogError::Database("o serviço está sem log de decisões".into()));
        };
        self.flush_log();
        roteiro_decision_log::read_pooled(pool, filter)
    }

    /// Waits (a while at most) until the decisions answered so far are in
    /// the database, so a read of the log sees them: the journal answers
    /// before the database has a row. The log's lock is not held meanwhile.
    fn flush_log(&self) {
        let (told, heard) = std::sync::mpsc::channel();
        {
            let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(log) = log.as_ref() else { return };
            log.writer.flush_then(Box::new(move |done| {
                let _ = told.send(done);
            }));
        }
        if !matches!(heard.recv_timeout(FLUSH_WAIT), Ok(true)) {
            tracing::warn!("o log ainda não tem todas as decisões respondidas; a leitura segue sem elas");
        }
    }

    /// The last refused reload, if the latest edit was refused.
    pub fn refused(&self) -> Option<Refusal> {
        self.refused.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Loads the folder again: swaps the bundle in when it is valid,
    /// records the refusal when it is not.
    pub fn reload(&self) {
        let Some(folder) = &self.folder else { return };
        match Bundle::load_dir(folder) {
            Ok(bundle) => {
                tracing::info!(digest = %bundle.info().digest, "pacote recarregado");
                self.swap(bundle, None);
            }
            Err(err) => {
                tracing::warn!("recarga recusada: {err}");
                self.refuse(&err);
            }
        }
    }

    /// Serves the published release `version`, loaded from `files`; when
    /// they do not load, keeps the bundle serving and says why.
    pub fn serve_release(&self, version: &str, files: Vec<roteiro_engine::SourceFile>) -> Result<(), String> {
        match roteiro_releases::load(version, files) {
            Ok(bundle) => {
                tracing::info!(release = version, digest = %bundle.info().digest, "versão publicada em uso");
                self.swap(bundle, Some(version.to_string()));
                Ok(())
            }
            Err(err) => {
                tracing::warn!("a versão {version} não carrega; a anterior continua: {err}");
                self.refuse(&err);
                let first = err.problems.first().map(ToString::to_string).unwrap_or_default();
                Err(format!(
                    "a versão {version} não carrega ({first}); esta réplica continua com a anterior"
                ))
            }
        }
    }

    /// `bundle` in place of the one serving, whole, with the evaluator
    /// the service runs; requests already running keep theirs.
    fn swap(&self, mut bundle: Bundle, release: Option<String>) {
        bundle.set_evaluation(self.served().bundle.evaluation());
        *self.served.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Served {
            bundle: Arc::new(bundle),
            loaded_at: Utc::now(),
            release,
        });
        *self.refused.write().unwrap_or_else(PoisonError::into_inner) = None;
        self.metrics.reloaded(true);
    }

    /// Forgets a refused bundle once the one serving is what is asked for
    /// again (a rollback past a release this replica could not load).
    pub fn forget_refusal(&self) {
        *self.refused.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Records that a new bundle was refused, file by file.
    fn refuse(&self, err: &roteiro_engine::BundleError) {
        let problems = err
            .problems
            .iter()
            .map(|problem| RefusedProblem {
                file: problem.location.file.clone(),
                line: problem.location.line,
                message: problem.to_string(),
            })
            .collect();
        *self.refused.write().unwrap_or_else(PoisonError::into_inner) = Some(Refusal {
            at: Utc::now().to_rfc3339(),
            problems,
        });
        self.metrics.reloaded(false);
    }
}

/// The desk's log with who is deciding, for one request. The row is
/// queued under a short lock of the log; its receipt is waited on outside
/// it.
pub struct Signed<'a> {
    desk: &'a Desk,
    who: Option<String>,
}

impl Recorder for Signed<'_> {
    fn logging(&self) -> Logging {
        let log = self.desk.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.as_ref().map_or(Logging::Off, |log| Logging::On {
            keep_personal: log.keep_personal,
        })
    }

    fn record(&self, row: Row) -> Receipt {
        let log = self.desk.log.lock().unwrap_or_else(PoisonError::into_inner);
        match log.as_ref() {
            Some(log) => log.writer.append(row),
            None => Receipt::settled(true),
        }
    }

    fn analyst(&self) -> Option<&str> {
        self.who.as_deref()
    }
}

/// Looks at the bundle folder every [`crate::RELOAD_INTERVAL`] and reloads
/// on a change from `loaded` (the folder's fingerprint when the service
/// started), on a blocking thread so requests never wait for it.
pub async fn watch(desk: Arc<Desk>, loaded: FolderFingerprint) {
    let Some(folder) = desk.folder.clone() else { return };
    let mut last = loaded;
    let mut ticker = tokio::time::interval(crate::RELOAD_INTERVAL);
    loop {
        ticker.tick().await;
        let probe = folder.clone();
        let Ok(current) = tokio::task::spawn_blocking(move || folder_fingerprint(&probe)).await else {
            continue;
        };
        if current != last {
            last = current;
            let desk = desk.clone();
            let _ = tokio::task::spawn_blocking(move || desk.reload()).await;
        }
    }
}
