//! The OAuth 2.1 authorization server's protocol logic (draft-ietf-oauth-v2-1 and the
//! RFCs named in ARCHITECTURE.md): pure functions over parsed input, and a grant store
//! that reaches storage and randomness only through the core's ports — so every rule
//! is testable exhaustively.
//!
//! Built so far, one module each:
//! - `error`: OAuth errors and `WWW-Authenticate` challenges (RFC 6749 §5.2, RFC 6750
//!   §3, RFC 9728 §5.1);
//! - `params`: form parameters, none repeated (RFC 6749 §3.1);
//! - `metadata`: the issuer and discovery documents (RFC 8414, RFC 9728);
//! - `registration`, `clients`: client metadata (RFC 7591), the client store and client
//!   authentication (RFC 6749 §2.3.1; secrets stored hashed, compared in constant time);
//! - `authorize`: authorization request validation and responses (RFC 6749 §4.1,
//!   RFC 8707, RFC 9207), with `pkce` (RFC 7636, S256 only), `redirect` (exact
//!   matching, RFC 8252 loopback) and `scope` (RFC 6749 §3.3);
//! - `token`, `grants`: opaque tokens stored as SHA-256 hashes, grant properties sealed
//!   under a data key each token wraps; single-use codes whose replay revokes the
//!   grant, refresh rotation with reuse detection (RFC 9700 §4.14.2), audience-bound
//!   access tokens, revocation (RFC 7009);
//! - `client_documents`: Client ID Metadata Documents (a `client_id` that is a URL),
//!   fetched through the outbound port, validated and cached within bounds;
//! - `accounts`, `catalogue`: the sign-in accounts and the scopes offered;
//! - `consent`: the scopes a person grants on the consent page;
//! - `rate_limit`: per-key request counters for the endpoints to apply.
//!
//! The HTTP endpoints that use these live in `learner-app`.

pub mod accounts;
pub mod authorize;
pub mod catalogue;
pub mod client_documents;
pub mod clients;
pub mod consent;
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
