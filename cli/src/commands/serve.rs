//! `roteiro serve`: the HTTP service and the analysts' page.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::database::LogArgs;
use crate::{source, Status};

/// Arguments of `roteiro serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy bundle folder, watched and reloaded on edits (default:
    /// ./policies, else the embedded bundle, which never changes).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[command(flatten)]
    log: LogArgs,
}

/// Runs the service until SIGINT or SIGTERM.
pub fn run(args: &Args) -> Status {
    let bundle = match source::bundle(args.policies.as_deref()) {
        Ok(bundle) => bundle,
        Err(status) => return status,
    };
    let log = match args.log.writer() {
        Ok(log) => log,
        Err(status) => return status,
    };
    let config = roteiro_service::Config {
        addr: args.addr,
        folder: source::folder(args.policies.as_deref()),
        log: Some(log),
    };
    let announce = |addr: SocketAddr| eprintln!("roteiro: servindo em http://{addr} (Ctrl-C encerra)");
    match roteiro_service::run(bundle, config, announce) {
        Ok(()) => Status::Ok,
        Err(err) => {
            eprintln!("roteiro serve: {err}");
            Status::Failed
        }
    }
}
