//! `roteiro decide`: one situation in, one decision out.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};

use crate::render::{self, Format};
use roteiro_decision_log::{Made, Row};

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
    let started = std::time::Instant::now();
    let now = clock::system();
    let status = match bundle.decide(&situation, now) {
        Ok(decision) if args.log => {
            let latency = started.elapsed();
            match args.database.writer() {
                Ok((writer, keep_personal)) => {
                    let made = Made {
                        origin: "decide",
                        now,
                        latency,
                        keep_personal,
                    };
                    writer.log(Row::of(&bundle, &situation, &decision, made));
                    writer.close();
                }
                Err(status) => return status,
            }
            print_decision(&decision, args, &bundle)
        }
        Ok(decision) => print_decision(&decision, args, &bundle),
        Err(err) => source::report_decide_error(&err),
    };
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
