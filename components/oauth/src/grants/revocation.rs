//! Revocation: a token presented by its client (RFC 7009), every grant of a subject,
//! or one grant; and the index of a subject's grants that makes the second possible.

use learner_core::ports::{KeyValue, KvError, Random};

use super::storage::{access_key, encode, grant_key, refresh_key, subject_key};
use super::{AccessRecord, GrantFailure, Grants, RefreshRecord};
use crate::scope::Scopes;
use crate::token::TokenKind;

/// A subject's index is pruned of ended grants once it holds this many ids.
const SUBJECT_INDEX_PRUNE_AT: usize = 32;
/// Attempts at updating a subject's index under concurrent writers.
const SUBJECT_INDEX_ATTEMPTS: usize = 8;

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

    /// Notes `grant_id` among `subject`'s grants (for [`Grants::revoke_subject`]),
    /// dropping ended grants from the list once it grows.
    pub(super) async fn index_under_subject(
        &self,
        subject: &str,
        grant_id: &str,
    ) -> Result<(), GrantFailure> {
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
            let Some((grant, _)) = self.grant(&id).await? else {
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
