//! Connections: the accept loop behind `insitu serve`, with a cap on connections served at
//! once, hyper's header-read timeout (which is also the idle timeout of a kept-alive
//! connection), and a graceful stop that lets requests in flight finish.
//!
//! axum::serve exposes none of hyper's connection settings, so this loop does what it did
//! (one task per connection, the client's address as [`ConnectInfo`]) with hyper's HTTP/1
//! builder and hyper-util's graceful shutdown. Request-level limits (whole-request and body
//! timeouts, body sizes) live in the router ([`super::router_with`]).
//!
//! May touch: the listener and the connections it accepts.
//!
//! [`ConnectInfo`]: axum::extract::ConnectInfo

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// What one client may hold of the server, and for how long. What a malicious client could do
/// with each is said knob by knob; the defaults are what `insitu serve` uses.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Time a connection has to send a whole request head (request line and headers), counted
    /// from when the server waits for one: as soon as it connects, and again after each
    /// response on a kept-alive connection. So it is also the idle timeout: a connection that
    /// sends nothing, or nothing more, is closed after it. hyper's `header_read_timeout`.
    ///
    /// Default 15 s. Without it, a client sending its headers a byte at a time (slowloris), or
    /// nothing at all, held a connection and its descriptor for ever.
    pub header_read: Duration,
    /// Longest wait for the next piece of a request body; the whole body may take longer as
    /// long as it keeps coming (tower-http's `TimeoutBody`). A body that stalls fails its
    /// request, and the connection is closed.
    ///
    /// Default 30 s.
    pub body_read: Duration,
    /// Longest time to answer a request, its body included; past it the answer is 408
    /// (`request_timeout`) and the
    /// handler is dropped (a run or an import it started on its own task finishes and is
    /// recorded). It must exceed the longest legitimate request: a person's own run waits for
    /// its plugin, whose deadline is at most the operator's maximum (300 s,
    /// `sandbox::Limits::operator_max`), and an upload of [`super::MAX_UPLOAD`] (64 MiB) at
    /// 1 Mbit/s takes about 9 minutes.
    ///
    /// Default 600 s.
    pub request: Duration,
    /// Connections served at once. Past it the server stops accepting: new connections wait
    /// in the kernel's backlog until one closes (the header-read timeout closes idle ones).
    /// Keep it well under the process's descriptor limit (`ulimit -n`), which the store's files
    /// and the plugins' compiled code also use.
    ///
    /// Default 512.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read: Duration::from_secs(15),
            body_read: Duration::from_secs(30),
            request: Duration::from_secs(600),
            max_connections: 512,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and waits for
/// the connections' requests in flight to be answered (idle connections close at once).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::pin!(shutdown);
    loop {
        // A slot first, then a connection: past the cap, connections wait in the backlog
        // instead of being accepted and left unserved.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = match make.clone().oneshot(remote).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            // A client that times out or hangs up is the client's business, not an error.
            if let Err(e) = connection.await {
                tracing::debug!(%remote, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// An accept error: one client's (it reset before being accepted) is skipped; anything else
/// (out of descriptors, above all) is logged and waited out, instead of spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
