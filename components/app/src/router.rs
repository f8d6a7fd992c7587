//! Routing: one entry point, `App::handle`, for every host.

use http::Method;

use learner_core::health;
use learner_core::ports::Host;
use std::rc::Rc;

use learner_core::{
    ApiError, MAX_BODY_BYTES, MAX_HEADER_BYTES, Reply, Request, Response, header_bytes,
};

use crate::{authorize_endpoint, cors, mcp_http, mcp_legacy, oauth_http, pages, token_endpoint};

/// The application over a host's ports.
pub struct App<H> {
    // Shared with the streams a reply may outlive the request with.
    host: Rc<H>,
}

impl<H: Host + 'static> App<H> {
    /// Wraps a host's ports.
    pub fn new(host: H) -> Self {
        Self {
            host: Rc::new(host),
        }
    }

    /// The host's ports.
    pub fn host(&self) -> &H {
        &self.host
    }

    /// Serves one request. Never panics; every failure becomes a JSON error response.
    pub async fn handle(&self, request: Request) -> Reply {
        if let Err(error) = check_limits(&request) {
            return error.into_response().into();
        }
        match request.uri().path() {
            "/mcp" => return mcp_http::handle(Rc::clone(&self.host), &request).await,
            path if mcp_legacy::serves(path) => {
                return mcp_legacy::handle(Rc::clone(&self.host), &request).await;
            }
            _ => {}
        }
        match self.route(request).await {
            Ok(response) => response.into(),
            Err(error) => error.into_response().into(),
        }
    }

    async fn route(&self, request: Request) -> Result<Response, ApiError> {
        let path = request.uri().path();
        match path {
            "/healthz" => {
                only(&request, &Method::GET, "GET")?;
                Ok(health::check(self.host()).await)
            }
            "/.well-known/oauth-authorization-server"
            | "/.well-known/oauth-protected-resource"
            | "/.well-known/oauth-protected-resource/mcp"
            | "/oauth/register"
            | "/oauth/token"
            | "/oauth/revoke"
            | "/oauth/introspect" => {
                // Errors too carry CORS headers, so browser clients can read them.
                let response = self
                    .oauth(&request)
                    .await
                    .unwrap_or_else(ApiError::into_response);
                Ok(cors::decorate(self.host.config(), &request, response))
            }
            "/oauth/authorize" => {
                if !matches!(*request.method(), Method::GET | Method::POST) {
                    return Err(ApiError::MethodNotAllowed {
                        method: request.method().to_string(),
                        allow: "GET, POST",
                    });
                }
                if let Some(retry_after_s) = oauth_http::over_address_limit(
                    self.host(),
                    &request,
                    "oauth",
                    oauth_http::REQUESTS_PER_ADDRESS,
                )
                .await
                {
                    return Ok(pages::too_many_requests(retry_after_s));
                }
                Ok(if request.method() == Method::GET {
                    authorize_endpoint::start(self.host(), &request).await
                } else {
                    authorize_endpoint::submit(self.host(), &request).await
                })
            }
            #[cfg(feature = "test-routes")]
            "/__test/oauth/code" => {
                only(&request, &Method::POST, "POST")?;
                Ok(crate::test_routes::issue_code(self.host(), &request).await)
            }
            #[cfg(feature = "test-routes")]
            "/__test/dna/migrate" => {
                only(&request, &Method::POST, "POST")?;
                Ok(crate::test_routes::migrate(self.host()).await)
            }
            #[cfg(feature = "test-routes")]
            "/__test/dna/seed" => {
                only(&request, &Method::POST, "POST")?;
                Ok(crate::test_routes::seed(self.host(), &request).await)
            }
            #[cfg(feature = "test-routes")]
            "/__test/whoami" => {
                only(&request, &Method::GET, "GET")?;
                Ok(crate::test_routes::whoami(self.host(), &request).await)
            }
            #[cfg(feature = "test-routes")]
            "/__test/ports" => {
                only(&request, &Method::POST, "POST")?;
                learner_core::test_routes::handle(self.host(), request.body()).await
            }
            _ => Err(ApiError::NotFound {
                method: request.method().to_string(),
                path: path.to_owned(),
            }),
        }
    }
}

impl<H: Host + 'static> App<H> {
    /// The OAuth endpoints browser-based clients call (CORS applies to them).
    async fn oauth(&self, request: &Request) -> Result<Response, ApiError> {
        let path = request.uri().path();
        let methods = if path.starts_with("/.well-known/") {
            "GET"
        } else {
            "POST"
        };
        if cors::is_preflight(request) {
            return Ok(cors::preflight(self.host.config(), request, methods));
        }
        let method = if methods == "GET" {
            Method::GET
        } else {
            Method::POST
        };
        only(request, &method, methods)?;
        if method == Method::POST
            && let Some(retry_after_s) = oauth_http::over_address_limit(
                self.host(),
                request,
                "oauth",
                oauth_http::REQUESTS_PER_ADDRESS,
            )
            .await
        {
            return Ok(oauth_http::too_many_requests(retry_after_s));
        }
        Ok(match path {
            "/.well-known/oauth-authorization-server" => {
                let issuer = oauth_http::issuer(self.host(), request)?;
                oauth_http::authorization_server_metadata(self.host(), &issuer)
            }
            "/oauth/register" => oauth_http::register(self.host(), request).await,
            "/oauth/token" => token_endpoint::token(self.host(), request).await,
            "/oauth/revoke" => token_endpoint::revoke(self.host(), request).await,
            "/oauth/introspect" => token_endpoint::introspect(self.host(), request).await,
            _ => {
                oauth_http::protected_resource_metadata(&oauth_http::issuer(self.host(), request)?)
            }
        })
    }
}

fn only(request: &Request, method: &Method, allow: &'static str) -> Result<(), ApiError> {
    if request.method() == method {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allow,
        })
    }
}

fn check_limits(request: &Request) -> Result<(), ApiError> {
    if header_bytes(request.headers()) > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        });
    }
    if request.body().len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(())
}
