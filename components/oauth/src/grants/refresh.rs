//! Refresh token rotation (RFC 6749 §6) with reuse detection (RFC 9700 §4.14.2): every
//! use issues a new refresh token, and presenting a rotated-out one revokes the grant.

use learner_core::ports::{KeyValue, KvError, Random};

use super::storage::refresh_key;
use super::{GrantFailure, Grants, IssuedTokens, RefreshRecord, invalid};
use crate::error::{ErrorCode, OAuthError};
use crate::scope::Scopes;
use crate::token::TokenKind;

impl<K: KeyValue, R: Random> Grants<'_, K, R> {
    /// Uses a refresh token (RFC 6749 §6): rotates it; presenting a rotated-out one
    /// revokes the grant. `scope`, if given, may only narrow the grant's scope.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
        scope: Option<&Scopes>,
    ) -> Result<IssuedTokens, GrantFailure> {
        let Some((presented, record)) = self
            .find::<RefreshRecord>(TokenKind::RefreshToken, refresh_token, refresh_key)
            .await?
        else {
            return Err(invalid("the refresh token is invalid or expired"));
        };
        if record.client_id != client_id {
            return Err(invalid("the refresh token was issued to another client"));
        }
        let Some((grant, grant_version)) = self.grant(&record.grant_id).await? else {
            return Err(invalid("the grant was revoked"));
        };
        let presented_hash = presented.hash().to_hex();
        if grant.current_refresh.as_deref() != Some(presented_hash.as_str()) {
            return Err(self.revoke_reused(record.grant_id).await);
        }
        let granted = grant.scopes()?;
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
        // Two concurrent uses of the same refresh token: exactly one wins the swap;
        // the loser is treated as reuse and revokes the grant.
        match self
            .rotate(&record.grant_id, grant_version, grant, &issued)
            .await
        {
            Ok(()) => Ok(issued),
            Err(KvError::Conflict(_)) => Err(self.revoke_reused(record.grant_id).await),
            Err(other) => Err(GrantFailure::Storage(other)),
        }
    }

    /// Revokes a grant whose refresh token was used twice, and says so (or that the
    /// revocation itself failed).
    async fn revoke_reused(&self, grant_id: String) -> GrantFailure {
        match self.revoke_grant(&grant_id).await {
            Ok(_) => GrantFailure::RefreshReused { grant_id },
            Err(failure) => failure,
        }
    }
}
