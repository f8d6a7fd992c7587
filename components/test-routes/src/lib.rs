//! What the test build of each host adds to the application, and nothing that ships:
//! the `/__test/*` routes the suites drive, and the MCP conformance suite's fixture
//! catalogue served beside the Learner DNA one. The gateway and the worker compile it
//! in only with their `test-routes` feature, as [`TestBuild`]; `just test` checks that
//! the release artifacts contain none of its route paths.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /__test/ports` | one raw operation of a port ([`ports`]) |
//! | `POST /__test/oauth/code` | an authorization code through the real validation and grant store |
//! | `GET /__test/whoami` | the principal the resource guard makes of a token |
//! | `POST /__test/dna/migrate`, `/__test/dna/seed` | the Learner DNA schema, and synthetic data |

mod app_routes;
pub mod fixtures;
pub mod ports;

use http::Method;
use learner_app::extension::{Extension, Routed};
use learner_app::settings::Settings;
use learner_core::ports::Host;
use learner_core::{ApiError, Request};

use crate::fixtures::Fixtures;

/// The test build's extension of the application.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestBuild;

impl Extension for TestBuild {
    type Catalogue = Fixtures;

    fn catalogue(&self) -> Fixtures {
        Fixtures
    }

    async fn route<H: Host>(&self, host: &H, settings: &Settings, request: &Request) -> Routed {
        let path = request.uri().path();
        let (method, allow) = match path {
            "/__test/whoami" => (Method::GET, "GET"),
            "/__test/oauth/code" | "/__test/dna/migrate" | "/__test/dna/seed" | "/__test/ports" => {
                (Method::POST, "POST")
            }
            _ => return None,
        };
        if request.method() != method {
            return Some(Err(ApiError::MethodNotAllowed {
                method: request.method().to_string(),
                allow,
            }));
        }
        Some(match path {
            "/__test/oauth/code" => Ok(app_routes::issue_code(host, settings, request).await),
            "/__test/dna/migrate" => Ok(app_routes::migrate(host).await),
            "/__test/dna/seed" => Ok(app_routes::seed(host, request).await),
            "/__test/whoami" => Ok(app_routes::whoami(host, settings, request).await),
            _ => ports::handle(host, request.body()).await,
        })
    }
}
