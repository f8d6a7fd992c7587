//! Redirect URIs: what a client may register (RFC 7591 §2, OAuth 2.1 §2.3.1, RFC 8252
//! for native apps) and whether an authorization request's `redirect_uri` matches a
//! registered one (exact string match; for loopback http, any port — RFC 8252 §7.3).

use thiserror::Error;

/// Longest redirect URI accepted, in bytes.
pub const MAX_REDIRECT_URI_BYTES: usize = 2048;

/// Why a redirect URI cannot be registered (→ `invalid_redirect_uri`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RedirectError {
    /// Empty, too long, or containing whitespace or control characters.
    #[error(
        "redirect URI must be 1..={MAX_REDIRECT_URI_BYTES} bytes without spaces or control characters"
    )]
    Malformed,
    /// No valid `scheme:` prefix.
    #[error("redirect URI must be absolute")]
    NotAbsolute,
    /// A `#fragment` (OAuth 2.1 §2.3.1).
    #[error("redirect URI must not contain a fragment")]
    Fragment,
    /// `user:password@` in the authority.
    #[error("redirect URI must not contain user information")]
    UserInfo,
    /// An `https` or `http` URI without a host, or with a malformed host or port.
    #[error("redirect URI has no valid host")]
    BadHost,
    /// `http` to anything but the loopback interface.
    #[error("http redirect URIs are allowed only for loopback (127.0.0.1, [::1], localhost)")]
    InsecureHttp,
    /// A scheme that would run code or read local data in the user agent.
    #[error("redirect URI scheme {0:?} is not allowed")]
    ForbiddenScheme(String),
}

/// What kind of redirect a URI is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `https://…`: a web client.
    Https,
    /// `http://127.0.0.1`, `http://[::1]` or `http://localhost`, any port: a native
    /// app's loopback listener.
    Loopback,
    /// A private-use scheme (`com.example.app:/callback`): a native app.
    PrivateScheme,
}

/// A redirect URI that may be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    kind: RedirectKind,
    host: String,
    rest: String,
}

/// Schemes that could run script or reach local data if an authorization response
/// were sent there.
const FORBIDDEN_SCHEMES: [&str; 7] = [
    "javascript",
    "data",
    "vbscript",
    "file",
    "about",
    "blob",
    "filesystem",
];

const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// The parts of an absolute URI this module needs.
struct Parts<'a> {
    scheme: String,
    /// Lower-cased host, with brackets for IPv6; empty without an authority.
    host: String,
    port: Option<&'a str>,
    /// Path and query, exactly as written.
    rest: &'a str,
}

fn split(uri: &str) -> Result<Parts<'_>, RedirectError> {
    if uri.is_empty()
        || uri.len() > MAX_REDIRECT_URI_BYTES
        || uri
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || !b.is_ascii())
    {
        return Err(RedirectError::Malformed);
    }
    if uri.contains('#') {
        return Err(RedirectError::Fragment);
    }
    let (scheme, rest) = uri.split_once(':').ok_or(RedirectError::NotAbsolute)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(RedirectError::NotAbsolute);
    }
    let scheme = scheme.to_ascii_lowercase();
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return Ok(Parts {
            scheme,
            host: String::new(),
            port: None,
            rest,
        });
    };
    let authority_end = after_slashes
        .find(['/', '?'])
        .unwrap_or(after_slashes.len());
    let (authority, rest) = after_slashes.split_at(authority_end);
    if authority.contains('@') {
        return Err(RedirectError::UserInfo);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or(RedirectError::BadHost)?;
        let host = &authority[..close + 2];
        match &authority[close + 2..] {
            "" => (host, None),
            port => (
                host,
                Some(port.strip_prefix(':').ok_or(RedirectError::BadHost)?),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty()
            || port.len() > 5
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err())
    {
        return Err(RedirectError::BadHost);
    }
    Ok(Parts {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        rest,
    })
}

impl RedirectUri {
    /// Validates a URI a client wants to register.
    pub fn parse(uri: &str) -> Result<Self, RedirectError> {
        let parts = split(uri)?;
        let kind = match parts.scheme.as_str() {
            "https" => RedirectKind::Https,
            "http" if LOOPBACK_HOSTS.contains(&parts.host.as_str()) => RedirectKind::Loopback,
            "http" => return Err(RedirectError::InsecureHttp),
            other if FORBIDDEN_SCHEMES.contains(&other) => {
                return Err(RedirectError::ForbiddenScheme(other.to_owned()));
            }
            _ => RedirectKind::PrivateScheme,
        };
        let hostless = parts.host.is_empty() || parts.host == "[]";
        if kind != RedirectKind::PrivateScheme && hostless {
            return Err(RedirectError::BadHost);
        }
        Ok(Self {
            raw: uri.to_owned(),
            kind,
            host: parts.host,
            rest: parts.rest.to_owned(),
        })
    }

    /// The URI as registered.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// What kind of redirect it is.
    pub fn kind(&self) -> RedirectKind {
        self.kind
    }

    /// Whether an authorization request's `redirect_uri` matches this registration:
    /// the exact same string, except that a loopback registration matches the same
    /// host, path and query on any port (RFC 8252 §7.3: native apps pick their port
    /// when they start listening).
    pub fn matches(&self, presented: &str) -> bool {
        if presented == self.raw {
            return true;
        }
        if self.kind != RedirectKind::Loopback {
            return false;
        }
        match split(presented) {
            Ok(parts) => {
                parts.scheme == "http"
                    && presented.starts_with("http://")
                    && parts.host == self.host
                    && parts.port.is_some()
                    && parts.rest == self.rest
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(uri: &str) -> Result<RedirectKind, RedirectError> {
        RedirectUri::parse(uri).map(|r| r.kind())
    }

    #[test]
    fn registrable_uris_and_their_kinds() {
        assert_eq!(
            kind("https://app.example/callback"),
            Ok(RedirectKind::Https)
        );
        assert_eq!(
            kind("https://app.example:8443/cb?x=1"),
            Ok(RedirectKind::Https)
        );
        assert_eq!(
            kind("http://127.0.0.1/callback"),
            Ok(RedirectKind::Loopback)
        );
        assert_eq!(
            kind("http://127.0.0.1:53682/callback"),
            Ok(RedirectKind::Loopback)
        );
        assert_eq!(kind("http://[::1]:8080/cb"), Ok(RedirectKind::Loopback));
        assert_eq!(
            kind("http://localhost:6274/oauth/callback"),
            Ok(RedirectKind::Loopback)
        );
        assert_eq!(
            kind("com.example.app:/oauth2redirect"),
            Ok(RedirectKind::PrivateScheme)
        );
        assert_eq!(
            kind("cursor://anysphere.cursor-mcp/oauth/callback"),
            Ok(RedirectKind::PrivateScheme)
        );
    }

    #[test]
    fn unsafe_or_malformed_uris_are_refused() {
        assert_eq!(
            kind("http://app.example/cb"),
            Err(RedirectError::InsecureHttp)
        );
        assert_eq!(
            kind("http://127.0.0.1.evil.example/cb"),
            Err(RedirectError::InsecureHttp)
        );
        assert_eq!(
            kind("http://localhost.evil.example/cb"),
            Err(RedirectError::InsecureHttp)
        );
        assert_eq!(
            kind("https://app.example/cb#frag"),
            Err(RedirectError::Fragment)
        );
        assert_eq!(
            kind("https://app.example/cb#"),
            Err(RedirectError::Fragment)
        );
        assert_eq!(
            kind("https://user:pw@app.example/cb"),
            Err(RedirectError::UserInfo)
        );
        assert_eq!(kind("https:///cb"), Err(RedirectError::BadHost));
        assert_eq!(
            kind("https://app.example:99999/cb"),
            Err(RedirectError::BadHost)
        );
        assert_eq!(kind("https://app.example:/cb"), Err(RedirectError::BadHost));
        assert_eq!(kind("/relative/cb"), Err(RedirectError::NotAbsolute));
        assert_eq!(kind("app.example/cb"), Err(RedirectError::NotAbsolute));
        assert_eq!(kind(""), Err(RedirectError::Malformed));
        assert_eq!(
            kind("https://app.example/c b"),
            Err(RedirectError::Malformed)
        );
        assert_eq!(
            kind("https://app.example/cb\n"),
            Err(RedirectError::Malformed)
        );
        assert_eq!(
            kind(&format!("https://a.example/{}", "x".repeat(2048))),
            Err(RedirectError::Malformed)
        );
        for scheme in [
            "javascript",
            "JavaScript",
            "data",
            "file",
            "vbscript",
            "about",
            "blob",
        ] {
            assert_eq!(
                kind(&format!("{scheme}:alert(1)")),
                Err(RedirectError::ForbiddenScheme(scheme.to_ascii_lowercase())),
                "{scheme}"
            );
        }
    }

    /// Asserts that the URI registered as `registered` matches every one of `accepted`
    /// and none of `refused`.
    fn assert_matching(registered: &str, accepted: &[&str], refused: &[&str]) {
        let registered = RedirectUri::parse(registered).unwrap();
        for presented in accepted {
            assert!(registered.matches(presented), "{presented}");
        }
        for presented in refused {
            assert!(!registered.matches(presented), "{presented}");
        }
    }

    #[test]
    fn matching_is_exact_for_https_and_private_schemes() {
        assert_matching(
            "https://app.example/callback",
            &["https://app.example/callback"],
            &[
                "https://app.example/callback/",
                "https://app.example/callbackx",
                "https://app.example/callback/../evil",
                "https://app.example/callback?next=evil",
                "https://app.example/callback#x",
                "https://app.example:443/callback",
                "https://APP.example/callback",
                "https://evil.app.example/callback",
                "https://app.example.evil.example/callback",
                "https://app.example/call",
                "http://app.example/callback",
            ],
        );
        assert_matching(
            "com.example.app:/cb",
            &["com.example.app:/cb"],
            &["com.example.app:/cb2", "com.example.evil:/cb"],
        );
    }

    #[test]
    fn loopback_matches_any_port_but_nothing_else() {
        assert_matching(
            "http://127.0.0.1/callback",
            &[
                "http://127.0.0.1/callback",
                "http://127.0.0.1:53682/callback",
            ],
            &[
                "http://127.0.0.1:53682/callback/x",
                "http://127.0.0.1:53682/callbac",
                "http://127.0.0.1:53682/callback?x=1",
                "http://127.0.0.1:53682/callback#x",
                "http://localhost:53682/callback",
                "http://127.0.0.2:53682/callback",
                "https://127.0.0.1:53682/callback",
                "http://127.0.0.1:53682@evil.example/callback",
                "http://127.0.0.1:/callback",
                "http://127.0.0.1:99999/callback",
            ],
        );
        assert_matching(
            "http://localhost:6274/oauth/callback",
            &["http://localhost:9999/oauth/callback"],
            &["http://localhost:9999/oauth/callback/debug"],
        );
    }
}
