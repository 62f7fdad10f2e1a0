//! Headers that tell browsers what the desk's pages may do (issue 9 point 6): scripts,
//! styles, images and connections from the desk itself only (the pages have no inline
//! script or style; their JSON blocks are data, not scripts), never inside another
//! site's frame, no guessing of content types, and no full URLs sent to other sites.

use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
};
use tower_http::set_header::SetResponseHeaderLayer;

/// `connect-src 'self'` covers the desk's own `ws://`/`wss://` (CSP Level 3).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Same-origin requests keep the full referrer: the language switch goes back by it.
const REFERRER_POLICY: &str = "same-origin";

/// Adds the headers to every answer that does not set them itself.
pub fn apply(router: Router) -> Router {
    let headers = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, REFERRER_POLICY),
    ];
    headers.into_iter().fold(
        router,
        |router, (name, value): (HeaderName, &'static str)| {
            router.layer(SetResponseHeaderLayer::if_not_present(
                name,
                HeaderValue::from_static(value),
            ))
        },
    )
}
