//! Access tokens: created (the secret shown once), listed, revoked, kept
//! in the log's database as a salted hash, and checked from memory.
//!
//! A token reads `rot_<id>_<secret>`: the id (8 hex digits) finds the row
//! without a search, the secret (256 bits) proves it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use roteiro_decision_log::db::{Db, Param};
use roteiro_decision_log::LogError;

use crate::secret::{random_hex, salted_hash, same};
use crate::Role;

/// Longest token name taken.
const MAX_NAME_CHARS: usize = 64;

/// What a token is known as (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The public part of the token.
    pub id: String,
    /// Whose token it is (a person or a system), recorded as who decided.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// Who a request comes from, once its token or session is checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// The token's public part.
    pub id: String,
    /// The token's name: what the log and the cases record as who.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The database could not be read or written.
    #[error(transparent)]
    Database(#[from] LogError),
    /// The name is empty, too long or has characters a log line should not.
    #[error("nome de token inválido `{0}`: use de 1 a 64 letras, números, espaços, ponto, hífen, sublinhado ou @")]
    Name(String),
    /// A live token already has the name.
    #[error("já existe um token ativo chamado `{0}`; revogue-o antes ou escolha outro nome")]
    Duplicate(String),
    /// No live token has the id or name.
    #[error("nenhum token ativo com id ou nome `{0}`; veja `roteiro token list`")]
    NotFound(String),
    /// The operating system gave no random bytes.
    #[error("sem fonte de aleatoriedade do sistema: {0}")]
    Random(String),
}

/// The tokens of one database.
pub struct Tokens {
    db: Db,
}

const COLUMNS: &str = "id, name, role, created_at, revoked_at, salt, hash";

impl roteiro_decision_log::db::OnDb for Tokens {
    fn from_db(db: Db) -> Self {
        Self { db }
    }

    fn into_db(self) -> Db {
        self.db
    }
}

impl Tokens {
    /// Opens (creating and migrating) the database at `address`.
    pub fn open(address: &str) -> Result<Self, TokenError> {
        Ok(Self { db: Db::open(address)? })
    }

    /// Creates a token for `name` with `role`; returns what it is known as
    /// and the whole token, which is shown this once and never again.
    pub fn create(&mut self, name: &str, role: Role, at: DateTime<Utc>) -> Result<(TokenInfo, String), TokenError> {
        let name = valid_name(name)?;
        let random = |bytes| random_hex(bytes).map_err(|err| TokenError::Random(err.to_string()));
        let (id, secret, salt) = (random(4)?, random(32)?, random(16)?);
        let hash = salted_hash(&salt, &secret);
        let created_at = at.to_rfc3339();
        self.db.transaction(|db| {
            let live = db.rows(
                "SELECT id FROM tokens WHERE name = $1 AND revoked_at IS NULL",
                &[Param::Text(&name)],
            )?;
            if !live.is_empty() {
                return Err(TokenError::Duplicate(name.clone()));
            }
            db.execute(
                "INSERT INTO tokens (id, name, role, salt, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Param::Text(&id),
                    Param::Text(&name),
                    Param::Text(role.name()),
                    Param::Text(&salt),
                    Param::Text(&hash),
                    Param::Text(&created_at),
                ],
            )?;
            Ok(())
        })?;
        let whole = format!("rot_{id}_{secret}");
        let info = TokenInfo {
            id,
            name,
            role,
            created_at,
            revoked_at: None,
        };
        Ok((info, whole))
    }

    /// Every token, revoked ones too, oldest first.
    pub fn list(&mut self) -> Result<Vec<TokenInfo>, TokenError> {
        Ok(self.rows()?.into_iter().map(|(info, _, _)| info).collect())
    }

    /// Revokes the live token with this id or name.
    pub fn revoke(&mut self, id_or_name: &str, at: DateTime<Utc>) -> Result<TokenInfo, TokenError> {
        let found = self
            .list()?
            .into_iter()
            .find(|token| token.revoked_at.is_none() && (token.id == id_or_name || token.name == id_or_name))
            .ok_or_else(|| TokenError::NotFound(id_or_name.chars().take(MAX_NAME_CHARS).collect()))?;
        let revoked_at = at.to_rfc3339();
        self.db.transaction(|db| -> Result<(), LogError> {
            db.execute(
                "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                &[Param::Text(&revoked_at), Param::Text(&found.id)],
            )?;
            // Its page sessions end with it, on every replica.
            db.execute("DELETE FROM sessions WHERE token_id = $1", &[Param::Text(&found.id)])?;
            Ok(())
        })?;
        Ok(TokenInfo {
            revoked_at: Some(revoked_at),
            ..found
        })
    }

    /// The live tokens, to check requests against.
    pub fn keyring(&mut self) -> Result<Keyring, TokenError> {
        let all = self.rows()?;
        let issued = !all.is_empty();
        let entries = all
            .into_iter()
            .filter(|(info, _, _)| info.revoked_at.is_none())
            .map(|(info, salt, hash)| {
                let identity = Identity {
                    id: info.id.clone(),
                    name: info.name,
                    role: info.role,
                };
                (info.id, (salt, hash, identity))
            })
            .collect();
        Ok(Keyring { entries, issued })
    }

    fn rows(&mut self) -> Result<Vec<(TokenInfo, String, String)>, TokenError> {
        let sql = format!("SELECT {COLUMNS} FROM tokens ORDER BY created_at, id");
        let rows = self.db.rows(&sql, &[])?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let [id, name, role, created_at, revoked_at, salt, hash]: [Option<String>; 7] = row.try_into().ok()?;
                let info = TokenInfo {
                    id: id?,
                    name: name?,
                    // A role this version does not know opens nothing.
                    role: role?.parse().ok()?,
                    created_at: created_at?,
                    revoked_at,
                };
                Some((info, salt?, hash?))
            })
            .collect())
    }
}

/// The name trimmed, or why it is refused.
fn valid_name(name: &str) -> Result<String, TokenError> {
    let trimmed = name.trim();
    let allowed = |c: char| c.is_alphanumeric() || " .-_@".contains(c);
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS || !trimmed.chars().all(allowed) {
        return Err(TokenError::Name(name.chars().take(MAX_NAME_CHARS).collect()));
    }
    Ok(trimmed.to_string())
}

/// The live tokens in memory: what every request is checked against.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    /// id -> (salt, hash, identity)
    entries: HashMap<String, (String, String, Identity)>,
    /// Whether any token was ever made (revoked ones count).
    issued: bool,
}

impl Keyring {
    /// Who presents `token`, if it is a live one.
    pub fn identify(&self, token: &str) -> Option<&Identity> {
        let (id, secret) = token.strip_prefix("rot_")?.split_once('_')?;
        let (salt, hash, identity) = self.entries.get(id)?;
        same(&salted_hash(salt, secret), hash).then_some(identity)
    }

    /// Whether the token with this id is still live (a page session ends
    /// with its token).
    pub fn holds(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    /// Whether there is no live token at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether no token was ever made here (a fresh install; once all
    /// tokens are revoked it is not fresh any more).
    pub fn none_issued(&self) -> bool {
        !self.issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("  Ana Souza ").unwrap(), "Ana Souza");
        assert_eq!(valid_name("joão.silva@empresa").unwrap(), "joão.silva@empresa");
        for bad in ["", "   ", "a\nb", "x;DROP", &"a".repeat(65)] {
            assert!(matches!(valid_name(bad), Err(TokenError::Name(_))), "{bad:?}");
        }
    }

    #[test]
    fn malformed_tokens_identify_no_one() {
        let ring = Keyring::default();
        for token in ["", "rot_", "rot_abc", "Bearer rot_a_b", "rot_a_b"] {
            assert!(ring.identify(token).is_none());
        }
    }
}
