//! Resource subscriptions across sessions: which sessions subscribed to a URI (an
//! index in the key-value store), and telling them when it changes — a
//! `notifications/resources/updated` on each one's standalone stream.

use learner_core::ports::{Host, KeyValue, KvError};
use learner_mcp_server::jsonrpc;
use learner_mcp_server::session::Sessions;
use learner_mcp_server::stateless::SUBSCRIPTION_ID;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::events;

/// `notifications/resources/updated`, naming a listener's subscription when sent to
/// one.
#[derive(Serialize)]
struct Updated {
    uri: String,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<Map<String, Value>>,
}

/// Most sessions one URI's index holds; past it new subscribers are not indexed.
pub const MAX_SUBSCRIBERS: usize = 1_000;
/// Compare-and-swap attempts before an index change is given up.
const ATTEMPTS: usize = 8;

fn index_key(uri: &str) -> String {
    format!(
        "mcp:subscribers:{}",
        learner_core::hex(&Sha256::digest(uri.as_bytes()))
    )
}

async fn change<K: KeyValue>(
    kv: &K,
    uri: &str,
    ttl_ms: u64,
    edit: impl Fn(&mut Vec<String>),
) -> Result<(), KvError> {
    let key = index_key(uri);
    for _ in 0..ATTEMPTS {
        let current = kv.get(&key).await?;
        let mut sessions: Vec<String> = current
            .as_ref()
            .and_then(|e| serde_json::from_slice(&e.value).ok())
            .unwrap_or_default();
        edit(&mut sessions);
        let bytes = serde_json::to_vec(&sessions).unwrap_or_default();
        match kv
            .compare_and_swap(&key, current.map(|e| e.version), &bytes, Some(ttl_ms))
            .await
        {
            Ok(_) => return Ok(()),
            Err(KvError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Err(KvError::Backend("the subscriber index is too busy".into()))
}

/// Indexes `session` as a subscriber of `uri` for `ttl_ms` (a session's idle lifetime)
/// when `subscribed`, or drops it from `uri`'s subscribers.
pub async fn set_subscribed<K: KeyValue>(
    kv: &K,
    uri: &str,
    session: &str,
    ttl_ms: u64,
    subscribed: bool,
) -> Result<(), KvError> {
    change(kv, uri, ttl_ms, |sessions| {
        if subscribed {
            if !sessions.iter().any(|s| s == session) && sessions.len() < MAX_SUBSCRIBERS {
                sessions.push(session.to_owned());
            }
        } else {
            sessions.retain(|s| s != session);
        }
    })
    .await
}

/// Tells every live session subscribed to `uri` that it changed. Sessions that ended
/// or unsubscribed since are dropped from the index.
pub async fn notify_updated<H: Host>(host: &H, uri: &str, ttl_ms: u64) {
    let kv = host.key_value();
    let Ok(Some(entry)) = kv.get(&index_key(uri)).await else {
        return;
    };
    let subscribers: Vec<String> = serde_json::from_slice(&entry.value).unwrap_or_default();
    let sessions = Sessions::new(kv, host.random(), ttl_ms);
    for id in subscribers {
        match sessions.peek(&id).await {
            Ok(Some(session)) if session.subscriptions.iter().any(|s| s == uri) => {
                // A listener's notifications name its subscription.
                let meta = super::stateless::subscription_id(&session).map(|subscription| {
                    let mut meta = Map::new();
                    meta.insert(SUBSCRIPTION_ID.into(), subscription);
                    meta
                });
                let params = Updated {
                    uri: uri.to_owned(),
                    meta,
                };
                let message = jsonrpc::notification("notifications/resources/updated", &params);
                let _ = events::append(kv, &id, events::STANDALONE, &message).await;
            }
            Ok(_) => {
                let _ = set_subscribed(kv, uri, &id, ttl_ms, false).await;
            }
            Err(_) => {}
        }
    }
}
