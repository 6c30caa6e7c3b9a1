//! Who may do what in `roteiro serve`.
//!
//! - [`Role`]: `analista` decides and works cases, `dono` (the process
//!   owner) also reads the bundle and its reloads, `admin` also reads the
//!   log's statistics and exports, and manages tokens. Each role holds
//!   everything of the roles below it.
//! - [`Tokens`]: access tokens kept in the log's database, the secret
//!   never stored, only a salted SHA-256 of it (a token is 256 random bits,
//!   so a slow password hash would add nothing but latency per request).
//! - [`Keyring`]: the live tokens in memory, checked on every request in
//!   constant time and refreshed from the database, so a revoke reaches a
//!   running service within a refresh.
//! - [`Sessions`]: the page's logins, a random id in an HttpOnly cookie
//!   with its own anti-CSRF value, kept in the log's database so every
//!   replica of the service knows them.
#![deny(missing_docs)]

mod role;
mod secret;
mod sessions;
mod tokens;

pub use role::Role;
pub use sessions::{Session, Sessions, CACHE_FOR, SESSION_HOURS};
pub use tokens::{Identity, Keyring, TokenError, TokenInfo, Tokens};
