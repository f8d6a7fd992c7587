//! The audit trail's hash chain: each entry's hash covers the previous entry's hash, so
//! changing, removing or reordering any entry breaks every link after it. Hosts compute
//! [`link`] when they append; [`Verifier`] checks a chain read back in order.

use sha2::{Digest, Sha256};

use crate::ports::{AuditEntry, AuditRecord};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of the entry `sequence` holding `record` after an entry hashed `prev_hash`:
/// SHA-256 (lower-case hex) over a domain tag, the sequence and time as big-endian
/// integers, and the previous hash and each text field prefixed by its length, so no
/// two different entries encode alike.
pub fn link(prev_hash: &str, sequence: u64, record: &AuditRecord) -> String {
    let mut digest = Sha256::new();
    digest.update(b"learner-dna-audit-v1\0");
    digest.update(sequence.to_be_bytes());
    digest.update(record.at_ms.to_be_bytes());
    for field in [
        prev_hash,
        record.kind.as_str(),
        record.actor.as_str(),
        record.outcome.as_str(),
        record.detail_json.as_str(),
    ] {
        digest.update((field.len() as u64).to_be_bytes());
        digest.update(field.as_bytes());
    }
    crate::hex(&digest.finalize())
}

/// Why a chain is broken, at the first entry that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// An entry is missing or out of order.
    #[error("entry {found} follows entry {previous}: the sequence has a gap or is out of order")]
    Sequence {
        /// The last entry that checked out (0 before the first).
        previous: u64,
        /// The entry found next.
        found: u64,
    },
    /// The entry does not name the previous entry's hash.
    #[error("entry {sequence} does not link to the hash of the entry before it")]
    PrevHash {
        /// The entry.
        sequence: u64,
    },
    /// The entry's content does not match its hash (it was changed).
    #[error("entry {sequence} does not match its hash: its content was changed")]
    Hash {
        /// The entry.
        sequence: u64,
    },
}

impl Broken {
    /// The sequence number of the first broken link.
    pub fn sequence(&self) -> u64 {
        match self {
            Self::Sequence { found, .. } => *found,
            Self::PrevHash { sequence } | Self::Hash { sequence } => *sequence,
        }
    }
}

/// Checks entries one at a time, oldest first, from the first entry of the trail.
#[derive(Debug, Clone)]
pub struct Verifier {
    previous: u64,
    prev_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            previous: 0,
            prev_hash: GENESIS.into(),
        }
    }
}

impl Verifier {
    /// A verifier at the start of the trail.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry.
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), Broken> {
        if entry.sequence != self.previous + 1 {
            return Err(Broken::Sequence {
                previous: self.previous,
                found: entry.sequence,
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(Broken::PrevHash {
                sequence: entry.sequence,
            });
        }
        if link(&entry.prev_hash, entry.sequence, &entry.record) != entry.hash {
            return Err(Broken::Hash {
                sequence: entry.sequence,
            });
        }
        self.previous = entry.sequence;
        self.prev_hash.clone_from(&entry.hash);
        Ok(())
    }

    /// Entries checked so far.
    pub fn verified(&self) -> u64 {
        self.previous
    }

    /// The hash of the last entry checked (the trail's head).
    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u64) -> AuditRecord {
        AuditRecord {
            at_ms: 1_700_000_000_000 + i,
            kind: "dna.profile.read".into(),
            actor: "demo:teacher".into(),
            outcome: "allowed".into(),
            detail_json: format!("{{\"i\":{i}}}"),
        }
    }

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|sequence| {
                let record = record(sequence);
                let hash = link(&prev, sequence, &record);
                AuditEntry {
                    sequence,
                    record,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                }
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry]) -> Result<u64, Broken> {
        let mut verifier = Verifier::new();
        for entry in entries {
            verifier.check(entry)?;
        }
        Ok(verifier.verified())
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn every_kind_of_tampering_names_the_first_broken_entry() {
        let mut changed = chain(5);
        changed[2].record.detail_json = "{\"i\":99}".into();
        assert_eq!(verify(&changed), Err(Broken::Hash { sequence: 3 }));

        // Rehashing the changed entry moves the break to the next link.
        changed[2].hash = link(&changed[2].prev_hash, 3, &changed[2].record);
        assert_eq!(verify(&changed), Err(Broken::PrevHash { sequence: 4 }));

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(
            verify(&removed),
            Err(Broken::Sequence {
                previous: 1,
                found: 3
            })
        );

        let mut truncated_front = chain(5);
        truncated_front.remove(0);
        assert_eq!(verify(&truncated_front).map_err(|b| b.sequence()), Err(2));

        for field in 0..4 {
            let mut entries = chain(3);
            let r = &mut entries[1].record;
            match field {
                0 => r.kind.push('x'),
                1 => r.actor.push('x'),
                2 => r.outcome = "denied".into(),
                _ => r.at_ms += 1,
            }
            assert_eq!(
                verify(&entries),
                Err(Broken::Hash { sequence: 2 }),
                "{field}"
            );
        }
    }

    #[test]
    fn fields_cannot_trade_bytes() {
        let a = AuditRecord {
            kind: "ab".into(),
            actor: "c".into(),
            ..record(1)
        };
        let b = AuditRecord {
            kind: "a".into(),
            actor: "bc".into(),
            ..record(1)
        };
        assert_ne!(link(GENESIS, 1, &a), link(GENESIS, 1, &b));
        assert_eq!(link(GENESIS, 1, &a).len(), 64);
    }
}
