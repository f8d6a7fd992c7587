//! Issuing an authorization code for an approved request and exchanging it for
//! tokens (RFC 6749 §4.1.3): single use, and a replay revokes the grant.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_core::ports::{KeyValue, KvError, Random};
use serde_json::Value;

use super::storage::{access_key, code_key, code_used_key, decode, encode, grant_key, refresh_key};
use super::{
    AccessRecord, CodeRecord, GrantFailure, GrantRecord, Grants, IssuedTokens, RefreshRecord,
    invalid,
};
use crate::authorize::AuthorizationRequest;
use crate::error::{ErrorCode, OAuthError};
use crate::pkce::CodeChallenge;
use crate::scope::Scopes;
use crate::token::{DataKey, NONCE_BYTES, Token, TokenKind};

impl<K: KeyValue, R: Random> Grants<'_, K, R> {
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
        self.store(
            &grant_key(&grant_id),
            &grant,
            self.lifetimes.replay_marker_ms(),
        )
        .await?;
        let code = self.token(TokenKind::AuthorizationCode);
        let record = CodeRecord {
            grant_id,
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.as_str().to_owned(),
            wrapped_key: self.wrap(&key, &code),
        };
        self.store(&code_key(&code), &record, self.lifetimes.code_ms)
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
                self.revoke_grant(&grant_id).await?;
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
                Some(self.lifetimes.replay_marker_ms()),
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
        let Some((grant, grant_version)) = self.grant(&record.grant_id).await? else {
            return Err(invalid("the grant was revoked"));
        };
        if resource.is_some_and(|r| r != grant.resource) {
            return Err(GrantFailure::Invalid(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource does not match the authorization request",
            )));
        }
        let key = Self::unwrap(&code, &record.wrapped_key)?;
        let scope = grant.scopes()?;
        let issued = self
            .issue_tokens(&record.grant_id, &grant, &key, scope, refresh_allowed)
            .await?;
        // A concurrent revocation wins over this exchange.
        self.rotate(&record.grant_id, grant_version, grant, &issued)
            .await
            .map_err(|e| match e {
                KvError::Conflict(_) => invalid("the grant changed during the exchange"),
                other => GrantFailure::Storage(other),
            })?;
        Ok(issued)
    }

    /// Issues an access token (and, if `refresh_allowed`, a refresh token) of `grant`,
    /// each wrapping the grant's data `key`.
    pub(super) async fn issue_tokens(
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
        self.store(&access_key(&access), &record, self.lifetimes.access_ms)
            .await?;
        let refresh = if refresh_allowed {
            let refresh = self.token(TokenKind::RefreshToken);
            let record = RefreshRecord {
                grant_id: grant_id.to_owned(),
                client_id: grant.client_id.clone(),
                wrapped_key: self.wrap(key, &refresh),
            };
            self.store(&refresh_key(&refresh), &record, self.lifetimes.refresh_ms)
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
}
