//! The accept loop: each connection served by hyper with a deadline for
//! the request head (a client sending its headers byte by byte is cut
//! off), a bound on open connections and on those of one address (600
//! sockets from one client no longer slow everyone), the client's address
//! handed to the router, TLS when a certificate is given, and a graceful
//! stop that lets answers in progress finish.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;

use crate::client_address::TrustedProxies;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::app::App;
use crate::limits::{LimitsConfig, PerAddress};

/// Largest request head (request line and headers) read; past it hyper
/// answers 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long answers in progress may take to finish once asked to stop.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A certificate chain and its key, ready to accept TLS connections.
#[derive(Clone)]
pub struct Tls(TlsAcceptor);

impl Tls {
    /// Reads the PEM files (`--tls-cert`, `--tls-key`); the problem in
    /// Portuguese, with the file, when they cannot be used.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, String> {
        let named = |path: &Path, err: &dyn std::fmt::Display| format!("{}: {err}", path.display());
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|err| named(cert, &err))?;
        if chain.is_empty() {
            return Err(named(cert, &"nenhum certificado PEM no arquivo"));
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|err| named(key, &err))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key_der))
            .map_err(|err| named(key, &err))?;
        Ok(Self(TlsAcceptor::from(Arc::new(config))))
    }
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `stop`
/// resolves, reading its tokens again every second and sending queued
/// pushes to the helpdesk.
pub async fn serve(listener: TcpListener, app: App, tls: Option<Tls>, stop: impl Future<Output = ()>) {
    let refresher = tokio::spawn(crate::access::refresh(app.gate.clone()));
    let pusher = tokio::spawn(crate::pushes::worker(app.desk.clone()));
    let (limits, proxies) = (app.gate.limits.config(), app.gate.limits.proxies().clone());
    accept(listener, crate::router(app), (limits, proxies), tls, stop).await;
    refresher.abort();
    pusher.abort();
}

/// The connection from `peer` counted among its address's, or `None`
/// past its share: an address's new connection is then closed at once,
/// so it cannot hold the bound on open connections for everyone. A
/// trusted proxy carries everyone's connections, and is held only to the
/// bound for all.
fn counted_in(
    per_address: &PerAddress,
    proxies: &TrustedProxies,
    limits: &LimitsConfig,
    peer: std::net::SocketAddr,
) -> Option<crate::limits::Counted> {
    let share = if proxies.is_proxy(peer.ip()) {
        limits.connections
    } else {
        limits.connections_per_address
    };
    let counted = per_address.open(peer.ip(), share);
    if counted.is_none() {
        tracing::debug!(%peer, "conexões demais deste endereço");
    }
    counted
}

/// The loop itself.
async fn accept(
    listener: TcpListener,
    app: Router,
    (limits, proxies): (LimitsConfig, TrustedProxies),
    tls: Option<Tls>,
    stop: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let open = Arc::new(Semaphore::new(limits.connections.max(1)));
    let per_address = PerAddress::default();
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit,
            () = &mut stop => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, then
                    // accept again rather than spin.
                    tracing::warn!("conexão não aceita: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(counted) = counted_in(&per_address, &proxies, &limits, peer) else {
            drop(stream);
            continue;
        };
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().call(request)
        });
        let Some(Tls(acceptor)) = &tls else {
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(err) = connection.await {
                    tracing::debug!(%peer, "conexão encerrada: {err}");
                }
                drop((permit, counted));
            });
            continue;
        };
        // The handshake has the head's deadline: a client that opens and
        // says nothing holds a connection no longer than one that stalls.
        let handshake = tokio::time::timeout(limits.head_timeout, acceptor.accept(stream));
        let (http, watcher) = (http.clone(), graceful.watcher());
        tokio::spawn(async move {
            match handshake.await {
                Ok(Ok(stream)) => {
                    if let Err(err) = watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await
                    {
                        tracing::debug!(%peer, "conexão encerrada: {err}");
                    }
                }
                Ok(Err(err)) => tracing::debug!(%peer, "TLS recusado: {err}"),
                Err(_) => tracing::debug!(%peer, "TLS sem resposta a tempo"),
            }
            drop((permit, counted));
        });
    }
    if tokio::time::timeout(STOP_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("encerrando com respostas ainda em andamento");
    }
}
