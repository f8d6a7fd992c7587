//! The Learner DNA MCP application: one entry point, [`App::handle`], that routes each
//! request to the feature that serves it. Hosts build an [`App`] over their ports and
//! hand it every request; nothing here knows which host runs it.
//!
//! | module | serves |
//! |---|---|
//! | `router` | the entry point: limits, settings, routes |
//! | [`settings`] | every setting, parsed and validated once |
//! | `guard` | the resource guard: a request's token → its [`learner_core::identity::Principal`] |
//! | [`oauth`] | the authorization server's endpoints: discovery, registration, authorize (sign-in, consent), token, revoke, introspect |
//! | `mcp` | the MCP endpoint: one shared core, one module per transport (Streamable HTTP, legacy HTTP+SSE, stateless 2026-07-28) |
//! | `cors` | CORS for the endpoints browsers call |
//! | `headers` | reading list-valued request headers, setting fixed response headers |
//! | [`extension`] | what a build adds (test builds: `learner-test-routes`) |

mod cors;
pub mod extension;
pub mod guard;
mod headers;
mod mcp;
pub mod oauth;
mod router;
pub mod settings;

pub use extension::{Extension, Production};
pub use router::App;
