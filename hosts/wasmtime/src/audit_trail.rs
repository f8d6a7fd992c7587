//! `learner-mcp audit verify` and `audit export`: read the trail page by page, oldest
//! first, checking the hash chain (`learner_core::audit_chain`) as it goes.

use std::io::Write;

use learner_core::audit_chain::{Broken, Verifier};
use serde_json::json;

use crate::native::audit::SqliteAudit;

/// Entries read per page.
const PAGE: u32 = 1000;

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry links to the one before it and matches its hash.
    Intact {
        /// Entries checked.
        entries: u64,
        /// The last entry's hash.
        head: String,
    },
    /// The first broken link.
    Broken {
        /// Entries that verified before it.
        verified: u64,
        /// What is wrong, at which entry.
        broken: Broken,
    },
}

/// Checks the whole chain.
pub fn verify(audit: &SqliteAudit) -> Result<Verdict, String> {
    let mut verifier = Verifier::new();
    loop {
        let page = audit.read(verifier.verified(), PAGE)?;
        if page.is_empty() {
            return Ok(Verdict::Intact {
                entries: verifier.verified(),
                head: verifier.head().to_owned(),
            });
        }
        for entry in &page {
            if let Err(broken) = verifier.check(entry) {
                return Ok(Verdict::Broken {
                    verified: verifier.verified(),
                    broken,
                });
            }
        }
    }
}

/// Writes every entry as one JSON line (the record's fields, `detail_json` verbatim so
/// anyone can recompute the hashes), verifying as it goes; stops at a broken link.
pub fn export(audit: &SqliteAudit, out: &mut impl Write) -> Result<Verdict, String> {
    let mut verifier = Verifier::new();
    loop {
        let page = audit.read(verifier.verified(), PAGE)?;
        if page.is_empty() {
            out.flush().map_err(|e| e.to_string())?;
            return Ok(Verdict::Intact {
                entries: verifier.verified(),
                head: verifier.head().to_owned(),
            });
        }
        for entry in &page {
            if let Err(broken) = verifier.check(entry) {
                out.flush().map_err(|e| e.to_string())?;
                return Ok(Verdict::Broken {
                    verified: verifier.verified(),
                    broken,
                });
            }
            let line = json!({
                "sequence": entry.sequence,
                "at_ms": entry.record.at_ms,
                "kind": entry.record.kind,
                "actor": entry.record.actor,
                "outcome": entry.record.outcome,
                "detail_json": entry.record.detail_json,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            });
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
        }
    }
}
