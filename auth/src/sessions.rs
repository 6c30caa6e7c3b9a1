//! The page's logins: a token given once at the login form becomes a
//! session, a random id sent back in an HttpOnly cookie, with an anti-CSRF
//! value the page sends in a header on every change it asks for.
//!
//! Sessions live in the log's database (migration 0007), so every replica
//! of the service knows every session, a logout ends it everywhere and a
//! restart ends none. Only the id's SHA-256 is stored: a read of the table
//! opens no session. Each process remembers what it read for at most
//! [`CACHE_FOR`], so a session ended on another replica stops within it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use roteiro_decision_log::db::{DbPool, Param};
use roteiro_decision_log::LogError;

use crate::secret::{random_hex, salted_hash, same};
use crate::{Identity, TokenError};

/// A session lasts a working day from its login.
pub const SESSION_HOURS: i64 = 12;

/// How long a process trusts what it read of a session.
pub const CACHE_FOR: Duration = Duration::from_secs(1);

/// Most sessions kept at once; the oldest goes first past it, so a flood
/// of logins cannot grow the table without end.
const MAX_SESSIONS: i64 = 10_000;

/// Most sessions one token holds at once (a person's browsers and
/// machines); a new login past it ends that token's oldest session, never
/// another person's, so one token logging in over and over evicts only
/// its own.
pub const MAX_SESSIONS_PER_TOKEN: i64 = 16;

/// Most sessions one process remembers; past it the memory starts over
/// (the database holds them all).
const MAX_CACHED: usize = 10_000;

/// One login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who logged in.
    pub identity: Identity,
    /// The value a state-changing request must repeat in `X-CSRF-Token`.
    pub csrf: String,
    /// When it ends.
    pub expires: DateTime<Utc>,
}

/// The sessions of one database.
pub struct Sessions {
    db: std::sync::Arc<DbPool>,
    /// What was read, by the id's hash, and when.
    cache: Mutex<HashMap<String, (Instant, Option<Session>)>>,
    cache_for: Duration,
}

/// A moment as the table stores it: UTC, microseconds, `Z`, so text order
/// is time order.
fn moment(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn hashed(id: &str) -> String {
    salted_hash("", id)
}

impl Sessions {
    /// The sessions in the database at `address` (opened and migrated now).
    pub fn open(address: &str) -> Result<Self, LogError> {
        Ok(Self::on(std::sync::Arc::new(DbPool::open(address)?)))
    }

    /// The sessions in the database of `pool`.
    pub fn on(pool: std::sync::Arc<DbPool>) -> Self {
        Self {
            db: pool,
            cache: Mutex::new(HashMap::new()),
            cache_for: CACHE_FOR,
        }
    }

    /// The same sessions, remembered for `cache_for` instead (tests of
    /// replicas read every time).
    #[must_use]
    pub fn remembering_for(mut self, cache_for: Duration) -> Self {
        self.cache_for = cache_for;
        self
    }

    /// Starts a session for `identity`; its id (for the cookie) and the
    /// session. Expired sessions, the token's oldest past
    /// [`MAX_SESSIONS_PER_TOKEN`] and the oldest past the table's bound
    /// go in the same transaction.
    pub fn start(&self, identity: Identity, now: DateTime<Utc>) -> Result<(String, Session), TokenError> {
        let random = |bytes| random_hex(bytes).map_err(|err| TokenError::Random(err.to_string()));
        let (id, csrf) = (random(32)?, random(32)?);
        let session = Session {
            identity,
            csrf,
            expires: now + TimeDelta::hours(SESSION_HOURS),
        };
        let (id_hash, started, expires) = (hashed(&id), moment(now), moment(session.expires));
        let token = session.identity.id.as_str();
        self.db.with(|db| {
            db.transaction(|db| -> Result<(), LogError> {
                db.execute("DELETE FROM sessions WHERE expires_at <= $1", &[Param::Text(&started)])?;
                let keep = Param::Int(MAX_SESSIONS_PER_TOKEN - 1);
                db.execute(
                    "DELETE FROM sessions WHERE token_id = $1 AND id_hash NOT IN \
                     (SELECT id_hash FROM sessions WHERE token_id = $1 ORDER BY started_at DESC, id_hash LIMIT $2)",
                    &[Param::Text(token), keep],
                )?;
                db.execute(
                    "DELETE FROM sessions WHERE id_hash NOT IN \
                     (SELECT id_hash FROM sessions ORDER BY started_at DESC, id_hash LIMIT $1)",
                    &[Param::Int(MAX_SESSIONS - 1)],
                )?;
                db.execute(
                    "INSERT INTO sessions (id_hash, token_id, name, role, csrf, started_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        Param::Text(&id_hash),
                        Param::Text(token),
                        Param::Text(&session.identity.name),
                        Param::Text(session.identity.role.name()),
                        Param::Text(&session.csrf),
                        Param::Text(&started),
                        Param::Text(&expires),
                    ],
                )?;
                Ok(())
            })
        })?;
        self.remember(id_hash, Some(session.clone()));
        Ok((id, session))
    }

    /// What this process read of the session less than [`CACHE_FOR`] ago:
    /// `Some(None)` when it was known to be over, `None` when the
    /// database must be asked ([`Sessions::get`]).
    pub fn cached(&self, id: &str, now: DateTime<Utc>) -> Option<Option<Session>> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let (read_at, session) = cache.get(&hashed(id))?;
        (read_at.elapsed() < self.cache_for).then(|| session.clone().filter(|session| session.expires > now))
    }

    /// The live session with this id, read from the database (blocking).
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Session>, LogError> {
        let id_hash = hashed(id);
        let rows = self.db.with(|db| {
            db.rows(
                "SELECT token_id, name, role, csrf, expires_at FROM sessions WHERE id_hash = $1",
                &[Param::Text(&id_hash)],
            )
        })?;
        let session = rows.into_iter().next().and_then(session_of);
        self.remember(id_hash, session.clone());
        Ok(session.filter(|session| session.expires > now))
    }

    /// Whether `presented` is the session's anti-CSRF value.
    pub fn csrf_matches(session: &Session, presented: &str) -> bool {
        same(&session.csrf, presented)
    }

    /// Ends the session (logout), on every replica.
    pub fn end(&self, id: &str) -> Result<(), LogError> {
        let id_hash = hashed(id);
        self.remember(id_hash.clone(), None);
        self.db
            .with(|db| db.execute("DELETE FROM sessions WHERE id_hash = $1", &[Param::Text(&id_hash)]))?;
        Ok(())
    }

    fn remember(&self, id_hash: String, session: Option<Session>) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(id_hash, (Instant::now(), session));
    }
}

fn session_of(row: Vec<Option<String>>) -> Option<Session> {
    let [token_id, name, role, csrf, expires]: [Option<String>; 5] = row.try_into().ok()?;
    Some(Session {
        identity: Identity {
            id: token_id?,
            name: name?,
            // A role this version does not know opens nothing.
            role: role?.parse().ok()?,
        },
        csrf: csrf?,
        expires: DateTime::parse_from_rfc3339(&expires?).ok()?.with_timezone(&Utc),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn ana() -> Identity {
        Identity {
            id: "0a1b2c3d".into(),
            name: "Ana".into(),
            role: Role::Analista,
        }
    }

    fn at(hour: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
            .and_then(|day| day.and_hms_opt(hour, 0, 0))
            .map(|moment| moment.and_utc())
            .unwrap()
    }

    /// A database file two "replicas" share, removed when dropped.
    struct Shared(std::path::PathBuf);

    impl Shared {
        fn new(name: &str) -> Self {
            let folder = std::env::temp_dir().join(format!("roteiro-sessions-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&folder);
            std::fs::create_dir_all(&folder).unwrap();
            Self(folder)
        }

        fn replica(&self) -> Sessions {
            Sessions::open(self.0.join("log.db").to_str().unwrap())
                .unwrap()
                .remembering_for(Duration::ZERO)
        }
    }

    impl Drop for Shared {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_session_lives_a_working_day_and_ends_on_logout() {
        let shared = Shared::new("day");
        let sessions = shared.replica();
        let (id, session) = sessions.start(ana(), at(8)).unwrap();
        assert_eq!(sessions.get(&id, at(19)).unwrap().map(|s| s.identity), Some(ana()));
        assert!(sessions.get(&id, at(20)).unwrap().is_none(), "12 hours after 08:00");
        assert!(Sessions::csrf_matches(&session, &session.csrf));
        assert!(!Sessions::csrf_matches(&session, "forged"));
        sessions.end(&id).unwrap();
        assert!(sessions.get(&id, at(9)).unwrap().is_none());
    }

    #[test]
    fn a_session_started_on_one_replica_works_on_another_and_ends_on_both() {
        let shared = Shared::new("replicas");
        let (one, two) = (shared.replica(), shared.replica());
        let (id, session) = one.start(ana(), at(8)).unwrap();
        assert_eq!(
            two.get(&id, at(9)).unwrap(),
            Some(session),
            "the other replica knows it"
        );
        two.end(&id).unwrap();
        assert!(
            one.get(&id, at(9)).unwrap().is_none(),
            "a logout on one ends it on both"
        );
        let (kept, _) = one.start(ana(), at(8)).unwrap();
        drop(one);
        assert!(
            shared.replica().get(&kept, at(9)).unwrap().is_some(),
            "a restart ends nothing"
        );
    }

    #[test]
    fn only_the_ids_hash_is_stored() {
        let shared = Shared::new("hash");
        let sessions = shared.replica();
        let (id, _) = sessions.start(ana(), at(8)).unwrap();
        let rows = sessions
            .db
            .with(|db| db.rows("SELECT id_hash FROM sessions", &[]))
            .unwrap();
        assert_eq!(rows, vec![vec![Some(hashed(&id))]]);
        assert_ne!(hashed(&id), id);
    }

    #[test]
    fn a_process_trusts_what_it_read_for_the_cache_time_only() {
        let shared = Shared::new("cache");
        let (remembering, other) = (
            shared.replica().remembering_for(Duration::from_secs(3600)),
            shared.replica(),
        );
        let (id, _) = remembering.start(ana(), at(8)).unwrap();
        other.end(&id).unwrap();
        assert!(
            remembering.cached(&id, at(9)).and_then(|known| known).is_some(),
            "within its cache time the process answers from memory"
        );
        assert!(
            remembering.get(&id, at(9)).unwrap().is_none(),
            "the database says it ended"
        );
        assert_eq!(remembering.cached(&id, at(9)), Some(None));
        assert_eq!(shared.replica().cached(&id, at(9)), None, "nothing read yet");
    }

    fn someone(index: i64) -> Identity {
        Identity {
            id: format!("t{index}"),
            name: format!("Analista {index}"),
            role: Role::Analista,
        }
    }

    fn count(sessions: &Sessions) -> i64 {
        let rows = sessions
            .db
            .with(|db| db.rows("SELECT CAST(count(*) AS TEXT) FROM sessions", &[]))
            .unwrap();
        rows[0][0].as_deref().unwrap().parse().unwrap()
    }

    #[test]
    fn one_token_logging_in_over_and_over_evicts_only_its_own_sessions() {
        let shared = Shared::new("evict");
        let sessions = shared.replica();
        let admin = Identity {
            id: "adm".into(),
            name: "Admin".into(),
            role: Role::Admin,
        };
        let (kept, _) = sessions.start(admin, at(1)).unwrap();
        let mut latest = Vec::new();
        for minute in 0..40 {
            let now = at(2) + TimeDelta::minutes(minute);
            latest.push(sessions.start(ana(), now).unwrap().0);
        }
        assert!(
            sessions.get(&kept, at(3)).unwrap().is_some(),
            "the admin's session stays"
        );
        assert_eq!(count(&sessions), MAX_SESSIONS_PER_TOKEN + 1);
        for id in latest.iter().rev().take(16) {
            assert!(
                sessions.get(id, at(3)).unwrap().is_some(),
                "the analyst's newest sessions stay"
            );
        }
        assert!(sessions.get(&latest[0], at(3)).unwrap().is_none(), "the oldest went");
    }

    #[test]
    fn expired_sessions_leave_the_table_at_the_next_login() {
        let shared = Shared::new("expiry");
        let sessions = shared.replica();
        for index in 0..5 {
            sessions.start(someone(index), at(1)).unwrap();
        }
        sessions
            .start(someone(9), at(1) + TimeDelta::hours(SESSION_HOURS))
            .unwrap();
        assert_eq!(count(&sessions), 1);
    }
}
