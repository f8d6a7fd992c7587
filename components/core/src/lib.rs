//! Learner DNA MCP core: host-independent application logic.
//!
//! The core sees the world only through the traits in [`ports`]; a host (the gateway
//! component, the Cloudflare worker) implements them and hands requests to
//! [`App::handle`].

mod app;
mod error;
mod health;
mod http_util;
pub mod outbound;
pub mod ports;
#[cfg(feature = "test-routes")]
mod test_routes;

pub use app::App;
pub use error::ApiError;
pub use http_util::{MAX_BODY_BYTES, MAX_HEADER_BYTES, Request, Response, json_response};

/// The build version reported by `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
