//! `roteiro replicas`: the `serve` replicas on one database, each with the
//! release it serves, so an operator sees them all on the same version.

use crate::database::DatabaseArgs;
use crate::failure::Failure;
use crate::Status;

/// Arguments of `roteiro replicas`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let failed = |err: roteiro_decision_log::LogError| Failure::failed(format!("roteiro replicas: {err}"));
    let mut db = roteiro_decision_log::db::Db::open(&args.database.address()).map_err(failed)?;
    let replicas = roteiro_service::list_replicas(&mut db, chrono::Utc::now()).map_err(failed)?;
    if replicas.is_empty() {
        say!("nenhuma réplica de `roteiro serve` neste banco");
    }
    let zone = crate::clock::shown_zone();
    for replica in replicas {
        let release = replica
            .release
            .as_deref()
            .map_or("pasta ou pacote embutido (sem versão publicada)".to_string(), |v| {
                format!("versão {v}")
            });
        say!(
            "{}  {}  {}  visto em {}  conferiu versões em {}",
            replica.id,
            if replica.live { "no ar" } else { "parada" },
            release,
            crate::clock::shown(&replica.seen_at, zone),
            crate::clock::shown(replica.release_checked_at.as_deref().unwrap_or("-"), zone)
        );
        if let Some(problem) = &replica.release_problem {
            say!("  ATENÇÃO: {problem}");
        }
    }
    Ok(Status::Ok)
}
