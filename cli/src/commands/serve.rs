//! `roteiro serve`: the HTTP service and the analysts' page.

use std::net::SocketAddr;
use std::path::PathBuf;

use roteiro_service::{Auth, LimitsConfig};

use crate::args::BundleArgs;
use crate::database::LogArgs;
use crate::failure::Failure;
use crate::{source, Status};

/// Arguments of `roteiro serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle's folder, watched and reloaded on every edit (the
    /// embedded bundle, when there is none, never changes).
    #[command(flatten)]
    bundle: BundleArgs,
    /// Endereço onde ouvir; a porta 0 escolhe uma livre.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[command(flatten)]
    log: LogArgs,
    /// Sem autenticação nenhuma: só aceito em endereço local (127.0.0.1), para testar a página sozinho.
    #[arg(long)]
    insecure_no_auth: bool,
    /// Requisições por minuto de cada endereço e de cada token.
    #[arg(long, default_value_t = LimitsConfig::default().per_minute)]
    limit_per_minute: u32,
    /// Requisições em andamento ao mesmo tempo; além disso, 429.
    #[arg(long, default_value_t = LimitsConfig::default().in_flight)]
    max_in_flight: usize,
    /// Segundos para chegar o cabeçalho de uma requisição, e de novo o corpo.
    #[arg(long, default_value_t = LimitsConfig::default().head_timeout.as_secs())]
    request_timeout: u64,
    /// Balanceador confiável (rede, como 10.0.0.0/8, ou um endereço; repetível): o cliente é o último endereço de X-Forwarded-For que não é um balanceador confiável. Sem ele, o cabeçalho é ignorado.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<roteiro_service::Cidr>,
    /// Certificado TLS (PEM, a cadeia): serve HTTPS; pede --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Chave privada do certificado (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Runs the service until SIGINT or SIGTERM.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let bundle = args.bundle.load()?;
    let keep_personal = args.log.keep_personal()?;
    let log = roteiro_service::LogConfig::open(&args.log.address(), args.log.durability())
        .map_err(|err| Failure::failed(format!("roteiro serve: {err}")))?;
    let auth = if args.insecure_no_auth {
        eprintln!("roteiro: ATENÇÃO: --insecure-no-auth: qualquer um que alcance {} decide, lê casos e o log sem se identificar; use só para testar nesta máquina.", args.addr);
        Auth::InsecureNoAuth
    } else {
        announce_first_token(&args.log.address(), args.addr);
        Auth::Tokens
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            roteiro_service::Tls::from_pem_files(cert, key)
                .map_err(|err| Failure::failed(format!("roteiro serve: TLS: {err}")))?,
        ),
        _ => None,
    };
    if tls.is_none() && !args.addr.ip().is_loopback() {
        eprintln!("roteiro: ATENÇÃO: {} sem TLS: tokens e situações passam em claro; use --tls-cert/--tls-key ou um proxy reverso com TLS.", args.addr);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    // The helpdesk is optional: without its settings, pushing is off.
    let helpdesk = match roteiro_helpdesk::MovideskConfig::from_env() {
        Ok(config) => Some(config),
        Err(roteiro_helpdesk::ConfigError::Missing(_)) => None,
        Err(err) => return Err(Failure::failed(format!("roteiro serve: helpdesk: {err}"))),
    };
    let timeout = std::time::Duration::from_secs(args.request_timeout.max(1));
    let config = roteiro_service::Config {
        auth,
        limits: LimitsConfig {
            per_minute: args.limit_per_minute,
            in_flight: args.max_in_flight,
            head_timeout: timeout,
            body_timeout: timeout,
            ..LimitsConfig::default()
        },
        proxies: roteiro_service::TrustedProxies::new(args.trusted_proxies.clone()),
        addr: args.addr,
        tls,
        helpdesk,
        // --policies is the development mode: that folder, reloaded on
        // every edit. Without it, the database's published releases.
        folder: args.bundle.policies.clone(),
        follow_releases: args.bundle.policies.is_none(),
        log: Some(roteiro_service::LogConfig { keep_personal, ..log }),
    };
    announce_mode(args.bundle.policies.as_deref(), &bundle);
    let announce = |addr: SocketAddr| eprintln!("roteiro: servindo em {scheme}://{addr} (Ctrl-C encerra)");
    roteiro_service::run(bundle, config, announce).map_err(|err| Failure::failed(format!("roteiro serve: {err}")))?;
    Ok(Status::Ok)
}

/// Says where the bundle comes from: a folder in development, else the
/// published releases (and what serves until the first one).
fn announce_mode(folder: Option<&std::path::Path>, bundle: &roteiro_engine::Bundle) {
    match folder {
        Some(folder) => eprintln!(
            "roteiro: modo de desenvolvimento: servindo a pasta {}, recarregada a cada edição salva; para os analistas, publique uma versão (roteiro publish)",
            folder.display()
        ),
        None => eprintln!(
            "roteiro: servindo a versão publicada ativa do banco; cada nova ativação chega em até 2 segundos (sem versão publicada ainda: o pacote {} {})",
            bundle.info().name,
            source::folder(None).map_or("embutido".to_string(), |dir| format!("da pasta {}", dir.display()))
        ),
    }
}

/// A fresh install has no token: says how to create the first one (the
/// service reads new tokens within a second, no restart needed), and, on a
/// loopback address, that this machine is let in until then.
fn announce_first_token(address: &str, addr: SocketAddr) {
    let fresh = roteiro_auth::Tokens::open(address)
        .and_then(|mut tokens| tokens.keyring())
        .map(|keyring| keyring.none_issued());
    if let Ok(true) = fresh {
        let until = if addr.ip().is_loopback() {
            "ATENÇÃO: nenhum token criado ainda: até o primeiro, o serviço responde sem autenticação, só nesta máquina; depois, cada rota pede o seu papel"
        } else {
            "nenhum token de acesso ainda: nada é respondido sem um"
        };
        eprintln!(
            "roteiro: {until}. Crie o primeiro (vale em um segundo, sem reiniciar):\n  roteiro token create --role admin --name SEU_NOME{}",
            // A server address may hold a password: named, never printed.
            match address {
                roteiro_decision_log::DEFAULT_SQLITE => String::new(),
                _ if address.contains("://") => " --database <o mesmo banco do serviço>".to_string(),
                _ => format!(" --database {address}"),
            }
        );
    }
}
