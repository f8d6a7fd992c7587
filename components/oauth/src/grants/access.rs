//! Validating an access token for the resource it was issued for (RFC 8707, RFC 6750).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use learner_core::ports::{KeyValue, Random};

use super::storage::access_key;
use super::{AccessGrant, AccessRecord, GrantFailure, Grants};
use crate::error::{ErrorCode, OAuthError};
use crate::scope::Scopes;
use crate::token::TokenKind;

impl<K: KeyValue, R: Random> Grants<'_, K, R> {
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
        let Some((token, record)) = self
            .find::<AccessRecord>(TokenKind::AccessToken, access_token, access_key)
            .await?
        else {
            return Err(invalid_token("the access token is invalid or expired"));
        };
        if record.resource != resource {
            return Err(invalid_token("the access token is for another resource"));
        }
        let Some((grant, _)) = self.grant(&record.grant_id).await? else {
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
}
