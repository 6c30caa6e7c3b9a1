//! Every decision remembered: an append-only log in a real database.
//!
//! SQLite by default (one file, created and migrated on first use, WAL
//! mode), PostgreSQL when the address says `postgres://`, for several
//! `serve` replicas writing one log. Both sit behind [`Store`], with the
//! same schema and numbered migrations (`migrations/`), so everything above
//! (the writer, stats, export) is one code path.
//!
//! Writes never slow or fail a decision: [`LogWriter`] hands records to a
//! thread over a bounded queue; when the database is down the records wait
//! in memory and are written when it returns.
#![deny(missing_docs)]

mod postgres_store;
mod sqlite_store;
mod stats;
mod writer;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use stats::{stats, Stats};
pub use writer::LogWriter;

/// The default database: a SQLite file in the working folder, the same for
/// `serve`, `ask`, `stats` and `log` run from there.
pub const DEFAULT_SQLITE: &str = "roteiro.db";

/// One logged decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Row id (0 before it is written).
    pub id: i64,
    /// When it was logged (the service's clock).
    pub logged_at: DateTime<Utc>,
    /// The moment the decision was made as of (RFC 3339).
    pub decided_as_of: String,
    /// Which door it came through: `serve`, `ask`, `decide`.
    pub origin: String,
    /// Bundle name.
    pub bundle_name: String,
    /// Bundle version.
    pub bundle_version: String,
    /// Bundle digest.
    pub bundle_digest: String,
    /// The situation as given, personal facts masked unless asked otherwise.
    pub situation: serde_json::Value,
    /// The decision's outputs.
    pub outputs: serde_json::Value,
    /// The decided route, if any.
    pub route: Option<String>,
    /// Ids of the rules that fired.
    pub fired: Vec<String>,
    /// Facts the decision found missing.
    pub missing: Vec<String>,
    /// Source documents of the fired rules (the procedures involved).
    pub documents: Vec<String>,
    /// Who was answering, when the situation says.
    pub analyst: Option<String>,
    /// How long the decision took, in microseconds.
    pub latency_us: i64,
}

/// Which records to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Logged at or after.
    pub since: Option<DateTime<Utc>>,
    /// Logged before.
    pub until: Option<DateTime<Utc>>,
    /// Only this route.
    pub route: Option<String>,
}

impl Filter {
    fn keeps(&self, record: &Record) -> bool {
        self.since.is_none_or(|since| record.logged_at >= since)
            && self.until.is_none_or(|until| record.logged_at < until)
            && self
                .route
                .as_ref()
                .is_none_or(|route| record.route.as_ref() == Some(route))
    }
}

/// What went wrong with the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The database refused or could not be reached.
    #[error("banco de dados do log: {0}")]
    Database(String),
    /// The address is not one we know.
    #[error(
        "endereço de banco desconhecido `{0}`; use um arquivo SQLite (roteiro.db, sqlite://caminho) ou postgres://..."
    )]
    Address(String),
}

/// A log database: append, read, prune.
pub trait Store: Send {
    /// Appends rows in one transaction.
    fn append(&mut self, rows: &[Row]) -> Result<(), LogError>;
    /// The records the filter keeps, oldest first.
    fn read(&mut self, filter: &Filter) -> Result<Vec<Record>, LogError>;
    /// Deletes records logged before `before`; how many.
    fn prune(&mut self, before: DateTime<Utc>) -> Result<u64, LogError>;
}

/// Opens (creating and migrating) the database at `address`: `postgres://`
/// or `postgresql://` for PostgreSQL, anything else a SQLite file
/// (`sqlite://` prefix optional).
pub fn open(address: &str) -> Result<Box<dyn Store>, LogError> {
    if address.starts_with("postgres://") || address.starts_with("postgresql://") {
        Ok(Box::new(postgres_store::PostgresStore::open(address)?))
    } else if address.contains("://") && !address.starts_with("sqlite://") {
        Err(LogError::Address(address.to_string()))
    } else {
        let path = address.trim_start_matches("sqlite://");
        Ok(Box::new(sqlite_store::SqliteStore::open(path)?))
    }
}

/// The numbered migrations of one dialect, in order.
type Migrations = &'static [(i64, &'static str)];

/// Columns in table order, after `id`, for both dialects.
const COLUMNS: &str = "logged_at, decided_as_of, origin, bundle_name, bundle_version, bundle_digest, situation, outputs, route, fired, missing, documents, analyst, latency_us";

/// One decision as the text columns both databases store: what the
/// writer queues and a store inserts. Built on the decision's own thread
/// as a dozen strings, so the writer only binds them.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    texts: [String; 12],
    analyst: Option<String>,
    latency_us: i64,
}

impl Row {
    /// The row of one decision made by `bundle` on `situation`.
    pub fn of(
        bundle: &roteiro_engine::Bundle,
        situation: &roteiro_engine::Situation,
        decision: &roteiro_engine::Decision,
        made: Made<'_>,
    ) -> Self {
        let list = |items: &[&str]| serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
        let fired: Vec<&roteiro_engine::TraceEntry> = decision.trace.iter().filter(|entry| entry.fired).collect();
        let mut documents: Vec<&str> = fired.iter().map(|entry| entry.source.document.as_str()).collect();
        documents.sort_unstable();
        documents.dedup();
        let rules: Vec<&str> = fired.iter().map(|entry| entry.rule.as_str()).collect();
        let missing: Vec<&str> = decision.missing.iter().map(|m| m.fact.as_str()).collect();
        let info = bundle.info();
        let analyst = match situation.facts.get("analyst.name") {
            Some(roteiro_engine::FactValue::Text(name)) => Some(name.clone()),
            _ => None,
        };
        let route = decision
            .outputs
            .get("route")
            .and_then(|r| r.as_str())
            .unwrap_or_default();
        Self {
            texts: [
                Utc::now().to_rfc3339(),
                // RFC 3339, so an exported situation decides as of the same moment.
                situation.now().unwrap_or(made.now).to_rfc3339(),
                made.origin.to_string(),
                info.name.clone(),
                info.version.clone(),
                info.digest.clone(),
                bundle.situation_json(situation, made.keep_personal),
                serde_json::to_string(&decision.outputs).unwrap_or_else(|_| "{}".into()),
                route.to_string(),
                list(&rules),
                list(&missing),
                list(&documents),
            ],
            analyst,
            latency_us: i64::try_from(made.latency.as_micros()).unwrap_or(i64::MAX),
        }
    }

    /// The row of a record read back (a spilled one, replayed).
    pub(crate) fn from_record(record: &Record) -> Self {
        let json = |value: &serde_json::Value| value.to_string();
        let list = |items: &[String]| serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
        Self {
            texts: [
                record.logged_at.to_rfc3339(),
                record.decided_as_of.clone(),
                record.origin.clone(),
                record.bundle_name.clone(),
                record.bundle_version.clone(),
                record.bundle_digest.clone(),
                json(&record.situation),
                json(&record.outputs),
                record.route.clone().unwrap_or_default(),
                list(&record.fired),
                list(&record.missing),
                list(&record.documents),
            ],
            analyst: record.analyst.clone(),
            latency_us: record.latency_us,
        }
    }

    /// The record this row reads back as (before it has an id).
    pub fn record(&self) -> Record {
        record_of(0, self.texts.clone(), self.analyst.clone(), self.latency_us)
    }
}

/// Reads back a stored row (columns in [`COLUMNS`] order after `id`).
fn record_of(id: i64, texts: [String; 12], analyst: Option<String>, latency_us: i64) -> Record {
    let [logged_at, decided_as_of, origin, bundle_name, bundle_version, bundle_digest, situation, outputs, route, fired, missing, documents] =
        texts;
    let list = |text: &str| serde_json::from_str::<Vec<String>>(text).unwrap_or_default();
    Record {
        id,
        logged_at: DateTime::parse_from_rfc3339(&logged_at)
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_default(),
        decided_as_of,
        origin,
        bundle_name,
        bundle_version,
        bundle_digest,
        situation: serde_json::from_str(&situation).unwrap_or_default(),
        outputs: serde_json::from_str(&outputs).unwrap_or_default(),
        route: (!route.is_empty()).then_some(route),
        fired: list(&fired),
        missing: list(&missing),
        documents: list(&documents),
        analyst,
        latency_us,
    }
}

/// How a decision was made, beyond the situation and the decision.
#[derive(Debug, Clone, Copy)]
pub struct Made<'a> {
    /// Which door: `serve`, `ask`, `decide`.
    pub origin: &'a str,
    /// The moment given to `Bundle::decide` (the situation's own wins).
    pub now: chrono::DateTime<chrono::FixedOffset>,
    /// How long the decision took.
    pub latency: std::time::Duration,
    /// Keep personal facts instead of masking them.
    pub keep_personal: bool,
}
