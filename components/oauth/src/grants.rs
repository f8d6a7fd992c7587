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
//!
//! A token is valid only while its grant record exists: deleting the grant revokes
//! every token issued from it at once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_core::ports::{KeyValue, KvError, Random};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::authorize::AuthorizationRequest;
use crate::error::{ErrorCode, OAuthError};
use crate::pkce::CodeChallenge;
use crate::scope::Scopes;
use crate::token::{DataKey, NONCE_BYTES, TOKEN_BYTES, Token, TokenKind};

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

fn grant_key(id: &str) -> String {
    format!("oauth:grant:{id}")
}
/// The ids of a subject's grants (the subject hashed: keys are not for personal data).
fn subject_key(subject: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(subject.as_bytes());
    format!("oauth:subject-grants:{}", learner_core::hex(&digest))
}
/// A subject's index is pruned of ended grants once it holds this many ids.
const SUBJECT_INDEX_PRUNE_AT: usize = 32;
/// Attempts at updating a subject's index under concurrent writers.
const SUBJECT_INDEX_ATTEMPTS: usize = 8;

fn code_key(token: &Token) -> String {
    format!("oauth:code:{}", token.hash().to_hex())
}
fn code_used_key(token: &Token) -> String {
    format!("oauth:code-used:{}", token.hash().to_hex())
}
fn access_key(token: &Token) -> String {
    format!("oauth:access:{}", token.hash().to_hex())
}
fn refresh_key(token: &Token) -> String {
    format!("oauth:refresh:{}", token.hash().to_hex())
}

fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    // These records hold only strings and options: serialization cannot fail.
    serde_json::to_vec(record).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, GrantFailure> {
    serde_json::from_slice(bytes)
        .map_err(|e| GrantFailure::Storage(KvError::Backend(format!("corrupt record: {e}"))))
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

    /// Creates a grant for an approved authorization request and returns its
    /// authorization code. `props` (who the subject is, what they consented to) are
    /// stored sealed.
    pub async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        subject: &str,
        props: &Value,
    ) -> Result<Token, GrantFailure> {
        let grant_id = learner_core::hex(&self.random_bytes::<16>());
        let key = DataKey::new(self.random_bytes::<32>());
        let sealed = key.seal(
            self.random_bytes::<NONCE_BYTES>(),
            &encode(props),
            grant_id.as_bytes(),
        );
        let grant = GrantRecord {
            client_id: request.client_id.clone(),
            subject: subject.to_owned(),
            scope: request.scope.to_string(),
            resource: request.resource.clone(),
            sealed_props: B64.encode(sealed),
            current_refresh: None,
        };
        self.index_under_subject(subject, &grant_id).await?;
        // Until the code is exchanged, the grant lives as long as the code's replay
        // marker; the exchange extends it.
        let unexchanged_ms = self.lifetimes.code_ms.saturating_mul(10);
        self.kv
            .put(&grant_key(&grant_id), &encode(&grant), Some(unexchanged_ms))
            .await?;
        let code = self.token(TokenKind::AuthorizationCode);
        let record = CodeRecord {
            grant_id,
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.as_str().to_owned(),
            wrapped_key: self.wrap(&key, &code),
        };
        self.kv
            .put(
                &code_key(&code),
                &encode(&record),
                Some(self.lifetimes.code_ms),
            )
            .await?;
        Ok(code)
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3): single use, bound to the
    /// client, redirect URI and resource it was issued for, PKCE-verified.
    pub async fn exchange_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        resource: Option<&str>,
        code_verifier: Option<&str>,
        refresh_allowed: bool,
    ) -> Result<IssuedTokens, GrantFailure> {
        let code = Token::parse(TokenKind::AuthorizationCode, code)
            .ok_or_else(|| invalid("the authorization code is invalid or expired"))?;
        let Some(entry) = self.kv.take(&code_key(&code)).await? else {
            if let Some(used) = self.kv.get(&code_used_key(&code)).await? {
                let grant_id = String::from_utf8_lossy(&used.value).into_owned();
                self.kv.delete(&grant_key(&grant_id)).await?;
                return Err(GrantFailure::CodeReplayed { grant_id });
            }
            return Err(invalid("the authorization code is invalid or expired"));
        };
        let record: CodeRecord = decode(&entry.value)?;
        // Remember the code was used, so a replay revokes what it issued.
        self.kv
            .put(
                &code_used_key(&code),
                record.grant_id.as_bytes(),
                Some(self.lifetimes.code_ms.saturating_mul(10)),
            )
            .await?;
        if record.client_id != client_id {
            return Err(invalid(
                "the authorization code was issued to another client",
            ));
        }
        if redirect_uri != Some(record.redirect_uri.as_str()) {
            return Err(invalid(
                "redirect_uri does not match the authorization request",
            ));
        }
        let challenge = CodeChallenge::from_request(Some(&record.code_challenge), Some("S256"))
            .map_err(|_| invalid("corrupt code record"))?;
        challenge
            .verify(code_verifier)
            .map_err(|e| invalid(&e.to_string()))?;
        let Some((mut grant, grant_version)) = self
            .load::<GrantRecord>(&grant_key(&record.grant_id))
            .await?
        else {
            return Err(invalid("the grant was revoked"));
        };
        if resource.is_some_and(|r| r != grant.resource) {
            return Err(GrantFailure::Invalid(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource does not match the authorization request",
            )));
        }
        let key = Self::unwrap(&code, &record.wrapped_key)?;
        let scope = Scopes::parse(&grant.scope).map_err(|_| invalid("corrupt grant record"))?;
        let issued = self
            .issue_tokens(&record.grant_id, &grant, &key, scope, refresh_allowed)
            .await?;
        grant.current_refresh = issued.refresh_token.as_ref().map(|t| t.hash().to_hex());
        // Compare-and-swap: a concurrent revocation wins over this exchange.
        self.kv
            .compare_and_swap(
                &grant_key(&record.grant_id),
                Some(grant_version),
                &encode(&grant),
                Some(self.lifetimes.refresh_ms),
            )
            .await
            .map_err(|e| match e {
                KvError::Conflict(_) => invalid("the grant changed during the exchange"),
                other => GrantFailure::Storage(other),
            })?;
        Ok(issued)
    }

    async fn issue_tokens(
        &self,
        grant_id: &str,
        grant: &GrantRecord,
        key: &DataKey,
        scope: Scopes,
        refresh_allowed: bool,
    ) -> Result<IssuedTokens, GrantFailure> {
        let access = self.token(TokenKind::AccessToken);
        let record = AccessRecord {
            grant_id: grant_id.to_owned(),
            client_id: grant.client_id.clone(),
            scope: scope.to_string(),
            resource: grant.resource.clone(),
            wrapped_key: self.wrap(key, &access),
            issued_at_ms: self.now_ms,
            expires_at_ms: self.now_ms.saturating_add(self.lifetimes.access_ms),
        };
        self.kv
            .put(
                &access_key(&access),
                &encode(&record),
                Some(self.lifetimes.access_ms),
            )
            .await?;
        let refresh = if refresh_allowed {
            let refresh = self.token(TokenKind::RefreshToken);
            let record = RefreshRecord {
                grant_id: grant_id.to_owned(),
                client_id: grant.client_id.clone(),
                wrapped_key: self.wrap(key, &refresh),
            };
            self.kv
                .put(
                    &refresh_key(&refresh),
                    &encode(&record),
                    Some(self.lifetimes.refresh_ms),
                )
                .await?;
            Some(refresh)
        } else {
            None
        };
        Ok(IssuedTokens {
            grant_id: grant_id.to_owned(),
            access_token: access,
            refresh_token: refresh,
            expires_in: self.lifetimes.access_ms / 1_000,
            scope,
        })
    }

    /// Uses a refresh token (RFC 6749 §6): rotates it; presenting a rotated-out one
    /// revokes the grant. `scope`, if given, may only narrow the grant's scope.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
        scope: Option<&Scopes>,
    ) -> Result<IssuedTokens, GrantFailure> {
        let presented = Token::parse(TokenKind::RefreshToken, refresh_token)
            .ok_or_else(|| invalid("the refresh token is invalid or expired"))?;
        let Some((record, _)) = self.load::<RefreshRecord>(&refresh_key(&presented)).await? else {
            return Err(invalid("the refresh token is invalid or expired"));
        };
        if record.client_id != client_id {
            return Err(invalid("the refresh token was issued to another client"));
        }
        let Some((mut grant, grant_version)) = self
            .load::<GrantRecord>(&grant_key(&record.grant_id))
            .await?
        else {
            return Err(invalid("the grant was revoked"));
        };
        let presented_hash = presented.hash().to_hex();
        if grant.current_refresh.as_deref() != Some(presented_hash.as_str()) {
            self.kv.delete(&grant_key(&record.grant_id)).await?;
            return Err(GrantFailure::RefreshReused {
                grant_id: record.grant_id,
            });
        }
        let granted = Scopes::parse(&grant.scope).map_err(|_| invalid("corrupt grant record"))?;
        let scope = match scope {
            Some(asked) if !asked.is_subset_of(&granted) => {
                return Err(GrantFailure::Invalid(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope exceeds the grant",
                )));
            }
            Some(asked) => asked.clone(),
            None => granted,
        };
        let key = Self::unwrap(&presented, &record.wrapped_key)?;
        let issued = self
            .issue_tokens(&record.grant_id, &grant, &key, scope, true)
            .await?;
        grant.current_refresh = issued.refresh_token.as_ref().map(|t| t.hash().to_hex());
        // Two concurrent uses of the same refresh token: exactly one wins the swap;
        // the loser is treated as reuse and revokes the grant.
        match self
            .kv
            .compare_and_swap(
                &grant_key(&record.grant_id),
                Some(grant_version),
                &encode(&grant),
                Some(self.lifetimes.refresh_ms),
            )
            .await
        {
            Ok(_) => Ok(issued),
            Err(KvError::Conflict(_)) => {
                self.kv.delete(&grant_key(&record.grant_id)).await?;
                Err(GrantFailure::RefreshReused {
                    grant_id: record.grant_id,
                })
            }
            Err(other) => Err(GrantFailure::Storage(other)),
        }
    }

    /// Validates an access token for `resource` (its audience); `invalid_token`
    /// otherwise (RFC 6750 §3.1).
    pub async fn validate_access(
        &self,
        access_token: &str,
        resource: &str,
    ) -> Result<AccessGrant, GrantFailure> {
        let invalid_token = |message: &str| {
            GrantFailure::Invalid(OAuthError::new(ErrorCode::InvalidToken, message))
        };
        let token = Token::parse(TokenKind::AccessToken, access_token)
            .ok_or_else(|| invalid_token("the access token is invalid or expired"))?;
        let Some((record, _)) = self.load::<AccessRecord>(&access_key(&token)).await? else {
            return Err(invalid_token("the access token is invalid or expired"));
        };
        if record.resource != resource {
            return Err(invalid_token("the access token is for another resource"));
        }
        let Some((grant, _)) = self
            .load::<GrantRecord>(&grant_key(&record.grant_id))
            .await?
        else {
            return Err(invalid_token("the access token was revoked"));
        };
        let key = Self::unwrap(&token, &record.wrapped_key)?;
        let sealed = B64
            .decode(&grant.sealed_props)
            .map_err(|_| invalid_token("corrupt grant record"))?;
        let props = key
            .open(&sealed, record.grant_id.as_bytes())
            .map_err(|_| invalid_token("the grant does not open with this token"))?;
        Ok(AccessGrant {
            grant_id: record.grant_id,
            client_id: record.client_id,
            subject: grant.subject,
            scope: Scopes::parse(&record.scope)
                .map_err(|_| invalid_token("corrupt token record"))?,
            props: serde_json::from_slice(&props)
                .map_err(|_| invalid_token("corrupt grant props"))?,
            issued_at_ms: record.issued_at_ms,
            expires_at_ms: record.expires_at_ms,
        })
    }

    /// Revokes a token presented by `client_id` (RFC 7009): a refresh token revokes
    /// its whole grant, an access token itself. Unknown tokens and tokens of other
    /// clients change nothing (and are not told apart, §2.2). Returns the revoked
    /// grant's id when a grant was revoked.
    pub async fn revoke(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Option<String>, GrantFailure> {
        if let Some(refresh) = Token::parse(TokenKind::RefreshToken, token)
            && let Some((record, _)) = self.load::<RefreshRecord>(&refresh_key(&refresh)).await?
        {
            if record.client_id == client_id {
                self.kv.delete(&grant_key(&record.grant_id)).await?;
                return Ok(Some(record.grant_id));
            }
            return Ok(None);
        }
        if let Some(access) = Token::parse(TokenKind::AccessToken, token)
            && let Some((record, _)) = self.load::<AccessRecord>(&access_key(&access)).await?
            && record.client_id == client_id
        {
            self.kv.delete(&access_key(&access)).await?;
        }
        Ok(None)
    }

    /// Notes `grant_id` among `subject`'s grants (for [`Grants::revoke_subject`]),
    /// dropping ended grants from the list once it grows.
    async fn index_under_subject(&self, subject: &str, grant_id: &str) -> Result<(), GrantFailure> {
        let key = subject_key(subject);
        for _ in 0..SUBJECT_INDEX_ATTEMPTS {
            let current = self.load::<Vec<String>>(&key).await?;
            let version = current.as_ref().map(|(_, v)| *v);
            let mut ids = current.map(|(ids, _)| ids).unwrap_or_default();
            if ids.len() >= SUBJECT_INDEX_PRUNE_AT {
                let mut live = Vec::with_capacity(ids.len());
                for id in ids {
                    if self.kv.get(&grant_key(&id)).await?.is_some() {
                        live.push(id);
                    }
                }
                ids = live;
            }
            ids.push(grant_id.to_owned());
            match self
                .kv
                .compare_and_swap(&key, version, &encode(&ids), None)
                .await
            {
                Ok(_) => return Ok(()),
                Err(KvError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(GrantFailure::Storage(KvError::Conflict(None)))
    }

    /// Revokes every live grant of `subject` that `covers(client_id, scope)` accepts,
    /// with every token issued from them; returns their ids.
    pub async fn revoke_subject(
        &self,
        subject: &str,
        covers: impl Fn(&str, &Scopes) -> bool,
    ) -> Result<Vec<String>, GrantFailure> {
        let Some((ids, _)) = self.load::<Vec<String>>(&subject_key(subject)).await? else {
            return Ok(Vec::new());
        };
        let mut revoked = Vec::new();
        for id in ids {
            let Some((grant, _)) = self.load::<GrantRecord>(&grant_key(&id)).await? else {
                continue;
            };
            let scope = Scopes::parse(&grant.scope).unwrap_or_default();
            if grant.subject == subject
                && covers(&grant.client_id, &scope)
                && self.revoke_grant(&id).await?
            {
                revoked.push(id);
            }
        }
        Ok(revoked)
    }

    /// Revokes a grant and with it every token issued from it.
    pub async fn revoke_grant(&self, grant_id: &str) -> Result<bool, GrantFailure> {
        Ok(self.kv.delete(&grant_key(grant_id)).await?)
    }
}

#[cfg(test)]
mod tests;
