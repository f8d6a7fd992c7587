//! Ending access for the privacy operations: the OAuth grants of given accounts are
//! revoked (every token issued from them stops working at once) and the MCP sessions
//! opened under them end, closing their open streams.

use learner_core::ports::Host;
use learner_dna::gdpr::{AccessRevocation, Revoked};
use learner_mcp_server::session::Sessions;

use crate::mcp_events;
use crate::mcp_http::idle_ms;
use crate::oauth_http::grant_store;

/// [`AccessRevocation`] over a host's grant and session stores.
pub struct HostRevocation<'a, H> {
    host: &'a H,
}

impl<'a, H: Host> HostRevocation<'a, H> {
    /// Revocation on `host`.
    pub fn new(host: &'a H) -> Self {
        Self { host }
    }
}

impl<H: Host> AccessRevocation for HostRevocation<'_, H> {
    async fn revoke(
        &self,
        subjects: &[String],
        scopes: Option<&[&str]>,
    ) -> Result<Revoked, String> {
        let host = self.host;
        let grants = grant_store(host);
        let sessions = Sessions::new(host.key_value(), host.random(), idle_ms(host.config()));
        let mut revoked = Revoked::default();
        for subject in subjects {
            let ids = grants
                .revoke_subject(subject, |_, scope| {
                    scopes.is_none_or(|wanted| wanted.iter().any(|s| scope.contains(s)))
                })
                .await
                .map_err(|e| format!("revoking grants: {e:?}"))?;
            revoked.grants += ids.len();
            for grant in ids {
                for session in sessions.of_grant(&grant).await.map_err(|e| e.to_string())? {
                    if sessions.end(&session).await.map_err(|e| e.to_string())? {
                        revoked.sessions += 1;
                    }
                    mcp_events::close(host.key_value(), &session)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(revoked)
    }
}
