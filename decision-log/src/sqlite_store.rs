//! The SQLite log: one file, WAL mode, migrated on open.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{record_of, Filter, LogError, Migrations, Record, Row, Store, COLUMNS};

/// Page size of a new log file.
const PAGE_BYTES: i64 = 16 * 1024;
/// How much the write-ahead log grows before a checkpoint.
const WAL_BYTES: i64 = 16 * 1024 * 1024;

const MIGRATIONS: Migrations = &[
    (1, include_str!("../migrations/sqlite/0001_decisions.sql")),
    (2, include_str!("../migrations/sqlite/0002_cases.sql")),
    (3, include_str!("../migrations/sqlite/0003_tokens.sql")),
    (4, include_str!("../migrations/sqlite/0004_pushes.sql")),
    (5, include_str!("../migrations/sqlite/0005_journals.sql")),
    (6, include_str!("../migrations/sqlite/0006_push_writes.sql")),
    (7, include_str!("../migrations/sqlite/0007_shared_state.sql")),
    (8, include_str!("../migrations/sqlite/0008_replicas.sql")),
    (9, include_str!("../migrations/sqlite/0009_releases.sql")),
];

/// How long openers that keep meeting each other's locks try again.
const OPEN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

fn db(err: rusqlite::Error) -> LogError {
    LogError::Database(err.to_string())
}

/// Why one attempt at opening failed: busy is worth another attempt.
enum OpenError {
    Busy(rusqlite::Error),
    Other(rusqlite::Error),
    Log(LogError),
}

impl From<rusqlite::Error> for OpenError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => Self::Busy(err),
            _ => Self::Other(err),
        }
    }
}

/// A SQLite log file.
pub struct SqliteStore {
    connection: Connection,
}

impl SqliteStore {
    /// Opens the file (creating it), in WAL mode, migrated.
    pub fn open(path: &str) -> Result<Self, LogError> {
        // Personal data: a new log is its owner's alone, and so are the
        // WAL and shared-memory files SQLite makes beside it.
        if path != ":memory:" {
            crate::private::create_private(std::path::Path::new(path))
                .map_err(|err| LogError::Database(format!("{path}: {err}")))?;
        }
        // SQLite answers "database is locked" without waiting when two
        // connections would deadlock (both holding a read lock while one
        // switches a new file to WAL), whatever the busy timeout: openers
        // that meet there close and start again, for a bounded time.
        let deadline = std::time::Instant::now() + OPEN_PATIENCE;
        loop {
            match Self::open_once(path) {
                Err(OpenError::Busy(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(OpenError::Busy(err) | OpenError::Other(err)) => return Err(db(err)),
                Err(OpenError::Log(err)) => return Err(err),
                Ok(store) => return Ok(store),
            }
        }
    }

    fn open_once(path: &str) -> Result<Self, OpenError> {
        let connection = Connection::open(path)?;
        // First: a lock held by another connection is waited for, not
        // answered with "database is locked".
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        // Rows of about a kilobyte in 16 KB pages: fewer pages, and fewer
        // page and frame headers, per batch; a record costs about a fifth
        // less to write than in 4 KB pages (benches/record.rs). Only a new
        // file takes it; an existing log keeps the page size it has.
        connection.pragma_update(None, "page_size", PAGE_BYTES)?;
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
        // In WAL mode NORMAL never corrupts the file, and a crash of the
        // process loses nothing committed; a power cut may lose the last
        // commits. A writer that answers only once committed asks for FULL
        // (`Store::sync_every_commit`), one fsync per group commit.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        checkpoint_less(&connection)?;
        // Commands run beside `serve` may open the file together after an
        // upgrade: one migrates at a time (IMMEDIATE takes the write lock
        // first), and each looks again inside its transaction.
        connection.execute_batch("BEGIN IMMEDIATE")?;
        let migrated = migrate(&connection);
        let ended = if migrated.is_ok() { "COMMIT" } else { "ROLLBACK" };
        connection.execute_batch(ended)?;
        migrated.map_err(OpenError::Log)?;
        Ok(Self { connection })
    }
}

/// An append-only log rewrites its last pages in every batch; a longer
/// write-ahead log (16 MB before a checkpoint, not 4 MB) copies each page
/// back into the file once for many batches: the writer's cost per record
/// falls by a fifth (benches/record.rs).
fn checkpoint_less(connection: &Connection) -> Result<(), rusqlite::Error> {
    let page_bytes: i64 = connection.pragma_query_value(None, "page_size", |row| row.get(0))?;
    connection.pragma_update(None, "wal_autocheckpoint", WAL_BYTES / page_bytes.max(512))
}

/// A connection to a log file this process has opened (and migrated)
/// already: it waits for locks as the log's own does, and writes as the
/// log's default does.
pub(crate) fn connect(path: &str) -> Result<Connection, LogError> {
    let connection = Connection::open(path).map_err(db)?;
    connection.busy_timeout(std::time::Duration::from_secs(5)).map_err(db)?;
    connection.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
    Ok(connection)
}

fn migrate(connection: &Connection) -> Result<(), LogError> {
    connection
        .execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
        .map_err(db)?;
    for (version, sql) in MIGRATIONS {
        let applied: bool = connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |row| row.get(0),
            )
            .map_err(db)?;
        if !applied {
            connection
                .execute_batch(&format!("{sql}; INSERT INTO schema_migrations VALUES ({version});"))
                .map_err(db)?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// The open, migrated connection, for the cases kept in the same file.
    /// A store over `connection`, to a log file already migrated (a
    /// pool's), checkpointing as the log's own does.
    pub(crate) fn on(connection: Connection) -> Result<Self, LogError> {
        checkpoint_less(&connection).map_err(db)?;
        Ok(Self { connection })
    }

    pub(crate) fn into_connection(self) -> Connection {
        self.connection
    }
}

impl Store for SqliteStore {
    fn sync_every_commit(&mut self) -> Result<(), LogError> {
        self.connection.pragma_update(None, "synchronous", "FULL").map_err(db)
    }

    fn append_marked(&mut self, rows: &[Row], mark: Option<(&str, u64)>) -> Result<(), LogError> {
        let transaction = self.connection.transaction().map_err(db)?;
        {
            let sql = format!("INSERT INTO decisions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
            let mut statement = transaction.prepare_cached(&sql).map_err(db)?;
            for row in rows {
                let t = row.texts();
                statement
                    .execute(params![
                        t[0],
                        t[1],
                        t[2],
                        t[3],
                        t[4],
                        t[5],
                        t[6],
                        t[7],
                        t[8],
                        t[9],
                        t[10],
                        t[11],
                        row.analyst(),
                        row.latency_us()
                    ])
                    .map_err(db)?;
            }
        }
        if let Some((journal, through)) = mark {
            transaction
                .execute(
                    "INSERT INTO log_journals (journal, through) VALUES (?1, ?2) \
                     ON CONFLICT (journal) DO UPDATE SET through = excluded.through",
                    params![journal, i64::try_from(through).unwrap_or(i64::MAX)],
                )
                .map_err(db)?;
        }
        transaction.commit().map_err(db)
    }

    fn journal_mark(&mut self, journal: &str) -> Result<u64, LogError> {
        let through: Option<i64> = self
            .connection
            .query_row(
                "SELECT through FROM log_journals WHERE journal = ?1",
                [journal],
                |row| row.get(0),
            )
            .optional()
            .map_err(db)?;
        Ok(through.map_or(0, |through| u64::try_from(through).unwrap_or(0)))
    }

    fn forget_journal(&mut self, journal: &str) -> Result<(), LogError> {
        self.connection
            .execute("DELETE FROM log_journals WHERE journal = ?1", [journal])
            .map(drop)
            .map_err(db)
    }

    fn read(&mut self, filter: &Filter) -> Result<Vec<Record>, LogError> {
        let since = filter.since.map(|at| at.to_rfc3339()).unwrap_or_default();
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT id, {COLUMNS} FROM decisions WHERE logged_at >= ?1 ORDER BY id"
            ))
            .map_err(db)?;
        let rows = statement
            .query_map([since], |row| {
                let mut texts: [String; 12] = Default::default();
                for (index, text) in texts.iter_mut().enumerate() {
                    *text = row.get::<_, Option<String>>(index + 1)?.unwrap_or_default();
                }
                Ok(record_of(row.get(0)?, texts, row.get(13)?, row.get(14)?))
            })
            .map_err(db)?;
        let mut records = Vec::new();
        for row in rows {
            let record = row.map_err(db)?;
            if filter.keeps(&record) {
                records.push(record);
            }
        }
        Ok(records)
    }

    fn prune(&mut self, before: DateTime<Utc>) -> Result<u64, LogError> {
        let deleted = self
            .connection
            .execute("DELETE FROM decisions WHERE logged_at < ?1", [before.to_rfc3339()])
            .map_err(db)?;
        Ok(deleted as u64)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn page_size(path: &std::path::Path) -> i64 {
        let connection = Connection::open(path).unwrap();
        connection
            .pragma_query_value(None, "page_size", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn processes_opening_a_new_log_together_migrate_it_once() {
        let folder = std::env::temp_dir().join(format!("roteiro-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("log.db");
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let openers: Vec<_> = (0..8)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    SqliteStore::open(path.to_str().unwrap()).map(drop)
                })
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
        let connection = Connection::open(&path).unwrap();
        let versions: i64 = connection
            .query_row("SELECT count(*) FROM schema_migrations", [], |row| row.get(0))
            .unwrap();
        assert_eq!(versions, i64::try_from(MIGRATIONS.len()).unwrap());
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn a_new_log_takes_large_pages_and_an_old_one_keeps_its_own() {
        let folder = std::env::temp_dir().join(format!("roteiro-pages-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let new = folder.join("new.db");
        SqliteStore::open(new.to_str().unwrap()).unwrap();
        assert_eq!(page_size(&new), PAGE_BYTES);

        // A log made before the page size was chosen: 4 KB pages, WAL.
        let old = folder.join("old.db");
        Connection::open(&old)
            .unwrap()
            .execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let mut store = SqliteStore::open(old.to_str().unwrap()).unwrap();
        store.append_marked(&[crate::tests::row(7)], None).unwrap();
        let records = store.read(&Filter::default()).unwrap();
        assert_eq!(records.len(), 1, "the old log is written and read as before");
        assert_eq!(records[0].latency_us, 7);
        drop(store);
        assert_eq!(page_size(&old), 4096, "an existing file keeps its pages");
        std::fs::remove_dir_all(folder).unwrap();
    }
}
