//! Accepting connections and serving HTTP/1.1 on them, plain or after a handshake such
//! as TLS (issue 9 point 6). Silent and half-sent connections once stayed forever, and
//! 1 100 of them from one address stopped a server under a 1 024-descriptor limit
//! answering anyone. So:
//! * a connection must send a request's headers within `header_timeout`, counted from
//!   when it opens or its previous answer ended — which also closes idle keep-alive
//!   connections after that long (hyper runs one timer for both);
//! * one client address may hold at most `max_http_connections_per_ip` connections that
//!   are still HTTP (a WebSocket leaves this count once upgraded; the hub limits those
//!   by `max_connections_per_ip`); more are closed at accept. Trusted proxies, which
//!   carry many clients on their connections, are exempt.

use std::{
    collections::HashMap,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::pin,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{Extension, Router, extract::ConnectInfo};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use ipnet::IpNet;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::{Hub, client_addr::canonical};

/// How long running requests may take to finish after a shutdown signal.
pub const REQUEST_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener`, each connection after `handshake` (the identity for
/// plain HTTP, TLS for `https://`), until `shutdown` completes; then the hub closes its
/// WebSockets with 1001, no connection is accepted any more, and running requests get
/// [`REQUEST_GRACE`] to finish.
pub async fn serve_with<H, F, IO>(
    listener: TcpListener,
    router: Router,
    hub: Hub,
    handshake: H,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()>
where
    H: Fn(TcpStream) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = io::Result<IO>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = hub.config();
    let open = OpenConnections::new(
        config.max_http_connections_per_ip,
        config.trusted_proxies.clone(),
    );
    let header_timeout = config.header_timeout;
    // Every connection holds a receiver: a change asks it to finish; when all are
    // dropped, every connection has ended.
    let (stop, stopping) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    pause_after(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = open.admit(peer.ip()) else {
            tracing::debug!(%peer, "too many HTTP connections from this address: closed");
            continue;
        };
        // Events are small and must not wait for the previous one's ACK (Nagle).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let connection = Connection {
            peer,
            router: router.clone(),
            header_timeout,
            stopping: stopping.clone(),
            _slot: slot,
        };
        let handshake = handshake.clone();
        tokio::spawn(async move {
            if let Ok(io) = handshake(stream).await {
                connection.serve(io).await;
            }
        });
    }
    drop(listener);
    hub.shutdown();
    drop(stopping);
    let _ = stop.send(());
    if tokio::time::timeout(REQUEST_GRACE, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!("some requests were still running after the shutdown grace");
    }
    hub.connections_closed(super::CLOSE_GRACE).await;
    Ok(())
}

/// A failed accept: a client that left before we took it is nothing; running out of
/// descriptors (or memory) must not become a busy loop, so wait a moment.
async fn pause_after(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

struct Connection {
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    stopping: watch::Receiver<()>,
    /// Counts the connection against its address until it ends or is upgraded.
    _slot: Slot,
}

impl Connection {
    async fn serve<IO>(mut self, io: IO)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let router = self.router.layer(Extension(ConnectInfo(self.peer)));
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout);
        // With upgrades, the connection's future ends when it becomes a WebSocket:
        // the socket then belongs to the hub's connection task, and the slot is freed.
        let mut connection = pin!(
            builder
                .serve_connection(TokioIo::new(io), TowerToHyperService::new(router))
                .with_upgrades()
        );
        let mut finishing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(peer = %self.peer, %error, "connection ended");
                    }
                    break;
                }
                _ = self.stopping.changed(), if !finishing => {
                    // Finish the running request, then close instead of keeping alive.
                    finishing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The HTTP connections each client address holds.
#[derive(Clone)]
struct OpenConnections {
    per_address: usize,
    exempt: Arc<[IpNet]>,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl OpenConnections {
    fn new(per_address: usize, exempt: Vec<IpNet>) -> Self {
        Self {
            per_address,
            exempt: exempt.into(),
            counts: Arc::default(),
        }
    }

    /// A slot for one more connection from `ip`, if it has one left.
    fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let ip = canonical(ip);
        if self.per_address == 0 || self.exempt.iter().any(|net| net.contains(&ip)) {
            return Some(Slot { open: None, ip });
        }
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(ip).or_default();
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: Some(self.clone()),
            ip,
        })
    }
}

struct Slot {
    /// `None` for addresses that are not counted.
    open: Option<OpenConnections>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(open) = &self.open else { return };
        let mut counts = open.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn an_address_gets_its_slots_back_as_connections_end() {
        let open = OpenConnections::new(2, Vec::new());
        let first = open.admit(ip("192.0.2.1"));
        let second = open.admit(ip("192.0.2.1"));
        assert!(first.is_some() && second.is_some());
        assert!(open.admit(ip("192.0.2.1")).is_none());
        assert!(open.admit(ip("192.0.2.2")).is_some(), "another address");
        drop(first);
        assert!(open.admit(ip("::ffff:192.0.2.1")).is_some());
    }

    #[test]
    fn trusted_proxies_and_zero_are_not_limited() {
        let proxies = vec!["10.0.0.0/8".parse().expect("a network")];
        let open = OpenConnections::new(1, proxies);
        let held: Vec<_> = (0..5).map(|_| open.admit(ip("10.1.2.3"))).collect();
        assert!(held.iter().all(Option::is_some));
        let unlimited = OpenConnections::new(0, Vec::new());
        let held: Vec<_> = (0..5).map(|_| unlimited.admit(ip("192.0.2.1"))).collect();
        assert!(held.iter().all(Option::is_some));
    }
}
