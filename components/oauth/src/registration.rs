//! Dynamic client registration (RFC 7591): validating the metadata a client sends and
//! producing the metadata the server registers.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ErrorCode, OAuthError};
use crate::redirect::{RedirectKind, RedirectUri};
use crate::scope::Scopes;

/// Most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 16;
/// Longest `client_name`, in characters.
pub const MAX_CLIENT_NAME_CHARS: usize = 120;

/// How a client authenticates at the token endpoint (RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A public client (native app, SPA): no secret; PKCE protects its codes.
    None,
    /// HTTP Basic with the client secret.
    ClientSecretBasic,
    /// The secret in the form body.
    ClientSecretPost,
}

impl AuthMethod {
    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }

    /// Whether clients using this method are confidential (get a secret).
    pub fn is_confidential(self) -> bool {
        self != Self::None
    }
}

/// The registration request, as far as this server reads it; other members (such as
/// `logo_uri`, which the consent page does not show) are ignored (RFC 7591 §2).
#[derive(Deserialize)]
struct Request {
    redirect_uris: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    client_name: Option<String>,
    client_uri: Option<String>,
    scope: Option<String>,
    software_id: Option<String>,
    software_version: Option<String>,
}

/// Validated client metadata, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    /// Where authorization responses may go.
    pub redirect_uris: Vec<RedirectUri>,
    /// How the client authenticates.
    pub auth_method: AuthMethod,
    /// Whether it may use refresh tokens.
    pub refresh_token_grant: bool,
    /// Shown on the consent page.
    pub client_name: Option<String>,
    /// The client's home page (https only).
    pub client_uri: Option<String>,
    /// The most the client will ever ask for; empty means no limit beyond the
    /// server's scopes.
    pub scope: Scopes,
    /// Free-form software identification.
    pub software_id: Option<String>,
    /// Free-form software version.
    pub software_version: Option<String>,
}

fn invalid(code: ErrorCode, message: impl Into<String>) -> OAuthError {
    OAuthError::new(code, message)
}

fn metadata_error(message: impl Into<String>) -> OAuthError {
    invalid(ErrorCode::InvalidClientMetadata, message)
}

fn short_text(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, OAuthError> {
    match value {
        Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => {
            Err(metadata_error(format!(
                "{name} must be at most {max} characters without control characters"
            )))
        }
        other => Ok(other.filter(|v| !v.trim().is_empty())),
    }
}

impl ClientMetadata {
    /// Validates a registration request body (JSON). Errors are RFC 7591 §3.2.2:
    /// `invalid_redirect_uri` for redirect URIs, `invalid_client_metadata` otherwise.
    pub fn from_request(body: &[u8]) -> Result<Self, OAuthError> {
        let request: Request = serde_json::from_slice(body).map_err(|e| {
            metadata_error(format!("the body is not valid client metadata JSON: {e}"))
        })?;

        let uris = request.redirect_uris.unwrap_or_default();
        if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
            return Err(invalid(
                ErrorCode::InvalidRedirectUri,
                format!("redirect_uris must list 1..={MAX_REDIRECT_URIS} URIs"),
            ));
        }
        let redirect_uris = uris
            .iter()
            .map(|uri| {
                RedirectUri::parse(uri)
                    .map_err(|e| invalid(ErrorCode::InvalidRedirectUri, format!("{uri}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let auth_method = match request.token_endpoint_auth_method.as_deref() {
            // RFC 7591 §2: the default is client_secret_basic.
            None | Some("client_secret_basic") => AuthMethod::ClientSecretBasic,
            Some("client_secret_post") => AuthMethod::ClientSecretPost,
            Some("none") => AuthMethod::None,
            Some(other) => {
                return Err(metadata_error(format!(
                    "token_endpoint_auth_method {other:?} is not supported (none, client_secret_basic, client_secret_post)"
                )));
            }
        };

        let grant_types = request
            .grant_types
            .unwrap_or_else(|| vec!["authorization_code".into()]);
        if let Some(other) = grant_types
            .iter()
            .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
        {
            return Err(metadata_error(format!(
                "grant type {other:?} is not supported (authorization_code, refresh_token)"
            )));
        }
        if !grant_types.iter().any(|g| g == "authorization_code") {
            return Err(metadata_error(
                "grant_types must include authorization_code",
            ));
        }
        let response_types = request
            .response_types
            .unwrap_or_else(|| vec!["code".into()]);
        if response_types != ["code"] {
            return Err(metadata_error("response_types must be [\"code\"]"));
        }

        let client_uri = match request.client_uri {
            Some(uri) if !uri.starts_with("https://") || uri.len() > 2048 => {
                return Err(metadata_error("client_uri must be an https URL"));
            }
            other => other,
        };

        let scope = Scopes::parse(request.scope.as_deref().unwrap_or(""))
            .map_err(|e| metadata_error(format!("scope: {e}")))?;

        Ok(Self {
            redirect_uris,
            auth_method,
            refresh_token_grant: grant_types.iter().any(|g| g == "refresh_token"),
            client_name: short_text("client_name", request.client_name, MAX_CLIENT_NAME_CHARS)?,
            client_uri,
            scope,
            software_id: short_text("software_id", request.software_id, 200)?,
            software_version: short_text("software_version", request.software_version, 100)?,
        })
    }

    /// Whether native-app redirects (loopback or private-use scheme) are registered;
    /// such clients cannot keep a secret.
    pub fn has_native_redirects(&self) -> bool {
        self.redirect_uris
            .iter()
            .any(|r| r.kind() != RedirectKind::Https)
    }

    /// The registration response members describing this metadata (RFC 7591 §3.2.1),
    /// without `client_id` / `client_secret`, which the caller adds.
    pub fn to_json(&self) -> Value {
        let mut grant_types = vec!["authorization_code"];
        if self.refresh_token_grant {
            grant_types.push("refresh_token");
        }
        let mut out = json!({
            "redirect_uris": self.redirect_uris.iter().map(RedirectUri::as_str).collect::<Vec<_>>(),
            "token_endpoint_auth_method": self.auth_method.as_str(),
            "grant_types": grant_types,
            "response_types": ["code"],
        });
        let optional = [
            ("client_name", self.client_name.clone()),
            ("client_uri", self.client_uri.clone()),
            (
                "scope",
                (!self.scope.is_empty()).then(|| self.scope.to_string()),
            ),
            ("software_id", self.software_id.clone()),
            ("software_version", self.software_version.clone()),
        ];
        if let Value::Object(map) = &mut out {
            for (name, value) in optional {
                if let Some(value) = value {
                    map.insert(name.into(), Value::String(value));
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::needless_pass_by_value)] // Helpers take JSON by value, as a call writes it.
mod tests {
    use super::*;

    fn register(body: Value) -> Result<ClientMetadata, OAuthError> {
        ClientMetadata::from_request(body.to_string().as_bytes())
    }

    #[test]
    fn a_public_native_client_registers() {
        let client = register(json!({
            "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "Claude Code",
            "unknown_member": {"ignored": true},
        }))
        .unwrap();
        assert_eq!(client.auth_method, AuthMethod::None);
        assert!(client.refresh_token_grant && client.has_native_redirects());
        assert_eq!(
            client.to_json(),
            json!({
                "redirect_uris": ["http://127.0.0.1:33418/callback"],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "client_name": "Claude Code",
            })
        );
    }

    #[test]
    fn defaults_follow_rfc_7591() {
        let client = register(json!({"redirect_uris": ["https://app.example/cb"]})).unwrap();
        assert_eq!(client.auth_method, AuthMethod::ClientSecretBasic);
        assert!(client.auth_method.is_confidential());
        assert!(!client.refresh_token_grant);
        assert_eq!(
            client.to_json()["grant_types"],
            json!(["authorization_code"])
        );
    }

    #[test]
    fn bad_redirect_uris_are_invalid_redirect_uri() {
        for uris in [
            json!([]),
            json!(["http://app.example/cb"]),
            json!(["https://app.example/cb#x"]),
            json!(["javascript:alert(1)"]),
            json!(["https://ok.example/cb", "relative/cb"]),
            json!(vec!["https://app.example/cb"; MAX_REDIRECT_URIS + 1]),
        ] {
            let error = register(json!({ "redirect_uris": uris })).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidRedirectUri, "{uris}");
        }
        let missing = register(json!({"client_name": "x"})).unwrap_err();
        assert_eq!(missing.code, ErrorCode::InvalidRedirectUri);
    }

    #[test]
    fn unsupported_metadata_is_invalid_client_metadata() {
        let base = |extra: Value| {
            let mut body = json!({"redirect_uris": ["https://app.example/cb"]});
            if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
                b.extend(e);
            }
            body
        };
        for extra in [
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            json!({"grant_types": ["implicit"]}),
            json!({"grant_types": ["client_credentials"]}),
            json!({"grant_types": ["refresh_token"]}),
            json!({"response_types": ["token"]}),
            json!({"response_types": ["code", "token"]}),
            json!({"client_uri": "http://app.example"}),
            json!({"scope": "a  b"}),
            json!({"client_name": "x".repeat(MAX_CLIENT_NAME_CHARS + 1)}),
            json!({"client_name": "bad\u{0007}name"}),
            json!({"redirect_uris": "https://app.example/cb"}),
        ] {
            let error = register(base(extra.clone())).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidClientMetadata, "{extra}");
        }
        let not_json = ClientMetadata::from_request(b"{not json").unwrap_err();
        assert_eq!(not_json.code, ErrorCode::InvalidClientMetadata);
    }
}
