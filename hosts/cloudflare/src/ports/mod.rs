//! The core's ports over Cloudflare bindings, a module each.
//!
//! | port      | binding                                                            |
//! |-----------|--------------------------------------------------------------------|
//! | key-value | Durable Objects `KV_OBJECT`, `MCP_SESSION` (CAS and take are atomic) |
//! | sql       | Durable Object `LEARNER_STORE` (`batch` is one transaction)          |
//! | audit     | Durable Object `AUDIT_LOG`, table `audit_log` (append-only by trigger) |
//! | config    | var `LEARNER_CONFIG` (a JSON object); secrets are other bindings     |
//! | fetch     | `fetch()`, limited by the config's `outbound.allow` list            |
//! | clock     | `Date.now()`                                                        |
//! | random    | `crypto.getRandomValues`                                            |
//!
//! Every call to an object is an RPC method call (see `entry.js`), except the
//! key-value `wait`, which parks in its object and goes by `fetch`.

mod audit;
mod clock;
mod config;
mod fetch;
mod key_value;
mod rpc;
mod sql;

use learner_core::outbound;
use learner_core::ports as core;
use learner_storage::kv_protocol::KvClient;
use worker::Env;

pub use audit::CfAudit;
pub use clock::{CfClock, CfRandom};
pub use config::CfConfig;
pub use fetch::CfFetch;
pub use key_value::{CfKeyValue, ObjectTransport};
pub use sql::CfSql;

/// The ports of one request.
pub type CfHost = core::Ports<CfKeyValue, CfSql, CfAudit, CfConfig, CfFetch, CfClock, CfRandom>;

/// Ports over the worker's bindings.
pub fn host(env: &Env) -> CfHost {
    let config = CfConfig::new(env.clone());
    let allowed = core::Config::get(&config, "outbound.allow")
        .map_or_else(|| Ok(vec![]), |list| outbound::parse_list(&list));
    core::Ports {
        kv: KvClient(ObjectTransport::new(env.clone())),
        sql: CfSql::new(env.clone()),
        audit: CfAudit::new(env.clone()),
        config,
        fetch: CfFetch::new(allowed.map_err(|e| format!("outbound.allow: {e}"))),
        clock: CfClock,
        random: CfRandom,
    }
}
