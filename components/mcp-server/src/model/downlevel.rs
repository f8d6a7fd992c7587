//! Each revision's view of the model, in one place: what a definition or result may
//! carry depends on the revision a session (or request) speaks, and everything newer
//! is dropped here, once, before it is written.
//!
//! | revision | drops |
//! |---|---|
//! | 2024-11-05 | titles, output schemas, structured content, tool annotations, the completions capability |
//! | 2025-03-26 | titles, output schemas, structured content |
//! | 2025-06-18 and later | nothing |

use crate::revision::Revision;

use super::definitions::{Prompt, Resource, ResourceTemplate, Tool};
use super::results::{CallToolResult, ServerCapabilities};

/// A model value that some revisions know only in part.
pub trait Downlevel {
    /// The value as `revision` knows it.
    #[must_use]
    fn downlevel(self, revision: Revision) -> Self;
}

impl Downlevel for Tool {
    fn downlevel(mut self, revision: Revision) -> Self {
        if !revision.has_structured_output() {
            self.title = None;
            self.output_schema = None;
        }
        if !revision.has_audio() {
            self.annotations = None;
        }
        self
    }
}

/// Resources, templates and prompts: their title (2025-06-18+) is all they carry that
/// older revisions lack.
macro_rules! titled {
    ($($kind:ty),*) => {$(
        impl Downlevel for $kind {
            fn downlevel(mut self, revision: Revision) -> Self {
                if !revision.has_structured_output() {
                    self.title = None;
                }
                self
            }
        }
    )*};
}

titled!(Resource, ResourceTemplate, Prompt);

impl Downlevel for CallToolResult {
    fn downlevel(mut self, revision: Revision) -> Self {
        if !revision.has_structured_output() {
            self.structured_content = None;
        }
        self
    }
}

impl Downlevel for ServerCapabilities {
    fn downlevel(mut self, revision: Revision) -> Self {
        if revision < Revision::V2025_03_26 {
            self.completions = None;
        }
        self
    }
}
