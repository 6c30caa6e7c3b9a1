//! Which decision log a command uses: `--database`, else
//! `ROTEIRO_DATABASE_URL`, else `roteiro.db` in the working folder (the same
//! file for `serve`, `ask`, `stats` and `log` run from there).

use chrono::{DateTime, NaiveDate, Utc};
use roteiro_decision_log::{CommandLog, LogWriter, DEFAULT_SQLITE};

use crate::Status;

/// Options shared by every command that logs or reads the log.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log de decisões: um arquivo SQLite ou postgres://... (padrão:
    /// $ROTEIRO_DATABASE_URL, senão roteiro.db aqui).
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// Guarda no log os fatos marcados `personal` em vez de mascará-los.
    #[arg(long, global = true)]
    pub log_personal: bool,
}

impl LogArgs {
    /// The database address in force.
    pub fn address(&self) -> String {
        self.database
            .clone()
            .or_else(|| std::env::var("ROTEIRO_DATABASE_URL").ok().filter(|url| !url.is_empty()))
            .unwrap_or_else(|| DEFAULT_SQLITE.to_string())
    }

    /// A writer to the log, or the problem printed and exit status 1.
    pub fn writer(&self) -> Result<CommandLog, Status> {
        LogWriter::open(&self.address())
            .map(|writer| CommandLog {
                writer,
                keep_personal: self.log_personal,
            })
            .map_err(|err| {
                eprintln!("{err}");
                Status::Failed
            })
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
