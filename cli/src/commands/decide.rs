//! `roteiro decide`: one situation in, one decision out.

use std::io::Read;
use std::path::PathBuf;

use crate::render::{self, Format};
use crate::{source, Status};

/// Arguments of `roteiro decide`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Situation file (YAML or JSON, by content); `-` reads stdin.
    situation: String,
    /// Policy bundle folder (default: ./policies, else the embedded bundle).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Reads a situation file or stdin.
pub fn read_input(name: &str) -> std::io::Result<String> {
    if name == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(name)
    }
}

/// Runs the command.
pub fn run(args: &Args) -> Status {
    let bundle = match source::load(args.policies.as_deref()) {
        Ok(bundle) => bundle,
        Err(err) => {
            source::report(&err);
            return Status::InvalidBundle;
        }
    };
    let text = match read_input(&args.situation) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("invalid situation {}: cannot read: {err}", args.situation);
            return Status::InvalidSituation;
        }
    };
    let situation = match bundle.parse_situation(&text, &args.situation) {
        Ok(situation) => situation,
        Err(err) => {
            eprintln!("{err}");
            return Status::InvalidSituation;
        }
    };
    match bundle.decide(&situation) {
        Ok(decision) => match render::decision(&decision, args.format) {
            Ok(out) => {
                print!("{out}");
                Status::Ok
            }
            Err(err) => {
                eprintln!("cannot print the decision: {err}");
                Status::Failed
            }
        },
        Err(err) => {
            eprintln!("invalid policy bundle: {err}");
            Status::InvalidBundle
        }
    }
}
