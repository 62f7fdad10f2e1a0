//! Static files embedded in the binary (STYLE 17). Each is served under a name that
//! carries a hash of its content (`app.3f2a9c1b.js`), so it can be cached for a year and
//! a new build is fetched at once.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    hashed: String,
}

/// The embedded files and their cache-busting names.
#[derive(Clone)]
pub struct Assets(Arc<Vec<Asset>>);

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "live-updates.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/live-updates.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
    (
        "inbox.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/inbox.js"),
    ),
    (
        "attachments.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/attachments.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
];

impl Assets {
    pub fn embedded() -> Self {
        let assets = FILES
            .iter()
            .map(|&(name, content_type, body)| {
                let digest = Sha256::digest(body);
                let short: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
                let hashed = match name.rsplit_once('.') {
                    Some((stem, ext)) => format!("{stem}.{short}.{ext}"),
                    None => format!("{name}.{short}"),
                };
                Asset {
                    name,
                    content_type,
                    body,
                    hashed,
                }
            })
            .collect();
        Self(Arc::new(assets))
    }

    /// `/assets/<hashed name>` of an embedded file.
    pub fn url(&self, name: &str) -> String {
        let hashed = self
            .0
            .iter()
            .find(|asset| asset.name == name)
            .map_or(name, |asset| asset.hashed.as_str());
        format!("/assets/{hashed}")
    }
}

pub async fn serve(State(assets): State<Assets>, Path(file): Path<String>) -> Response {
    let Some(asset) = assets.0.iter().find(|asset| asset.hashed == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_content_hash() {
        let assets = Assets::embedded();
        let url = assets.url("live-updates.js");
        assert!(url.starts_with("/assets/live-updates.") && url.ends_with(".js"));
        assert_eq!(url.len(), "/assets/live-updates..js".len() + 8);
    }
}
