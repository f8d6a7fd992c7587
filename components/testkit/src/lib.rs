//! Test support for the Learner DNA MCP crates: the ports in memory, a whole host over
//! any SQL port, the SQL port over an in-memory SQLite database (the very port the
//! harness serves), and an executor for futures that never wait.
//!
//! A dev-dependency only: nothing here is compiled into what ships.

mod ports;
mod sql;

pub use ports::{
    Counter, MemoryAudit, MemoryHost, MemoryKv, NoConfig, NoFetch, TestClock, run,
};
pub use sql::MemorySql;
