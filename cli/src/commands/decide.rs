//! `roteiro decide`: one situation in, one decision out.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};

use crate::render::{self, Format};
use roteiro_decision_log::decide_and_record;

use crate::database::LogArgs;
use crate::{clock, source, Status};

/// Arguments of `roteiro decide`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arquivo da situação (YAML ou JSON, pelo conteúdo); `-` lê a entrada padrão.
    situation: String,
    /// Pasta do pacote de políticas (padrão: ./policies, senão o pacote embutido).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Decide como neste momento (RFC 3339), acima do `now` da situação.
    #[arg(long, value_parser = clock::parse)]
    now: Option<DateTime<FixedOffset>>,
    /// Ignora (com aviso) campos que o vocabulário não conhece, em vez de recusá-los.
    #[arg(long)]
    lenient: bool,
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
pub fn run(args: &Args) -> Status {
    let (bundle, situation) =
        match source::bundle_and_situation(args.policies.as_deref(), &args.situation, args.now, args.lenient) {
            Ok(loaded) => loaded,
            Err(status) => return status,
        };
    // Logged only when asked to: a log that cannot be opened was reported.
    let log = match args.log.then(|| args.database.writer()).transpose() {
        Ok(log) => log,
        Err(status) => return status,
    };
    let status = match decide_and_record(&bundle, &situation, clock::system(&bundle), "decide", &log) {
        Ok(decided) => {
            if !decided.recorded {
                eprintln!("roteiro: a decisão não foi gravada no log de decisões");
            }
            print_decision(&decided.decision, args, &bundle)
        }
        Err(err) => source::report_decide_error(&err),
    };
    if let Some(log) = log {
        log.close();
    }
    // The process ends here: the system takes the bundle's memory back at
    // once, where freeing a large bundle piece by piece costs a twentieth
    // of a decision on 10,000 rules (cli/benches/commands.sh).
    std::mem::forget(bundle);
    status
}

fn print_decision(decision: &roteiro_engine::Decision, args: &Args, bundle: &roteiro_engine::Bundle) -> Status {
    let view = render::View {
        brief: args.brief,
        bundle: Some(bundle),
    };
    match render::decision(decision, args.format, view) {
        Ok(out) => {
            print!("{out}");
            Status::Ok
        }
        Err(err) => {
            eprintln!("não foi possível imprimir a decisão: {err}");
            Status::Failed
        }
    }
}
