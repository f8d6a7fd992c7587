//! Learner DNA MCP core: the ports every component reaches the world through, the HTTP
//! types and limits every host enforces, the one identity type, and the
//! host-independent endpoint that belongs to no feature (health).
//!
//! The core sees the world only through the traits in [`ports`]; a host (the gateway
//! component, the Cloudflare worker) implements them and hands requests to the
//! application's router (`learner-app`). Who asks is an [`identity::Principal`].

pub mod audit_chain;
mod client_addr;
mod error;
pub mod executor;
pub mod health;
mod http_util;
pub mod identity;
pub mod outbound;
pub mod port_calls;
pub mod ports;
mod wit_conversions;

pub use client_addr::{ClientAddr, PEER_ADDR_HEADER};
pub use error::ApiError;
pub use http_util::{
    BodyStream, MAX_BODY_BYTES, MAX_HEADER_BYTES, Reply, Request, Response, header_bytes,
    json_response,
};

/// Lower-case hex of bytes (ids, token hashes, cache keys).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            // Writing to a String cannot fail.
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The build version reported by `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
