//! Calls Onboard makes to addresses a tenant chose (a connector's agent endpoint): only to the
//! public internet, unless the operator lets a host through (`chat.allowed_private_agent_hosts`).
//! OWASP ASVS 4.0 V12.6.1 (SSRF). Names are resolved by the client's own resolver, which drops
//! every forbidden address, so the connection goes to an address that was vetted: a name that
//! resolves to a public address when saved and to 127.0.0.1 when called (DNS rebinding) gets
//! nowhere.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Largest response body read from such a call, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Whether an address is one a tenant's URL may not reach: loopback, private (RFC 1918),
/// link-local (RFC 3927, including the cloud metadata address 169.254.169.254), shared CGNAT
/// space (RFC 6598), unique-local IPv6 (RFC 4193), unspecified, multicast, broadcast, and
/// "this network" (0.0.0.0/8); IPv4-mapped IPv6 addresses are judged as the IPv4 they carry.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let first = s[0];
    let v4_in = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // Addresses that carry an IPv4 address are judged by it: NAT64 (64:ff9b::/96, RFC 6052;
    // 64:ff9b:1::/48, RFC 8215), 6to4 (2002::/16, RFC 3056) and IPv4-compatible (::a.b.c.d).
    let embedded = if s[0] == 0x64 && s[1] == 0xff9b {
        Some(v4_in(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(v4_in(s[1], s[2]))
    } else if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        Some(v4_in(s[6], s[7]))
    } else {
        None
    };
    if embedded.is_some_and(forbidden_v4) {
        return true;
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// The hosts an operator lets through, as written in the URL (`agent.internal`, `127.0.0.1`).
#[derive(Clone, Debug, Default)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    pub fn new(hosts: &[String]) -> Self {
        Self(Arc::new(hosts.iter().map(|h| h.trim().trim_matches(['[', ']']).to_ascii_lowercase()).collect()))
    }

    fn contains(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        self.0.iter().any(|h| *h == host)
    }
}

/// Why a URL was refused, in words a tenant can act on.
#[derive(Debug, PartialEq)]
pub struct Refused(pub String);

/// Resolves a URL's host and refuses it when any address it stands for is forbidden. For saving
/// a URL, where a clear answer beats a failure later; calls are guarded again when made.
/// Errors: `Refused` with a sentence for the form's URL field (an agent or webhook endpoint).
pub async fn vet(url: &str, allowed: &AllowedHosts) -> Result<(), Refused> {
    let parsed = url::Url::parse(url).map_err(|_| Refused("That is not a web address.".into()))?;
    let host = parsed.host_str().ok_or_else(|| Refused("The address has no host.".into()))?;
    if allowed.contains(host) {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    // A name that does not resolve now is let through: the call's own resolver judges it then.
    let addresses: Vec<IpAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        },
    };
    if addresses.iter().any(|ip| forbidden(*ip)) {
        return Err(Refused(format!(
            "{host} is a private, local or link-local address, which Onboard does not call. Use a public address."
        )));
    }
    Ok(())
}

/// A client for tenants' URLs: its resolver drops forbidden addresses, it follows no redirects,
/// and waits are bounded.
pub fn client(allowed: &AllowedHosts) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment would resolve names itself, past the resolver below.
        .no_proxy()
        .dns_resolver(Arc::new(PublicOnly(allowed.clone())))
        .build()?)
}

/// Before a call with such a client: a literal IP address never reaches the resolver, so it is
/// judged here.
pub fn check_literal(url: &str, allowed: &AllowedHosts) -> Result<(), Refused> {
    let parsed = url::Url::parse(url).map_err(|_| Refused("not a web address".into()))?;
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if forbidden(ip) && !allowed.contains(&ip.to_string()) {
        return Err(Refused(format!("{ip} is a private or local address")));
    }
    Ok(())
}

struct PublicOnly(AllowedHosts);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.0.contains(name.as_str());
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = found.into_iter().filter(|a| allowed || !forbidden(a.ip())).collect();
            if usable.is_empty() {
                return Err(format!("{host} resolves only to private or local addresses").into());
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

/// Reads a response body up to `MAX_RESPONSE_BYTES`; a longer one is an error, not a truncation.
pub async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| without_url(&e))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(format!("the answer is larger than {} KiB", MAX_RESPONSE_BYTES / 1024));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An HTTP client error as text without its URL, which may carry a token (Telegram's Bot API
/// puts the bot token in the path).
pub fn without_url(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else if e.is_redirect() {
        "answered with a redirect".to_string()
    } else if e.is_body() || e.is_decode() {
        "sent an unreadable answer".to_string()
    } else {
        "the request failed".to_string()
    };
    // The innermost cause says why (refused, reset, no such host) and carries no URL.
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if inner.source().is_none() {
            text = format!("{text}: {inner}");
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_local_and_metadata_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "255.255.255.255",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "::7f00:1",
        ] {
            assert!(forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "100.128.0.1", "2606:4700::1111"] {
            assert!(!forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn urls_naming_forbidden_addresses_are_refused_unless_the_operator_allows_the_host() {
        let none = AllowedHosts::default();
        for url in [
            "https://169.254.169.254/latest/",
            "https://10.0.0.1/",
            "http://127.0.0.1:5432/",
            "http://localhost:6379/",
            "https://[::1]/agent",
        ] {
            assert!(vet(url, &none).await.is_err(), "{url}");
        }
        let allowed = AllowedHosts::new(&["127.0.0.1".into(), "localhost".into()]);
        assert!(vet("http://127.0.0.1:5432/", &allowed).await.is_ok());
        assert!(vet("http://localhost:6379/", &allowed).await.is_ok());
        assert!(check_literal("http://127.0.0.1:8080/", &none).is_err());
        assert!(check_literal("http://127.0.0.1:8080/", &allowed).is_ok());
        assert!(check_literal("https://agent.example.com/", &none).is_ok());
    }

    #[tokio::test]
    async fn the_guarded_client_does_not_connect_to_a_name_that_resolves_to_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = client(&AllowedHosts::default()).unwrap();
        let err = client.get(format!("http://localhost:{port}/")).send().await.unwrap_err();
        assert!(without_url(&err).contains("private or local"), "{}", without_url(&err));
        assert!(!without_url(&err).contains(&port.to_string()), "no URL in the error");
    }
}
