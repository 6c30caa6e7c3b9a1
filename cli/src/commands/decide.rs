//! `roteiro decide`: one situation in, one decision out.

use crate::args::{BundleArgs, SituationArgs};
use crate::database::LogArgs;
use crate::failure::Failure;
use crate::render::{self, Format};
use crate::{clock, Status};
use roteiro_decision_log::decide_and_record;

/// Arguments of `roteiro decide`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    situation: SituationArgs,
    #[command(flatten)]
    bundle: BundleArgs,
    /// Grava também a decisão no log de decisões.
    #[arg(long)]
    log: bool,
    #[command(flatten)]
    database: LogArgs,
    /// Formato da saída.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Só o essencial no texto: rota, ações, scripts e o que falta (sem lembretes nem "Por quê").
    #[arg(long)]
    brief: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let (bundle, situation) = args.situation.load(&args.bundle)?;
    // Logged only when asked to.
    let log = args.log.then(|| args.database.writer()).transpose()?;
    let mut decided = decide_and_record(&bundle, &situation, clock::system(&bundle), "decide", &log)?;
    if !decided.receipt.wait() {
        eprintln!("roteiro: a decisão não foi gravada no log de decisões");
    }
    let view = render::View {
        brief: args.brief,
        bundle: Some(&bundle),
    };
    let out = render::decision(&decided.decision, args.format, view)
        .map_err(|err| Failure::failed(format!("não foi possível imprimir a decisão: {err}")))?;
    say_raw!("{out}");
    if let Some(log) = log {
        log.close();
    }
    // The process ends here: the system takes the bundle's memory back at
    // once, where freeing a large bundle piece by piece costs a twentieth
    // of a decision on 10,000 rules (cli/benches/commands.sh).
    std::mem::forget(bundle);
    Ok(Status::Ok)
}
