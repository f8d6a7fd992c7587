//! The OAuth 2.1 authorization server's protocol logic (draft-ietf-oauth-v2-1 and the
//! RFCs named in ARCHITECTURE.md): pure functions over parsed input, and a grant store
//! that reaches storage and randomness only through the core's ports — so every rule
//! is testable exhaustively.
//!
//! Built so far: errors and `WWW-Authenticate` challenges (RFC 6749 §5.2, RFC 6750 §3,
//! RFC 9728 §5.1), form parameters without repeats (RFC 6749 §3.1), discovery
//! documents (RFC 8414, RFC 9728), client registration metadata (RFC 7591),
//! authorization request validation and responses (RFC 6749 §4.1, RFC 8707, RFC 9207),
//! PKCE (RFC 7636, S256 only), redirect URIs (registration rules and matching, RFC
//! 8252 loopback), scope syntax (RFC 6749 §3.3), and token material (opaque tokens
//! stored as SHA-256 hashes; grant properties sealed under a data key that each token
//! wraps), and the grant store over the key-value port (single-use codes whose replay
//! revokes the grant, refresh rotation with reuse detection, audience-bound access
//! tokens, RFC 7009 revocation), and registered clients with client authentication (RFC 7591
//! §3, RFC 6749 §2.3.1; secrets stored hashed, compared in constant time). Not yet:
//! the HTTP endpoints, Client ID Metadata Documents, introspection, sign-in and
//! consent. Rate limits are counted here (`rate_limit`); applying them is the
//! endpoints' job.

pub mod authorize;
pub mod clients;
pub mod error;
pub mod grants;
pub mod metadata;
pub mod params;
pub mod pkce;
pub mod rate_limit;
pub mod redirect;
pub mod registration;
pub mod scope;
pub mod token;

#[cfg(test)]
mod testing;
