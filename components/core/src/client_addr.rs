//! The network address of the client behind a request, as the host observed it.
//!
//! Per-IP rate limits are only as good as this address, so the core never reads it
//! from a header a client could set. Each host attaches a [`ClientAddr`] to the
//! request's extensions from a source it trusts: the wasi:http gateway from
//! [`PEER_ADDR_HEADER`], which Spin sets on every request (replacing whatever the
//! client sent) and the harness sets from the TCP peer the same way; the Cloudflare
//! worker from `CF-Connecting-IP`, which Cloudflare's edge sets.

use std::net::{IpAddr, SocketAddr};

/// The header a wasi:http runtime passes the peer address in (`ip:port`).
pub const PEER_ADDR_HEADER: &str = "spin-client-addr";

/// The client's IP address, attached to a request's extensions by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// Parses `ip:port`, `[ipv6]:port` or a bare address.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        text.parse::<SocketAddr>()
            .map(|s| s.ip())
            .or_else(|_| text.parse::<IpAddr>())
            .ok()
            .map(|ip| Self(ip.to_canonical()))
    }

    /// The address the host attached to `request`, if any.
    pub fn of<B>(request: &http::Request<B>) -> Option<Self> {
        request.extensions().get::<Self>().copied()
    }

    /// The key a per-address limit counts under: the whole IPv4 address, or the /64
    /// an IPv6 address belongs to (one subscriber usually holds a whole /64, so
    /// counting single IPv6 addresses would let one client rotate through 2^64 of them).
    pub fn limit_key(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_socket_addresses_and_bare_ips() {
        let v4 = ClientAddr::parse("203.0.113.7:5123").expect("v4 with port");
        assert_eq!(v4.limit_key(), "203.0.113.7");
        assert_eq!(ClientAddr::parse("203.0.113.7"), Some(v4));
        let v6 = ClientAddr::parse("[2001:db8:1:2:3:4:5:6]:443").expect("v6 with port");
        assert_eq!(v6.limit_key(), "2001:db8:1:2::/64");
        assert_eq!(
            ClientAddr::parse("2001:db8:1:2:ffff::1").map(|a| a.limit_key()),
            Some("2001:db8:1:2::/64".into())
        );
        // An IPv4-mapped IPv6 peer counts as the IPv4 address it is.
        assert_eq!(
            ClientAddr::parse("[::ffff:203.0.113.7]:80").map(|a| a.limit_key()),
            Some("203.0.113.7".into())
        );
        assert_eq!(ClientAddr::parse("not an address"), None);
        assert_eq!(ClientAddr::parse(""), None);
    }

    #[test]
    fn reads_only_the_extension_never_a_header() {
        let mut request = http::Request::builder()
            .header(PEER_ADDR_HEADER, "198.51.100.1:1")
            .header("cf-connecting-ip", "198.51.100.2")
            .body(())
            .expect("valid request");
        assert_eq!(ClientAddr::of(&request), None);
        request
            .extensions_mut()
            .insert(ClientAddr::parse("192.0.2.1").expect("valid"));
        assert_eq!(
            ClientAddr::of(&request).map(|a| a.limit_key()),
            Some("192.0.2.1".into())
        );
    }
}
