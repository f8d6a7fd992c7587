//! The MCP endpoint, `/mcp`, over Streamable HTTP (session era, 2025-03-26 …
//! 2025-11-25; 2024-11-05 clients use it too). Every request passes the resource guard
//! first; then the headers (`Origin`, `Accept`, `Content-Type`, `Mcp-Session-Id`,
//! `MCP-Protocol-Version`) are checked, the body parsed, and each message handed to
//! the engine. Requests are answered as JSON, or as an SSE stream when the client
//! accepts one and the answer carries notifications.

use http::{HeaderValue, Method, StatusCode, header};
use learner_core::ports::{Config, Host, Random};
use std::rc::Rc;

use learner_core::{ApiError, Reply, Request, Response, json_response};
use learner_dna::catalogue::LearnerCatalogue;
use learner_mcp_server::catalogue::{Caller, Catalogue, ClientRequests, Outbox};
use learner_mcp_server::engine::{self, Dispatch, Effect, Refusal, ServerInfo};
use learner_mcp_server::jsonrpc::{self, Body, Id, Incoming, RpcError};
use learner_mcp_server::revision::Revision;
use learner_mcp_server::session::{
    MAX_SUBSCRIPTIONS, Owner, Session, SessionError, Sessions, Stored,
};
use learner_oauth::grants::AccessGrant;
use learner_oauth::metadata::Issuer;
use serde_json::{Map, Value, json};

use crate::access_revocation::HostRevocation;
use crate::oauth_http::issuer;
use crate::{cors, mcp_events, mcp_stateless, mcp_stream, mcp_subscriptions, resource_guard};

/// The session header.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The revision header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";

/// The catalogue this build serves: Learner DNA, and in test builds the conformance
/// fixtures too.
#[cfg(feature = "test-routes")]
pub(crate) fn catalogue<H: Host>(
    host: &H,
) -> learner_mcp_server::catalogue::Both<
    learner_mcp_server::fixtures::Fixtures,
    LearnerCatalogue<'_, H, HostRevocation<'_, H>>,
> {
    learner_mcp_server::catalogue::Both(
        learner_mcp_server::fixtures::Fixtures,
        LearnerCatalogue::new(host, HostRevocation::new(host)),
    )
}
/// The catalogue this build serves: Learner DNA.
#[cfg(not(feature = "test-routes"))]
pub(crate) fn catalogue<H: Host>(host: &H) -> LearnerCatalogue<'_, H, HostRevocation<'_, H>> {
    LearnerCatalogue::new(host, HostRevocation::new(host))
}

pub(crate) fn server_info() -> ServerInfo {
    ServerInfo {
        name: "learner-dna-mcp".into(),
        version: learner_core::VERSION.into(),
        instructions: Some(
            "Learner DNA: learning profiles of the learners you may see, within their consent."
                .into(),
        ),
    }
}

pub(crate) fn idle_ms<C: Config>(config: &C) -> u64 {
    config
        .get("mcp.session_idle_s")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30 * 60)
        .saturating_mul(1_000)
}

pub(crate) fn page_size<C: Config>(config: &C) -> usize {
    config
        .get("mcp.page_size")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(50)
}

/// A JSON-RPC error as an HTTP response with `status`.
pub(crate) fn rpc_error(status: StatusCode, id: Option<&Id>, error: &RpcError) -> Response {
    json_response(status, &jsonrpc::error(id, error))
}

pub(crate) fn header_str<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Whether `Accept` admits `media_type` (exactly, or by `*/*` or `type/*`).
pub(crate) fn accepts(request: &Request, media_type: &str) -> bool {
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    request
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| {
            item.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .any(|item| item == media_type || item == "*/*" || item == format!("{kind}/*"))
}

/// DNS-rebinding defence: a browser's `Origin` must be this server's own origin or one
/// configured in `cors.allowed_origins`. Requests without `Origin` (non-browser
/// clients) pass; the resource guard still applies to them.
fn origin_allowed<C: Config>(config: &C, issuer: &Issuer, request: &Request) -> bool {
    let Some(origin) = header_str(request, header::ORIGIN.as_str()) else {
        return true;
    };
    let own = issuer
        .as_str()
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    origin == own
        || config.get("cors.allowed_origins").is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|allowed| !allowed.is_empty() && allowed == origin)
        })
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

pub(crate) fn owner_of(grant: &AccessGrant) -> Owner {
    Owner {
        subject: grant.subject.clone(),
        client_id: grant.client_id.clone(),
        grant_id: grant.grant_id.clone(),
    }
}

pub(crate) fn caller_of(grant: &AccessGrant) -> Caller {
    Caller {
        subject: grant.subject.clone(),
        client_id: grant.client_id.clone(),
        scopes: grant.scope.iter().map(str::to_owned).collect(),
        props: grant.props.clone(),
    }
}

/// `/mcp`, any method.
pub async fn handle<H: Host + 'static>(host: Rc<H>, request: &Request) -> Reply {
    if cors::is_preflight(request) {
        return cors::preflight(host.config(), request, "GET, POST, DELETE").into();
    }
    match handle_checked(Rc::clone(&host), request).await {
        Ok(Reply::Complete(response)) | Err(response) => {
            cors::decorate(host.config(), request, response).into()
        }
        Ok(Reply::Stream { head, body }) => Reply::Stream {
            head: cors::decorate(host.config(), request, head),
            body,
        },
    }
}

/// Every check every method shares (address, origin, token), then the method.
async fn handle_checked<H: Host + 'static>(
    shared: Rc<H>,
    request: &Request,
) -> Result<Reply, Response> {
    let host = &*shared;
    let (issuer, grant) = gate(host, request).await?;
    match *request.method() {
        Method::POST => post(shared, &issuer, request, &grant).await,
        Method::DELETE => Ok(delete(host, request, &grant).await.into()),
        Method::GET => get_stream(shared, request, &grant).await,
        _ => Err(not_allowed("use POST, GET or DELETE", "GET, POST, DELETE")),
    }
}

/// The checks every MCP request passes, whatever the transport: the address it was
/// sent to, its `Origin`, and its token. The issuer and the token's grant.
pub(crate) async fn gate<H: Host>(
    host: &H,
    request: &Request,
) -> Result<(Issuer, AccessGrant), Response> {
    let issuer = issuer(host, request).map_err(ApiError::into_response)?;
    if !host_matches(&issuer, request) {
        return Err(ApiError::MisdirectedRequest(
            "the Host header does not name this server (public.url)".into(),
        )
        .into_response());
    }
    if !origin_allowed(host.config(), &issuer, request) {
        return Err(rpc_error(
            StatusCode::FORBIDDEN,
            None,
            &RpcError::invalid_request("this Origin may not call the MCP endpoint"),
        ));
    }
    let grant = resource_guard::admit(host, &issuer, request, None).await?;
    Ok((issuer, grant))
}

pub(crate) fn not_allowed(message: &str, allow: &'static str) -> Response {
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

/// Opens the session named by the request's header for the token's owner; the
/// response to send when that fails.
async fn open_session<H: Host>(
    host: &H,
    request: &Request,
    grant: &AccessGrant,
) -> Result<Stored, Response> {
    let Some(id) = header_str(request, SESSION_HEADER) else {
        return Err(rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &RpcError::invalid_request("Mcp-Session-Id is required (initialize first)"),
        ));
    };
    open_session_id(host, id.trim(), grant).await
}

/// Opens session `id` for the token's owner; the response to send when that fails.
pub(crate) async fn open_session_id<H: Host>(
    host: &H,
    id: &str,
    grant: &AccessGrant,
) -> Result<Stored, Response> {
    let sessions = Sessions::new(host.key_value(), host.random(), idle_ms(host.config()));
    match sessions.open(id, &owner_of(grant)).await {
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

pub(crate) fn unavailable() -> Response {
    rpc_error(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        &RpcError::new(
            jsonrpc::code::INTERNAL_ERROR,
            "the session store is unavailable",
        ),
    )
}

/// `DELETE /mcp`: ends the session.
async fn delete<H: Host>(host: &H, request: &Request, grant: &AccessGrant) -> Response {
    let stored = match open_session(host, request, grant).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let sessions = Sessions::new(host.key_value(), host.random(), idle_ms(host.config()));
    let ended = sessions.end(&stored.id).await;
    // Open streams of the session end with it.
    let _ = mcp_events::close(host.key_value(), &stored.id).await;
    match ended {
        Ok(_) => {
            let mut response = http::Response::new(Vec::new());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        Err(_) => unavailable(),
    }
}

/// `POST /mcp`.
async fn post<H: Host + 'static>(
    shared: Rc<H>,
    issuer: &Issuer,
    request: &Request,
    grant: &AccessGrant,
) -> Result<Reply, Response> {
    let host = &*shared;
    let wants_json = accepts(request, "application/json");
    let wants_sse = accepts(request, "text/event-stream");
    if !wants_json && !wants_sse {
        return Err(rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            None,
            &RpcError::invalid_request(
                "Accept must include application/json and text/event-stream",
            ),
        ));
    }
    if !crate::oauth_http::has_media_type(request, "application/json") {
        return Err(rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            &RpcError::invalid_request("Content-Type must be application/json"),
        ));
    }
    let body = jsonrpc::parse_body(request.body());
    if mcp_stateless::is_stateless(request, &body) {
        return mcp_stateless::post(shared.clone(), issuer, request, grant, body, wants_sse).await;
    }
    if let Some(version) = header_str(request, VERSION_HEADER).map(str::trim)
        && Revision::parse(version).is_none()
    {
        return Err(rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &RpcError::invalid_request(format!("unsupported MCP-Protocol-Version {version:?}")),
        ));
    }
    // `initialize` opens a session; everything else needs one.
    if let Body::Single(Ok(Incoming::Request { id, method, params })) = &body
        && method == "initialize"
    {
        if request.headers().contains_key(SESSION_HEADER) {
            return Err(rpc_error(
                StatusCode::BAD_REQUEST,
                Some(id),
                &RpcError::invalid_request(
                    "initialize opens a new session: send it without Mcp-Session-Id",
                ),
            ));
        }
        return Ok(initialize(host, id, params, grant).await.into());
    }
    if let Body::Single(Err((id, error))) = &body {
        return Err(rpc_error(StatusCode::BAD_REQUEST, id.as_ref(), error));
    }
    let mut stored = open_session(host, request, grant).await?;
    let revision = stored.session.revision();
    let sessions = Sessions::new(host.key_value(), host.random(), idle_ms(host.config()));

    // A tool call may talk to the client before it answers: stream it.
    if wants_sse
        && let Body::Single(Ok(Incoming::Request { id, method, params })) = &body
        && method == "tools/call"
    {
        // A scope refusal is an HTTP 403, so it must be decided before the stream starts.
        let caller = caller_of(grant);
        let tool_scope = params
            .get("name")
            .and_then(Value::as_str)
            .and_then(|name| catalogue(host).tools().into_iter().find(|t| t.name == name))
            .and_then(|tool| tool.scope);
        if let Some(scope) = tool_scope.filter(|s| !caller.has_scope(s)) {
            return Err(resource_guard::insufficient_scope(issuer, &scope));
        }
        sessions.touch(&stored).await.map_err(|_| unavailable())?;
        return Ok(stream_tool_call(
            shared.clone(),
            stored,
            caller_of(grant),
            id.clone(),
            params.clone(),
        ));
    }

    let is_batch = matches!(body, Body::Batch(_));
    let messages = match body {
        Body::Single(parsed) => vec![parsed],
        Body::Batch(_) if !revision.allows_batches() => {
            return Err(rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                &RpcError::invalid_request(format!(
                    "JSON-RPC batches are not part of protocol revision {}",
                    revision.as_str()
                )),
            ));
        }
        Body::Batch(items) => items,
    };
    let caller = caller_of(grant);
    let (out, any_request) =
        run_messages(host, issuer, &mut stored, &caller, messages, None).await?;
    if !any_request {
        let mut response = http::Response::new(Vec::new());
        *response.status_mut() = StatusCode::ACCEPTED;
        return Ok(response.into());
    }
    let has_notifications = out.iter().any(|m| m.get("method").is_some());
    if (has_notifications && wants_sse) || !wants_json {
        return Ok(sse_response(&out).into());
    }
    // Without SSE, notifications cannot travel with the answer: only responses remain.
    let mut responses: Vec<Value> = out
        .into_iter()
        .filter(|m| m.get("method").is_none())
        .collect();
    let body = if is_batch || responses.len() != 1 {
        Value::Array(responses)
    } else {
        responses.remove(0)
    };
    Ok(json_response(StatusCode::OK, &body).into())
}

/// A `tools/call` answered as a stream: log messages, progress and requests to the
/// client go out as they happen, the response last.
fn stream_tool_call<H: Host + 'static>(
    host: Rc<H>,
    stored: Stored,
    caller: Caller,
    id: Id,
    params: Map<String, Value>,
) -> Reply {
    let outbox = Outbox::default();
    let requests =
        mcp_stream::SessionRequests::new(Rc::clone(&host), stored.id.clone(), Rc::clone(&outbox));
    let out = Rc::clone(&outbox);
    let mut raw = [0u8; 8];
    host.random().fill(&mut raw);
    let stream = learner_core::hex(&raw);
    let priming = stored.session.revision() >= Revision::V2025_11_25;
    let session_id = stored.id.clone();
    let recorder = Rc::clone(&host);
    let handler = async move {
        let catalogue = catalogue(&*host);
        let dispatch = Dispatch {
            catalogue: &catalogue,
            caller: &caller,
            revision: stored.session.revision(),
            client_capabilities: &stored.session.client_capabilities,
            log_level: stored.session.log_level,
            page_size: page_size(host.config()),
            client: Some(&requests),
            notifications: Rc::clone(&out),
            updated: Default::default(),
            state_key: None,
        };
        let outcome = dispatch.request("tools/call", &params).await;
        for uri in dispatch.updated.take() {
            mcp_subscriptions::notify_updated(&*host, &uri, idle_ms(host.config())).await;
        }
        let message = match outcome {
            Ok(answer) => jsonrpc::result(&id, answer.result),
            Err(Refusal::Rpc(error)) => jsonrpc::error(Some(&id), &error),
            // Checked before the stream started; kept exhaustive for safety.
            Err(Refusal::InsufficientScope(scope)) => jsonrpc::error(
                Some(&id),
                &RpcError::invalid_request(format!("this tool needs the {scope} scope")),
            ),
        };
        out.borrow_mut().push_back(message);
    };
    let body = mcp_stream::EventStream::new(outbox, handler)
        .recorded(recorder, session_id, stream, priming);
    let mut head = http::Response::new(Vec::new());
    set_sse_headers(&mut head);
    Reply::Stream {
        head,
        body: Box::new(body),
    }
}

/// How long a standalone stream stays open before the client is asked to reconnect.
pub(crate) fn stream_max_ms<C: Config>(config: &C) -> u64 {
    config
        .get("mcp.stream_max_s")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(5 * 60)
        .saturating_mul(1_000)
}

/// `GET /mcp`: the session's standalone stream (messages other requests produce, such
/// as resource updates), or — with `Last-Event-ID` — the rest of a stream the client
/// lost, replayed from the event log and followed until it ends.
async fn get_stream<H: Host + 'static>(
    shared: Rc<H>,
    request: &Request,
    grant: &AccessGrant,
) -> Result<Reply, Response> {
    let host = &*shared;
    if !accepts(request, "text/event-stream") {
        return Err(rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            None,
            &RpcError::invalid_request("Accept must include text/event-stream"),
        ));
    }
    let stored = open_session(host, request, grant).await?;
    let kv = host.key_value();
    let max_ms = stream_max_ms(host.config());
    let (stream, after, prefix) = match header_str(request, "last-event-id") {
        Some(last) => {
            let unknown = || {
                rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    &RpcError::invalid_request("Last-Event-ID names no stream of this session"),
                )
            };
            let (stream, after) = mcp_events::parse_event_id(last).ok_or_else(unknown)?;
            let known = stream == mcp_events::STANDALONE
                || mcp_events::last(kv, &stored.id, &stream)
                    .await
                    .map_err(|_| unavailable())?
                    > 0;
            if !known {
                return Err(unknown());
            }
            (stream, after, Vec::new())
        }
        None => {
            let after = mcp_events::last(kv, &stored.id, mcp_events::STANDALONE)
                .await
                .map_err(|_| unavailable())?;
            let priming = (stored.session.revision() >= Revision::V2025_11_25).then(|| {
                mcp_events::priming_frame(
                    &mcp_events::event_id(mcp_events::STANDALONE, after),
                    mcp_stream::RETRY_MS,
                )
            });
            (
                mcp_events::STANDALONE.to_owned(),
                after,
                priming.into_iter().collect(),
            )
        }
    };
    Sessions::new(kv, host.random(), idle_ms(host.config()))
        .touch(&stored)
        .await
        .map_err(|_| unavailable())?;
    let body =
        mcp_events::Follower::new(Rc::clone(&shared), stored.id, stream, after, max_ms, prefix);
    let mut head = http::Response::new(Vec::new());
    set_sse_headers(&mut head);
    Ok(Reply::Stream {
        head,
        body: Box::new(body),
    })
}

/// Handles the messages of one POST on a session: notifications and answers are taken
/// in, requests dispatched; the session saved, subscriptions indexed and subscribers
/// of changed resources told. Returns the messages for the client (notifications and
/// responses, in order) and whether any request was among them.
pub(crate) async fn run_messages<H: Host>(
    host: &H,
    issuer: &Issuer,
    stored: &mut Stored,
    caller: &Caller,
    messages: Vec<jsonrpc::Parsed>,
    client: Option<&dyn ClientRequests>,
) -> Result<(Vec<Value>, bool), Response> {
    let catalogue = catalogue(host);
    let revision = stored.session.revision();
    let sessions = Sessions::new(host.key_value(), host.random(), idle_ms(host.config()));
    let mut out: Vec<Value> = Vec::new();
    let mut any_request = false;
    let mut initialized = false;
    let mut effects: Vec<Effect> = Vec::new();
    let mut updated: Vec<String> = Vec::new();
    let mut index_changes: Vec<(String, bool)> = Vec::new();
    for parsed in messages {
        match parsed {
            Err((id, error)) => {
                any_request = true;
                out.push(jsonrpc::error(id.as_ref(), &error));
            }
            Ok(Incoming::Notification { method, .. }) => {
                if method == "notifications/initialized" {
                    initialized = true;
                }
                // Cancellation, progress and root changes need no answer: every request
                // is answered within its own HTTP exchange.
            }
            Ok(Incoming::Response { id, outcome }) => {
                // An answer to a request sent on a tool call's stream; answers nobody
                // waits for are dropped.
                mcp_stream::deliver_answer(host.key_value(), &stored.id, &id, outcome).await;
            }
            Ok(Incoming::Request { id, method, params }) => {
                any_request = true;
                let dispatch = Dispatch {
                    catalogue: &catalogue,
                    caller,
                    revision,
                    client_capabilities: &stored.session.client_capabilities,
                    log_level: stored.session.log_level,
                    page_size: page_size(host.config()),
                    client,
                    notifications: Outbox::default(),
                    updated: Default::default(),
                    state_key: None,
                };
                let outcome = if method == "initialize" {
                    Err(Refusal::Rpc(RpcError::invalid_request(
                        "the session is already initialized",
                    )))
                } else {
                    dispatch.request(&method, &params).await
                };
                out.extend(dispatch.notifications.borrow_mut().drain(..));
                updated.extend(dispatch.updated.take());
                match outcome {
                    Ok(answer) => {
                        if let Some(effect) = answer.effect {
                            if let Effect::Subscribe(uri) | Effect::Unsubscribe(uri) = &effect {
                                index_changes
                                    .push((uri.clone(), matches!(effect, Effect::Subscribe(_))));
                            }
                            effects.push(effect);
                        }
                        out.push(jsonrpc::result(&id, answer.result));
                    }
                    Err(Refusal::Rpc(error)) => out.push(jsonrpc::error(Some(&id), &error)),
                    Err(Refusal::InsufficientScope(scope)) => {
                        return Err(resource_guard::insufficient_scope(issuer, &scope));
                    }
                }
            }
        }
    }
    // Other requests of the session may have written it meanwhile (a GET stream
    // renewing it, a parallel POST): the changes are applied to the latest copy.
    sessions
        .update(stored, |session| {
            let mut changed = initialized && !session.initialized;
            session.initialized |= initialized;
            for effect in &effects {
                changed |= apply(session, effect.clone());
            }
            changed
        })
        .await
        .map_err(|_| unavailable())?;
    let ttl = idle_ms(host.config());
    for (uri, subscribe) in index_changes {
        let indexed = if subscribe {
            mcp_subscriptions::add(host.key_value(), &uri, &stored.id, ttl).await
        } else {
            mcp_subscriptions::remove(host.key_value(), &uri, &stored.id, ttl).await
        };
        indexed.map_err(|_| unavailable())?;
    }
    for uri in updated {
        mcp_subscriptions::notify_updated(host, &uri, ttl).await;
    }
    Ok((out, any_request))
}

/// Applies a session change; whether anything changed.
fn apply(session: &mut Session, effect: Effect) -> bool {
    match effect {
        Effect::SetLogLevel(level) => {
            let changed = session.log_level != Some(level);
            session.log_level = Some(level);
            changed
        }
        Effect::Subscribe(uri) => {
            if session.subscriptions.contains(&uri)
                || session.subscriptions.len() >= MAX_SUBSCRIPTIONS
            {
                return false;
            }
            session.subscriptions.push(uri);
            true
        }
        Effect::Unsubscribe(uri) => {
            let before = session.subscriptions.len();
            session.subscriptions.retain(|u| u != &uri);
            before != session.subscriptions.len()
        }
    }
}

/// The messages as one SSE body, each an event with one `data:` line.
fn sse_response(messages: &[Value]) -> Response {
    let body: Vec<u8> = messages
        .iter()
        .flat_map(|m| mcp_events::sse_frame(None, m))
        .collect();
    let mut response = http::Response::new(body);
    set_sse_headers(&mut response);
    response
}

pub(crate) fn set_sse_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// `initialize`: negotiates the revision and opens a session bound to the token.
async fn initialize<H: Host>(
    host: &H,
    id: &Id,
    params: &Map<String, Value>,
    grant: &AccessGrant,
) -> Response {
    let Some(requested) = params.get("protocolVersion").and_then(Value::as_str) else {
        return rpc_error(
            StatusCode::OK,
            Some(id),
            &RpcError::invalid_params("params.protocolVersion must be a string"),
        );
    };
    let capabilities = match params.get("capabilities") {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        None => json!({}),
        Some(_) => {
            return rpc_error(
                StatusCode::OK,
                Some(id),
                &RpcError::invalid_params("params.capabilities must be an object"),
            );
        }
    };
    let revision = Revision::negotiate(requested);
    let session = Session {
        owner: owner_of(grant),
        revision: revision.as_str().into(),
        client_capabilities: capabilities,
        client_info: params.get("clientInfo").cloned().unwrap_or(Value::Null),
        initialized: false,
        log_level: None,
        subscriptions: Vec::new(),
    };
    let sessions = Sessions::new(host.key_value(), host.random(), idle_ms(host.config()));
    let Ok(created) = sessions.create(&session).await else {
        return unavailable();
    };
    mcp_events::close_all(host.key_value(), &created.evicted).await;
    let session_id = created.id;
    let mut response = json_response(
        StatusCode::OK,
        &jsonrpc::result(id, engine::initialize_result(revision, &server_info())),
    );
    if let Ok(value) = HeaderValue::from_str(&session_id) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}
