//! `roteiro publish`, `releases`, `release`, `rollback`: versions of the
//! bundle a process owner publishes, tested, for every replica to serve.
//! The gates, the impact and the store are the releases crate's; this
//! module reads the arguments, asks for confirmation and prints.

use chrono::Utc;
use roteiro_decision_log::Filter;
use roteiro_engine::Zone;
use roteiro_releases::{changes, Gates, Impact, Release, ReleaseError, Releases, State};

use crate::args::BundleArgs;
use crate::database::{require_owner, DatabaseArgs};
use crate::failure::Failure;
use crate::render::Style;
use crate::{clock, Status};

/// How far back the log's decisions are decided again to show an impact.
const IMPACT_DAYS: i64 = 30;

/// Arguments of `roteiro publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    bundle: BundleArgs,
    #[command(flatten)]
    database: DatabaseArgs,
    /// O que muda nesta versão e por quê (fica no histórico).
    #[arg(long)]
    note: String,
    /// Publica sem perguntar (sem terminal, é obrigatório).
    #[arg(long)]
    yes: bool,
}

/// Arguments of `roteiro releases`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Arguments of `roteiro release`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Mostra uma versão: autor, nota, portões, impacto e o que foi feito com ela.
    Show { version: String },
    /// Diz em palavras o que mudou de uma versão para outra.
    Diff { from: String, to: String },
    /// Aprova a versão proposta por outra pessoa, que passa a ser a ativa.
    Approve {
        version: String,
        /// Observação da aprovação.
        #[arg(long, default_value = "")]
        note: String,
    },
}

/// Arguments of `roteiro rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// A versão anterior que volta a ser a ativa.
    version: String,
    /// Por que voltar (fica no histórico).
    #[arg(long)]
    note: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

fn failed(err: impl std::fmt::Display) -> Failure {
    Failure::failed(format!("roteiro: {err}"))
}

fn open(database: &DatabaseArgs) -> Result<Releases, Failure> {
    Releases::open(&database.address()).map_err(failed)
}

/// Runs `roteiro publish`: gates, impact, confirmation, then the release.
pub fn publish(args: &PublishArgs) -> Result<Status, Failure> {
    let address = args.database.address();
    let author = require_owner(&address, "publicar uma versão").map_err(failed)?;
    if args.note.trim().is_empty() {
        return Err(failed("diga o que muda nesta versão com --note"));
    }
    let bundle = args.bundle.load()?;
    let now = Utc::now();
    let records = roteiro_decision_log::open(&address)
        .and_then(|mut log| {
            log.read(&Filter {
                since: Some(now - chrono::TimeDelta::days(IMPACT_DAYS)),
                ..Filter::default()
            })
        })
        .map_err(failed)?;
    let (gates, draft) = roteiro_releases::prepare(bundle.files().to_vec(), &args.note, &records, now);
    let style = Style::detect();
    say_raw!("{}", render_gates(&gates, style));
    let Some(draft) = draft else {
        say!(
            "{}",
            style.bad("nada foi publicado: corrija o que os portões apontam e publique de novo")
        );
        return Ok(Status::Failed);
    };
    say_raw!("{}", render_impact(&draft.impact));
    if !args.yes && !confirmed()? {
        say!("nada foi publicado");
        return Ok(Status::Failed);
    }
    let mut releases = open(&args.database)?;
    let release = releases.publish(&draft, &author, now).map_err(failed)?;
    say!(
        "versão {} publicada por {}",
        style.good(&release.version),
        release.author
    );
    if release.state == State::Proposta {
        say!(
            "ela espera a aprovação de outro dono ou admin: roteiro release approve {}",
            release.version
        );
    } else {
        say!("é a versão ativa: cada réplica passa a servi-la em até 2 segundos");
    }
    Ok(Status::Ok)
}

/// Whether the person at the terminal says yes; without a terminal, the
/// answer must come from `--yes`.
fn confirmed() -> Result<bool, Failure> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(failed("sem terminal para confirmar: use --yes para publicar"));
    }
    inquire::Confirm::new("Publicar esta versão?")
        .with_default(false)
        .prompt()
        .map_err(|err| failed(format!("confirmação: {err}")))
}

/// The gates, one line each, failures under them.
pub fn render_gates(gates: &Gates, style: Style) -> String {
    let mut out = String::from("Portões:\n");
    for gate in &gates.gates {
        let mark = if gate.passed {
            style.good("ok  ")
        } else {
            style.bad("FALHOU")
        };
        out.push_str(&format!("  {mark} {}\n", gate.name));
        for failure in &gate.failures {
            out.push_str(&format!("         - {failure}\n"));
        }
    }
    out
}

/// The impact on the log's latest decisions, grouped by rule, with a few
/// examples.
pub fn render_impact(impact: &Impact) -> String {
    let mut out = format!(
        "Impacto nas últimas decisões do log: {} de {} mudam ({} iguais, {} não se leem mais)\n",
        impact.changed, impact.compared, impact.same, impact.unreadable
    );
    for rule in impact.by_rule.iter().take(20) {
        out.push_str(&format!(
            "  regra `{}`: deixa de disparar em {}, passa a disparar em {}\n",
            rule.rule, rule.stopped, rule.started
        ));
    }
    for change in impact.changes.iter().take(3) {
        out.push_str(&format!(
            "  exemplo: decisão {} de {}: antes {}, agora {}\n",
            change.id, change.decided_as_of, change.before.outputs, change.after.outputs
        ));
    }
    out
}

fn summary(release: &Release, zone: Zone) -> String {
    let approval = match (&release.approved_by, release.needs_approval) {
        (Some(by), _) => format!(", aprovada por {by}"),
        (None, true) => String::new(),
        (None, false) => ", sem aprovação exigida".to_string(),
    };
    let gates = match release.gates.coverage {
        Some(coverage) => format!("{} portões ok, cobertura {coverage:.0}%", release.gates.gates.len()),
        None => format!("{} portões ok", release.gates.gates.len()),
    };
    format!(
        "{}  {}  por {} em {}{}  «{}»  {gates}  impacto: {} de {} decisões mudam",
        release.version,
        release.state.name(),
        release.author,
        clock::shown(&release.published_at, zone),
        approval,
        release.note,
        release.impact.changed,
        release.impact.compared
    )
}

/// Runs `roteiro releases`: every version, the newest first.
pub fn list(args: &ListArgs) -> Result<Status, Failure> {
    let releases = open(&args.database)?.list().map_err(failed)?;
    if releases.is_empty() {
        say!("nenhuma versão publicada ainda: roteiro publish --note \"...\"");
    }
    let zone = clock::shown_zone();
    for release in &releases {
        say!("{}", summary(release, zone));
    }
    Ok(Status::Ok)
}

/// Runs `roteiro release show|diff|approve`.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let mut releases = open(&args.database)?;
    match &args.action {
        Action::Show { version } => {
            let release = releases
                .get(version)
                .map_err(failed)?
                .ok_or_else(|| failed(ReleaseError::NotFound(version.clone())))?;
            let zone = clock::shown_zone();
            say!("{}", summary(&release, zone));
            say!("digest {} do pacote {}", release.digest, release.bundle_name);
            say_raw!("{}", render_gates(&release.gates, Style::detect()));
            say_raw!("{}", render_impact(&release.impact));
            for event in releases
                .events(1_000)
                .map_err(failed)?
                .iter()
                .filter(|e| &e.version == version)
            {
                say!(
                    "  {} {} por {} {}",
                    clock::shown(&event.at, zone),
                    event.kind,
                    event.who,
                    event.note
                );
            }
        }
        Action::Diff { from, to } => {
            let mut files = |version: &String| {
                releases
                    .files(version)
                    .map_err(failed)?
                    .ok_or_else(|| failed(ReleaseError::NotFound(version.clone())))
            };
            let (before, after) = (files(from)?, files(to)?);
            let lines = changes::between(&before, &after);
            if lines.is_empty() {
                say!("nada mudou de {from} para {to}");
            }
            for line in lines {
                say!("{line}");
            }
        }
        Action::Approve { version, note } => {
            let who = require_owner(&args.database.address(), "aprovar uma versão").map_err(failed)?;
            let release = releases.approve(version, &who, note, Utc::now()).map_err(failed)?;
            say!(
                "versão {} aprovada por {who}: é a ativa; cada réplica passa a servi-la em até 2 segundos",
                release.version
            );
        }
    }
    Ok(Status::Ok)
}

/// Runs `roteiro rollback`: an earlier version active again, with why.
pub fn rollback(args: &RollbackArgs) -> Result<Status, Failure> {
    let who = require_owner(&args.database.address(), "voltar a uma versão anterior").map_err(failed)?;
    let release = open(&args.database)?
        .roll_back(&args.version, &who, &args.note, Utc::now())
        .map_err(failed)?;
    say!(
        "a versão {} voltou a ser a ativa ({}); cada réplica passa a servi-la em até 2 segundos",
        release.version,
        release.digest
    );
    Ok(Status::Ok)
}
