//! Which outbound destinations a host lets the application reach: the one allow-list
//! syntax every host's fetch port uses.

/// One allowed destination: `scheme://host[:port]`, where host may be `*` or
/// `*.suffix` and port may be `*`. Without a port, the scheme's default port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: String,
    host: String,
    port: Option<String>,
}

impl std::str::FromStr for AllowedHost {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("{text:?}: expected scheme://host[:port]"))?;
        if scheme != "http" && scheme != "https" {
            return Err(format!("{text:?}: scheme must be http or https"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.to_owned())),
            None => (rest, None),
        };
        if host.is_empty() || host.contains('/') {
            return Err(format!("{text:?}: bad host"));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl AllowedHost {
    /// Whether this pattern allows `scheme://host:port` (host already lower-case).
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host_ok = match self.host.strip_prefix("*.") {
            _ if self.host == "*" => true,
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => self.host == host,
        };
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port_ok = match self.port.as_deref() {
            Some("*") => true,
            Some(p) => p.parse::<u16>() == Ok(port),
            None => port == default_port,
        };
        self.scheme == scheme && host_ok && port_ok
    }
}

/// Whether any of `allowed` lets `url` through; returns the parsed scheme, host and
/// port for the caller to connect to.
pub fn check_url(allowed: &[AllowedHost], url: &str) -> Result<(String, String, u16), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("malformed URL: {e}"))?;
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("unsupported scheme {scheme:?}"));
    }
    let host = uri
        .host()
        .ok_or_else(|| "URL has no host".to_string())?
        .to_ascii_lowercase();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    if allowed.iter().any(|a| a.allows(&scheme, &host, port)) {
        Ok((scheme, host, port))
    } else {
        Err(format!(
            "{scheme}://{host}:{port} is not an allowed outbound host"
        ))
    }
}

/// Parses a comma- or whitespace-separated list of patterns.
pub fn parse_list(text: &str) -> Result<Vec<AllowedHost>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(s: &str) -> AllowedHost {
        s.parse().expect("valid pattern")
    }

    #[test]
    fn allow_list_matches_scheme_host_and_port() {
        assert!(allow("https://*").allows("https", "example.org", 443));
        assert!(!allow("https://*").allows("https", "example.org", 8443));
        assert!(!allow("https://*").allows("http", "example.org", 80));
        assert!(allow("http://127.0.0.1:*").allows("http", "127.0.0.1", 9000));
        assert!(allow("https://*.school.example").allows("https", "a.school.example", 443));
        assert!(!allow("https://*.school.example").allows("https", "school.example.evil", 443));
        assert!(!allow("https://*.school.example").allows("https", "evilschool.example", 443));
        assert!("ftp://x".parse::<AllowedHost>().is_err());
    }

    #[test]
    fn urls_are_checked_against_the_list() {
        let list = parse_list("http://127.0.0.1:*, https://*.example.org").expect("valid");
        assert_eq!(
            check_url(&list, "http://127.0.0.1:8080/x"),
            Ok(("http".into(), "127.0.0.1".into(), 8080))
        );
        assert!(check_url(&list, "http://127.0.0.2:8080/x").is_err());
        assert!(check_url(&list, "https://a.example.org/doc").is_ok());
        assert!(check_url(&list, "not a url").is_err());
        assert!(check_url(&list, "file:///etc/passwd").is_err());
    }
}
