//! Who the client is. The peer address, unless the peer is a trusted reverse proxy
//! (`ICTDESK_TRUSTED_PROXIES`): then the address the proxies recorded in
//! `X-Forwarded-For` (the right-most one that is not itself a trusted proxy) or, without
//! that header, `X-Real-IP`. Used for the `/broadcast` allow-list, the WebSocket
//! per-address limit and the web layer's login limiter, so all three agree.
//!
//! Every proxy appends the address it saw to `X-Forwarded-For`; entries to the left of
//! the first untrusted hop (reading from the right) were written by someone we do not
//! trust and may be forged, so they are never believed.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address for a request that arrived from `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    if let Some(forwarded) = from_forwarded_for(headers, trusted) {
        return forwarded;
    }
    real_ip(headers).unwrap_or(peer)
}

/// Whether the client of a request (through trusted proxies) is an operator's: loopback
/// or within `ICTDESK_ALLOWED_IPS`. Only they may read `/metrics` and
/// `/clients?all=1` (issue 9 point 5), as only they may publish.
pub fn is_operator(peer: IpAddr, headers: &HeaderMap, config: &crate::HubConfig) -> bool {
    let ip = client_ip(peer, headers, &config.trusted_proxies);
    is_operator_address(ip, &config.allowed_ips)
}

/// [`is_operator`] for a client address already found: loopback always, otherwise only
/// the allow-listed networks.
pub fn is_operator_address(ip: IpAddr, allowed: &[IpNet]) -> bool {
    let ip = canonical(ip);
    ip.is_loopback() || allowed.iter().any(|net| net.contains(&ip))
}

/// IPv4 clients on a dual-stack socket show up as `::ffff:a.b.c.d`; lists and limits
/// are written with the IPv4 form.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether a request looks forwarded by a reverse proxy nobody said to trust: it names
/// a client in `X-Forwarded-For` or `X-Real-IP` and comes from a loopback or private
/// address, where proxies live, while no trusted proxies are set. Then every client
/// behind that proxy counts as the proxy (issue 18 point 7).
pub fn forwarded_by_unlisted_proxy(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> bool {
    let forwarded = headers.contains_key("x-forwarded-for") || headers.contains_key("x-real-ip");
    forwarded && trusted.is_empty() && is_internal(canonical(peer))
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// Walks `X-Forwarded-For` from the right. `None` when there is no such header.
fn from_forwarded_for(headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    // Several header lines count as one list, in order (RFC 9110 §5.3).
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    let mut nearest_trusted = None;
    for entry in entries.iter().rev() {
        // A trusted proxy wrote something that is not an address: stop at the last hop
        // we could check rather than believe anything further left.
        let Some(ip) = parse_entry(entry).map(canonical) else {
            return nearest_trusted;
        };
        if !is_trusted(ip, trusted) {
            return Some(ip);
        }
        nearest_trusted = Some(ip);
    }
    // Every hop is one of our proxies: the furthest of them is the client.
    nearest_trusted
}

fn real_ip(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers.get("x-real-ip")?.to_str().ok()?;
    parse_entry(value.trim()).map(canonical)
}

/// An address as proxies write it: `192.0.2.7`, `2001:db8::1`, `192.0.2.7:4711` or
/// `[2001:db8::1]:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|net| net.parse().expect("a network"))
            .collect()
    }

    #[test]
    fn loopback_is_always_an_operator() {
        for address in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert!(is_operator_address(ip(address), &[]), "{address}");
        }
    }

    #[test]
    fn other_operators_need_the_allow_list() {
        let allowed = nets(&["10.1.0.0/16"]);
        assert!(is_operator_address(ip("10.1.2.3"), &allowed));
        assert!(is_operator_address(ip("::ffff:10.1.2.3"), &allowed));
        assert!(!is_operator_address(ip("10.2.0.1"), &allowed));
        assert!(!is_operator_address(ip("192.168.1.5"), &[]));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let claims = headers(&[("x-forwarded-for", "10.0.0.1"), ("x-real-ip", "10.0.0.2")]);
        assert_eq!(client_ip(ip("192.0.2.1"), &claims, &[]), ip("192.0.2.1"));
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_ip(ip("127.0.0.2"), &claims, &trusted),
            ip("127.0.0.2")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_right_most_untrusted_hop() {
        // The client forged 203.0.113.9; our proxy appended the real 198.51.100.4.
        let forged = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.4")]);
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &forged, &trusted),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn chains_of_trusted_proxies_are_skipped() {
        let chain = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.4, 10.0.0.5")]);
        let trusted = nets(&["127.0.0.0/8", "10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chain, &trusted),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn several_header_lines_form_one_list() {
        let lines = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "198.51.100.4"),
        ]);
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &lines, &trusted),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_furthest_is_the_client() {
        let internal = headers(&[("x-forwarded-for", "10.0.0.7, 10.0.0.5")]);
        let trusted = nets(&["127.0.0.0/8", "10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &internal, &trusted),
            ip("10.0.0.7")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_checked_hop() {
        let odd = headers(&[("x-forwarded-for", "203.0.113.9, unknown, 10.0.0.5")]);
        let trusted = nets(&["127.0.0.0/8", "10.0.0.0/8"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &odd, &trusted), ip("10.0.0.5"));
        let only_garbage = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &only_garbage, &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn x_real_ip_is_used_without_x_forwarded_for() {
        let real = headers(&[("x-real-ip", "198.51.100.4")]);
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &real, &trusted),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn forwarding_from_an_internal_address_without_trusted_proxies_is_noticed() {
        let forwarded = headers(&[("x-forwarded-for", "198.51.100.4")]);
        for proxy in ["127.0.0.1", "10.0.0.5", "192.168.1.2", "::1", "fd00::5"] {
            assert!(
                forwarded_by_unlisted_proxy(ip(proxy), &forwarded, &[]),
                "{proxy}"
            );
        }
        let trusted = nets(&["127.0.0.1/32"]);
        assert!(!forwarded_by_unlisted_proxy(
            ip("127.0.0.1"),
            &forwarded,
            &trusted
        ));
        assert!(!forwarded_by_unlisted_proxy(
            ip("203.0.113.9"),
            &forwarded,
            &[]
        ));
        assert!(!forwarded_by_unlisted_proxy(
            ip("127.0.0.1"),
            &HeaderMap::new(),
            &[]
        ));
    }

    #[test]
    fn ports_and_mapped_addresses_are_understood() {
        let ported = headers(&[("x-forwarded-for", "[2001:db8::1]:4711, 198.51.100.4:80")]);
        let trusted = nets(&["127.0.0.1/32", "198.51.100.0/24"]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &ported, &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(canonical(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
    }
}
