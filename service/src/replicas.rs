//! The replicas of `roteiro serve` on one database (migration 0008): each
//! writes that it is alive every second, and reads how many are, so its
//! share of every client's budget is the budget divided by them
//! (`Limits::set_replicas`). A replica that stops leaves the table; one
//! that died stops counting after [`LIVE_SECONDS`].

use chrono::{DateTime, TimeDelta, Utc};
use roteiro_decision_log::db::{DbPool, Param};
use roteiro_decision_log::LogError;

/// A replica not seen for this long is not counted.
pub const LIVE_SECONDS: i64 = 5;

/// Rows of replicas gone for this long are removed.
const FORGET_HOURS: i64 = 24;

/// This replica's place in the table.
pub struct Registry {
    db: std::sync::Arc<DbPool>,
    id: String,
    started_at: String,
}

/// A moment as the table stores it: UTC, microseconds, `Z`, so text order
/// is time order.
fn moment(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Registry {
    /// Joins the replicas of the database of `pool`, named by the
    /// machine, the process and the moment (readable, and unique).
    pub fn join(pool: std::sync::Arc<DbPool>, now: DateTime<Utc>) -> Result<Self, LogError> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .unwrap_or_else(|_| "replica".to_string());
        // The count tells apart registries of one process (tests).
        static JOINED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let count = JOINED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{host}:{}:{}:{count}", std::process::id(), now.timestamp_micros());
        let registry = Self {
            db: pool,
            id,
            started_at: moment(now),
        };
        registry.beat(now)?;
        Ok(registry)
    }

    /// This replica's name in the table.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Says this replica is alive at `now`; how many replicas are (this one
    /// included).
    pub fn beat(&self, now: DateTime<Utc>) -> Result<u32, LogError> {
        let (seen, live_since, forget_before) = (
            moment(now),
            moment(now - TimeDelta::seconds(LIVE_SECONDS)),
            moment(now - TimeDelta::hours(FORGET_HOURS)),
        );
        let rows = self.db.with(|db| {
            db.execute(
                "INSERT INTO replicas (id, started_at, seen_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                &[Param::Text(&self.id), Param::Text(&self.started_at), Param::Text(&seen)],
            )?;
            db.execute(
                "DELETE FROM replicas WHERE seen_at < $1",
                &[Param::Text(&forget_before)],
            )?;
            db.rows(
                "SELECT CAST(count(*) AS TEXT) FROM replicas WHERE seen_at > $1",
                &[Param::Text(&live_since)],
            )
        })?;
        let live = rows
            .first()
            .and_then(|row| row.first().cloned().flatten())
            .and_then(|count| count.parse::<u32>().ok())
            .unwrap_or(1);
        Ok(live.max(1))
    }

    /// Says which release this replica serves, that it looked for a new
    /// one at `now`, and the release it could not load, if any.
    pub fn serving(&self, release: Option<&str>, problem: Option<&str>, now: DateTime<Utc>) -> Result<(), LogError> {
        let checked = moment(now);
        self.db.with(|db| {
            db.execute(
                "UPDATE replicas SET release_version = $1, release_checked_at = $2, release_problem = $3 WHERE id = $4",
                &[
                    Param::Maybe(release),
                    Param::Text(&checked),
                    Param::Maybe(problem),
                    Param::Text(&self.id),
                ],
            )
        })?;
        Ok(())
    }

    /// Leaves the table (a clean stop).
    pub fn leave(&self) -> Result<(), LogError> {
        self.db
            .with(|db| db.execute("DELETE FROM replicas WHERE id = $1", &[Param::Text(&self.id)]))?;
        Ok(())
    }
}

/// A replica as the table tells it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Replica {
    /// Machine, process and start.
    pub id: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it was last seen alive.
    pub seen_at: String,
    /// Whether it was seen in the last [`LIVE_SECONDS`].
    pub live: bool,
    /// The release it serves (`None`: a folder or the embedded bundle).
    pub release: Option<String>,
    /// When it last looked for a new release.
    pub release_checked_at: Option<String>,
    /// A release it could not load, and why.
    pub release_problem: Option<String>,
}

/// The replicas of the database `db` is on seen in the last day, the
/// most recently started first.
pub fn list(db: &mut roteiro_decision_log::db::Db, now: DateTime<Utc>) -> Result<Vec<Replica>, LogError> {
    let live_since = moment(now - TimeDelta::seconds(LIVE_SECONDS));
    let rows = db.rows(
        "SELECT id, started_at, seen_at, release_version, release_checked_at, release_problem \
         FROM replicas ORDER BY started_at DESC, id",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let [id, started_at, seen_at, release, checked, problem]: [Option<String>; 6] = row.try_into().ok()?;
            let seen_at = seen_at?;
            Some(Replica {
                id: id?,
                started_at: started_at?,
                live: seen_at > live_since,
                seen_at,
                release,
                release_checked_at: checked,
                release_problem: problem,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn replicas_count_each_other_while_alive_and_not_after() {
        let folder = std::env::temp_dir().join(format!("roteiro-replicas-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap_or_default();
        let address = folder.join("log.db").to_string_lossy().into_owned();
        let pool = std::sync::Arc::new(DbPool::open(&address).unwrap());
        let one = Registry::join(pool.clone(), at(0)).unwrap();
        let two = Registry::join(pool.clone(), at(0)).unwrap();
        assert_ne!(one.id(), two.id());
        assert_eq!(one.beat(at(1)).unwrap(), 2);
        // The second dies: after a few seconds it no longer counts.
        assert_eq!(one.beat(at(1 + LIVE_SECONDS)).unwrap(), 1);
        let three = Registry::join(pool.clone(), at(10)).unwrap();
        assert_eq!(one.beat(at(10)).unwrap(), 2);
        three
            .serving(Some("2026.12.07-1"), Some("não carrega"), at(10))
            .unwrap();
        let listed = pool.with(|db| list(db, at(10))).unwrap();
        let told = listed.iter().find(|replica| replica.id == three.id()).unwrap();
        assert_eq!(told.release.as_deref(), Some("2026.12.07-1"));
        assert_eq!(told.release_problem.as_deref(), Some("não carrega"));
        assert!(told.live);
        assert!(!listed.iter().find(|replica| replica.id == two.id()).unwrap().live);
        three.leave().unwrap();
        assert_eq!(one.beat(at(11)).unwrap(), 1, "a replica that stops leaves at once");
        let _ = std::fs::remove_dir_all(folder);
    }
}
