//! The listening socket: accepting connections, TLS, and the graceful stop.
//!
//! Owns: [`serve`], [`Shutdown`], [`TlsFiles`], the queued listener (accept
//! loop off axum's, TLS handshakes off the accept loop, `TCP_NODELAY`).
//! Must not touch: routes, requests or answers (see the router in `mod.rs`).

use axum::Router;
use axum::serve::ListenerExt;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The stages of a graceful stop, each a token the caller cancels in turn.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    /// Close the listening socket, after taking every connection already
    /// waiting in its queue (those are served, not reset).
    pub stop_accepting: CancellationToken,
    /// Let open connections finish their requests, then close them.
    pub close_connections: CancellationToken,
    /// Abort MCP requests still running (the deadline has passed).
    pub hard_stop: CancellationToken,
}

/// Serves `app` on `listener` (over TLS when `tls` is given) through the
/// stages of `shutdown`. Sets `TCP_NODELAY` on every accepted socket (without
/// it, SSE-framed answers stall ~40 ms).
pub async fn serve(listener: TcpListener, app: Router, shutdown: &Shutdown, tls: Option<TlsFiles<'_>>) -> std::io::Result<()> {
    let close = shutdown.close_connections.clone();
    let stop = shutdown.stop_accepting.clone();
    match tls {
        None => {
            let listener = QueuedListener::spawn(listener, stop, |tcp| async move { Some(tcp) })?;
            axum::serve(listener.tap_io(|_| {}), with_peer(app)).with_graceful_shutdown(async move { close.cancelled().await }).await
        }
        Some(files) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(files.cert, files.key)?));
            let listener = QueuedListener::spawn(listener, stop, move |tcp| {
                let acceptor = acceptor.clone();
                async move {
                    match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => Some(tls),
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            None
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake timed out");
                            None
                        }
                    }
                }
            })?;
            axum::serve(listener.tap_io(|_| {}), with_peer(app)).with_graceful_shutdown(async move { close.cancelled().await }).await
        }
    }
}

/// The app with each request's peer address as `ConnectInfo<SocketAddr>`
/// (the IPN receiver's per-address rate limit reads it).
fn with_peer(app: Router) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    app.into_make_service_with_connect_info::<std::net::SocketAddr>()
}

/// PEM files of a certificate chain and its private key.
#[derive(Debug, Clone, Copy)]
pub struct TlsFiles<'a> {
    /// Certificate chain.
    pub cert: &'a std::path::Path,
    /// Private key.
    pub key: &'a std::path::Path,
}

fn set_nodelay(tcp: &tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::warn!(error = %e, "could not set TCP_NODELAY");
    }
}

fn tls_config(cert_path: &std::path::Path, key_path: &std::path::Path) -> std::io::Result<tokio_rustls::rustls::ServerConfig> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: &str, e: &dyn std::fmt::Display| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"));
    let certs = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| invalid(&format!("cannot read certificate {}", cert_path.display()), &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("bad certificate", &e))?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| invalid(&format!("cannot read key {}", key_path.display()), &e))?;
    let mut config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid("certificate and key do not match", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts connections in a task of its own and hands them to axum through a
/// queue. The task runs each connection's set-up (a TLS handshake, say) off
/// the accept loop, so one slow client cannot hold up the others; and when
/// `stop` fires it first takes every connection already waiting in the
/// kernel's queue, then closes the socket, so a proxy sees "refused" (and
/// retries elsewhere) instead of a reset on a request it already sent.
struct QueuedListener<Io> {
    ready: tokio::sync::mpsc::Receiver<(Io, std::net::SocketAddr)>,
    local: std::net::SocketAddr,
}

impl<Io: Send + 'static> QueuedListener<Io> {
    fn spawn<F, Fut>(listener: TcpListener, stop: CancellationToken, set_up: F) -> std::io::Result<Self>
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Option<Io>> + Send + 'static,
    {
        use futures::FutureExt;
        let local = listener.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            let hand_over = |tcp: tokio::net::TcpStream, peer: std::net::SocketAddr| {
                set_nodelay(&tcp);
                let (sender, connection) = (tx.clone(), set_up(tcp));
                tokio::spawn(async move {
                    if let Some(io) = connection.await {
                        let _ = sender.send((io, peer)).await;
                    }
                });
            };
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((tcp, peer)) => hand_over(tcp, peer),
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                    },
                    _ = stop.cancelled() => {
                        let mut queued = 0;
                        while let Some(Ok((tcp, peer))) = listener.accept().now_or_never() {
                            hand_over(tcp, peer);
                            queued += 1;
                        }
                        tracing::info!(queued, "listener closed");
                        break;
                    }
                }
            }
            // Dropping the listener here closes the socket.
        });
        Ok(QueuedListener { ready, local })
    }
}

impl<Io> axum::serve::Listener for QueuedListener<Io>
where
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Io = Io;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The listener is closed: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
