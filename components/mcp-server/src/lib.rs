//! The MCP server's protocol logic, free of I/O: JSON-RPC 2.0 messages, protocol
//! revisions and their negotiation, sessions, and the dispatch of MCP methods to a
//! [`catalogue`] of tools, resources and prompts that features plug in. The HTTP
//! transports that carry it live in `learner-app`.

pub mod catalogue;
pub mod engine;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod jsonrpc;
pub mod mrtr;
pub mod revision;
pub mod session;
pub mod stateless;
