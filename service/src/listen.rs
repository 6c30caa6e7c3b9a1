//! The accept loop: each connection served by hyper with a deadline for
//! the request head (a client sending its headers byte by byte is cut
//! off), a bound on open connections, the client's address handed to the
//! router, and a graceful stop that lets answers in progress finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

use crate::desk::Desk;
use crate::limits::LimitsConfig;

/// Largest request head (request line and headers) read; past it hyper
/// answers 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long answers in progress may take to finish once asked to stop.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Serves `desk` on `listener` until `stop` resolves, reading its tokens
/// again every second.
pub async fn serve(listener: TcpListener, desk: Arc<Desk>, stop: impl Future<Output = ()>) {
    let refresher = tokio::spawn(crate::access::refresh(desk.clone()));
    accept(listener, crate::router(desk.clone()), desk.limits.config(), stop).await;
    refresher.abort();
}

/// The loop itself.
async fn accept(listener: TcpListener, app: Router, limits: LimitsConfig, stop: impl Future<Output = ()>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let open = Arc::new(Semaphore::new(limits.connections.max(1)));
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
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, "conexão encerrada: {err}");
            }
            drop(permit);
        });
    }
    if tokio::time::timeout(STOP_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("encerrando com respostas ainda em andamento");
    }
}
