//! The Learner DNA domain: learners, their learning events and the DNA derived from
//! them, the privacy rules every read passes, and the data subject's rights — over
//! the SQL, key-value and audit ports, the same on every host. It knows nothing of MCP
//! or HTTP: `learner-dna-mcp` offers it to MCP clients.
//!
//! | module | holds |
//! |---|---|
//! | `migrations`, `store` | the schema, its versioned migrations, preparing a store |
//! | `records` | the SQL reads, each confined to one tenant |
//! | `derive` | DNA derived from learning events |
//! | `privacy` | the privacy decision ([`privacy::decide`]) and the facts it is made from |
//! | `service` | every operation, each deciding, reading and auditing |
//! | `gdpr` | erasure and withdrawal of consent |
//! | `seed` | the synthetic data generator |

pub mod dates;
pub mod derive;
pub mod gdpr;
pub mod migrations;
pub mod privacy;
pub mod records;
pub mod seed;
pub mod service;
pub mod store;

/// A text value for a SQL parameter.
pub(crate) fn text(s: impl Into<String>) -> learner_core::ports::SqlValue {
    learner_core::ports::SqlValue::Text(s.into())
}
