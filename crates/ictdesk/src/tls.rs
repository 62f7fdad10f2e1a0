//! Serving `https://` and `wss://` directly (`ICTDESK_TLS_CERT`, `ICTDESK_TLS_KEY`), with
//! rustls on the ring provider, through the hub's connection handling (timeouts and
//! per-address limits alike), and telling browsers to stay on https
//! (`Strict-Transport-Security`, issue 18 point 8).

use std::{future::Future, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use axum::http::{HeaderValue, header};
use ictdesk_hub::{Hub, Router};
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower_http::set_header::SetResponseHeaderLayer;

/// A client that opens a connection and never finishes its TLS handshake is dropped
/// after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the PEM certificate chain and private key; every failure names its setting.
pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
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
    Ok(Arc::new(config))
}

/// Like `ictdesk_hub::http::serve`, over TLS: when `shutdown` completes, the hub closes
/// its WebSockets with 1001, new connections are refused, and running requests get
/// `REQUEST_GRACE` to finish. Every answer carries `Strict-Transport-Security` with
/// `hsts_max_age` seconds.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    hub: Hub,
    config: Arc<ServerConfig>,
    hsts_max_age: u64,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let handshake = move |stream| {
        let acceptor = acceptor.clone();
        async move {
            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                .await
                .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
        }
    };
    let router = router.layer(hsts(hsts_max_age));
    ictdesk_hub::http::serve_with(listener, router, hub, handshake, shutdown).await
}

fn hsts(max_age: u64) -> SetResponseHeaderLayer<HeaderValue> {
    // Digits only: always a valid header value.
    let value = HeaderValue::from_str(&format!("max-age={max_age}"))
        .unwrap_or_else(|_| HeaderValue::from_static("max-age=31536000"));
    SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, value)
}
