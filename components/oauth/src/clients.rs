//! Registered clients over the key-value port (RFC 7591 §3), and client
//! authentication at the token, revocation and introspection endpoints (RFC 6749
//! §2.3.1): public clients send only `client_id`; confidential clients prove their
//! secret by the method they registered, compared in constant time against its hash.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_core::ports::{KeyValue, KvError, Random};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::error::{ErrorCode, OAuthError};
use crate::registration::{AuthMethod, ClientMetadata};
use crate::token::{TOKEN_BYTES, Token, TokenKind};

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Its identifier.
    pub client_id: String,
    /// Its validated metadata.
    pub metadata: ClientMetadata,
    /// When it registered, seconds since the Unix epoch.
    pub issued_at: u64,
}

#[derive(Serialize, Deserialize)]
struct ClientRecord {
    /// The metadata as registered (validated again when read).
    metadata: Value,
    /// Hex SHA-256 of the client secret, for confidential clients.
    secret_hash: Option<String>,
    issued_at: u64,
}

/// How a request authenticated its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    /// `client_id` in the body, no secret (public client).
    None {
        /// The client id.
        client_id: String,
    },
    /// `Authorization: Basic` with id and secret.
    Basic {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: String,
    },
    /// `client_id` and `client_secret` in the body.
    Post {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: String,
    },
}

impl ClientCredentials {
    /// The client id the request claims.
    pub fn client_id(&self) -> &str {
        match self {
            Self::None { client_id }
            | Self::Basic { client_id, .. }
            | Self::Post { client_id, .. } => client_id,
        }
    }

    /// Reads the credentials from an `Authorization` header value and the body's
    /// `client_id` / `client_secret`. Using two methods at once is refused
    /// (RFC 6749 §2.3).
    pub fn from_request(
        authorization: Option<&str>,
        body_client_id: Option<&str>,
        body_secret: Option<&str>,
    ) -> Result<Self, OAuthError> {
        let invalid = |message: &str| OAuthError::new(ErrorCode::InvalidRequest, message);
        match (authorization, body_client_id, body_secret) {
            (Some(header), None | Some(_), None) => {
                let (client_id, secret) = parse_basic(header).ok_or_else(|| {
                    OAuthError::new(ErrorCode::InvalidClient, "malformed Basic credentials")
                })?;
                if body_client_id.is_some_and(|id| id != client_id) {
                    return Err(invalid("client_id differs from the Basic credentials"));
                }
                Ok(Self::Basic { client_id, secret })
            }
            (Some(_), _, Some(_)) => Err(invalid("use one client authentication method")),
            (None, Some(client_id), Some(secret)) => Ok(Self::Post {
                client_id: client_id.to_owned(),
                secret: secret.to_owned(),
            }),
            (None, Some(client_id), None) => Ok(Self::None {
                client_id: client_id.to_owned(),
            }),
            (None, None, _) => Err(OAuthError::new(
                ErrorCode::InvalidClient,
                "client_id is required",
            )),
        }
    }
}

/// Parses `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(B64.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // Each part is form-urlencoded; decoding it as a lone key decodes %XX and '+'.
    let unescape = |part: &str| -> Option<String> {
        if part.is_empty() {
            return Some(String::new());
        }
        if part.contains(['=', '&']) {
            return None;
        }
        form_urlencoded::parse(part.as_bytes())
            .next()
            .map(|(key, _)| key.into_owned())
    };
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    (!id.is_empty()).then_some((id, secret))
}

fn client_key(client_id: &str) -> String {
    format!("oauth:client:{client_id}")
}

fn hash_hex(text: &str) -> String {
    Token::parse(TokenKind::ClientSecret, text)
        .map(|t| t.hash().to_hex())
        // A malformed secret hashes to something no stored hash can equal.
        .unwrap_or_default()
}

/// The client store over a host's ports.
pub struct Clients<'a, K, R> {
    kv: &'a K,
    random: &'a R,
}

impl<'a, K: KeyValue, R: Random> Clients<'a, K, R> {
    /// A store over `kv`, drawing ids and secrets from `random`.
    pub fn new(kv: &'a K, random: &'a R) -> Self {
        Self { kv, random }
    }

    /// Registers a client: a fresh id, and a secret for confidential clients
    /// (returned once, stored only as its hash). Returns the RFC 7591 §3.2.1 response.
    pub async fn register(
        &self,
        metadata: ClientMetadata,
        now_s: u64,
    ) -> Result<(Client, Value), KvError> {
        let mut id_bytes = [0u8; 16];
        self.random.fill(&mut id_bytes);
        let client_id = learner_core::hex(&id_bytes);
        let secret = metadata.auth_method.is_confidential().then(|| {
            let mut bytes = [0u8; TOKEN_BYTES];
            self.random.fill(&mut bytes);
            Token::new(TokenKind::ClientSecret, bytes)
        });
        let record = ClientRecord {
            metadata: metadata.to_json(),
            secret_hash: secret.as_ref().map(|s| s.hash().to_hex()),
            issued_at: now_s,
        };
        // Records hold JSON values and strings only: serialization cannot fail.
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        // Create-only: a colliding id (2^-128) is refused rather than overwritten.
        self.kv
            .compare_and_swap(&client_key(&client_id), None, &bytes, None)
            .await?;
        let mut response = metadata.to_json();
        if let Value::Object(map) = &mut response {
            map.insert("client_id".into(), Value::String(client_id.clone()));
            map.insert("client_id_issued_at".into(), Value::from(now_s));
            if let Some(secret) = &secret {
                map.insert(
                    "client_secret".into(),
                    Value::String(secret.as_str().into()),
                );
                map.insert("client_secret_expires_at".into(), Value::from(0));
            }
        }
        Ok((
            Client {
                client_id,
                metadata,
                issued_at: now_s,
            },
            response,
        ))
    }

    async fn record(
        &self,
        client_id: &str,
    ) -> Result<Option<(ClientRecord, ClientMetadata)>, KvError> {
        if client_id.is_empty() || client_id.len() > 256 {
            return Ok(None);
        }
        let Some(entry) = self.kv.get(&client_key(client_id)).await? else {
            return Ok(None);
        };
        let record: ClientRecord = serde_json::from_slice(&entry.value)
            .map_err(|e| KvError::Backend(format!("corrupt client record: {e}")))?;
        let metadata = ClientMetadata::from_request(record.metadata.to_string().as_bytes())
            .map_err(|e| {
                KvError::Backend(format!("stored client metadata no longer valid: {e}"))
            })?;
        Ok(Some((record, metadata)))
    }

    /// A registered client by id.
    pub async fn get(&self, client_id: &str) -> Result<Option<Client>, KvError> {
        Ok(self
            .record(client_id)
            .await?
            .map(|(record, metadata)| Client {
                client_id: client_id.to_owned(),
                metadata,
                issued_at: record.issued_at,
            }))
    }

    /// Authenticates a client by the method it registered; `invalid_client`
    /// otherwise (the caller answers 401, with `WWW-Authenticate: Basic` when the
    /// request used Basic).
    pub async fn authenticate(
        &self,
        credentials: &ClientCredentials,
    ) -> Result<Client, AuthFailure> {
        let refused = || {
            AuthFailure::Refused(OAuthError::new(
                ErrorCode::InvalidClient,
                "client authentication failed",
            ))
        };
        let client_id = credentials.client_id();
        let (record, metadata) = self.record(client_id).await?.ok_or_else(refused)?;
        let secret = match (metadata.auth_method, credentials) {
            (AuthMethod::None, ClientCredentials::None { .. }) => None,
            (AuthMethod::ClientSecretBasic, ClientCredentials::Basic { secret, .. })
            | (AuthMethod::ClientSecretPost, ClientCredentials::Post { secret, .. }) => {
                Some(secret)
            }
            _ => return Err(refused()),
        };
        if let Some(secret) = secret {
            let stored = record.secret_hash.as_deref().unwrap_or_default();
            let presented = hash_hex(secret);
            let equal = stored.len() == presented.len()
                && bool::from(stored.as_bytes().ct_eq(presented.as_bytes()));
            if !equal || stored.is_empty() {
                return Err(refused());
            }
        }
        Ok(Client {
            client_id: client_id.to_owned(),
            metadata,
            issued_at: record.issued_at,
        })
    }
}

/// Why client authentication failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// Unknown client, wrong method or wrong secret.
    Refused(OAuthError),
    /// The key-value port failed.
    Storage(KvError),
}

impl From<KvError> for AuthFailure {
    fn from(error: KvError) -> Self {
        Self::Storage(error)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use learner_testkit::{Counter, MemoryKv, TestClock, run};

    fn metadata(method: &str) -> ClientMetadata {
        let body = json!({"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": method});
        ClientMetadata::from_request(body.to_string().as_bytes()).unwrap()
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", B64.encode(format!("{id}:{secret}")))
    }

    /// Runs `test` with an empty key-value store and a client store over it.
    fn with_clients(
        test: impl for<'a> FnOnce(&'a MemoryKv<'a>, &'a Clients<'a, MemoryKv<'a>, Counter>),
    ) {
        let (clock, random) = (TestClock::default(), Counter::default());
        let kv = MemoryKv::new(&clock);
        test(&kv, &Clients::new(&kv, &random));
    }

    #[test]
    fn a_public_client_registers_without_a_secret_and_authenticates_by_id() {
        with_clients(|_, clients| {
            let (client, response) =
                run(clients.register(metadata("none"), 1_800_000_000)).unwrap();
            assert_eq!(response["client_id"], client.client_id);
            assert_eq!(response["client_id_issued_at"], 1_800_000_000u64);
            assert!(response.get("client_secret").is_none());
            let credentials = ClientCredentials::None {
                client_id: client.client_id.clone(),
            };
            assert_eq!(
                run(clients.authenticate(&credentials)).unwrap().client_id,
                client.client_id
            );
            let with_secret = ClientCredentials::Post {
                client_id: client.client_id,
                secret: "x".into(),
            };
            assert!(matches!(
                run(clients.authenticate(&with_secret)),
                Err(AuthFailure::Refused(_))
            ));
        });
    }

    #[test]
    fn a_confidential_client_proves_its_secret_by_its_method() {
        with_clients(|kv, clients| {
            let (client, response) =
                run(clients.register(metadata("client_secret_basic"), 1)).unwrap();
            let secret = response["client_secret"].as_str().unwrap().to_owned();
            assert!(secret.starts_with("ldna_cs_"));
            assert_eq!(response["client_secret_expires_at"], 0);
            assert!(
                !kv.dump().contains(&secret[8..]),
                "secret stored in the clear"
            );
            let id = client.client_id.clone();
            let good =
                ClientCredentials::from_request(Some(&basic(&id, &secret)), None, None).unwrap();
            assert!(run(clients.authenticate(&good)).is_ok());
            for wrong in [
                ClientCredentials::Basic {
                    client_id: id.clone(),
                    secret: format!("{secret}x"),
                },
                ClientCredentials::Basic {
                    client_id: id.clone(),
                    secret: String::new(),
                },
                ClientCredentials::Post {
                    client_id: id.clone(),
                    secret: secret.clone(),
                },
                ClientCredentials::None {
                    client_id: id.clone(),
                },
                ClientCredentials::Basic {
                    client_id: "unknown".into(),
                    secret: secret.clone(),
                },
            ] {
                let failure = run(clients.authenticate(&wrong)).unwrap_err();
                assert_eq!(
                    failure,
                    AuthFailure::Refused(OAuthError::new(
                        ErrorCode::InvalidClient,
                        "client authentication failed"
                    )),
                    "{wrong:?}"
                );
            }
            assert_eq!(
                run(clients.get(&id)).unwrap().unwrap().metadata,
                client.metadata
            );
            assert_eq!(run(clients.get("unknown")).unwrap(), None);
        });
    }

    #[test]
    fn credentials_come_from_one_method_only() {
        let header = basic("c%3A1", "s%26x");
        assert_eq!(
            ClientCredentials::from_request(Some(&header), None, None).unwrap(),
            ClientCredentials::Basic {
                client_id: "c:1".into(),
                secret: "s&x".into()
            }
        );
        assert_eq!(
            ClientCredentials::from_request(None, Some("c1"), Some("s")).unwrap(),
            ClientCredentials::Post {
                client_id: "c1".into(),
                secret: "s".into()
            }
        );
        assert_eq!(
            ClientCredentials::from_request(Some(&basic("c1", "s")), None, Some("s"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            ClientCredentials::from_request(Some(&basic("c1", "s")), Some("c2"), None)
                .unwrap_err()
                .code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            ClientCredentials::from_request(None, None, None)
                .unwrap_err()
                .code,
            ErrorCode::InvalidClient
        );
        for bad in [
            "Bearer x",
            "Basic !!!",
            "Basic",
            &format!("Basic {}", B64.encode("nocolon")),
        ] {
            assert_eq!(
                ClientCredentials::from_request(Some(bad), None, None)
                    .unwrap_err()
                    .code,
                ErrorCode::InvalidClient,
                "{bad}"
            );
        }
    }
}
