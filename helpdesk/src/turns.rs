//! Whose turn it is to call the helpdesk. Movidesk's budget is per
//! account, so every process that calls one account must share it: `serve`
//! replicas and a `case push` from the command line together stay within
//! 10 requests in any minute, and a 429's wait holds for all of them.
//!
//! - [`Turns::local`]: one process alone (no database): the sliding log of
//!   [`Budget`] in memory.
//! - [`Turns::shared`]: the log's database (migration 0007) holds one row
//!   per request granted and the account's block; a grant is a
//!   transaction that counts the last window's rows (serialized by the
//!   account's row, locked `FOR UPDATE` on PostgreSQL; SQLite's write lock
//!   on SQLite), so no window ever holds more than the budget, whichever
//!   process asks.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use roteiro_decision_log::db::{Db, DbPool, Param};
use roteiro_decision_log::LogError;

use crate::budget::Budget;

/// Where the turns are kept.
pub(crate) enum Turns {
    /// In this process's memory.
    Local {
        budget: Mutex<Budget>,
        /// Until when the helpdesk asked to wait (its last `retry-after`).
        blocked_until: Mutex<Option<Instant>>,
    },
    /// In the database every process shares.
    Shared(AccountBudget),
}

impl Turns {
    /// `requests` in any `window`, for this process alone.
    pub(crate) fn local(requests: u32, window: Duration) -> Self {
        Self::Local {
            budget: Mutex::new(Budget::new(requests, window)),
            blocked_until: Mutex::new(None),
        }
    }

    /// `requests` in any `window` for `account`, shared through the
    /// database of `pool`.
    pub(crate) fn shared(pool: std::sync::Arc<DbPool>, account: String, requests: u32, window: Duration) -> Self {
        Self::Shared(AccountBudget {
            db: pool,
            account,
            requests: i64::from(requests.max(1)),
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::seconds(60)),
        })
    }

    /// A turn now, or how long until one is free.
    pub(crate) fn take(&self) -> Result<(), Wait> {
        match self {
            Self::Local { budget, blocked_until } => {
                let now = Instant::now();
                if let Some(until) = *blocked_until.lock().unwrap_or_else(PoisonError::into_inner) {
                    if until > now {
                        return Err(Wait::For(until - now));
                    }
                }
                budget
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take(now)
                    .map_err(Wait::For)
            }
            Self::Shared(account) => account.take(Utc::now()),
        }
    }

    /// The helpdesk asked everyone to wait `wait`.
    pub(crate) fn block_for(&self, wait: Duration) {
        match self {
            Self::Local { blocked_until, .. } => {
                *blocked_until.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + wait);
            }
            Self::Shared(account) => {
                let until = Utc::now() + TimeDelta::from_std(wait).unwrap_or(TimeDelta::seconds(60));
                if let Err(err) = account.block_until(until) {
                    tracing::warn!("espera do helpdesk não registrada: {err}");
                }
            }
        }
    }
}

/// Why no turn was given.
#[derive(Debug)]
pub(crate) enum Wait {
    /// The budget is spent (or the helpdesk asked to wait) for this long.
    For(Duration),
    /// The shared budget could not be read.
    Unread(LogError),
}

/// One account's budget in the database.
pub(crate) struct AccountBudget {
    db: std::sync::Arc<DbPool>,
    account: String,
    requests: i64,
    window: TimeDelta,
}

/// A moment as the tables store it: UTC, microseconds, `Z`, so text order
/// is time order.
fn moment(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parsed(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

impl AccountBudget {
    /// The account's row, created when missing and locked until the
    /// transaction ends (PostgreSQL; SQLite's transaction holds the write
    /// lock already): its block.
    fn locked_account(&self, db: &mut Db) -> Result<Option<DateTime<Utc>>, LogError> {
        let account = Param::Text(&self.account);
        db.execute(
            "INSERT INTO helpdesk_accounts (account) VALUES ($1) ON CONFLICT (account) DO NOTHING",
            std::slice::from_ref(&account),
        )?;
        let lock = if matches!(db, Db::Postgres(_)) {
            " FOR UPDATE"
        } else {
            ""
        };
        let rows = db.rows(
            &format!("SELECT blocked_until FROM helpdesk_accounts WHERE account = $1{lock}"),
            &[account],
        )?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| parsed(row.into_iter().next().flatten().as_deref())))
    }

    /// A turn at `now`, or how long until one is free.
    pub(crate) fn take(&self, now: DateTime<Utc>) -> Result<(), Wait> {
        let until_free = |at: DateTime<Utc>| (at - now).to_std().unwrap_or_default().max(Duration::from_millis(1));
        let taken = self.db.with(|db| {
            db.transaction(|db| {
                if let Some(blocked) = self.locked_account(db)?.filter(|until| *until > now) {
                    return Ok(Err(until_free(blocked)));
                }
                let account = Param::Text(&self.account);
                let since = moment(now - self.window);
                db.execute(
                    "DELETE FROM helpdesk_requests WHERE account = $1 AND at <= $2",
                    &[account.clone(), Param::Text(&since)],
                )?;
                let granted = db.rows(
                    "SELECT at FROM helpdesk_requests WHERE account = $1 ORDER BY at LIMIT $2",
                    &[account.clone(), Param::Int(self.requests)],
                )?;
                if i64::try_from(granted.len()).unwrap_or(i64::MAX) < self.requests {
                    db.execute(
                        "INSERT INTO helpdesk_requests (account, at) VALUES ($1, $2)",
                        &[account, Param::Text(&moment(now))],
                    )?;
                    return Ok(Ok(()));
                }
                let oldest = granted
                    .first()
                    .and_then(|row| parsed(row.first().cloned().flatten().as_deref()))
                    .unwrap_or(now);
                Ok(Err(until_free(oldest + self.window)))
            })
        });
        match taken {
            Ok(Ok(())) => Ok(()),
            Ok(Err(wait)) => Err(Wait::For(wait)),
            Err(err) => Err(Wait::Unread(err)),
        }
    }

    /// Nobody calls the account before `until` (a later block stays).
    pub(crate) fn block_until(&self, until: DateTime<Utc>) -> Result<(), LogError> {
        self.db.with(|db| {
            db.transaction(|db| {
                let blocked = self.locked_account(db)?;
                if blocked.is_some_and(|blocked| blocked >= until) {
                    return Ok(());
                }
                db.execute(
                    "UPDATE helpdesk_accounts SET blocked_until = $1 WHERE account = $2",
                    &[Param::Text(&moment(until)), Param::Text(&self.account)],
                )?;
                Ok(())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(name: &str) -> (std::path::PathBuf, String) {
        let folder = std::env::temp_dir().join(format!("roteiro-turns-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let address = folder.join("log.db").to_string_lossy().into_owned();
        (folder, address)
    }

    fn account(address: &str) -> AccountBudget {
        let pool = std::sync::Arc::new(DbPool::open(address).unwrap());
        match Turns::shared(pool, "conta".into(), 10, Duration::from_secs(60)) {
            Turns::Shared(account) => account,
            Turns::Local { .. } => unreachable!(),
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn processes_sharing_an_account_never_pass_its_budget_in_any_minute() {
        let (folder, address) = database("window");
        let replicas = [account(&address), account(&address), account(&address)];
        let mut granted = Vec::new();
        // Ten minutes, each replica asking every second.
        for second in 0..600 {
            for replica in &replicas {
                if replica.take(at(second)).is_ok() {
                    granted.push(second);
                }
            }
        }
        for (index, start) in granted.iter().enumerate() {
            let within = granted[index..].iter().take_while(|at| **at < start + 60).count();
            assert!(within <= 10, "{within} requests in the minute from {start} s");
        }
        assert_eq!(granted.len(), 100, "the whole budget is used: {granted:?}");
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn a_wait_the_helpdesk_asked_for_holds_for_every_process() {
        let (folder, address) = database("block");
        let (one, two) = (account(&address), account(&address));
        one.block_until(at(60)).unwrap();
        one.block_until(at(30)).unwrap();
        match two.take(at(10)) {
            Err(Wait::For(wait)) => assert_eq!(wait, Duration::from_secs(50)),
            other => panic!("{other:?}"),
        }
        assert!(two.take(at(60)).is_ok());
        std::fs::remove_dir_all(folder).unwrap();
    }
}
