//! Which decision log a command uses: `--database`, else
//! `ROTEIRO_DATABASE_URL`, else `roteiro.db` in the working folder (the same
//! file for `serve`, `ask`, `stats` and `log` run from there).

use chrono::{DateTime, NaiveDate, Utc};
use roteiro_decision_log::{CommandLog, Durability, LogWriter, DEFAULT_SQLITE};

use crate::failure::Failure;

/// The database of a command that reads or changes the log, the cases or
/// the tokens.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Log de decisões: um arquivo SQLite ou postgres://... (padrão:
    /// $ROTEIRO_DATABASE_URL, senão roteiro.db aqui).
    #[arg(long, global = true)]
    pub database: Option<String>,
}

impl DatabaseArgs {
    /// The database address in force.
    pub fn address(&self) -> String {
        self.database
            .clone()
            .or_else(|| std::env::var("ROTEIRO_DATABASE_URL").ok().filter(|url| !url.is_empty()))
            .unwrap_or_else(|| DEFAULT_SQLITE.to_string())
    }
}

/// The options of a command that records decisions in the log.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Guarda no log os fatos marcados `personal` em vez de mascará-los.
    #[arg(long, global = true)]
    pub log_personal: bool,
    /// `commit`: responde só depois de a decisão estar no diário do log (nada respondido se perde numa
    /// queda do processo); `sync`: responde só depois do commit sincronizado no disco (nem uma queda de
    /// energia perde o que foi respondido; mais lento); `buffered`: responde antes e grava em até 100 ms
    /// (uma queda perde o que estava na fila).
    #[arg(long, global = true, value_enum, default_value_t = LogDurability::Commit)]
    pub log_durability: LogDurability,
}

/// `--log-durability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogDurability {
    Commit,
    Sync,
    Buffered,
}

impl LogArgs {
    /// The database address in force.
    pub fn address(&self) -> String {
        self.database.address()
    }

    /// A writer to the log (exit status 1 when it cannot be opened).
    pub fn writer(&self) -> Result<CommandLog, Failure> {
        let keep_personal = self.keep_personal()?;
        LogWriter::open_with(&self.address(), self.durability())
            .map(|writer| CommandLog { writer, keep_personal })
            .map_err(Failure::failed)
    }

    /// `--log-personal`: keeping personal facts is an admin's choice.
    pub fn keep_personal(&self) -> Result<bool, Failure> {
        if self.log_personal {
            require_admin(&self.address(), "--log-personal").map_err(Failure::failed)?;
        }
        Ok(self.log_personal)
    }

    /// `--log-durability`.
    pub fn durability(&self) -> Durability {
        match self.log_durability {
            LogDurability::Commit => Durability::Commit,
            LogDurability::Sync => Durability::Sync,
            LogDurability::Buffered => Durability::Buffered,
        }
    }
}

/// `--since`/`--until`: a date (`2026-12-01`, midnight UTC) or an RFC 3339 moment.
pub fn parse_moment(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| format!("`{text}` não é uma data AAAA-MM-DD nem um momento RFC 3339"))
}

/// `--older-than 180d` (days) as a duration.
pub fn parse_age(text: &str) -> Result<chrono::TimeDelta, String> {
    text.strip_suffix('d')
        .and_then(|days| days.parse::<i64>().ok())
        .filter(|days| *days >= 0)
        .and_then(chrono::TimeDelta::try_days)
        .ok_or_else(|| format!("`{text}` não é uma idade em dias, por exemplo 180d"))
}

/// Cases hold contacts' names, phones and the before and after of every
/// answer: once a database has tokens, reading or changing them from the
/// command line needs an analyst's token (or higher) in `ROTEIRO_TOKEN`,
/// as the service asks. A database where no token was ever made (a fresh
/// install on this machine, readable by its owner alone) asks for none.
pub fn require_case_reader(address: &str) -> Result<(), String> {
    let refused = |why: &str| format!("casos guardam fatos pessoais (LGPD) e pedem um token de analista: {why}");
    let keyring = roteiro_auth::Tokens::open(address)
        .and_then(|mut tokens| tokens.keyring())
        .map_err(|err| refused(&err.to_string()))?;
    if keyring.none_issued() {
        return Ok(());
    }
    let token = std::env::var("ROTEIRO_TOKEN")
        .ok()
        .filter(|token| !token.trim().is_empty())
        .ok_or_else(|| refused("ponha o seu em ROTEIRO_TOKEN (nunca num argumento)"))?;
    match keyring.identify(token.trim()) {
        Some(who) if who.role.covers(roteiro_auth::Role::Analista) => Ok(()),
        Some(who) => Err(refused(&format!("o token de {} tem o papel {}", who.name, who.role))),
        None => Err(refused("o token de ROTEIRO_TOKEN é desconhecido ou foi revogado")),
    }
}

/// The admin whose token `ROTEIRO_TOKEN` holds, checked against the tokens
/// of the database at `address`; why not, naming `what` was asked.
pub fn require_admin(address: &str, what: &str) -> Result<String, String> {
    require_role(
        address,
        roteiro_auth::Role::Admin,
        &format!("{what} guarda ou mostra fatos pessoais (LGPD) e pede um token de admin"),
    )
}

/// The process owner (or admin) whose token `ROTEIRO_TOKEN` holds: who
/// publishes, approves and rolls back versions of the bundle.
pub fn require_owner(address: &str, what: &str) -> Result<String, String> {
    require_role(
        address,
        roteiro_auth::Role::Dono,
        &format!("{what} pede um token de dono de processo ou admin"),
    )
}

/// The name of whoever `ROTEIRO_TOKEN` holds, when their role covers
/// `needed`; else `refusal` with why.
fn require_role(address: &str, needed: roteiro_auth::Role, refusal: &str) -> Result<String, String> {
    let refused = |why: &str| format!("{refusal}: {why}");
    let token = std::env::var("ROTEIRO_TOKEN")
        .ok()
        .filter(|token| !token.trim().is_empty())
        .ok_or_else(|| refused("ponha o seu em ROTEIRO_TOKEN (nunca num argumento)"))?;
    let keyring = roteiro_auth::Tokens::open(address)
        .and_then(|mut tokens| tokens.keyring())
        .map_err(|err| refused(&err.to_string()))?;
    match keyring.identify(token.trim()) {
        Some(who) if who.role.covers(needed) => Ok(who.name.clone()),
        Some(who) => Err(refused(&format!("o token de {} tem o papel {}", who.name, who.role))),
        None => Err(refused("o token de ROTEIRO_TOKEN é desconhecido ou foi revogado")),
    }
}
