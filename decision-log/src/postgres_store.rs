//! The PostgreSQL log: several `serve` replicas writing one table.

use chrono::{DateTime, Utc};
use postgres::{Client, NoTls};

use crate::{record_of, Filter, LogError, Migrations, PgClient, Record, Row, Store, COLUMNS};

const MIGRATIONS: Migrations = &[
    (1, include_str!("../migrations/postgres/0001_decisions.sql")),
    (2, include_str!("../migrations/postgres/0002_cases.sql")),
    (3, include_str!("../migrations/postgres/0003_tokens.sql")),
    (4, include_str!("../migrations/postgres/0004_pushes.sql")),
    (5, include_str!("../migrations/postgres/0005_journals.sql")),
    (6, include_str!("../migrations/postgres/0006_push_writes.sql")),
    (7, include_str!("../migrations/postgres/0007_shared_state.sql")),
    (8, include_str!("../migrations/postgres/0008_replicas.sql")),
    (9, include_str!("../migrations/postgres/0009_releases.sql")),
];

fn db(err: postgres::Error) -> LogError {
    // The driver's own text is only "db error"; the server's says what.
    match err.as_db_error() {
        Some(said) => LogError::Database(format!("{}: {}", said.code().code(), said.message())),
        None => LogError::Database(err.to_string()),
    }
}

/// A PostgreSQL log, reconnecting when the server comes back.
pub struct PostgresStore {
    address: String,
    client: Option<PgClient>,
    /// `synchronous_commit = off` on every connection (see
    /// [`Store::commits_may_lag`]).
    lagging: bool,
    /// The INSERT of n rows, prepared on the current connection, for the
    /// small batches a group commit makes (one round trip, not two).
    prepared: std::collections::HashMap<usize, postgres::Statement>,
    /// The migrations were looked at (once per store: a reconnection
    /// finds the same schema).
    migrated: bool,
}

/// Batches up to this many rows have their INSERT kept prepared.
const PREPARED_SIZES: usize = 16;

impl PostgresStore {
    /// Connects and migrates; fails when the server cannot be reached now.
    pub fn open(address: &str) -> Result<Self, LogError> {
        let mut store = Self {
            address: address.to_string(),
            client: None,
            lagging: false,
            prepared: std::collections::HashMap::new(),
            migrated: false,
        };
        store.client()?;
        Ok(store)
    }

    /// A store over `client`, a connection to the already migrated
    /// database at `address` (a pool's), reconnecting there when it breaks.
    pub(crate) fn on(client: PgClient, address: &str) -> Self {
        Self {
            address: address.to_string(),
            client: Some(client),
            lagging: false,
            prepared: std::collections::HashMap::new(),
            migrated: true,
        }
    }

    /// The connection, made again if the last one broke.
    fn client(&mut self) -> Result<&mut Client, LogError> {
        if self.client.as_mut().is_none_or(|client| client.is_closed()) {
            let mut client = PgClient::new(Client::connect(&self.address, NoTls).map_err(db)?);
            if !self.migrated {
                migrate(&mut client)?;
                self.migrated = true;
            }
            if self.lagging {
                client.batch_execute("SET synchronous_commit = off").map_err(db)?;
            }
            self.prepared.clear();
            self.client = Some(client);
        }
        self.client
            .as_deref_mut()
            .ok_or_else(|| LogError::Database("sem conexão".into()))
    }

    /// Runs `work`, dropping the connection when it fails so the next call
    /// connects again.
    fn with<T>(&mut self, work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>) -> Result<T, LogError> {
        let result = work(self.client()?);
        if result.is_err() {
            self.client = None;
        }
        result.map_err(db)
    }
}

impl PostgresStore {
    /// The open, migrated connection, for the cases kept in the same
    /// database.
    pub(crate) fn into_client(mut self) -> Result<PgClient, LogError> {
        self.client()?;
        self.client
            .take()
            .ok_or_else(|| LogError::Database("sem conexão".into()))
    }
}

/// Any number the migrating sessions agree on (an advisory lock's key).
const MIGRATION_LOCK: i64 = 0x0072_6f74_6569_726f;

fn migrate(client: &mut Client) -> Result<(), LogError> {
    // Replicas (and commands run beside them) may start together after an
    // upgrade: one migrates at a time, and each looks again under the lock.
    let mut transaction = client.transaction().map_err(db)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db)?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .map_err(db)?;
    for (version, sql) in MIGRATIONS {
        let applied = transaction
            .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])
            .map_err(db)?
            .is_some();
        if !applied {
            transaction.batch_execute(sql).map_err(db)?;
            transaction
                .execute("INSERT INTO schema_migrations VALUES ($1)", &[version])
                .map_err(db)?;
        }
    }
    transaction.commit().map_err(db)
}

/// Rows per INSERT: 14 parameters a row, within PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 1000;

/// `INSERT ... VALUES ($1, ..., $14), ...` for `count` rows.
fn insert_sql(count: usize) -> String {
    let mut sql = format!("INSERT INTO decisions ({COLUMNS}) VALUES ");
    for index in 0..count {
        let first = index * 14;
        let placeholders: Vec<String> = (first + 1..=first + 14).map(|n| format!("${n}")).collect();
        sql.push_str(if index == 0 { "(" } else { ", (" });
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    sql
}

/// The parameters of an INSERT of some rows, borrowed from them.
struct Values<'r> {
    texts: Vec<[&'r str; 12]>,
    extras: Vec<(Option<&'r str>, i64)>,
}

impl<'r> Values<'r> {
    fn of(rows: &'r [Row]) -> Self {
        Self {
            texts: rows.iter().map(Row::texts).collect(),
            extras: rows.iter().map(|row| (row.analyst(), row.latency_us())).collect(),
        }
    }

    fn params(&self) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::with_capacity(self.texts.len() * 14);
        for (texts, extra) in self.texts.iter().zip(&self.extras) {
            params.extend(texts.iter().map(|text| text as &(dyn postgres::types::ToSql + Sync)));
            params.push(&extra.0);
            params.push(&extra.1);
        }
        params
    }
}

/// One INSERT of every row of `rows`.
fn insert(client: &mut impl postgres::GenericClient, rows: &[Row]) -> Result<(), postgres::Error> {
    let values = Values::of(rows);
    client
        .execute(insert_sql(rows.len()).as_str(), &values.params())
        .map(drop)
}

impl Store for PostgresStore {
    fn commits_may_lag(&mut self) -> Result<(), LogError> {
        self.lagging = true;
        self.with(|client| client.batch_execute("SET synchronous_commit = off"))
    }

    fn append_marked(&mut self, rows: &[Row], mark: Option<(&str, u64)>) -> Result<(), LogError> {
        // Each round trip to the server is a wait the answer shares: rows
        // go as multi-row INSERTs, and a batch that is one such statement
        // with no mark is committed alone, without BEGIN and COMMIT.
        let chunks: Vec<&[Row]> = rows.chunks(ROWS_PER_INSERT).collect();
        if mark.is_none() && chunks.len() <= 1 {
            let Some(chunk) = chunks.first() else { return Ok(()) };
            if chunk.len() <= PREPARED_SIZES {
                let statement = match self.prepared.get(&chunk.len()) {
                    Some(statement) => statement.clone(),
                    None => {
                        let statement = self.with(|client| client.prepare(&insert_sql(chunk.len())))?;
                        self.prepared.insert(chunk.len(), statement.clone());
                        statement
                    }
                };
                return self.with(|client| {
                    let values = Values::of(chunk);
                    client.execute(&statement, &values.params()).map(drop)
                });
            }
            return self.with(|client| insert(client, chunk));
        }
        self.with(|client| {
            let mut transaction = client.transaction()?;
            for chunk in &chunks {
                insert(&mut transaction, chunk)?;
            }
            if let Some((journal, through)) = mark {
                let through = i64::try_from(through).unwrap_or(i64::MAX);
                transaction.execute(
                    "INSERT INTO log_journals (journal, through) VALUES ($1, $2) \
                     ON CONFLICT (journal) DO UPDATE SET through = excluded.through",
                    &[&journal, &through],
                )?;
            }
            transaction.commit()
        })
    }

    fn journal_mark(&mut self, journal: &str) -> Result<u64, LogError> {
        let row =
            self.with(|client| client.query_opt("SELECT through FROM log_journals WHERE journal = $1", &[&journal]))?;
        Ok(row.map_or(0, |row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
    }

    fn forget_journal(&mut self, journal: &str) -> Result<(), LogError> {
        self.with(|client| client.execute("DELETE FROM log_journals WHERE journal = $1", &[&journal]))
            .map(drop)
    }

    fn read(&mut self, filter: &Filter) -> Result<Vec<Record>, LogError> {
        let since = filter.since.map(|at| at.to_rfc3339()).unwrap_or_default();
        let rows = self.with(|client| {
            client.query(
                &format!("SELECT id, {COLUMNS} FROM decisions WHERE logged_at >= $1 ORDER BY id"),
                &[&since],
            )
        })?;
        Ok(rows
            .iter()
            .map(|row| {
                let mut texts: [String; 12] = Default::default();
                for (index, text) in texts.iter_mut().enumerate() {
                    *text = row.get::<_, Option<String>>(index + 1).unwrap_or_default();
                }
                record_of(row.get(0), texts, row.get(13), row.get(14))
            })
            .filter(|record| filter.keeps(record))
            .collect())
    }

    fn prune(&mut self, before: DateTime<Utc>) -> Result<u64, LogError> {
        let before = before.to_rfc3339();
        self.with(|client| client.execute("DELETE FROM decisions WHERE logged_at < $1", &[&before]))
    }
}
