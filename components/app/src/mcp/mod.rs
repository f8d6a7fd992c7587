//! The MCP endpoint: one shared core, and one module per transport over it.
//!
//! Every transport admits a request the same way ([`Endpoint::gate`]: the address it
//! was sent to, its `Origin`, its token — which becomes the request's
//! [`Principal`]), serves the same catalogue, keeps sessions in the same store and
//! answers errors the same way; only how messages travel differs.
//!
//! | module | transport |
//! |---|---|
//! | [`streamable`] | Streamable HTTP, the session era (`/mcp`: POST, GET, DELETE; `initialize`) |
//! | [`legacy`] | HTTP+SSE of 2024-11-05 (`/sse` + `/messages`, also under `/mcp/`) |
//! | [`stateless`] | 2026-07-28: each POST a whole request, `subscriptions/listen` |
//! | `messages` | the messages of one POST on a session (Streamable HTTP and legacy) |
//! | `events`, `stream`, `subscriptions` | the event log streams resume from, streamed answers and requests to the client, resource subscribers |
//! | `revocation` | ending grants and sessions for the privacy operations |

mod events;
pub mod legacy;
mod messages;
mod revocation;
pub mod stateless;
mod stream;
pub mod streamable;
mod subscriptions;

use std::rc::Rc;

use http::{HeaderValue, StatusCode, header};
use learner_core::identity::Principal;
use learner_core::ports::{Clock, Host};
use learner_core::{ApiError, BodyStream, Reply, Request, Response, json_response};
use learner_dna_mcp::LearnerCatalogue;
use learner_mcp_server::catalogue::Both;
use learner_mcp_server::engine::ServerInfo;
use learner_mcp_server::jsonrpc::{self, Id, RpcError};
use learner_mcp_server::session::{Owner, SessionError, Sessions, Stored};
use learner_oauth::metadata::Issuer;
use serde_json::Value;

pub(crate) use revocation::HostRevocation;

use crate::extension::Extension;
use crate::settings::Settings;
use crate::{cors, guard, headers, oauth};

/// The session header.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The revision header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";

/// The catalogue a build serves: its extension's (test builds: the conformance
/// fixtures), then the Learner DNA.
pub type ServedCatalogue<'a, H, E> =
    Both<<E as Extension>::Catalogue, LearnerCatalogue<'a, H, HostRevocation<'a, H>>>;

/// The application's MCP endpoint: what every transport serves requests with. Cheap
/// to clone (shared handles), for streams that outlive the request.
pub struct Endpoint<H, E> {
    /// The host's ports.
    pub host: Rc<H>,
    /// The settings.
    pub settings: Rc<Settings>,
    extension: Rc<E>,
}

impl<H, E> Clone for Endpoint<H, E> {
    fn clone(&self) -> Self {
        Self {
            host: Rc::clone(&self.host),
            settings: Rc::clone(&self.settings),
            extension: Rc::clone(&self.extension),
        }
    }
}

/// A request the gate let in: the issuer it was addressed to, and who asks.
pub struct Admitted {
    /// This server's issuer (its MCP resource is `{issuer}/mcp`).
    pub issuer: Issuer,
    /// The token's principal.
    pub principal: Principal,
}

impl<H: Host + 'static, E: Extension> Endpoint<H, E> {
    /// The endpoint over `host`.
    pub fn new(host: Rc<H>, settings: Rc<Settings>, extension: Rc<E>) -> Self {
        Self {
            host,
            settings,
            extension,
        }
    }

    /// The checks every MCP request passes, whatever the transport: the address it
    /// was sent to, its `Origin`, and its token.
    pub async fn gate(&self, request: &Request) -> Result<Admitted, Response> {
        let issuer = oauth::issuer(&self.settings, request).map_err(ApiError::into_response)?;
        if !host_matches(&issuer, request) {
            return Err(ApiError::MisdirectedRequest(
                "the Host header does not name this server (public.url)".into(),
            )
            .into_response());
        }
        if !self.origin_allowed(&issuer, request) {
            return Err(rpc_error(
                StatusCode::FORBIDDEN,
                None,
                &RpcError::invalid_request("this Origin may not call the MCP endpoint"),
            ));
        }
        let principal = guard::admit(&*self.host, &self.settings, &issuer, request, None).await?;
        Ok(Admitted { issuer, principal })
    }

    /// DNS-rebinding defence: a browser's `Origin` must be this server's own origin or
    /// one configured in `cors.allowed_origins`. Requests without `Origin`
    /// (non-browser clients) pass; the resource guard still applies to them.
    fn origin_allowed(&self, issuer: &Issuer, request: &Request) -> bool {
        let Some(origin) = header_str(request, header::ORIGIN.as_str()) else {
            return true;
        };
        let own = issuer
            .as_str()
            .split('/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        origin == own || cors::allowed(&self.settings, origin)
    }

    /// The catalogue this build serves.
    pub fn catalogue(&self) -> ServedCatalogue<'_, H, E> {
        let host = &*self.host;
        Both(
            self.extension.catalogue(),
            LearnerCatalogue::new(host, HostRevocation::new(host, &self.settings)),
        )
    }

    /// The session store.
    pub fn sessions(&self) -> Sessions<'_, H::KeyValue, H::Random> {
        Sessions::new(
            self.host.key_value(),
            self.host.random(),
            self.settings.mcp.session_idle_ms,
        )
        .renewing_at(self.host.clock().now_ms())
    }

    /// Opens session `id` for `principal`; the response to send when that fails.
    pub async fn open_session(&self, id: &str, principal: &Principal) -> Result<Stored, Response> {
        match self.sessions().open(id, &owner_of(principal)).await {
            Ok(stored) => Ok(stored),
            Err(SessionError::NotFound) => Err(rpc_error(
                StatusCode::NOT_FOUND,
                None,
                &RpcError::invalid_request("unknown or ended session; initialize a new one"),
            )),
            Err(SessionError::WrongOwner) => Err(rpc_error(
                StatusCode::FORBIDDEN,
                None,
                &RpcError::invalid_request("this session belongs to another authorization"),
            )),
            Err(SessionError::Storage(_)) => Err(unavailable()),
        }
    }

    /// CORS on whatever a transport answered (preflights are answered before).
    pub fn with_cors(&self, request: &Request, reply: Result<Reply, Response>) -> Reply {
        match reply {
            Ok(Reply::Complete(response)) | Err(response) => {
                cors::decorate(&self.settings, request, response).into()
            }
            Ok(Reply::Stream { head, body }) => Reply::Stream {
                head: cors::decorate(&self.settings, request, head),
                body,
            },
        }
    }

    /// An SSE answer that follows `stream` of `session` after event `after`, for at
    /// most `max_ms`, the frames in `prefix` first.
    pub fn follow(
        &self,
        session: String,
        stream: String,
        after: u64,
        max_ms: u64,
        prefix: Vec<Vec<u8>>,
    ) -> Reply {
        let host = Rc::clone(&self.host);
        sse_stream(events::Follower::new(
            host, session, stream, after, max_ms, prefix,
        ))
    }

    /// A preflight's answer, for paths that allow `methods`.
    pub fn preflight(&self, request: &Request, methods: &'static str) -> Reply {
        cors::preflight(&self.settings, request, methods).into()
    }
}

/// This server, as `initialize` and `server/discover` describe it.
pub fn server_info() -> ServerInfo {
    ServerInfo {
        name: "learner-dna-mcp".into(),
        version: learner_core::VERSION.into(),
        instructions: Some(
            "Learner DNA: learning profiles of the learners you may see, within their consent."
                .into(),
        ),
    }
}

/// Who a session belongs to: the person, the client, the grant.
pub fn owner_of(principal: &Principal) -> Owner {
    Owner {
        subject: principal.subject.clone(),
        client_id: principal.client_id.clone(),
        grant_id: principal.grant_id.clone(),
    }
}

/// A JSON-RPC error as an HTTP response with `status`.
pub fn rpc_error(status: StatusCode, id: Option<&Id>, error: &RpcError) -> Response {
    json_response(status, &jsonrpc::error(id, error))
}

/// A header's value, when it is text.
pub fn header_str<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Whether `Accept` admits `media_type` (exactly, or by `*/*` or `type/*`).
pub fn accepts(request: &Request, media_type: &str) -> bool {
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    headers::list_items(request, header::ACCEPT, ',')
        .map(|item| {
            item.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .any(|item| item == media_type || item == "*/*" || item == format!("{kind}/*"))
}

/// DNS-rebinding defence: the request must be addressed to this server's own host
/// (the issuer's authority; without `public.url` the issuer is the loopback origin the
/// request named, which `issuer` has already checked).
fn host_matches(issuer: &Issuer, request: &Request) -> bool {
    let own = issuer
        .as_str()
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    request
        .uri()
        .authority()
        .is_some_and(|authority| authority.as_str().eq_ignore_ascii_case(own))
}

/// 405, naming the methods allowed.
pub fn not_allowed(message: &str, allow: &'static str) -> Response {
    let mut response = rpc_error(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        &RpcError::invalid_request(message),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// 503: the session store failed.
pub fn unavailable() -> Response {
    rpc_error(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        &RpcError::new(
            jsonrpc::code::INTERNAL_ERROR,
            "the session store is unavailable",
        ),
    )
}

/// 202 with no body: the messages were taken in.
pub fn accepted() -> Response {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

/// The messages as one SSE body, each an event with one `data:` line.
pub fn sse_response(messages: &[Value]) -> Response {
    let body: Vec<u8> = messages
        .iter()
        .flat_map(|m| events::sse_frame(None, m))
        .collect();
    let mut response = http::Response::new(body);
    set_sse_headers(&mut response);
    response
}

/// An SSE answer streamed from `body`.
pub fn sse_stream(body: impl BodyStream + 'static) -> Reply {
    let mut head = http::Response::new(Vec::new());
    set_sse_headers(&mut head);
    Reply::Stream {
        head,
        body: Box::new(body),
    }
}

fn set_sse_headers(response: &mut Response) {
    headers::set_static(
        response,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    );
}
