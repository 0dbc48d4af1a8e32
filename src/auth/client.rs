//! The client address behind a request, which the login throttle keys on.
//!
//! It is the TCP peer, unless the peer is a trusted proxy (`SKY_TRUSTED_PROXIES`): then the
//! address that proxy forwarded (the rightmost `X-Forwarded-For` entry that is not itself a
//! trusted proxy, else `X-Real-IP`). Headers from anyone else are ignored, since any client
//! can send them. Behind the course's nginx (which forwards no client address) every request
//! comes from nginx's address, so the per-address limit counts all logins together; see the
//! README for the nginx lines that forward it.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// The client address of a request (a request extension the app inserts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client address of a request from `peer` with these headers.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    if let Some(ip) = forwarded.iter().rev().find(|ip| !trusted.contains(ip)) {
        return *ip;
    }
    headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(client_ip(proxy, &h, &[]), proxy, "untrusted: the peer");
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            client,
            "the proxy's own entry, not a spoofed one"
        );
        let h = headers(&[("x-real-ip", "203.0.113.7")]);
        assert_eq!(client_ip(proxy, &h, &[proxy]), client);
        assert_eq!(
            client_ip(proxy, &headers(&[("x-real-ip", "junk")]), &[proxy]),
            proxy
        );
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            client_ip(other, &h, &[proxy]),
            other,
            "headers from a client are ignored"
        );
    }
}
