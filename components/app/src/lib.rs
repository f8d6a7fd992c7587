//! The Learner DNA MCP application: one entry point, [`App::handle`], that routes each
//! request to the feature that serves it. Hosts build an [`App`] over their ports and
//! hand it every request; nothing here knows which host runs it.

mod access_revocation;
mod authorize_endpoint;
mod client_lookup;
mod cors;
mod mcp_events;
mod mcp_http;
mod mcp_legacy;
mod mcp_stateless;
mod mcp_stream;
mod mcp_subscriptions;
mod oauth_http;
mod pages;
mod resource_guard;
mod router;
#[cfg(feature = "test-routes")]
mod test_routes;
mod token_endpoint;

pub use router::App;
