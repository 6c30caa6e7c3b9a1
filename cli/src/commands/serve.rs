//! `roteiro serve`: the HTTP service and the analysts' page.

use std::net::SocketAddr;
use std::path::PathBuf;

use roteiro_decision_log::CommandLog;

use crate::database::LogArgs;
use crate::{source, Status};

/// Arguments of `roteiro serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pasta do pacote, observada e recarregada a cada edição (padrão:
    /// ./policies, senão o pacote embutido, que não muda).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Endereço onde ouvir; a porta 0 escolhe uma livre.
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
    let CommandLog { writer, keep_personal } = match args.log.writer() {
        Ok(log) => log,
        Err(status) => return status,
    };
    let config = roteiro_service::Config {
        addr: args.addr,
        folder: source::folder(args.policies.as_deref()),
        log: Some(roteiro_service::LogConfig {
            writer,
            keep_personal,
            address: args.log.address(),
        }),
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
