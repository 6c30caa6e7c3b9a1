//! One query surface over the log's database, SQLite or PostgreSQL: what
//! the cases and the access tokens are kept through. Statements are written
//! once with `$1`, `$2`... and read back as text columns.

use postgres::types::ToSql;

use crate::LogError;

/// A query parameter: text, optional text or an integer.
#[derive(Debug, Clone)]
pub enum Param<'a> {
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    Maybe(Option<&'a str>),
    /// An integer.
    Int(i64),
}

/// One connection to the log's database, SQLite or PostgreSQL.
pub enum Db {
    /// A SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server.
    Postgres(Box<crate::PgClient>),
}

fn sqlite(err: rusqlite::Error) -> LogError {
    LogError::Database(err.to_string())
}

fn pg(err: postgres::Error) -> LogError {
    LogError::Database(err.to_string())
}

impl Db {
    /// Opens (creating and migrating) the database at `address`, as the
    /// decision log does: the log's own opening creates the file and
    /// applies every migration; its connection then serves the caller.
    pub fn open(address: &str) -> Result<Self, LogError> {
        match crate::Address::of(address)? {
            crate::Address::Postgres => Ok(Self::Postgres(Box::new(
                crate::postgres_store::PostgresStore::open(address)?.into_client()?,
            ))),
            crate::Address::Sqlite(path) => Ok(Self::Sqlite(
                crate::sqlite_store::SqliteStore::open(path)?.into_connection(),
            )),
        }
    }

    /// Connects to the database at `address`, already migrated by this
    /// process (see [`DbPool`]): no migration is looked at.
    pub fn connect(address: &str) -> Result<Self, LogError> {
        match crate::Address::of(address)? {
            crate::Address::Postgres => Ok(Self::Postgres(Box::new(crate::PgClient::new(
                postgres::Client::connect(address, postgres::NoTls).map_err(pg)?,
            )))),
            crate::Address::Sqlite(path) => Ok(Self::Sqlite(crate::sqlite_store::connect(path)?)),
        }
    }

    /// Runs a statement written with `$1`, `$2`... (SQLite reads `?1`).
    pub fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, LogError> {
        match self {
            Self::Sqlite(connection) => {
                let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
                let changed = connection
                    .execute(&sql.replace('$', "?"), rusqlite::params_from_iter(values))
                    .map_err(sqlite)?;
                Ok(changed as u64)
            }
            Self::Postgres(client) => {
                let owned = pg_values(params);
                let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|value| value.as_ref()).collect();
                client.execute(sql, &refs).map_err(pg)
            }
        }
    }

    /// Rows of text columns (cast integers to text in the query).
    pub fn rows(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Option<String>>>, LogError> {
        match self {
            Self::Sqlite(connection) => {
                let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
                let mut statement = connection.prepare(&sql.replace('$', "?")).map_err(sqlite)?;
                let width = statement.column_count();
                let rows = statement
                    .query_map(rusqlite::params_from_iter(values), |row| {
                        (0..width).map(|at| row.get::<_, Option<String>>(at)).collect()
                    })
                    .map_err(sqlite)?;
                rows.collect::<Result<_, _>>().map_err(sqlite)
            }
            Self::Postgres(client) => {
                let owned = pg_values(params);
                let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|value| value.as_ref()).collect();
                let rows = client.query(sql, &refs).map_err(pg)?;
                Ok(rows
                    .iter()
                    .map(|row| (0..row.len()).map(|at| row.get::<_, Option<String>>(at)).collect())
                    .collect())
            }
        }
    }

    /// Runs `work` in one transaction: all of it or none.
    pub fn transaction<T, E: From<LogError>>(&mut self, work: impl FnOnce(&mut Self) -> Result<T, E>) -> Result<T, E> {
        let begin = match self {
            // IMMEDIATE takes the write lock at once, so two writers wait
            // for each other instead of failing half-way.
            Self::Sqlite(_) => "BEGIN IMMEDIATE",
            Self::Postgres(_) => "BEGIN",
        };
        self.batch(begin)?;
        match work(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(err) => {
                // The change is abandoned; a failed rollback leaves nothing
                // committed either.
                let _ = self.batch("ROLLBACK");
                Err(err)
            }
        }
    }

    /// Whether the connection can still be used (a PostgreSQL connection
    /// the server closed cannot).
    pub fn is_open(&self) -> bool {
        match self {
            Self::Sqlite(_) => true,
            Self::Postgres(client) => !client.is_closed(),
        }
    }

    /// Runs statements with no parameters (BEGIN, COMMIT...).
    pub fn batch(&mut self, sql: &str) -> Result<(), LogError> {
        match self {
            Self::Sqlite(connection) => connection.execute_batch(sql).map_err(sqlite),
            Self::Postgres(client) => client.batch_execute(sql).map_err(pg),
        }
    }
}

/// What keeps its work in one [`Db`] and can be made from one and give it
/// back (the cases, the pushes, the tokens), so a pool can lend it.
pub trait OnDb {
    /// The store over a connection already open and migrated.
    fn from_db(db: Db) -> Self;
    /// Its connection, for the next one.
    fn into_db(self) -> Db;
}

impl OnDb for Db {
    fn from_db(db: Db) -> Self {
        db
    }

    fn into_db(self) -> Db {
        self
    }
}

/// Most idle connections a pool keeps.
const MAX_IDLE: usize = 8;

/// One process's handle on its database: migrated once, by the first
/// connection it opens; each connection taken by one caller at a time and
/// given back for the next, so a request does not open a connection (a
/// login, on PostgreSQL) nor look at the migrations again. The service's
/// cases, pushes, tokens, sessions, budgets and replicas all go through
/// one. Blocking: used off an async runtime's threads.
pub struct DbPool {
    address: String,
    idle: std::sync::Mutex<Vec<Db>>,
    /// Set once the first connection has migrated the database.
    migrated: std::sync::atomic::AtomicBool,
}

impl DbPool {
    /// A pool for the database at `address`; nothing is opened yet.
    pub fn new(address: &str) -> Self {
        Self {
            address: address.to_string(),
            idle: std::sync::Mutex::new(Vec::new()),
            migrated: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A pool for the database at `address`, opened and migrated now: a
    /// database that cannot be reached fails here, at start, not at the
    /// first request.
    pub fn open(address: &str) -> Result<Self, LogError> {
        let pool = Self::new(address);
        let first: Db = pool.take()?;
        pool.give(first);
        Ok(pool)
    }

    /// The database's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `T` over an idle connection, else a new one (the pool's first
    /// migrates the database).
    pub fn take<T: OnDb>(&self) -> Result<T, LogError> {
        use std::sync::atomic::Ordering;
        loop {
            let next = self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop();
            match next {
                Some(db) if db.is_open() => return Ok(T::from_db(db)),
                // Closed by the server: dropped, the next one looked at.
                Some(_) => {}
                None if self.migrated.load(Ordering::Acquire) => return Db::connect(&self.address).map(T::from_db),
                None => {
                    let db = Db::open(&self.address)?;
                    self.migrated.store(true, Ordering::Release);
                    return Ok(T::from_db(db));
                }
            }
        }
    }

    /// Gives back the connection of `store`, which served without error
    /// (one that failed is dropped instead, never lent again).
    pub fn give<T: OnDb>(&self, store: T) {
        let db = store.into_db();
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE && db.is_open() {
            idle.push(db);
        }
    }

    /// Runs `work` on a connection of the pool, given back when it
    /// succeeds (dropped after a failure, so the next use opens another).
    pub fn with<T, E: From<LogError>>(&self, work: impl FnOnce(&mut Db) -> Result<T, E>) -> Result<T, E> {
        let mut db: Db = self.take()?;
        let done = work(&mut db);
        if done.is_ok() {
            self.give(db);
        }
        done
    }
}

fn sqlite_value(param: &Param<'_>) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match param {
        Param::Text(text) => Value::Text((*text).to_string()),
        Param::Maybe(Some(text)) => Value::Text((*text).to_string()),
        Param::Maybe(None) => Value::Null,
        Param::Int(n) => Value::Integer(*n),
    }
}

fn pg_values(params: &[Param<'_>]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|param| -> Box<dyn ToSql + Sync> {
            match param {
                Param::Text(text) => Box::new((*text).to_string()),
                Param::Maybe(text) => Box::new(text.map(str::to_string)),
                Param::Int(n) => Box::new(*n),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_lends_a_given_back_connection_again_and_opens_only_when_none_is_idle() {
        let folder = std::env::temp_dir().join(format!("roteiro-pool-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap_or_default();
        let pool = DbPool::new(folder.join("log.db").to_str().unwrap_or_default());
        let mut first: Db = pool.take().unwrap();
        // A temporary table lives in its connection only.
        first.batch("CREATE TEMP TABLE mine (x INTEGER)").unwrap();
        let mut second: Db = pool.take().unwrap();
        assert!(
            second.rows("SELECT x FROM mine", &[]).is_err(),
            "a second caller gets another connection"
        );
        pool.give(first);
        let mut again: Db = pool.take().unwrap();
        assert!(
            again.rows("SELECT x FROM mine", &[]).is_ok(),
            "the given-back connection is lent again"
        );
        pool.give(second);
        pool.give(again);
        assert_eq!(pool.idle.lock().unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(folder);
    }

    /// The first connection migrates; the ones after it only connect (a
    /// migration marked undone here stays undone).
    #[test]
    fn a_pool_migrates_its_database_once() {
        let folder = std::env::temp_dir().join(format!("roteiro-pool-once-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap_or_default();
        let pool = DbPool::open(folder.join("log.db").to_str().unwrap_or_default()).unwrap();
        let migrations = |db: &mut Db| {
            db.rows("SELECT CAST(version AS TEXT) FROM schema_migrations", &[])
                .unwrap()
                .len()
        };
        let mut first: Db = pool.take().unwrap();
        assert!(migrations(&mut first) > 5, "opened migrated");
        first.batch("DELETE FROM schema_migrations WHERE version = 1").unwrap();
        let (before, mut second): (usize, Db) = (migrations(&mut first), pool.take().unwrap());
        assert_eq!(
            migrations(&mut second),
            before,
            "the second connection migrated nothing"
        );
        pool.give(first);
        // The log's writer on the same pool neither migrates nor opens
        // anything of its own: it writes on a pooled connection.
        let writer = crate::LogWriter::open_on(&pool, crate::Durability::Commit).unwrap();
        assert!(writer.append(crate::tests::row(7)).wait());
        assert!(writer.flush(std::time::Duration::from_secs(10)));
        writer.close();
        assert_eq!(migrations(&mut second), before, "the writer migrated nothing");
        let logged = second
            .rows("SELECT CAST(latency_us AS TEXT) FROM decisions", &[])
            .unwrap();
        assert_eq!(logged, vec![vec![Some("7".to_string())]]);
        pool.give(second);
        let _ = std::fs::remove_dir_all(folder);
    }
}
