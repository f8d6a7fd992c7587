//! The wasmtime harness as a library: engine, port backends and server, so the
//! binary, the benchmarks and the tests share them.

pub mod audit_trail;
pub mod engine;
pub mod native;
pub mod outbound;
pub mod server;
pub mod spin;
pub mod state;
