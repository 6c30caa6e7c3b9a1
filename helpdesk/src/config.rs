//! Where the helpdesk is and how roteiro signs in: from the environment
//! or a `KEY=VALUE` file it names, never a command-line argument (which
//! `ps` shows to everyone on the machine).

use std::fmt;
use std::time::Duration;

/// Movidesk's public API, as documented.
pub const MOVIDESK_URL: &str = "https://api.movidesk.com/public/v1";

/// A value that is never shown: Debug and Display print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` (percent-encoding decoded) with the secret masked wherever
    /// it shows: whole, and any word that is a piece of it of
    /// [`SECRET_PIECE`] characters or more (a body cut in the middle of
    /// the token, a token echoed in part).
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_string();
        }
        let whole = percent_decoded(text).replace(&self.0, "***");
        let mut out = String::with_capacity(whole.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if word.chars().count() >= SECRET_PIECE && self.0.contains(word.as_str()) {
                out.push_str("***");
            } else {
                out.push_str(word);
            }
            word.clear();
        };
        for c in whole.chars() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }
}

/// The shortest piece of a secret masked on its own: shorter runs of its
/// characters are too common in ordinary text to say anything of it.
pub const SECRET_PIECE: usize = 6;

/// `%XX` sequences decoded (others kept as written).
fn percent_decoded(word: &str) -> String {
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to reach Movidesk.
#[derive(Debug, Clone)]
pub struct MovideskConfig {
    /// The API's base URL (the documented one unless told otherwise).
    pub base_url: String,
    /// The account's API token.
    pub token: Secret,
    /// The Movidesk person id actions are created by (`createdBy.id`).
    pub agent_id: String,
    /// Requests roteiro allows itself in any `minute` (Movidesk's: 10).
    pub per_minute: u32,
    /// The window the budget is counted in: Movidesk's minute with a
    /// margin (see `BUDGET_WINDOW`); tests keep the budget's shape and run
    /// it faster.
    pub minute: Duration,
    /// Longest roteiro waits for one request, answer included.
    pub timeout: Duration,
    /// Longest a push waits for the budget or a `retry-after` before it is
    /// left in the queue for later.
    pub max_wait: Duration,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Something required is missing.
    #[error("falta {0}: defina no ambiente ou no arquivo de ROTEIRO_MOVIDESK_CONFIG (CHAVE=valor)")]
    Missing(&'static str),
    /// The file could not be read.
    #[error("não foi possível ler {0}: {1}")]
    File(String, String),
    /// A value is not one the setting takes.
    #[error("{0} = `{1}`: {2}")]
    Invalid(&'static str, String, &'static str),
}

/// Movidesk's documented budget: 10 requests a minute per account
/// ("[Enterprise] Tickets API", Zenvia article 510136).
pub const DOCUMENTED_PER_MINUTE: u32 = 10;

/// The window roteiro counts its budget in: Movidesk's minute and two
/// seconds. Roteiro counts a request when it grants it, Movidesk when it
/// arrives; one granted at the end of a window and slowed on its way (a
/// busy replica, a slow connection) could otherwise arrive in the same
/// minute as one granted a minute later and sent at once, one request over
/// (seen under load with two replicas: a 429).
const BUDGET_WINDOW: Duration = Duration::from_secs(62);

/// The most `ROTEIRO_MOVIDESK_PER_MINUTE` takes: ten a second.
const MAX_PER_MINUTE: u32 = 600;

impl MovideskConfig {
    /// Read from the environment: `ROTEIRO_MOVIDESK_TOKEN`,
    /// `ROTEIRO_MOVIDESK_AGENT`, optionally `ROTEIRO_MOVIDESK_URL` and
    /// `ROTEIRO_MOVIDESK_PER_MINUTE` (the account's budget; the
    /// documented 10 unless told otherwise: lower to leave room for other
    /// integrations of the same account, higher only where the account's
    /// limit is known to be, as the tests' stand-in); each may instead be
    /// a line of the file
    /// `ROTEIRO_MOVIDESK_CONFIG` names (the environment wins).
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = match std::env::var("ROTEIRO_MOVIDESK_CONFIG") {
            Ok(path) if !path.is_empty() => {
                let text =
                    std::fs::read_to_string(&path).map_err(|err| ConfigError::File(path.clone(), err.to_string()))?;
                text.lines()
                    .filter_map(|line| line.split_once('='))
                    .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
                    .collect()
            }
            _ => Vec::new(),
        };
        let read = |key: &str| {
            std::env::var(key)
                .ok()
                .filter(|value| !value.is_empty())
                .or_else(|| file.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        };
        Ok(Self {
            base_url: read("ROTEIRO_MOVIDESK_URL").unwrap_or_else(|| MOVIDESK_URL.to_string()),
            token: Secret::new(read("ROTEIRO_MOVIDESK_TOKEN").ok_or(ConfigError::Missing("ROTEIRO_MOVIDESK_TOKEN"))?),
            agent_id: read("ROTEIRO_MOVIDESK_AGENT").ok_or(ConfigError::Missing("ROTEIRO_MOVIDESK_AGENT"))?,
            per_minute: per_minute(read("ROTEIRO_MOVIDESK_PER_MINUTE"))?,
            minute: BUDGET_WINDOW,
            timeout: Duration::from_secs(15),
            max_wait: Duration::from_secs(70),
        })
    }
}

/// `ROTEIRO_MOVIDESK_PER_MINUTE`, when given: a whole number within bounds.
fn per_minute(given: Option<String>) -> Result<u32, ConfigError> {
    let Some(value) = given else {
        return Ok(DOCUMENTED_PER_MINUTE);
    };
    (value.trim().parse().ok())
        .filter(|n| (1..=MAX_PER_MINUTE).contains(n))
        .ok_or(ConfigError::Invalid(
            "ROTEIRO_MOVIDESK_PER_MINUTE",
            value,
            "um número inteiro de 1 a 600 (requisições por minuto da conta; o documentado é 10)",
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_the_documented_one_unless_a_valid_number_is_given() {
        assert_eq!(per_minute(None).unwrap(), 10);
        assert_eq!(per_minute(Some("60".into())).unwrap(), 60);
        for wrong in ["0", "601", "dez", "-5"] {
            let err = per_minute(Some(wrong.into())).unwrap_err().to_string();
            assert!(
                err.contains(&format!("ROTEIRO_MOVIDESK_PER_MINUTE = `{wrong}`")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_piece_of_the_secret_or_its_encoding_is_masked_too() {
        let secret = Secret::new("3f2a9c1e-77b0-4d1a-9e44-0c5b8a2f6d13".into());
        // Cut at 200 characters in the middle of the token.
        let cut = format!("{}token=3f2a9c1e-77b0", "x ".repeat(90));
        assert!(!secret.redact(&cut).contains("3f2a9c1e"), "{}", secret.redact(&cut));
        // Echoed percent-encoded, or only its second half.
        let encoded = "token%3D3f2a9c1e%2D77b0%2D4d1a%2D9e44%2D0c5b8a2f6d13 falhou";
        assert_eq!(secret.redact(encoded), "token=*** falhou");
        assert_eq!(secret.redact("recebido: 9e44-0c5b8a2f6d13."), "recebido: ***.");
        // Ordinary words that share a few characters stay.
        assert_eq!(secret.redact("ticket 4d1a falhou"), "ticket 4d1a falhou");
    }

    #[test]
    fn a_secret_never_shows_and_is_masked_in_any_text() {
        let secret = Secret::new("abc123".into());
        assert_eq!(format!("{secret} {secret:?}"), "*** ***");
        assert_eq!(
            secret.redact("GET /tickets?token=abc123&id=1"),
            "GET /tickets?token=***&id=1"
        );
        let config = MovideskConfig {
            base_url: MOVIDESK_URL.into(),
            token: secret,
            agent_id: "7".into(),
            per_minute: 10,
            minute: Duration::from_secs(60),
            timeout: Duration::from_secs(1),
            max_wait: Duration::from_secs(1),
        };
        assert!(!format!("{config:?}").contains("abc123"));
    }
}
