//! The storage semantics of the ports every host keeps in SQLite, written once.
//!
//! The harness (rusqlite), the Spin adapter (Spin SQLite) and the Cloudflare worker
//! (Durable Objects' SQLite storage, for every storage port) each supply
//! only a [`Driver`]: run a statement, and run a piece of work inside an immediate
//! transaction. Everything the ports promise on top of that — versions, expiry,
//! linearizable compare-and-swap and take ([`kv`]), the hash-chained audit append and
//! its retry on contention ([`audit`]), a statement's change count and a batch's
//! all-or-nothing ([`sql_port`]) — is decided here, once.
//!
//! # Storage schema
//!
//! | table | holds | written by | read by |
//! |---|---|---|---|
//! | `kv (key, value, version, expires_at_ms)` | the key-value port's entries; expired rows are invisible and purged on writes | [`kv::KvStore`] only | [`kv::KvStore`] only |
//! | `kv_version (id = 1, last)` | the one version counter of a store: a key deleted and written again never reuses a version (no ABA) | [`kv::KvStore`] | [`kv::KvStore`] |
//! | `audit_log (sequence, at_ms, kind, actor, outcome, detail_json, prev_hash, hash)` | the audit trail, a hash chain (`learner_core::audit_chain`); append-only by trigger | [`audit::append`] only | [`audit::read`]; `learner-mcp audit verify/export` |
//!
//! What the application stores in the key-value port (grants, clients, sessions) is
//! described where it is written (`learner_oauth::grants`, `learner_app`); the Learner
//! DNA tables are in `components/dna/migrations`.

pub mod audit;
pub mod driver;
pub mod kv;
pub mod kv_protocol;
#[cfg(feature = "rusqlite")]
pub mod native;
pub mod schema;
pub mod sql_port;

pub use driver::{Connection, Counters, Driver, Rows};
pub use learner_core::ports::SqlValue;
