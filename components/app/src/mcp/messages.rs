//! The messages of one POST on a session (Streamable HTTP, and the legacy transport's
//! `/messages`): notifications and answers taken in, requests dispatched, the session
//! saved, subscriptions indexed, and subscribers of changed resources told.

use std::cell::RefCell;

use learner_core::Response;
use learner_core::ports::Host;
use learner_mcp_server::catalogue::{ClientRequests, Outbox};
use learner_mcp_server::engine::{Dispatch, Effect, Refusal};
use learner_mcp_server::jsonrpc::{self, Incoming, RpcError};
use learner_mcp_server::session::{MAX_SUBSCRIPTIONS, Session, Stored};
use serde_json::Value;

use super::{Admitted, Endpoint, stream, subscriptions, unavailable};
use crate::extension::Extension;
use crate::guard;

/// Handles the messages of one POST on a session: notifications and answers are taken
/// in, requests dispatched; the session saved, subscriptions indexed and subscribers
/// of changed resources told. Returns the messages for the client (notifications and
/// responses, in order) and whether any request was among them.
pub async fn run_messages<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    admitted: &Admitted,
    stored: &mut Stored,
    messages: Vec<jsonrpc::Parsed>,
    client: Option<&dyn ClientRequests>,
) -> Result<(Vec<Value>, bool), Response> {
    let host = &*endpoint.host;
    let catalogue = endpoint.catalogue();
    let revision = stored.session.revision();
    let sessions = endpoint.sessions();
    let mut out: Vec<Value> = Vec::new();
    let mut any_request = false;
    let mut initialized = false;
    let mut effects: Vec<Effect> = Vec::new();
    let mut updated: Vec<String> = Vec::new();
    let mut index_changes: Vec<(String, bool)> = Vec::new();
    for parsed in messages {
        match parsed {
            Err((id, error)) => {
                any_request = true;
                out.push(jsonrpc::error(id.as_ref(), &error));
            }
            Ok(Incoming::Notification { method, .. }) => {
                if method == "notifications/initialized" {
                    initialized = true;
                }
                // Cancellation, progress and root changes need no answer: every request
                // is answered within its own HTTP exchange.
            }
            Ok(Incoming::Response { id, outcome }) => {
                // An answer to a request sent on a tool call's stream; answers nobody
                // waits for are dropped.
                stream::deliver_answer(host.key_value(), &stored.id, &id, outcome).await;
            }
            Ok(Incoming::Request { id, method, params }) => {
                any_request = true;
                let dispatch = Dispatch {
                    catalogue: &catalogue,
                    caller: &admitted.principal,
                    revision,
                    client_capabilities: &stored.session.client_capabilities,
                    log_level: stored.session.log_level,
                    page_size: endpoint.settings.mcp.page_size,
                    client,
                    notifications: Outbox::default(),
                    updated: RefCell::default(),
                    state_key: None,
                };
                let outcome = if method == "initialize" {
                    Err(Refusal::Rpc(RpcError::invalid_request(
                        "the session is already initialized",
                    )))
                } else {
                    dispatch.request(&method, &params).await
                };
                out.extend(dispatch.notifications.borrow_mut().drain(..));
                updated.extend(dispatch.updated.take());
                match outcome {
                    Ok(answer) => {
                        if let Some(effect) = answer.effect {
                            if let Effect::Subscribe(uri) | Effect::Unsubscribe(uri) = &effect {
                                index_changes
                                    .push((uri.clone(), matches!(effect, Effect::Subscribe(_))));
                            }
                            effects.push(effect);
                        }
                        out.push(jsonrpc::result(&id, answer.result));
                    }
                    Err(Refusal::Rpc(error)) => out.push(jsonrpc::error(Some(&id), &error)),
                    Err(Refusal::InsufficientScope(scope)) => {
                        return Err(guard::insufficient_scope(&admitted.issuer, &scope));
                    }
                }
            }
        }
    }
    // Other requests of the session may have written it meanwhile (a GET stream
    // renewing it, a parallel POST): the changes are applied to the latest copy.
    sessions
        .update(stored, |session| {
            let mut changed = initialized && !session.initialized;
            session.initialized |= initialized;
            for effect in &effects {
                changed |= apply(session, effect.clone());
            }
            changed
        })
        .await
        .map_err(|_| unavailable())?;
    let ttl = endpoint.settings.mcp.session_idle_ms;
    for (uri, subscribe) in index_changes {
        subscriptions::set_subscribed(host.key_value(), &uri, &stored.id, ttl, subscribe)
            .await
            .map_err(|_| unavailable())?;
    }
    for uri in updated {
        subscriptions::notify_updated(host, &uri, ttl).await;
    }
    Ok((out, any_request))
}

/// Applies a session change; whether anything changed.
fn apply(session: &mut Session, effect: Effect) -> bool {
    match effect {
        Effect::SetLogLevel(level) => {
            let changed = session.log_level != Some(level);
            session.log_level = Some(level);
            changed
        }
        Effect::Subscribe(uri) => {
            if session.subscriptions.contains(&uri)
                || session.subscriptions.len() >= MAX_SUBSCRIPTIONS
            {
                return false;
            }
            session.subscriptions.push(uri);
            true
        }
        Effect::Unsubscribe(uri) => {
            let before = session.subscriptions.len();
            session.subscriptions.retain(|u| u != &uri);
            before != session.subscriptions.len()
        }
    }
}
