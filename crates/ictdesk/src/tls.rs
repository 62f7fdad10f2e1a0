//! Serving `https://` and `wss://` directly (`ICTDESK_TLS_CERT`, `ICTDESK_TLS_KEY`), with
//! rustls on the ring provider.

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use axum_server::{
    accept::NoDelayAcceptor,
    tls_rustls::{RustlsAcceptor, RustlsConfig},
};
use ictdesk_hub::{Hub, Router};
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use tokio::net::TcpListener;

/// How long running requests may take to finish after a shutdown signal.
const REQUEST_GRACE: Duration = Duration::from_secs(10);

/// Reads the PEM certificate chain and private key; every failure names its setting.
pub fn load(cert: &Path, key: &Path) -> anyhow::Result<RustlsConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "ICTDESK_TLS_CERT: cannot read PEM certificates from {}",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        anyhow::bail!(
            "ICTDESK_TLS_CERT: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        );
    }
    let private_key = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "ICTDESK_TLS_KEY: cannot read a PEM private key from {}",
            key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS: the ring provider offers no safe protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .context("ICTDESK_TLS_CERT/ICTDESK_TLS_KEY: the key does not fit the certificate")?;
    // HTTP/1.1 only: WebSocket upgrades are an HTTP/1.1 mechanism, and browsers that
    // negotiated HTTP/2 would need extended CONNECT for `wss://`.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Like `ictdesk_hub::http::serve`, over TLS: when `shutdown` completes, the hub closes
/// its WebSockets with 1001, new connections are refused, and running requests get
/// `REQUEST_GRACE` to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    hub: Hub,
    config: RustlsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    let stopping = hub.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.shutdown();
        stopper.graceful_shutdown(Some(REQUEST_GRACE));
    });
    // TCP_NODELAY: events are small and must not wait for the previous one's ACK.
    let acceptor = RustlsAcceptor::new(config).acceptor(NoDelayAcceptor::new());
    axum_server::from_tcp(listener.into_std()?)?
        .acceptor(acceptor)
        .handle(handle)
        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
        .await?;
    hub.connections_closed(ictdesk_hub::http::CLOSE_GRACE).await;
    Ok(())
}
