//! The MCP server's protocol logic, free of I/O: JSON-RPC 2.0 messages, protocol
//! revisions and their negotiation, sessions, the typed MCP [`model`], and the
//! dispatch of MCP methods ([`engine`]) to a [`catalogue`] of tools, resources and
//! prompts that features plug in. The HTTP transports that carry it live in
//! `learner-app`.

pub mod catalogue;
pub mod engine;
pub mod jsonrpc;
pub mod model;
pub mod mrtr;
pub mod revision;
pub mod session;
pub mod stateless;
pub mod uri_template;
