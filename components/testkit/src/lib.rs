//! Test support for the Learner DNA MCP crates: the ports in memory, a whole host over
//! any SQL port, the SQL port over an in-memory SQLite database (the very port the
//! harness serves), and an executor for futures that never wait.
//!
//! A dev-dependency only: nothing here is compiled into what ships.

mod ports;
mod sql;

pub use ports::{
    Counter, MemoryAudit, MemoryHost, MemoryKv, MemoryStore, NoConfig, NoFetch, TestClock,
    memory_host, run,
};
pub use sql::MemorySql;

use learner_core::identity::{Member, Principal, Role};

/// A principal of client `c`'s grant `g` for `demo:teacher` with `scopes` and no
/// member of any tenant (what the MCP engine's own tests call with: the engine decides
/// by scope alone).
pub fn memberless(scopes: &[&str]) -> Principal {
    Principal {
        subject: "demo:teacher".into(),
        client_id: "c".into(),
        grant_id: "g".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        member: None,
    }
}

/// A principal of `tenant` in `role`, with `scopes`, acting through `client` (grant
/// `g-<client>`).
pub fn principal(
    tenant: &str,
    subject: &str,
    role: Role,
    client: &str,
    scopes: &[&str],
) -> Principal {
    Principal {
        subject: subject.into(),
        client_id: client.into(),
        grant_id: format!("g-{client}"),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        member: Some(Member {
            tenant: tenant.into(),
            role,
            display_name: None,
        }),
    }
}
