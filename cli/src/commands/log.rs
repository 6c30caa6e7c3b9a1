//! `roteiro log`: the decision log as situation files, and its retention.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use roteiro_decision_log::Filter;

use crate::args::BundleArgs;
use crate::database::{self, DatabaseArgs};
use crate::failure::Failure;
use crate::Status;

/// Arguments of `roteiro log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Grava as situações do log como arquivos de situação (fatos pessoais como
    /// foram guardados, mascarados se o log não os guardou), para `roteiro diff DIR --base ...`.
    Export {
        /// Pasta onde gravar (criada se faltar).
        dir: PathBuf,
        #[command(flatten)]
        log: DatabaseArgs,
        /// Registradas desde (AAAA-MM-DD ou RFC 3339).
        #[arg(long, value_parser = database::parse_moment)]
        since: Option<DateTime<Utc>>,
        /// Registradas antes de (AAAA-MM-DD ou RFC 3339).
        #[arg(long, value_parser = database::parse_moment)]
        until: Option<DateTime<Utc>>,
        /// Só decisões com esta saída, por exemplo `route=gr`.
        #[arg(long = "where")]
        condition: Option<String>,
        /// Exporta os fatos pessoais como o log os guardou (pede ROTEIRO_TOKEN de admin;
        /// grava um aviso na pasta). Sem isto, saem mascarados.
        #[arg(long)]
        personal: bool,
        /// The bundle whose vocabulary says which facts are personal.
        #[command(flatten)]
        bundle: BundleArgs,
    },
    /// Apaga as decisões registradas há mais tempo que a idade dada, por exemplo `180d`.
    Prune {
        #[command(flatten)]
        log: DatabaseArgs,
        /// Idade em dias, por exemplo 180d.
        #[arg(long, value_parser = database::parse_age)]
        older_than: chrono::TimeDelta,
    },
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let result = match &args.action {
        Action::Export {
            dir,
            log,
            since,
            until,
            condition,
            personal,
            bundle,
        } => {
            let shown = if *personal {
                Shown::Personal
            } else {
                Shown::Masked(Box::new(bundle.load()?))
            };
            export(dir, log, *since, *until, condition.as_deref(), &shown)
        }
        Action::Prune { log, older_than } => prune(log, *older_than),
    };
    result.map_err(Failure::failed)?;
    Ok(Status::Ok)
}

/// The logged situations that match, each named `decisao-NNNNNNNN.json`
/// with its JSON text, pinned to the moment it was decided as of so a
/// replay decides alike. What `export` writes and `diff --from-log` reads.
pub fn logged_situations(
    log: &DatabaseArgs,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    condition: Option<&str>,
) -> Result<Vec<(String, String)>, String> {
    let route = match condition {
        None => None,
        Some(text) => match text.split_once('=') {
            Some(("route", value)) => Some(value.to_string()),
            _ => return Err(format!("--where `{text}`: só `route=VALOR` é aceito")),
        },
    };
    let mut store = roteiro_decision_log::open(&log.address()).map_err(|e| e.to_string())?;
    let records = store.read(&Filter { since, until, route }).map_err(|e| e.to_string())?;
    records
        .iter()
        .map(|record| {
            let mut situation = record.situation.clone();
            if let (Some(map), false) = (situation.as_object_mut(), record.decided_as_of.is_empty()) {
                map.entry("now")
                    .or_insert_with(|| serde_json::Value::String(record.decided_as_of.clone()));
            }
            let text = serde_json::to_string_pretty(&situation).map_err(|e| e.to_string())?;
            Ok((format!("decisao-{:08}.json", record.id), text + "\n"))
        })
        .collect()
}

/// How an export shows personal facts.
enum Shown {
    /// Masked by this bundle's vocabulary.
    Masked(Box<roteiro_engine::Bundle>),
    /// As the log kept them (an admin asked).
    Personal,
}

/// The warning written beside an export that holds personal facts.
const PERSONAL_WARNING: &str = "ATENÇÃO: estas situações contêm fatos pessoais de clientes (LGPD).\n\
Use só para o fim que motivou a exportação, não compartilhe, e apague a pasta ao terminar.\n\
No log, `roteiro log prune --older-than 180d` apaga decisões antigas (a política de retenção).\n";

fn export(
    dir: &std::path::Path,
    log: &DatabaseArgs,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    condition: Option<&str>,
    shown: &Shown,
) -> Result<(), String> {
    if let Shown::Personal = shown {
        crate::database::require_admin(&log.address(), "log export --personal")?;
    }
    let mut situations = logged_situations(log, since, until, condition)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("não foi possível criar {}: {e}", dir.display()))?;
    match shown {
        Shown::Personal => {
            let path = dir.join("LEIA-ANTES-DADOS-PESSOAIS.txt");
            std::fs::write(&path, PERSONAL_WARNING)
                .map_err(|e| format!("não foi possível escrever {}: {e}", path.display()))?;
            eprint!("{PERSONAL_WARNING}");
        }
        Shown::Masked(bundle) => {
            for (_, text) in &mut situations {
                *text = masked(bundle, text);
            }
        }
    }
    for (name, text) in &situations {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("não foi possível escrever {}: {e}", path.display()))?;
    }
    eprintln!("{} situações exportadas para {}", situations.len(), dir.display());
    Ok(())
}

/// The situation with its personal facts masked; one the vocabulary can
/// no longer read is exported empty rather than shown unmasked.
fn masked(bundle: &roteiro_engine::Bundle, text: &str) -> String {
    match bundle.parse_situation(text, "log") {
        Ok(situation) => {
            let json = bundle.situation_json(&situation, false);
            serde_json::from_str::<serde_json::Value>(&json)
                .and_then(|value| serde_json::to_string_pretty(&value))
                .map_or(json, |pretty| pretty + "\n")
        }
        Err(_) => "{}\n".to_string(),
    }
}

fn prune(log: &DatabaseArgs, older_than: chrono::TimeDelta) -> Result<(), String> {
    let mut store = roteiro_decision_log::open(&log.address()).map_err(|e| e.to_string())?;
    let before = Utc::now() - older_than;
    let deleted = store.prune(before).map_err(|e| e.to_string())?;
    // Cases hold names and phones too: those closed before the same day
    // go with their history, follow-ups and finished pushes.
    let cases = roteiro_decision_log::cases::Cases::open(&log.address())
        .map_err(|e| e.to_string())?
        .prune_closed(before)
        .map_err(|e| e.to_string())?;
    eprintln!(
        "{deleted} decisões e {cases} casos encerrados anteriores a {} apagados",
        before.format("%d/%m/%Y %H:%M")
    );
    Ok(())
}
