//! Who the client is behind a balancer. Every request through a proxy
//! comes from the proxy's address, so per-address budgets would be one
//! budget for everyone. With `--trusted-proxy CIDR` (repeatable), a request
//! whose connection comes from a trusted proxy is taken to come from the
//! right-most address of `X-Forwarded-For` that is not itself a trusted
//! proxy: entries to its left were written by the client and prove
//! nothing. Without a trusted proxy the header is ignored.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// Most `X-Forwarded-For` entries looked at (a chain of proxies is short;
/// a longer header is read no further).
const MAX_HOPS: usize = 32;

/// A network: an address and how many of its leading bits count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    /// `10.0.0.0/8`, `192.168.1.7` (one address), `fd00::/8`.
    fn from_str(text: &str) -> Result<Self, String> {
        let refused = || format!("`{text}` não é uma rede: use endereço/prefixo, como 10.0.0.0/8 ou 192.168.1.7");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| refused())?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|bits| *bits <= width)
                .ok_or_else(refused)?,
            None => width,
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// Whether `address` is in this network.
    pub fn contains(&self, address: IpAddr) -> bool {
        let bits = |address: IpAddr| -> (u128, u32) {
            match address {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        // An IPv4 client seen by an IPv6 socket (::ffff:a.b.c.d) is that
        // IPv4 address.
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        let ((network, width), (candidate, candidate_width)) = (bits(self.network), bits(address));
        if width != candidate_width {
            return false;
        }
        let prefix = u32::from(self.prefix);
        let mask = if prefix == 0 { 0 } else { u128::MAX << (width - prefix) } & (u128::MAX >> (128 - width));
        network & mask == candidate & mask
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Trusting these networks.
    pub fn new(networks: Vec<Cidr>) -> Self {
        Self(networks)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// Whether a connection from `address` may carry many clients (a
    /// trusted proxy is not held to one client's number of connections).
    pub fn is_proxy(&self, address: IpAddr) -> bool {
        self.trusts(address)
    }

    /// The client of a request whose connection comes from `peer`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        // Every X-Forwarded-For line, in order, as one list; read from
        // the right, where the nearest proxy wrote.
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev().take(MAX_HOPS) {
            // An entry that is not an address ends what can be believed:
            // the last address read is the client.
            let Ok(address) = entry.trim().parse::<IpAddr>() else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn networks_are_read_with_or_without_a_prefix_and_refused_in_portuguese() {
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!("192.168.1.7".parse::<Cidr>().unwrap().contains(ip("192.168.1.7")));
        assert!(!"192.168.1.7".parse::<Cidr>().unwrap().contains(ip("192.168.1.8")));
        assert!("fd00::/8".parse::<Cidr>().unwrap().contains(ip("fd12::1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!("127.0.0.1".parse::<Cidr>().unwrap().contains(ip("::ffff:127.0.0.1")));
        for bad in ["10.0.0.0/33", "rede", "10.0.0.0/x", "::/129", ""] {
            let err = bad.parse::<Cidr>().unwrap_err();
            assert!(err.contains("não é uma rede"), "{err}");
        }
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_forwarded_address() {
        let proxies = TrustedProxies::new(vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()]);
        let proxy = ip("127.0.0.1");
        // A client's own claim at the left is not believed.
        let headers = forwarded(&["6.6.6.6, 203.0.113.9, 10.1.1.1"]);
        assert_eq!(proxies.client(proxy, &headers), ip("203.0.113.9"));
        // Several header lines are one list.
        let headers = forwarded(&["6.6.6.6", "203.0.113.9"]);
        assert_eq!(proxies.client(proxy, &headers), ip("203.0.113.9"));
        // No header: the proxy itself.
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
        // Garbage at the right: the proxy; at the left: what is right of it.
        assert_eq!(proxies.client(proxy, &forwarded(&["nada"])), proxy);
        assert_eq!(
            proxies.client(proxy, &forwarded(&["nada, 203.0.113.9"])),
            ip("203.0.113.9")
        );
        // Only trusted hops: the left-most of them.
        assert_eq!(
            proxies.client(proxy, &forwarded(&["10.2.2.2, 10.1.1.1"])),
            ip("10.2.2.2")
        );
    }

    #[test]
    fn without_a_trusted_proxy_the_header_is_ignored() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            TrustedProxies::default().client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        let proxies = TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
        assert_eq!(proxies.client(ip("198.51.100.1"), &headers), ip("198.51.100.1"));
    }
}
