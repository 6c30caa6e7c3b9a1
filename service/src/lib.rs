//! `roteiro serve`: the analysts' desk over HTTP.
//!
//! One router ([`router`]) over the service's state ([`App`]), one part
//! per concern: the [`Desk`] (the loaded bundle, swapped whole on reload
//! and never half-loaded, the log, the helpdesk, the metrics) and the gate
//! (the [`Guard`] of who gets in, the [`Limits`] of each caller). Every
//! operation is declared once (`operations.rs`): the router, the access
//! layer and `/openapi.json` are read from that table. Every answer comes
//! from `Bundle::decide` or `Bundle::explain`; the service adds no decision
//! logic of its own.
#![deny(missing_docs)]

mod access;
mod active_release;
mod admin;
mod app;
mod cases;
mod client_address;
mod decisions;
mod desk;
mod gate;
mod guard;
mod headers;
mod limits;
mod listen;
mod login;
mod metrics;
mod openapi;
mod operation_docs;
mod operations;
mod page;
mod params;
mod pushes;
mod releases;
mod replay;
mod replicas;
mod reply;
mod routes;
mod status;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use roteiro_decision_log::db::DbPool;

pub use app::App;
pub use client_address::{Cidr, TrustedProxies};
pub use desk::Desk;
pub use guard::Guard;
pub use limits::{Limits, LimitsConfig};
pub use listen::{serve, Tls};
pub use operations::{Access, Operation, OPERATIONS};
/// The replicas on one database, as `roteiro replicas` lists them.
pub use replicas::list as list_replicas;
pub use replicas::{Registry, Replica};
pub use routes::router;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How often the bundle folder is looked at for edits.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// What `roteiro serve` was asked for.
pub struct Config {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free one).
    pub addr: SocketAddr,
    /// The bundle folder, watched for edits; `None` serves the bundle given
    /// to [`run`] as it is.
    pub folder: Option<PathBuf>,
    /// Serve the log database's active release, switching within seconds
    /// of each activation; the bundle given to [`run`] serves only until a
    /// release is first activated.
    pub follow_releases: bool,
    /// Where every decision is logged (and where the tokens are).
    pub log: Option<LogConfig>,
    /// Who is let in.
    pub auth: Auth,
    /// Each client's budgets.
    pub limits: LimitsConfig,
    /// The balancers whose `X-Forwarded-For` names the client.
    pub proxies: TrustedProxies,
    /// TLS with this certificate and key (`None`: plain HTTP, for
    /// loopback or behind a proxy that speaks TLS).
    pub tls: Option<Tls>,
    /// The helpdesk cases are written into (`None`: pushing is off).
    pub helpdesk: Option<roteiro_helpdesk::MovideskConfig>,
}

/// How callers are let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// By the tokens in the log's database (the default).
    Tokens,
    /// Everyone, as no one in particular: only on a loopback address.
    InsecureNoAuth,
}

/// The decision log of the service and the process's one handle on its
/// database.
pub struct LogConfig {
    /// The writer decisions go through, on a connection of `pool`.
    pub writer: roteiro_decision_log::LogWriter,
    /// Keep personal facts instead of masking them.
    pub keep_personal: bool,
    /// The database, opened and migrated once: the log's writer, cases,
    /// pushes, tokens, sessions, budgets, replicas and releases all go
    /// through it.
    pub pool: std::sync::Arc<DbPool>,
}

impl LogConfig {
    /// Opens the database at `address` (migrating it) and the log's writer
    /// on it, with `durability`; personal facts masked.
    pub fn open(address: &str, durability: roteiro_decision_log::Durability) -> Result<Self, StartError> {
        let failed = |err: roteiro_decision_log::LogError| StartError::Database(err.to_string());
        let pool = DbPool::open(address).map_err(failed)?;
        Ok(Self {
            writer: roteiro_decision_log::LogWriter::open_on(&pool, durability).map_err(failed)?,
            keep_personal: false,
            pool: std::sync::Arc::new(pool),
        })
    }
}

/// Why the service could not start.
#[derive(Debug)]
pub enum StartError {
    /// The address could not be bound.
    Bind(std::io::Error),
    /// The runtime could not start or stopped with an error.
    Runtime(std::io::Error),
    /// No authentication asked for on an address others can reach.
    InsecureAddress(SocketAddr),
    /// The database could not be opened or migrated.
    Database(String),
    /// Tokens asked for with no database to keep them, or it failed.
    Tokens(String),
    /// The replicas' table could not be written.
    Replicas(String),
    /// The published releases could not be read.
    Releases(String),
}

impl std::error::Error for StartError {}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bind(err) => write!(f, "não foi possível ouvir no endereço pedido: {err}"),
            Self::Runtime(err) => write!(f, "o serviço parou com erro: {err}"),
            Self::InsecureAddress(addr) => write!(
                f,
                "--insecure-no-auth só vale em endereço local (127.0.0.1, ::1); `{addr}` seria aberto a quem alcançar a rede"
            ),
            Self::Database(err) => write!(f, "não foi possível abrir o banco de dados: {err}"),
            Self::Tokens(err) => write!(f, "não foi possível ler os tokens de acesso: {err}"),
            Self::Replicas(err) => write!(f, "não foi possível registrar esta réplica no banco de dados: {err}"),
            Self::Releases(err) => write!(f, "não foi possível ler as versões publicadas: {err}"),
        }
    }
}

/// Serves `bundle` until SIGINT or SIGTERM, reloading it from the folder
/// when one is given. `ready` hears the bound address once it listens.
pub fn run(bundle: roteiro_engine::Bundle, config: Config, ready: impl FnOnce(SocketAddr)) -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)?;
    // One handle on the database for the whole process, opened and
    // migrated once, with the log (LogConfig::open): the guard, the
    // helpdesk's budget, the replicas' table, cases, pushes and releases
    // all go through it.
    let pool = config.log.as_ref().map(|log| log.pool.clone());
    let guard = guard_of(&config, pool.clone())?;
    let (bundle, release) = starting_release(bundle, &config, pool.as_deref())?;
    let helpdesk = match (config.helpdesk, pool.clone()) {
        // The account's budget is shared with every replica and command
        // on the same database.
        (Some(helpdesk), Some(pool)) => Some(roteiro_helpdesk::Movidesk::sharing(helpdesk, pool)),
        (Some(helpdesk), None) => Some(roteiro_helpdesk::Movidesk::new(helpdesk)),
        (None, _) => None,
    };
    // This replica among the others on the database: they share every
    // client's budget.
    let registry = match pool.clone() {
        Some(pool) => Some(std::sync::Arc::new(
            Registry::join(pool, chrono::Utc::now()).map_err(|err| StartError::Replicas(err.to_string()))?,
        )),
        None => None,
    };
    let counted = registry.clone();
    let (limits, proxies) = (config.limits, config.proxies);
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(StartError::Bind)?;
        let addr = listener.local_addr().map_err(StartError::Bind)?;
        let follow_releases = config.follow_releases && config.log.is_some();
        let mut desk = Desk::new(bundle, config.folder.clone(), config.log).with_release(release);
        if let Some(helpdesk) = helpdesk {
            desk = desk.with_helpdesk(helpdesk);
        }
        let mut app = App::new(desk, guard, Limits::new(limits).trusting(proxies));
        if let Some(registry) = counted.clone() {
            app = app.counted_in(registry);
        }
        if let (true, Some(pool)) = (follow_releases, app.desk.pool()) {
            tokio::spawn(active_release::follow(app.desk.clone(), pool, counted));
        }
        if let Some(folder) = &config.folder {
            // Taken before anyone hears the address: an edit made as soon
            // as the service is ready is a change, not the starting point.
            let loaded = roteiro_engine::folder_fingerprint(folder);
            tokio::spawn(desk::watch(app.desk.clone(), loaded));
        }
        let stop = shutdown();
        ready(addr);
        serve(listener, app.clone(), config.tls, stop).await;
        // Write what the log still holds before leaving.
        app.desk.close_log();
        Ok(())
    });
    if let Some(registry) = registry {
        if let Err(err) = registry.leave() {
            tracing::warn!("esta réplica não saiu da lista: {err}");
        }
    }
    served
}

/// Who the service lets in: everyone on loopback with no authentication,
/// else the tokens and sessions kept in the database of `pool`.
fn guard_of(config: &Config, pool: Option<std::sync::Arc<DbPool>>) -> Result<Guard, StartError> {
    Ok(match config.auth {
        Auth::InsecureNoAuth if !config.addr.ip().is_loopback() => {
            return Err(StartError::InsecureAddress(config.addr))
        }
        Auth::InsecureNoAuth => Guard::open(),
        Auth::Tokens => {
            let pool =
                pool.ok_or_else(|| StartError::Tokens("o serviço está sem banco de dados para guardá-los".into()))?;
            Guard::on(pool, config.tls.is_some(), config.addr.ip().is_loopback())
                .map_err(|err| StartError::Tokens(err.to_string()))?
        }
    })
}

/// The bundle to start with: the active release when the service follows
/// them and one was activated (one that does not load leaves `bundle`,
/// and the follower says why), else `bundle`.
fn starting_release(
    bundle: roteiro_engine::Bundle,
    config: &Config,
    pool: Option<&DbPool>,
) -> Result<(roteiro_engine::Bundle, Option<String>), StartError> {
    let Some(pool) = pool.filter(|_| config.follow_releases) else {
        return Ok((bundle, None));
    };
    let Some((version, files)) = active_release::active(pool).map_err(StartError::Releases)? else {
        return Ok((bundle, None));
    };
    match roteiro_releases::load(&version, files) {
        Ok(mut release) => {
            release.set_evaluation(bundle.evaluation());
            Ok((release, Some(version)))
        }
        Err(err) => {
            tracing::warn!("a versão ativa {version} não carrega; servindo o pacote da partida: {err}");
            Ok((bundle, None))
        }
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed here, before
/// anyone hears the address: a signal sent as soon as the service is
/// ready must stop it cleanly, not kill it with the default action.
fn shutdown() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let (Ok(mut interrupt), Ok(mut terminate)) = (interrupt, terminate) else {
                tracing::warn!("sinais de parada indisponíveis; o serviço só para ao ser morto");
                return std::future::pending().await;
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            tracing::info!("encerrando: sinal recebido");
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("encerrando: sinal recebido");
        }
    }
}
