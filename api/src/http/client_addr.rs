//! The one definition of a request's client address.
//!
//! The socket peer is the client, unless the peer is a trusted proxy
//! (`RAPPORT_TRUSTED_PROXIES`, a list of CIDR blocks, empty by default): then
//! `X-Forwarded-For` is read from the right, skipping trusted proxies, and the
//! first address that is not one is the client. With no trusted proxy, no
//! forwarding header is ever believed.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;

/// An address block such as `10.0.0.0/8`, `::1/128` or a bare address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `addr` is inside the block.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        let (addr, prefix) = raw.split_once('/').unwrap_or((raw, ""));
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?} has an invalid prefix length"))?
        };
        Ok(Self { network, prefix })
    }
}

/// The trusted proxies, as app data.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Vec<Cidr>);

impl TrustedProxies {
    fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(addr))
    }
}

/// The client address of `req` (`"unknown"` when the peer is not known).
pub fn client_addr(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".to_owned();
    };
    let trusted = req.app_data::<actix_web::web::Data<TrustedProxies>>();
    resolve(peer, trusted.map(|t| t.get_ref()), || {
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| hop.trim().to_owned())
            .collect()
    })
    .to_string()
}

fn resolve(
    peer: IpAddr,
    trusted: Option<&TrustedProxies>,
    forwarded: impl FnOnce() -> Vec<String>,
) -> IpAddr {
    let Some(trusted) = trusted.filter(|t| t.trusts(peer)) else {
        return peer;
    };
    let mut client = peer;
    for hop in forwarded().iter().rev() {
        let Ok(addr) = hop.parse::<IpAddr>() else {
            // Garbage in the chain: stop at the last proxy we could trust.
            break;
        };
        client = addr;
        if !trusted.trusts(addr) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn hops<'a>(list: &'a [&'a str]) -> impl FnOnce() -> Vec<String> + 'a {
        move || list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxies = TrustedProxies(vec![
            "10.0.0.0/8".parse().expect("cidr"),
            "::1".parse().expect("cidr"),
        ]);
        // No trusted proxy: the header is ignored.
        assert_eq!(
            resolve(ip("203.0.113.9"), None, hops(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            resolve(ip("203.0.113.9"), Some(&proxies), hops(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // A trusted peer: the right-most untrusted hop; spoofed hops to its
        // left are never reached.
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                Some(&proxies),
                hops(&["6.6.6.6", "198.51.100.7", "10.1.1.1"])
            ),
            ip("198.51.100.7")
        );
        // Trusted peer without a header: the peer.
        assert_eq!(
            resolve(ip("10.0.0.2"), Some(&proxies), hops(&[])),
            ip("10.0.0.2")
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            resolve(ip("10.0.0.2"), Some(&proxies), hops(&["1.1.1.1", "junk"])),
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(ip("::1"), Some(&proxies), hops(&["2001:db8::5"])),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn cidr_blocks_parse_and_match() {
        let block: Cidr = "192.168.4.0/22".parse().expect("cidr");
        assert!(block.contains(ip("192.168.7.255")));
        assert!(!block.contains(ip("192.168.8.0")));
        assert!(block.contains(ip("::ffff:192.168.5.1")));
        let all: Cidr = "0.0.0.0/0".parse().expect("cidr");
        assert!(all.contains(ip("8.8.8.8")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("example.com".parse::<Cidr>().is_err());
    }
}
