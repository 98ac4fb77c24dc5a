//! The client address: the one definition every throttle, the WebSocket cap
//! and every log line use.
//!
//! The socket peer is the client, unless the peer is a trusted proxy
//! (`RAPPORT_TRUSTED_PROXIES`). Then the forwarding header is read right to
//! left, skipping trusted addresses, and the first untrusted hop is the
//! client: everything left of it was written by that hop or by the client
//! itself, so it proves nothing. `X-Forwarded-For` is read when present,
//! otherwise `Forwarded: for=`; a proxy that writes `Forwarded` must drop an
//! incoming `X-Forwarded-For`. With no trusted proxy (the default) the
//! headers are ignored.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest};
use ipnet::IpNet;

/// Networks whose connections may tell the client address in a header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` belongs to a trusted network. IPv4-mapped IPv6 addresses
    /// count as their IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A list of CIDRs (`10.0.0.0/8`) or single addresses, separated by
    /// commas or spaces; empty means none.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{item}` is not a CIDR (e.g. 10.0.0.0/8) or an address"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The client address of a request, as a string for throttle keys and logs
/// (`unknown` when the peer address is not available, as in unit tests).
pub fn client_addr(req: &HttpRequest) -> String {
    let trusted = req.app_data::<web::Data<TrustedProxies>>();
    let none = TrustedProxies::default();
    let trusted = trusted.map_or(&none, |t| t.get_ref());
    req.peer_addr()
        .map(|peer| client_ip(peer.ip(), req.headers(), trusted).to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The client address of a connection from `peer` with `headers`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address was not written by a trusted proxy
        // (they write their peer's address): the last trusted hop is as far
        // as the chain can be believed.
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = canonical(ip);
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

/// The hops of `X-Forwarded-For` (every header line, in order), or else the
/// `for=` values of `Forwarded`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<String> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .flat_map(|value| {
                value
                    .to_str()
                    .unwrap_or("invalid")
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff;
    }
    values("forwarded")
        .into_iter()
        .map(|element| {
            element
                .split(';')
                .find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| value.trim().trim_matches('"').to_owned())
                })
                // An element without `for=` cannot be attributed: it stops
                // the walk like any other value that is not an address.
                .unwrap_or_default()
        })
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]`, `[::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (ip, _port) = rest.split_once(']')?;
        return ip.parse().ok();
    }
    let (ip, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn parses_cidrs_and_addresses_and_refuses_garbage() {
        let list: TrustedProxies = "10.0.0.0/8, 192.168.1.7 ::1,fd00::/8"
            .parse()
            .expect("list");
        assert!(list.contains(ip("10.200.3.4")));
        assert!(list.contains(ip("192.168.1.7")));
        assert!(!list.contains(ip("192.168.1.8")));
        assert!(list.contains(ip("::1")));
        assert!(list.contains(ip("fd12::1")));
        assert!(list.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped");
        assert!("".parse::<TrustedProxies>().expect("empty").is_empty());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.local".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(
            client_ip(ip("9.9.9.9"), &h, &TrustedProxies::default()),
            ip("9.9.9.9")
        );
        let trusted: TrustedProxies = "127.0.0.1/32".parse().expect("list");
        assert_eq!(client_ip(ip("9.9.9.9"), &h, &trusted), ip("9.9.9.9"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted: TrustedProxies = "127.0.0.1/32, 10.0.0.0/8".parse().expect("list");
        // The client forged the first two entries; 10.0.0.5 is a trusted
        // proxy in the chain; 203.0.113.9 is who connected to it.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 7.7.7.7"),
            ("x-forwarded-for", "203.0.113.9, 10.0.0.5"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // Every hop trusted: the left-most one is the client.
        let h = headers(&[("x-forwarded-for", "10.1.1.1, 10.0.0.5")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("10.1.1.1"));
        // Garbage stops the walk at the last trusted address.
        let h = headers(&[("x-forwarded-for", "nonsense, 10.0.0.5")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("10.0.0.5"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn forwarded_for_is_read_when_there_is_no_x_forwarded_for() {
        let trusted: TrustedProxies = "127.0.0.1/32".parse().expect("list");
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https, for=127.0.0.1",
        )]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=203.0.113.4:8443;by=127.0.0.1")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.4"));
        let h = headers(&[("forwarded", "for=_hidden, for=127.0.0.1")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }
}
