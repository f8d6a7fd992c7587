//! Revocation: a token presented by its client (RFC 7009), or one grant. (Every grant
//! of a subject: `subject_index`.)

use learner_core::ports::{KeyValue, Random};

use super::storage::{access_key, grant_key, refresh_key};
use super::{AccessRecord, GrantFailure, Grants, RefreshRecord};
use crate::token::TokenKind;

impl<K: KeyValue, R: Random> Grants<'_, K, R> {
    /// Revokes a token presented by `client_id` (RFC 7009): a refresh token revokes
    /// its whole grant, an access token itself. Unknown tokens and tokens of other
    /// clients change nothing (and are not told apart, §2.2). Returns the revoked
    /// grant's id when a grant was revoked.
    pub async fn revoke(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Option<String>, GrantFailure> {
        if let Some((_, record)) = self
            .find::<RefreshRecord>(TokenKind::RefreshToken, token, refresh_key)
            .await?
        {
            if record.client_id == client_id {
                self.revoke_grant(&record.grant_id).await?;
                return Ok(Some(record.grant_id));
            }
            return Ok(None);
        }
        if let Some((access, record)) = self
            .find::<AccessRecord>(TokenKind::AccessToken, token, access_key)
            .await?
            && record.client_id == client_id
        {
            self.kv.delete(&access_key(&access)).await?;
        }
        Ok(None)
    }

    /// Revokes a grant and with it every token issued from it.
    pub async fn revoke_grant(&self, grant_id: &str) -> Result<bool, GrantFailure> {
        Ok(self.kv.delete(&grant_key(grant_id)).await?)
    }
}
