//! Protocol revisions: which the server speaks, how `initialize` negotiates one, and
//! the features that differ between them.

/// A protocol revision this server speaks, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Revision {
    /// The first published revision; the legacy HTTP+SSE transport.
    V2024_11_05,
    /// Streamable HTTP, batching, audio content, tool annotations, completions.
    V2025_03_26,
    /// Structured tool output, elicitation, `MCP-Protocol-Version`, no batching.
    V2025_06_18,
    /// The last revision with `initialize` and sessions.
    V2025_11_25,
    /// The stateless revision: no `initialize`, `server/discover`, per-request `_meta`.
    V2026_07_28,
}

impl Revision {
    /// Every revision, oldest first.
    pub const ALL: [Self; 5] = [
        Self::V2024_11_05,
        Self::V2025_03_26,
        Self::V2025_06_18,
        Self::V2025_11_25,
        Self::V2026_07_28,
    ];

    /// The newest revision `initialize` can agree on.
    pub const NEWEST_SESSION: Self = Self::V2025_11_25;

    /// The date string on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// The revision named by `text`, if this server speaks it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// `initialize`'s answer to a requested revision: the same one when this server
    /// speaks it in the session era, else the newest it does (the client then decides
    /// whether to continue).
    pub fn negotiate(requested: &str) -> Self {
        match Self::parse(requested) {
            Some(revision) if revision.has_sessions() => revision,
            _ => Self::NEWEST_SESSION,
        }
    }

    /// Whether the revision opens sessions with `initialize`.
    pub fn has_sessions(self) -> bool {
        self <= Self::V2025_11_25
    }

    /// Whether a POST may carry a JSON-RPC batch (only 2025-03-26 allowed it).
    pub fn allows_batches(self) -> bool {
        self == Self::V2025_03_26
    }

    /// Whether tools may declare `outputSchema` and return `structuredContent`, and
    /// titles appear on definitions.
    pub fn has_structured_output(self) -> bool {
        self >= Self::V2025_06_18
    }

    /// Whether audio content and tool annotations exist.
    pub fn has_audio(self) -> bool {
        self >= Self::V2025_03_26
    }

    /// Whether the server may ask the user for input (`elicitation/create`).
    pub fn has_elicitation(self) -> bool {
        self >= Self::V2025_06_18
    }

    /// Whether every request after `initialize` must carry `MCP-Protocol-Version`.
    pub fn requires_version_header(self) -> bool {
        self >= Self::V2025_06_18
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialize_echoes_a_known_session_revision_else_offers_the_newest() {
        for revision in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
            assert_eq!(Revision::negotiate(revision).as_str(), revision);
        }
        for other in ["2099-01-01", "", "2024-10-07", "2026-07-28"] {
            assert_eq!(
                Revision::negotiate(other),
                Revision::NEWEST_SESSION,
                "{other}"
            );
        }
    }

    #[test]
    fn features_follow_the_revision() {
        assert!(Revision::V2025_03_26.allows_batches());
        assert!(!Revision::V2025_06_18.allows_batches());
        assert!(!Revision::V2024_11_05.allows_batches());
        assert!(!Revision::V2025_03_26.has_structured_output());
        assert!(Revision::V2025_11_25.has_structured_output());
        assert!(!Revision::V2026_07_28.has_sessions());
        for revision in Revision::ALL {
            assert_eq!(Revision::parse(revision.as_str()), Some(revision));
        }
    }
}
