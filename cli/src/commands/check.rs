//! `roteiro check`: load the bundle and list every problem.

use std::path::PathBuf;

use crate::{source, Status};

/// Arguments of `roteiro check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy bundle folder (default: ./policies, else the embedded bundle).
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args) -> Status {
    match source::load(args.policies.as_deref()) {
        Ok(bundle) => {
            let info = bundle.info();
            println!(
                "ok: {} {} ({}), {} regras",
                info.name,
                info.version,
                info.digest,
                bundle.rule_ids().count()
            );
            Status::Ok
        }
        Err(err) => {
            source::report(&err);
            Status::InvalidBundle
        }
    }
}
