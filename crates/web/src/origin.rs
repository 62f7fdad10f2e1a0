//! The Origin check (docs/architecture.md): a browser request from another site — a WebSocket
//! upgrade, a poll, a login form — carries that site's `Origin`; it is refused unless
//! it is the desk's own origin or listed in `--allowed-origins`. Scheme, host and port
//! must all match (issue 18 point 9): the `https://` desk once accepted `http://`,
//! `ws://`, even `foo://` origins of its host. Requests without `Origin` (programs,
//! same-origin GETs) are not cross-site requests.

use std::{fmt, str::FromStr};

use axum::http::{HeaderMap, header, uri::Authority};

use crate::WebConfig;

/// A web origin: scheme, host and port (the scheme's default when not written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

/// Browsers send the page's origin, which is `http` or `https`; anything else is not a
/// page of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl Origin {
    fn new(scheme: Scheme, authority: &str) -> Option<Self> {
        // An origin has no user, path, query or fragment.
        if authority.is_empty() || authority.contains(['@', '/', '?', '#']) {
            return None;
        }
        let authority: Authority = authority.parse().ok()?;
        Some(Self {
            scheme,
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(scheme.default_port()),
        })
    }

    /// The desk's own origin as this request reached it: its `Host` (which carries the
    /// port unless it is the default) with the scheme the desk is served on.
    fn of_request(headers: &HeaderMap, secure: bool) -> Option<Self> {
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let scheme = if secure { Scheme::Https } else { Scheme::Http };
        Self::new(scheme, host)
    }
}

impl FromStr for Origin {
    type Err = String;

    /// `https://desk.example.org`, `http://10.0.0.5:8080` (a trailing `/` is allowed).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("'{text}' is not an origin such as https://desk.example.org");
        let (scheme, rest) = text.trim().split_once("://").ok_or_else(invalid)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(invalid()),
        };
        Self::new(scheme, rest.strip_suffix('/').unwrap_or(rest)).ok_or_else(invalid)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// `Ok` when the request has no `Origin`, or the desk's own, or an allowed one.
pub fn check_origin(headers: &HeaderMap, config: &WebConfig) -> Result<(), String> {
    let Some(sent) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let sent = sent
        .to_str()
        .map_err(|_| "the Origin header is not valid text".to_owned())?;
    let refused = || format!("requests from origin '{sent}' are not allowed");
    let origin: Origin = sent.parse().map_err(|_| refused())?;
    let own = Origin::of_request(headers, config.secure_cookies);
    if own.as_ref() == Some(&origin) || config.allowed_origins.contains(&origin) {
        Ok(())
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn request(origin: &str, host: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            header::ORIGIN,
            HeaderValue::from_str(origin).expect("a value"),
        );
        map.insert(header::HOST, HeaderValue::from_str(host).expect("a value"));
        map
    }

    fn served_over(secure: bool) -> WebConfig {
        WebConfig {
            secure_cookies: secure,
            ..WebConfig::default()
        }
    }

    #[test]
    fn the_same_origin_is_allowed() {
        let plain = request("http://desk.local:8080", "desk.local:8080");
        assert!(check_origin(&plain, &served_over(false)).is_ok());
        let tls = request("https://Desk.Local", "desk.local");
        assert!(check_origin(&tls, &served_over(true)).is_ok());
        let explicit_default_port = request("https://desk.local", "desk.local:443");
        assert!(check_origin(&explicit_default_port, &served_over(true)).is_ok());
    }

    #[test]
    fn another_scheme_of_the_same_host_is_refused() {
        for origin in ["http://desk.local", "ws://desk.local", "foo://desk.local"] {
            let headers = request(origin, "desk.local");
            assert!(
                check_origin(&headers, &served_over(true)).is_err(),
                "{origin}"
            );
        }
        let https_on_plain = request("https://desk.local:8080", "desk.local:8080");
        assert!(check_origin(&https_on_plain, &served_over(false)).is_err());
    }

    #[test]
    fn another_port_of_the_same_host_is_refused() {
        let headers = request("http://desk.local:9090", "desk.local:8080");
        assert!(check_origin(&headers, &served_over(false)).is_err());
        let dropped_port = request("http://desk.local:8080", "desk.local");
        assert!(check_origin(&dropped_port, &served_over(false)).is_err());
    }

    #[test]
    fn another_origin_is_refused_unless_listed() {
        let headers = request("https://portal.example", "desk.local:8080");
        assert!(check_origin(&headers, &served_over(false)).is_err());
        let config = WebConfig {
            allowed_origins: vec!["https://portal.example/".parse().expect("an origin")],
            ..WebConfig::default()
        };
        assert!(check_origin(&headers, &config).is_ok());
        let other_port = request("https://portal.example:8443", "desk.local:8080");
        assert!(check_origin(&other_port, &config).is_err());
    }

    #[test]
    fn null_and_malformed_origins_are_refused() {
        for origin in [
            "null",
            "http://",
            "http://user@desk.local",
            "http://desk.local/x",
        ] {
            let headers = request(origin, "desk.local");
            assert!(
                check_origin(&headers, &served_over(false)).is_err(),
                "{origin}"
            );
        }
    }

    #[test]
    fn no_origin_is_not_a_cross_site_request() {
        assert!(check_origin(&HeaderMap::new(), &WebConfig::default()).is_ok());
    }

    #[test]
    fn origins_parse_and_print_in_their_short_form() {
        let origin: Origin = "HTTPS://Desk.Example.org:443/".parse().expect("an origin");
        assert_eq!(origin.to_string(), "https://desk.example.org");
        assert!("desk.example.org".parse::<Origin>().is_err());
        assert!("ftp://desk.example.org".parse::<Origin>().is_err());
    }
}
