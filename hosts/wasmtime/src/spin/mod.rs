//! The Spin profile (`learner-mcp serve --spin spin.toml`): serves a Spin application
//! by implementing, natively, the Spin interfaces its component imports.

pub mod host;
pub mod manifest;
