//! Ending access for the privacy operations: the OAuth grants of given accounts are
//! revoked (every token issued from them stops working at once) and the MCP sessions
//! opened under them end, closing their open streams.

use learner_core::ports::Host;
use learner_dna::gdpr::{AccessRevocation, Revoked};
use learner_mcp_server::session::Sessions;

use super::events;
use crate::oauth::grant_store;
use crate::settings::Settings;

/// [`AccessRevocation`] over a host's grant and session stores.
pub struct HostRevocation<'a, H> {
    host: &'a H,
    settings: &'a Settings,
}

impl<'a, H: Host> HostRevocation<'a, H> {
    /// Revocation on `host`.
    pub fn new(host: &'a H, settings: &'a Settings) -> Self {
        Self { host, settings }
    }
}

impl<H: Host> AccessRevocation for HostRevocation<'_, H> {
    async fn revoke(
        &self,
        subjects: &[String],
        scopes: Option<&[&str]>,
    ) -> Result<Revoked, String> {
        let host = self.host;
        let grants = grant_store(host, self.settings);
        let sessions = Sessions::new(
            host.key_value(),
            host.random(),
            self.settings.mcp.session_idle_ms,
        );
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
                    events::close(host.key_value(), &session)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(revoked)
    }
}
