//! Discovery documents: authorization server metadata (RFC 8414) and protected
//! resource metadata (RFC 9728), built from one issuer so the `issuer` clients derive,
//! the one advertised and the one in the resource metadata are byte-identical.

use serde_json::{Value, json};
use thiserror::Error;

/// Why a base URL cannot be an issuer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IssuerError {
    /// Not `https://host[:port][/path]` (or `http://` on loopback, for local use),
    /// or it has a query or fragment (RFC 8414 §2).
    #[error(
        "issuer must be https://host[:port][/path] without query or fragment (http only on loopback)"
    )]
    Invalid,
}

/// The authorization server's issuer identifier, normalized: no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    /// Validates and normalizes a public base URL such as `https://mcp.school.example`.
    pub fn new(base_url: &str) -> Result<Self, IssuerError> {
        let trimmed = base_url.trim_end_matches('/');
        let rest = if let Some(rest) = trimmed.strip_prefix("https://") {
            rest
        } else if let Some(rest) = trimmed.strip_prefix("http://") {
            let host = match rest.find(']') {
                Some(close) if rest.starts_with('[') => &rest[..=close],
                _ => rest.split(['/', ':']).next().unwrap_or_default(),
            };
            if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
                return Err(IssuerError::Invalid);
            }
            rest
        } else {
            return Err(IssuerError::Invalid);
        };
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty()
            || host.contains('@')
            || trimmed.contains(['?', '#'])
            || trimmed
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(IssuerError::Invalid);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The issuer identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `issuer` + `path` (path starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// The MCP resource this server protects (`{issuer}/mcp`), the RFC 8707 audience
    /// of its access tokens.
    pub fn mcp_resource(&self) -> String {
        self.url("/mcp")
    }

    /// Where the metadata document `well_known` (e.g. `oauth-protected-resource`)
    /// for `url` lives: `/.well-known/{name}` inserted between the authority and the
    /// path (RFC 8414 §3.1, RFC 9728 §3.1).
    pub fn well_known(url: &str, name: &str) -> String {
        let scheme_end = url.find("://").map_or(0, |i| i + 3);
        let path_start = url[scheme_end..]
            .find('/')
            .map_or(url.len(), |i| scheme_end + i);
        let (origin, path) = url.split_at(path_start);
        format!("{origin}/.well-known/{name}{}", path.trim_end_matches('/'))
    }

    /// The authorization server metadata (RFC 8414 §2). `client_id_metadata_documents`
    /// says whether URL client ids (Client ID Metadata Documents) are accepted.
    pub fn authorization_server_metadata(
        &self,
        scopes_supported: &[&str],
        client_id_metadata_documents: bool,
    ) -> Value {
        json!({
            "issuer": self.0,
            "authorization_endpoint": self.url("/oauth/authorize"),
            "token_endpoint": self.url("/oauth/token"),
            "registration_endpoint": self.url("/oauth/register"),
            "revocation_endpoint": self.url("/oauth/revoke"),
            "introspection_endpoint": self.url("/oauth/introspect"),
            "scopes_supported": scopes_supported,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "client_id_metadata_document_supported": client_id_metadata_documents,
        })
    }

    /// The protected resource metadata for the MCP endpoint (RFC 9728 §2).
    pub fn protected_resource_metadata(&self, scopes_supported: &[&str]) -> Value {
        json!({
            "resource": self.mcp_resource(),
            "authorization_servers": [self.0],
            "scopes_supported": scopes_supported,
            "bearer_methods_supported": ["header"],
            "resource_name": "Learner DNA MCP",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_normalized_without_trailing_slash() {
        for (given, normalized) in [
            ("https://mcp.school.example/", "https://mcp.school.example"),
            ("https://mcp.school.example", "https://mcp.school.example"),
            ("https://h.example/tenant-a/", "https://h.example/tenant-a"),
            ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
            ("http://localhost:8787/", "http://localhost:8787"),
            ("http://[::1]:8787", "http://[::1]:8787"),
        ] {
            assert_eq!(Issuer::new(given).unwrap().as_str(), normalized, "{given}");
        }
        for bad in [
            "http://mcp.school.example",
            "ftp://x",
            "https://",
            "https://h.example/?x=1",
            "https://h.example/#f",
            "https://u@h.example",
            "mcp.school.example",
            "http://127.0.0.1.evil.example",
            "http://[fe80::1]:8787",
            "http://[::1",
        ] {
            assert_eq!(Issuer::new(bad), Err(IssuerError::Invalid), "{bad}");
        }
    }

    #[test]
    fn well_known_urls_insert_before_the_path() {
        for (url, name, expected) in [
            (
                "https://h.example/mcp",
                "oauth-protected-resource",
                "https://h.example/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "https://h.example",
                "oauth-authorization-server",
                "https://h.example/.well-known/oauth-authorization-server",
            ),
            (
                "https://h.example/tenant-a/",
                "oauth-authorization-server",
                "https://h.example/.well-known/oauth-authorization-server/tenant-a",
            ),
        ] {
            assert_eq!(Issuer::well_known(url, name), expected);
        }
    }

    #[test]
    fn documents_agree_on_the_issuer() {
        let issuer = Issuer::new("https://mcp.school.example/").unwrap();
        let server = issuer.authorization_server_metadata(&["learner.profile"], false);
        assert_eq!(server["client_id_metadata_document_supported"], false);
        assert_eq!(
            issuer.authorization_server_metadata(&[], true)["client_id_metadata_document_supported"],
            true
        );
        let resource = issuer.protected_resource_metadata(&["learner.profile"]);
        assert_eq!(server["issuer"], "https://mcp.school.example");
        assert_eq!(
            resource["authorization_servers"],
            json!(["https://mcp.school.example"])
        );
        assert_eq!(resource["resource"], "https://mcp.school.example/mcp");
        assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            server["authorization_response_iss_parameter_supported"],
            true
        );
        assert_eq!(
            server["token_endpoint"],
            "https://mcp.school.example/oauth/token"
        );
    }
}
