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

pub mod cases;
pub mod db;
mod journal;
mod pg_client;
mod postgres_store;
mod private;
mod receipt;
mod record;
mod sqlite_store;
mod stats;
mod writer;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use pg_client::PgClient;
pub use receipt::Receipt;
pub use record::{decide_and_record, CommandLog, Decided, Logging, Recorder};
pub use stats::{stats, Stats};
pub use writer::{Ack, Durability, LogWriter};

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
    fn append(&mut self, rows: &[Row]) -> Result<(), LogError> {
        self.append_marked(rows, None)
    }
    /// Appends rows in one transaction which also records, when `mark`
    /// names a journal, the highest sequence of that journal the rows
    /// reach (see [`Store::journal_mark`]).
    fn append_marked(&mut self, rows: &[Row], mark: Option<(&str, u64)>) -> Result<(), LogError>;
    /// The highest sequence of `journal` committed (0 when none).
    fn journal_mark(&mut self, journal: &str) -> Result<u64, LogError>;
    /// Forgets `journal`'s mark, once its files are gone.
    fn forget_journal(&mut self, journal: &str) -> Result<(), LogError>;
    /// The records the filter keeps, oldest first.
    fn read(&mut self, filter: &Filter) -> Result<Vec<Record>, LogError>;
    /// Deletes records logged before `before`; how many.
    fn prune(&mut self, before: DateTime<Utc>) -> Result<u64, LogError>;
    /// Makes every commit reach the disk before it returns, power cut
    /// included (SQLite `synchronous=FULL`; PostgreSQL's commits already
    /// do).
    fn sync_every_commit(&mut self) -> Result<(), LogError> {
        Ok(())
    }
    /// Lets a commit return once the database server holds it, before its
    /// disk does: a crash of this process loses nothing, a crash of the
    /// server its last fraction of a second (PostgreSQL
    /// `synchronous_commit = off`; SQLite's commits are this process's).
    fn commits_may_lag(&mut self) -> Result<(), LogError> {
        Ok(())
    }
}

/// Opens (creating and migrating) the database at `address`: `postgres://`
/// or `postgresql://` for PostgreSQL, anything else a SQLite file
/// (`sqlite://` prefix optional).
pub fn open(address: &str) -> Result<Box<dyn Store>, LogError> {
    match Address::of(address)? {
        Address::Postgres => Ok(Box::new(postgres_store::PostgresStore::open(address)?)),
        Address::Sqlite(path) => Ok(Box::new(sqlite_store::SqliteStore::open(path)?)),
    }
}

/// The log over `db`, a connection of a pool on the database at `address`
/// (already migrated).
fn store_on(db: db::Db, address: &str) -> Result<Box<dyn Store>, LogError> {
    match db {
        db::Db::Sqlite(connection) => Ok(Box::new(sqlite_store::SqliteStore::on(connection)?)),
        db::Db::Postgres(client) => Ok(Box::new(postgres_store::PostgresStore::on(*client, address))),
    }
}

/// The logged decisions `filter` keeps, read on a connection of `pool`,
/// given back when the read held (dropped after a failure, so the next use
/// opens another).
pub fn read_pooled(pool: &db::DbPool, filter: &Filter) -> Result<Vec<Record>, LogError> {
    match pool.take()? {
        db::Db::Sqlite(connection) => {
            let mut store = sqlite_store::SqliteStore::on(connection)?;
            let records = store.read(filter)?;
            pool.give(db::Db::Sqlite(store.into_connection()));
            Ok(records)
        }
        db::Db::Postgres(client) => {
            let mut store = postgres_store::PostgresStore::on(*client, pool.address());
            let records = store.read(filter)?;
            pool.give(db::Db::Postgres(Box::new(store.into_client()?)));
            Ok(records)
        }
    }
}

/// What a log address names.
enum Address<'a> {
    /// A PostgreSQL server (`postgres://`, `postgresql://`).
    Postgres,
    /// A SQLite file at this path (`sqlite://` prefix optional).
    Sqlite(&'a str),
}

impl<'a> Address<'a> {
    fn of(address: &'a str) -> Result<Self, LogError> {
        if address.starts_with("postgres://") || address.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if address.contains("://") && !address.starts_with("sqlite://") {
            Err(LogError::Address(address.to_string()))
        } else {
            Ok(Self::Sqlite(address.trim_start_matches("sqlite://")))
        }
    }
}

/// A file kept with the log at `address`: beside a SQLite file (its path
/// and `suffix`), or `server_file` in the working folder for a server.
fn beside_log(address: &str, suffix: &str, server_file: impl FnOnce() -> String) -> std::path::PathBuf {
    match Address::of(address) {
        Ok(Address::Sqlite(path)) => std::path::PathBuf::from(format!("{path}{suffix}")),
        _ => std::path::PathBuf::from(server_file()),
    }
}

/// The numbered migrations of one dialect, in order.
type Migrations = &'static [(i64, &'static str)];

/// Columns in table order, after `id`, for both dialects.
const COLUMNS: &str = "logged_at, decided_as_of, origin, bundle_name, bundle_version, bundle_digest, situation, outputs, route, fired, missing, documents, analyst, latency_us";

/// One decision as the text columns both databases store: what the
/// writer queues and a store inserts. Built on the decision's own thread,
/// so the writer only binds text. The columns share one buffer: a row is
/// freed by the writer's thread, and one allocation crossing threads costs
/// the allocator far less than a dozen.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The twelve text columns, one after another.
    text: String,
    /// Where each column ends in `text`.
    ends: [usize; 12],
    analyst: Option<String>,
    latency_us: i64,
}

/// Writes a row's columns into one buffer, in [`COLUMNS`] order, JSON
/// written straight into it.
#[derive(Default)]
struct Columns {
    text: Vec<u8>,
    ends: [usize; 12],
    written: usize,
}

impl Columns {
    fn push(&mut self, column: &str) -> &mut Self {
        self.text.extend_from_slice(column.as_bytes());
        self.end()
    }

    /// A value as JSON (`{}` should it ever fail to serialize).
    fn push_json(&mut self, value: &impl Serialize) -> &mut Self {
        let start = self.text.len();
        if serde_json::to_writer(&mut self.text, value).is_err() {
            self.text.truncate(start);
            self.text.extend_from_slice(b"{}");
        }
        self.end()
    }

    /// A list of texts as a JSON array.
    fn push_list<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.text.push(b'[');
        for (index, item) in items.into_iter().enumerate() {
            if index > 0 {
                self.text.push(b',');
            }
            // A string always serializes; if one ever did not, an empty
            // string keeps the list valid JSON.
            let start = self.text.len();
            if serde_json::to_writer(&mut self.text, item).is_err() {
                self.text.truncate(start);
                self.text.extend_from_slice(b"\"\"");
            }
        }
        self.text.push(b']');
        self.end()
    }

    fn end(&mut self) -> &mut Self {
        if let Some(end) = self.ends.get_mut(self.written) {
            *end = self.text.len();
            self.written += 1;
        }
        self
    }

    fn row(self, analyst: Option<String>, latency_us: i64) -> Row {
        debug_assert_eq!(self.written, 12, "a row has twelve text columns");
        Row {
            // Only text and JSON were written: always UTF-8.
            text: String::from_utf8(self.text)
                .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()),
            ends: self.ends,
            analyst,
            latency_us,
        }
    }
}

impl Row {
    /// The row of one decision made by `bundle` on `situation`.
    pub fn of(
        bundle: &roteiro_engine::Bundle,
        situation: &roteiro_engine::Situation,
        decision: &roteiro_engine::Decision,
        made: Made<'_>,
    ) -> Self {
        let fired = || decision.trace.iter().filter(|entry| entry.fired);
        let mut documents: Vec<&str> = fired().map(|entry| entry.source.document.as_str()).collect();
        documents.sort_unstable();
        documents.dedup();
        let info = bundle.info();
        // Who is known (an authenticated caller) wins over a typed name.
        let analyst = match (made.analyst, situation.facts.get("analyst.name")) {
            (Some(known), _) => Some(known.to_string()),
            (None, Some(roteiro_engine::FactValue::Text(name))) => Some(name.to_string()),
            _ => None,
        };
        let route = decision
            .outputs
            .get("route")
            .and_then(|r| r.as_str())
            .unwrap_or_default();
        let mut columns = Columns {
            text: Vec::with_capacity(1024),
            ..Columns::default()
        };
        columns
            .push(&Utc::now().to_rfc3339())
            // RFC 3339, so an exported situation decides as of the same moment.
            .push(&bundle.local(&situation.now().unwrap_or(made.now)).to_rfc3339())
            .push(made.origin)
            .push(&info.name)
            .push(&info.version)
            .push(&info.digest);
        bundle.write_situation_json(situation, made.keep_personal, &mut columns.text);
        columns
            .end()
            .push_json(&decision.outputs)
            .push(route)
            .push_list(fired().map(|entry| entry.rule))
            .push_list(decision.missing.iter().map(|m| m.fact.as_str()))
            .push_list(documents);
        columns.row(analyst, i64::try_from(made.latency.as_micros()).unwrap_or(i64::MAX))
    }

    /// The row of a record (tests make rows this way).
    #[cfg(test)]
    pub(crate) fn from_record(record: &Record) -> Self {
        let mut columns = Columns::default();
        columns
            .push(&record.logged_at.to_rfc3339())
            .push(&record.decided_as_of)
            .push(&record.origin)
            .push(&record.bundle_name)
            .push(&record.bundle_version)
            .push(&record.bundle_digest)
            .push_json(&record.situation)
            .push_json(&record.outputs)
            .push(record.route.as_deref().unwrap_or_default())
            .push_list(record.fired.iter().map(String::as_str))
            .push_list(record.missing.iter().map(String::as_str))
            .push_list(record.documents.iter().map(String::as_str));
        columns.row(record.analyst.clone(), record.latency_us)
    }

    /// The twelve text columns, in [`COLUMNS`] order.
    pub(crate) fn texts(&self) -> [&str; 12] {
        let mut start = 0;
        self.ends.map(|end| {
            let column = self.text.get(start..end).unwrap_or_default();
            start = end;
            column
        })
    }

    /// Who was answering, when the situation says.
    pub(crate) fn analyst(&self) -> Option<&str> {
        self.analyst.as_deref()
    }

    /// How long the decision took, in microseconds.
    pub(crate) fn latency_us(&self) -> i64 {
        self.latency_us
    }

    /// The record this row reads back as (before it has an id).
    pub fn record(&self) -> Record {
        record_of(
            0,
            self.texts().map(str::to_string),
            self.analyst.clone(),
            self.latency_us,
        )
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
    /// Who decided, when known (an authenticated caller); else the
    /// situation's `analyst.name`.
    pub analyst: Option<&'a str>,
}

#[cfg(test)]
mod tests {

    use super::*;

    /// A plain row for the writer's and the stores' tests, told apart by
    /// its latency.
    pub(crate) fn row(latency_us: i64) -> Row {
        let record: Record = serde_json::from_value(serde_json::json!({
            "id": 0, "logged_at": "2026-12-08T13:00:00+00:00", "decided_as_of": "2026-12-08T10:00:00-03:00",
            "origin": "teste", "bundle_name": "b", "bundle_version": "1", "bundle_digest": "d",
            "situation": {}, "outputs": {}, "route": null, "fired": [], "missing": [], "documents": [],
            "analyst": null, "latency_us": latency_us
        }))
        .unwrap();
        Row::from_record(&record)
    }

    #[test]
    fn a_row_reads_back_as_the_record_it_was_made_of() {
        let record: Record = serde_json::from_value(serde_json::json!({
            "id": 0, "logged_at": "2026-12-08T13:00:00.5+00:00", "decided_as_of": "2026-12-08T10:00:00-03:00",
            "origin": "serve", "bundle_name": "roteiro", "bundle_version": "2026.11", "bundle_digest": "abc",
            "situation": {"contact": {"name": "Zé \"da\" Silva"}, "now": "2026-12-08T10:00:00-03:00"},
            "outputs": {"route": "gr"}, "route": "gr", "fired": ["a.um", "b.dois"], "missing": [],
            "documents": ["004 agendamento", "ação, vírgula"], "analyst": "Ana", "latency_us": 42
        }))
        .unwrap();
        let row = Row::from_record(&record);
        assert_eq!(row.texts()[2], "serve", "columns in COLUMNS order");
        assert_eq!(row.texts()[9], r#"["a.um","b.dois"]"#, "a list is a JSON array");
        assert_eq!(row.texts()[10], "[]");
        assert_eq!(row.record(), record);
    }
}
