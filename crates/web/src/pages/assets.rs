//! Static files embedded in the binary (STYLE 17). Each is served under a name that
//! carries a hash of its content (`app.3f2a9c1b.js`), so it can be cached for a year and
//! a new build is fetched at once.
//!
//! The pages' ES modules (`assets/modules/`) import each other by relative name
//! (`./api.js`), which a per-file hash would break, and an import map would be an inline
//! script, which the pages' Content-Security-Policy forbids. So they are served together
//! under one folder named by the hash of them all (`/assets/modules.5e0c12aa/app.js`):
//! any change to one gives every module a new address.

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
pub struct Assets(Arc<Embedded>);

struct Embedded {
    files: Vec<Asset>,
    /// `modules.<hash of every module>`: the modules' folder.
    modules_folder: String,
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// The ES modules, by the name they import each other with.
const MODULES: &[(&str, &[u8])] = &[
    ("api.js", include_bytes!("../../assets/modules/api.js")),
    ("app.js", include_bytes!("../../assets/modules/app.js")),
    (
        "attachments.js",
        include_bytes!("../../assets/modules/attachments.js"),
    ),
    (
        "comments.js",
        include_bytes!("../../assets/modules/comments.js"),
    ),
    ("dates.js", include_bytes!("../../assets/modules/dates.js")),
    (
        "expiry.js",
        include_bytes!("../../assets/modules/expiry.js"),
    ),
    (
        "drafts.js",
        include_bytes!("../../assets/modules/drafts.js"),
    ),
    (
        "equipment-pick.js",
        include_bytes!("../../assets/modules/equipment-pick.js"),
    ),
    ("fold.js", include_bytes!("../../assets/modules/fold.js")),
    ("forms.js", include_bytes!("../../assets/modules/forms.js")),
    (
        "fragments.js",
        include_bytes!("../../assets/modules/fragments.js"),
    ),
    ("html.js", include_bytes!("../../assets/modules/html.js")),
    ("inbox.js", include_bytes!("../../assets/modules/inbox.js")),
    (
        "list-filters.js",
        include_bytes!("../../assets/modules/list-filters.js"),
    ),
    ("lists.js", include_bytes!("../../assets/modules/lists.js")),
    (
        "page-updates.js",
        include_bytes!("../../assets/modules/page-updates.js"),
    ),
    (
        "presence.js",
        include_bytes!("../../assets/modules/presence.js"),
    ),
    (
        "refresh.js",
        include_bytes!("../../assets/modules/refresh.js"),
    ),
    (
        "requester-pick.js",
        include_bytes!("../../assets/modules/requester-pick.js"),
    ),
    (
        "session.js",
        include_bytes!("../../assets/modules/session.js"),
    ),
    ("stats.js", include_bytes!("../../assets/modules/stats.js")),
    (
        "strings.js",
        include_bytes!("../../assets/modules/strings.js"),
    ),
    (
        "ticket-form.js",
        include_bytes!("../../assets/modules/ticket-form.js"),
    ),
    (
        "toasts.js",
        include_bytes!("../../assets/modules/toasts.js"),
    ),
];

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "live-updates.js",
        JAVASCRIPT,
        include_bytes!("../../assets/live-updates.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
];

impl Assets {
    pub fn embedded() -> Self {
        let files = FILES
            .iter()
            .map(|&(name, content_type, body)| {
                let short = short_hash([body]);
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
        let modules_folder = format!(
            "modules.{}",
            short_hash(
                MODULES
                    .iter()
                    .flat_map(|&(name, body)| [name.as_bytes(), body])
            )
        );
        Self(Arc::new(Embedded {
            files,
            modules_folder,
        }))
    }

    /// `/assets/<hashed name>` of an embedded file.
    pub fn url(&self, name: &str) -> String {
        let hashed = self
            .0
            .files
            .iter()
            .find(|asset| asset.name == name)
            .map_or(name, |asset| asset.hashed.as_str());
        format!("/assets/{hashed}")
    }

    /// `/assets/modules.<hash>/<name>` of an ES module.
    pub fn module_url(&self, name: &str) -> String {
        format!("/assets/{}/{name}", self.0.modules_folder)
    }
}

/// The first four bytes of the SHA-256 of `parts`, in hex.
fn short_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part);
    }
    digest.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub async fn serve(State(assets): State<Assets>, Path(file): Path<String>) -> Response {
    match assets.0.files.iter().find(|asset| asset.hashed == file) {
        Some(asset) => immutable(asset.content_type, asset.body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn serve_module(
    State(assets): State<Assets>,
    Path((folder, file)): Path<(String, String)>,
) -> Response {
    let module = MODULES.iter().find(|&&(name, _)| name == file);
    match module {
        Some(&(_, body)) if folder == assets.0.modules_folder => immutable(JAVASCRIPT, body),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A response that may be cached for a year: its address changes with its content.
fn immutable(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
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

    #[test]
    fn modules_share_one_hashed_folder() {
        let assets = Assets::embedded();
        let (app, api) = (assets.module_url("app.js"), assets.module_url("api.js"));
        assert!(app.starts_with("/assets/modules.") && app.ends_with("/app.js"));
        assert_eq!(
            app.trim_end_matches("app.js"),
            api.trim_end_matches("api.js")
        );
    }
}
