//! Routing: one entry point, `App::handle`, for every host.

use std::rc::Rc;
use std::task::{Context, Poll};

use http::{HeaderName, HeaderValue, Method};
use learner_core::health;
use learner_core::port_calls::Counted;
use learner_core::ports::Host;
use learner_core::{
    ApiError, BodyStream, MAX_BODY_BYTES, MAX_HEADER_BYTES, Reply, Request, Response, header_bytes,
};

use crate::cors;
use crate::extension::{Extension, Production};
use crate::mcp::{self, Endpoint};
use crate::oauth::{self, authorize, discovery, limits, register, token};
use crate::settings::{Settings, SettingsError};

/// W3C Server Timing's response header.
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The application over a host's ports, with what its build adds (`E`).
pub struct App<H, E = Production> {
    // Shared with the streams a reply may outlive the request with; counted, for the
    // `Server-Timing` header (`diagnostics.server_timing`).
    host: Rc<Counted<H>>,
    settings: Result<Rc<Settings>, SettingsError>,
    extension: Rc<E>,
}

impl<H: Host + 'static> App<H> {
    /// The application over a host's ports, as it ships.
    pub fn new(host: H) -> Self {
        Self::with(host, Production)
    }
}

impl<H: Host + 'static, E: Extension> App<H, E> {
    /// The application over a host's ports, with `extension`'s routes and catalogue.
    /// The settings are read and validated here, once.
    pub fn with(host: H, extension: E) -> Self {
        let settings = Settings::from_config(host.config()).map(Rc::new);
        Self {
            host: Rc::new(Counted::new(host)),
            settings,
            extension: Rc::new(extension),
        }
    }

    /// The host's ports.
    pub fn host(&self) -> &H {
        self.host.inner()
    }

    /// The settings, or why they are invalid.
    pub fn settings(&self) -> Result<&Settings, &SettingsError> {
        self.settings.as_deref()
    }

    /// Serves one request. Never panics; every failure becomes a JSON error response.
    pub async fn handle(&self, request: Request) -> Reply {
        self.host.tally().reset();
        let mut reply = self.serve(request).await;
        if let Ok(settings) = &self.settings
            && settings.server_timing
        {
            let head = match &mut reply {
                Reply::Complete(response) | Reply::Stream { head: response, .. } => response,
            };
            // The tally is digits, names and punctuation: always a valid header value.
            if let Ok(value) = HeaderValue::from_str(&self.host.tally().server_timing()) {
                head.headers_mut().append(SERVER_TIMING, value);
            }
            // A streamed body does its work after the head was sent: the whole
            // request's tally follows as the stream's last event, an SSE comment
            // (which clients ignore).
            if let Reply::Stream { head, body } = reply {
                let body = Box::new(TalliedStream {
                    body,
                    host: Rc::clone(&self.host),
                    done: false,
                });
                return Reply::Stream { head, body };
            }
        }
        reply
    }

    async fn serve(&self, request: Request) -> Reply {
        if let Err(error) = check_limits(&request) {
            return error.into_response().into();
        }
        let settings = match &self.settings {
            Ok(settings) => Rc::clone(settings),
            Err(error) => {
                return ApiError::Misconfigured(error.to_string())
                    .into_response()
                    .into();
            }
        };
        let path = request.uri().path();
        if path == "/mcp" || mcp::legacy::serves(path) {
            let endpoint =
                Endpoint::new(Rc::clone(&self.host), settings, Rc::clone(&self.extension));
            return if path == "/mcp" {
                mcp::streamable::handle(&endpoint, &request).await
            } else {
                mcp::legacy::handle(&endpoint, &request).await
            };
        }
        match self.route(&settings, request).await {
            Ok(response) => response.into(),
            Err(error) => error.into_response().into(),
        }
    }

    async fn route(&self, settings: &Settings, request: Request) -> Result<Response, ApiError> {
        let host = &*self.host;
        let path = request.uri().path();
        match path {
            "/healthz" => {
                only(&request, &Method::GET, "GET")?;
                Ok(health::check(host).await)
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
                    .oauth(settings, &request)
                    .await
                    .unwrap_or_else(ApiError::into_response);
                Ok(cors::decorate(settings, &request, response))
            }
            "/oauth/authorize" => {
                if !matches!(*request.method(), Method::GET | Method::POST) {
                    return Err(ApiError::MethodNotAllowed {
                        method: request.method().to_string(),
                        allow: "GET, POST",
                    });
                }
                let limit = settings.limits.requests_per_address;
                if let Some(retry_after_s) =
                    limits::over_address_limit(host, &request, "oauth", limit).await
                {
                    return Ok(oauth::pages::too_many_requests(retry_after_s));
                }
                Ok(if request.method() == Method::GET {
                    authorize::start(host, settings, &request).await
                } else {
                    authorize::submit(host, settings, &request).await
                })
            }
            _ => match self.extension.route(host, settings, &request).await {
                Some(answer) => answer,
                None => Err(ApiError::NotFound {
                    method: request.method().to_string(),
                    path: path.to_owned(),
                }),
            },
        }
    }

    /// The OAuth endpoints browser-based clients call (CORS applies to them).
    async fn oauth(&self, settings: &Settings, request: &Request) -> Result<Response, ApiError> {
        let host = &*self.host;
        let path = request.uri().path();
        let methods = if path.starts_with("/.well-known/") {
            "GET"
        } else {
            "POST"
        };
        if cors::is_preflight(request) {
            return Ok(cors::preflight(settings, request, methods));
        }
        let method = if methods == "GET" {
            Method::GET
        } else {
            Method::POST
        };
        only(request, &method, methods)?;
        if method == Method::POST
            && let Some(retry_after_s) = limits::over_address_limit(
                host,
                request,
                "oauth",
                settings.limits.requests_per_address,
            )
            .await
        {
            return Ok(limits::too_many_requests(retry_after_s));
        }
        Ok(match path {
            "/.well-known/oauth-authorization-server" => {
                let issuer = oauth::issuer(settings, request)?;
                discovery::authorization_server_metadata(settings, &issuer)
            }
            "/oauth/register" => register::register(host, settings, request).await,
            "/oauth/token" => token::token(host, settings, request).await,
            "/oauth/revoke" => token::revoke(host, settings, request).await,
            "/oauth/introspect" => token::introspect(host, settings, request).await,
            _ => discovery::protected_resource_metadata(&oauth::issuer(settings, request)?),
        })
    }
}

/// A streamed body followed by the request's port-call tally, as the SSE comment
/// `: server-timing <value>` (`diagnostics.server_timing`).
struct TalliedStream<H> {
    body: Box<dyn BodyStream>,
    host: Rc<Counted<H>>,
    done: bool,
}

impl<H: Host> BodyStream for TalliedStream<H> {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.body.poll_chunk(cx) {
            Poll::Ready(None) => {
                self.done = true;
                let tally = self.host.tally().server_timing();
                Poll::Ready(Some(format!(": server-timing {tally}\n\n").into_bytes()))
            }
            other => other,
        }
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
