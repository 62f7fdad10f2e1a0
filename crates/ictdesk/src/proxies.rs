//! Issue 18 point 7: behind a reverse proxy without `ICTDESK_TRUSTED_PROXIES`, every
//! client looks like the proxy — ten failed logins from one of them once gave everyone
//! 429. Nothing can tell a proxy's forwarded request from a forged one except that
//! setting, so the node says it, loudly and once, at the first such request.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    extract::{ConnectInfo, Request},
    middleware::{self, Next},
};
use ictdesk_hub::{Hub, Router, client_addr::forwarded_by_unlisted_proxy};

pub fn warn_about_untrusted_proxies(router: Router, hub: &Hub) -> Router {
    if !hub.config().trusted_proxies.is_empty() {
        return router;
    }
    let warned = Arc::new(AtomicBool::new(false));
    router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let warned = warned.clone();
        async move {
            if !warned.load(Ordering::Relaxed) {
                notice(&request, &warned);
            }
            next.run(request).await
        }
    }))
}

fn notice(request: &Request, warned: &AtomicBool) {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return;
    };
    if forwarded_by_unlisted_proxy(peer.ip(), request.headers(), &[])
        && !warned.swap(true, Ordering::Relaxed)
    {
        let proxy = peer.ip();
        tracing::warn!(
            "REVERSE PROXY NOT TRUSTED: requests from {proxy} carry X-Forwarded-For/X-Real-IP, \
             but ICTDESK_TRUSTED_PROXIES is not set, so every client behind that proxy counts \
             as {proxy}: one client's failed logins lock all of them out, and the per-address \
             limits and the /broadcast allow-list see only the proxy. Set \
             ICTDESK_TRUSTED_PROXIES={proxy}/32 (see deploy/README.md)."
        );
    }
}
