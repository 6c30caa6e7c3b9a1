//! `roteiro decide`: one situation in, one decision out.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};

use crate::render::{self, Format};
use roteiro_decision_log::Record;

use crate::database::LogArgs;
use crate::{clock, source, Status};

/// Arguments of `roteiro decide`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Situation file (YAML or JSON, by content); `-` reads stdin.
    situation: String,
    /// Policy bundle folder (default: ./policies, else the embedded bundle).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Decide as of this moment (RFC 3339), over the situation's own `now`.
    #[arg(long, value_parser = clock::parse)]
    now: Option<DateTime<FixedOffset>>,
    /// Ignore fields the vocabulary does not know (with a warning) instead of refusing them.
    #[arg(long)]
    lenient: bool,
    /// Also append the decision to the decision log.
    #[arg(long)]
    log: bool,
    #[command(flatten)]
    database: LogArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs the command.
pub fn run(args: &Args) -> Status {
    let (bundle, situation) =
        match source::bundle_and_situation(args.policies.as_deref(), &args.situation, args.now, args.lenient) {
            Ok(loaded) => loaded,
            Err(status) => return status,
        };
    let started = std::time::Instant::now();
    match bundle.decide(&situation, clock::system()) {
        Ok(decision) if args.log => {
            let took = started.elapsed();
            match args.database.writer() {
                Ok((writer, keep)) => {
                    writer.log(Record::of(&bundle, &situation, &decision, ("decide", took, keep)));
                    writer.close();
                }
                Err(status) => return status,
            }
            print_decision(&decision, args.format)
        }
        Ok(decision) => print_decision(&decision, args.format),
        Err(err) => source::report_decide_error(&err),
    }
}

fn print_decision(decision: &roteiro_engine::Decision, format: Format) -> Status {
    match render::decision(decision, format) {
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
