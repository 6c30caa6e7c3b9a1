//! The page's logins: a token given once at the login form becomes a
//! session, a random id sent back in an HttpOnly cookie, with an anti-CSRF
//! value the page sends in a header on every change it asks for.
//!
//! Sessions live in the service's memory: a restart asks analysts to log
//! in again, and nothing personal is written anywhere for them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::secret::{random_hex, same};
use crate::Identity;

/// A session lasts a working day from its login.
pub const SESSION_HOURS: i64 = 12;

/// Most sessions kept at once; the oldest goes first past it, so a flood
/// of logins cannot grow the service's memory.
const MAX_SESSIONS: usize = 10_000;

/// Most sessions one token holds at once (a person's browsers and
/// machines); a new login past it ends that token's oldest session, never
/// another person's, so one token logging in over and over evicts only
/// its own.
pub const MAX_SESSIONS_PER_TOKEN: usize = 16;

/// One login.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who logged in.
    pub identity: Identity,
    /// The value a state-changing request must repeat in `X-CSRF-Token`.
    pub csrf: String,
    /// When it ends.
    pub expires: DateTime<Utc>,
}

/// Every live session, by id.
#[derive(Debug, Default)]
pub struct Sessions {
    /// Each with the order it started in (expiries tie within a second).
    live: Mutex<HashMap<String, (u64, Session)>>,
    started: std::sync::atomic::AtomicU64,
}

impl Sessions {
    /// Starts a session for `identity`; its id (for the cookie) and the
    /// session.
    pub fn start(&self, identity: Identity, now: DateTime<Utc>) -> Result<(String, Session), getrandom::Error> {
        let (id, csrf) = (random_hex(32)?, random_hex(32)?);
        let session = Session {
            identity,
            csrf,
            expires: now + TimeDelta::hours(SESSION_HOURS),
        };
        let serial = self.started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|_, (_, kept)| kept.expires > now);
        let mut own: Vec<(u64, String)> = live
            .iter()
            .filter(|(_, (_, kept))| kept.identity.id == session.identity.id)
            .map(|(id, (serial, _))| (*serial, id.clone()))
            .collect();
        if own.len() >= MAX_SESSIONS_PER_TOKEN {
            own.sort();
            for (_, id) in own.iter().take(own.len() + 1 - MAX_SESSIONS_PER_TOKEN) {
                live.remove(id);
            }
        }
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live
                .iter()
                .min_by_key(|(_, (serial, _))| *serial)
                .map(|(id, _)| id.clone())
            {
                live.remove(&oldest);
            }
        }
        live.insert(id.clone(), (serial, session.clone()));
        Ok((id, session))
    }

    /// The live session with this id.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<Session> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        // Looked up by the id as a key: the map's hashing does not leak
        // where two ids differ, and ids are 256 random bits.
        live.get(id)
            .map(|(_, session)| session)
            .filter(|session| session.expires > now)
            .cloned()
    }

    /// Whether `presented` is the session's anti-CSRF value.
    pub fn csrf_matches(session: &Session, presented: &str) -> bool {
        same(&session.csrf, presented)
    }

    /// Ends the session (logout).
    pub fn end(&self, id: &str) {
        self.live.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }
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

    #[test]
    fn a_session_lives_a_working_day_and_ends_on_logout() {
        let sessions = Sessions::default();
        let (id, session) = sessions.start(ana(), at(8)).unwrap();
        assert_eq!(sessions.get(&id, at(19)).map(|s| s.identity), Some(ana()));
        assert!(sessions.get(&id, at(20)).is_none(), "12 hours after 08:00");
        assert!(Sessions::csrf_matches(&session, &session.csrf));
        assert!(!Sessions::csrf_matches(&session, "forged"));
        sessions.end(&id);
        assert!(sessions.get(&id, at(9)).is_none());
    }

    fn someone(index: usize) -> Identity {
        Identity {
            id: format!("t{index}"),
            name: format!("Analista {index}"),
            role: Role::Analista,
        }
    }

    #[test]
    fn the_oldest_session_goes_when_the_table_is_full() {
        let sessions = Sessions::default();
        let (first, _) = sessions.start(someone(0), at(1)).unwrap();
        for index in 1..MAX_SESSIONS {
            sessions.start(someone(index), at(2)).unwrap();
        }
        let (last, _) = sessions.start(someone(MAX_SESSIONS), at(3)).unwrap();
        assert!(sessions.get(&first, at(4)).is_none());
        assert!(sessions.get(&last, at(4)).is_some());
        assert_eq!(sessions.live.lock().unwrap().len(), MAX_SESSIONS);
    }

    #[test]
    fn one_token_logging_in_over_and_over_evicts_only_its_own_sessions() {
        let sessions = Sessions::default();
        let admin = Identity {
            id: "adm".into(),
            name: "Admin".into(),
            role: Role::Admin,
        };
        let (kept, _) = sessions.start(admin, at(1)).unwrap();
        let mut latest = Vec::new();
        for _ in 0..MAX_SESSIONS {
            latest.push(sessions.start(ana(), at(2)).unwrap().0);
        }
        assert!(sessions.get(&kept, at(3)).is_some(), "the admin's session stays");
        assert_eq!(sessions.live.lock().unwrap().len(), MAX_SESSIONS_PER_TOKEN + 1);
        for id in latest.iter().rev().take(MAX_SESSIONS_PER_TOKEN) {
            assert!(sessions.get(id, at(3)).is_some(), "the analyst's newest sessions stay");
        }
    }
}
