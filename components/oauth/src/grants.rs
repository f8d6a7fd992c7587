//! Grants and their tokens over the key-value port: authorization codes that work
//! once (a replay revokes the grant), refresh tokens that rotate on every use (reuse of
//! an old one revokes the grant, RFC 9700 §4.14.2), access tokens bound to one
//! resource (RFC 8707), revocation that takes effect at once.
//!
//! Storage layout (every token only as its SHA-256 hash):
//!
//! | key                        | value                                     | expiry          |
//! |----------------------------|-------------------------------------------|-----------------|
//! | `oauth:grant:{id}`         | client, subject, scope, resource, sealed props, current refresh hash | refresh lifetime |
//! | `oauth:code:{hash}`        | grant, client, redirect URI, PKCE challenge, wrapped key | code lifetime |
//! | `oauth:code-used:{hash}`   | grant id (to revoke it on replay)          | 10 × code lifetime |
//! | `oauth:access:{hash}`      | grant, client, scope, resource, wrapped key | access lifetime |
//! | `oauth:refresh:{hash}`     | grant, client, wrapped key                 | refresh lifetime |
//! | `oauth:subject-grants:{subject hash}` | the newest ≤ 32 grant ids of a subject, the id of the next older page | none |
//! | `oauth:subject-grants:{subject hash}:{page}` | older grant ids of the subject, the next older page | none |
//!
//! A token is valid only while its grant record exists: deleting the grant revokes
//! every token issued from it at once.
//!
//! One job a module: `storage` (the keys and the encoding of records), `exchange` (issuing a
//! code and exchanging it), `refresh` (rotation), `access` (validating an access
//! token), `revocation` (RFC 7009 and one grant), `subject_index` (a subject's grants,
//! to end them all at once).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_core::ports::{KeyValue, KvError, Random};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::error::{ErrorCode, OAuthError};
use crate::scope::Scopes;
use crate::token::{DataKey, NONCE_BYTES, TOKEN_BYTES, Token, TokenKind};
use storage::{decode, encode, grant_key};

mod access;
mod exchange;
mod refresh;
mod revocation;
mod storage;
mod subject_index;

/// How long each kind of credential lives, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Authorization codes (default 60 s).
    pub code_ms: u64,
    /// Access tokens (default 1 h).
    pub access_ms: u64,
    /// Refresh tokens and the grant itself (default 30 days).
    pub refresh_ms: u64,
}

impl Lifetimes {
    /// How long a used code is remembered (so its replay revokes the grant), and how
    /// long a grant whose code was never exchanged lives: ten code lifetimes.
    pub fn replay_marker_ms(&self) -> u64 {
        self.code_ms.saturating_mul(10)
    }
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            code_ms: 60_000,
            access_ms: 3_600_000,
            refresh_ms: 30 * 24 * 3_600_000,
        }
    }
}

/// Why a grant operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantFailure {
    /// Unknown, expired, revoked or mismatched (client, redirect URI, resource, PKCE).
    Invalid(OAuthError),
    /// An authorization code was presented again: its grant has been revoked.
    CodeReplayed {
        /// The revoked grant.
        grant_id: String,
    },
    /// A rotated-out refresh token was presented: its grant has been revoked.
    RefreshReused {
        /// The revoked grant.
        grant_id: String,
    },
    /// The key-value port failed.
    Storage(KvError),
}

impl GrantFailure {
    /// The OAuth error to send.
    pub fn to_oauth(&self) -> OAuthError {
        match self {
            Self::Invalid(error) => error.clone(),
            Self::CodeReplayed { .. } => OAuthError::new(
                ErrorCode::InvalidGrant,
                "the authorization code was already used; its tokens are revoked",
            ),
            Self::RefreshReused { .. } => OAuthError::new(
                ErrorCode::InvalidGrant,
                "the refresh token was already used; the grant is revoked",
            ),
            Self::Storage(_) => {
                OAuthError::new(ErrorCode::ServerError, "the grant store is unavailable")
            }
        }
    }
}

impl From<KvError> for GrantFailure {
    fn from(error: KvError) -> Self {
        Self::Storage(error)
    }
}

fn invalid(message: &str) -> GrantFailure {
    GrantFailure::Invalid(OAuthError::new(ErrorCode::InvalidGrant, message))
}

#[derive(Serialize, Deserialize)]
struct GrantRecord {
    client_id: String,
    subject: String,
    scope: String,
    resource: String,
    /// Props sealed under the grant's data key, bound to the grant id (base64).
    sealed_props: String,
    /// Hash of the one refresh token that may be used next.
    current_refresh: Option<String>,
}

impl GrantRecord {
    /// The scope granted; a record that does not parse is corrupt.
    fn scopes(&self) -> Result<Scopes, GrantFailure> {
        Scopes::parse(&self.scope).map_err(|_| invalid("corrupt grant record"))
    }
}

#[derive(Serialize, Deserialize)]
struct CodeRecord {
    grant_id: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    wrapped_key: String,
}

#[derive(Serialize, Deserialize)]
struct AccessRecord {
    grant_id: String,
    client_id: String,
    scope: String,
    resource: String,
    wrapped_key: String,
    /// When it was issued and when it expires (ms since the epoch), for introspection.
    #[serde(default)]
    issued_at_ms: u64,
    #[serde(default)]
    expires_at_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct RefreshRecord {
    grant_id: String,
    client_id: String,
    wrapped_key: String,
}

/// Tokens issued by a code exchange or a refresh.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// The grant they belong to.
    pub grant_id: String,
    /// The access token.
    pub access_token: Token,
    /// The refresh token, if the client may refresh.
    pub refresh_token: Option<Token>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The scope of the access token.
    pub scope: Scopes,
}

impl IssuedTokens {
    /// The token response body (RFC 6749 §5.1); sent with `Cache-Control: no-store`.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "access_token": self.access_token.as_str(),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope.to_string(),
        });
        if let (Some(refresh), Value::Object(map)) = (&self.refresh_token, &mut body) {
            map.insert(
                "refresh_token".into(),
                Value::String(refresh.as_str().into()),
            );
        }
        body
    }
}

/// What a valid access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    /// The grant.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Who authorized it.
    pub subject: String,
    /// Its scope.
    pub scope: Scopes,
    /// The grant's properties, decrypted.
    pub props: Value,
    /// When the token was issued and when it expires (ms since the epoch; 0 if the
    /// record predates these fields).
    pub issued_at_ms: u64,
    /// See `issued_at_ms`.
    pub expires_at_ms: u64,
}

/// The grant store over a host's ports. Expiry is the key-value port's: every
/// record is written with its lifetime as TTL.
pub struct Grants<'a, K, R> {
    kv: &'a K,
    random: &'a R,
    lifetimes: Lifetimes,
    /// "Now" for what this store issues (a store lives for one request).
    now_ms: u64,
}

impl<'a, K: KeyValue, R: Random> Grants<'a, K, R> {
    /// A store with the given lifetimes, issuing at `now_ms`.
    pub fn new(kv: &'a K, random: &'a R, lifetimes: Lifetimes, now_ms: u64) -> Self {
        Self {
            kv,
            random,
            lifetimes,
            now_ms,
        }
    }

    /// Reads and decodes a record, with the version it was written at.
    async fn load<T: DeserializeOwned>(&self, key: &str) -> Result<Option<(T, u64)>, GrantFailure> {
        match self.kv.get(key).await? {
            Some(entry) => Ok(Some((decode(&entry.value)?, entry.version))),
            None => Ok(None),
        }
    }

    fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.random.fill(&mut bytes);
        bytes
    }

    fn token(&self, kind: TokenKind) -> Token {
        Token::new(kind, self.random_bytes::<TOKEN_BYTES>())
    }

    fn wrap(&self, key: &DataKey, token: &Token) -> String {
        B64.encode(key.wrap_for(token, self.random_bytes::<NONCE_BYTES>()))
    }

    fn unwrap(token: &Token, wrapped: &str) -> Result<DataKey, GrantFailure> {
        let bytes = B64
            .decode(wrapped)
            .map_err(|_| invalid("corrupt token record"))?;
        DataKey::unwrap_with(token, &bytes)
            .map_err(|_| invalid("the token does not open its grant"))
    }

    /// The record stored under `key(token)` for `presented`, if it parses as a token
    /// of `kind` and its record is live.
    async fn find<T: DeserializeOwned>(
        &self,
        kind: TokenKind,
        presented: &str,
        key: fn(&Token) -> String,
    ) -> Result<Option<(Token, T)>, GrantFailure> {
        let Some(token) = Token::parse(kind, presented) else {
            return Ok(None);
        };
        let found = self.load::<T>(&key(&token)).await?;
        Ok(found.map(|(record, _)| (token, record)))
    }

    /// A live grant, with the version it was written at.
    async fn grant(&self, grant_id: &str) -> Result<Option<(GrantRecord, u64)>, GrantFailure> {
        self.load(&grant_key(grant_id)).await
    }

    /// Writes a record that expires after `ttl_ms`.
    async fn store<T: Serialize>(
        &self,
        key: &str,
        record: &T,
        ttl_ms: u64,
    ) -> Result<(), GrantFailure> {
        self.kv.put(key, &encode(record), Some(ttl_ms)).await?;
        Ok(())
    }

    /// Saves `grant`, found at `version`, with the refresh token of `issued` as the one
    /// that may be used next and the refresh lifetime. Compare-and-swap: whoever
    /// changed the grant since `version` wins, and the caller decides what that means.
    async fn rotate(
        &self,
        grant_id: &str,
        version: u64,
        mut grant: GrantRecord,
        issued: &IssuedTokens,
    ) -> Result<(), KvError> {
        grant.current_refresh = issued.refresh_token.as_ref().map(|t| t.hash().to_hex());
        self.kv
            .compare_and_swap(
                &grant_key(grant_id),
                Some(version),
                &encode(&grant),
                Some(self.lifetimes.refresh_ms),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
