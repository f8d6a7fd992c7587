//! The Learner DNA domain over the SQL port: the schema and its versioned migrations,
//! applied the same way on every host (the harness's SQLite, Spin's SQLite, Cloudflare
//! D1).

pub mod catalogue;
pub mod dates;
pub mod derive;
pub mod gdpr;
pub mod migrations;
pub mod privacy;
#[cfg(test)]
mod privacy_table;
pub mod records;
pub mod seed;
pub mod service;
pub mod store;
#[cfg(test)]
mod test_host;

/// A text value for a SQL parameter.
pub(crate) fn text(s: impl Into<String>) -> learner_core::ports::SqlValue {
    learner_core::ports::SqlValue::Text(s.into())
}
