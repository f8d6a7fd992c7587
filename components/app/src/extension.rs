//! What a build adds to the application. Production builds add nothing
//! ([`Production`]); the test build of each host adds the routes its suites drive and
//! the MCP conformance fixtures (crate `learner-test-routes`), so test support is
//! compiled into test builds only and never into a release artifact.

use learner_core::ports::Host;
use learner_core::{ApiError, Request, Response};
use learner_mcp_server::catalogue::{Catalogue, Nothing};

use crate::settings::Settings;

/// What an extension's route answers: `None` declines (the application answers 404).
pub type Routed = Option<Result<Response, ApiError>>;

/// Routes and a catalogue a build adds.
#[allow(async_fn_in_trait)] // Static dispatch only; futures are not `Send` (see ports).
pub trait Extension: 'static {
    /// A catalogue offered beside the Learner DNA one.
    type Catalogue: Catalogue;

    /// The catalogue.
    fn catalogue(&self) -> Self::Catalogue;

    /// Answers a request that no route of the application's took.
    async fn route<H: Host>(&self, host: &H, settings: &Settings, request: &Request) -> Routed;
}

/// A build that adds nothing: what ships.
#[derive(Debug, Clone, Copy, Default)]
pub struct Production;

impl Extension for Production {
    type Catalogue = Nothing;

    fn catalogue(&self) -> Nothing {
        Nothing
    }

    async fn route<H: Host>(&self, _: &H, _: &Settings, _: &Request) -> Routed {
        None
    }
}
