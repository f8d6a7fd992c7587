//! The MCP endpoint, `/mcp`, over Streamable HTTP (session era, 2025-03-26 …
//! 2025-11-25; 2024-11-05 clients use it too). Every request passes the gate first
//! (`Endpoint::gate`); then the headers (`Accept`, `Content-Type`, `Mcp-Session-Id`,
//! `MCP-Protocol-Version`) are checked, the body parsed, and each message handed to
//! the engine. Requests are answered as JSON, or as an SSE stream when the client
//! accepts one and the answer carries notifications.

use std::cell::RefCell;

use std::rc::Rc;

use http::{HeaderValue, Method, StatusCode};
use learner_core::identity::Principal;
use learner_core::ports::{Host, Random};
use learner_core::{Reply, Request, Response, json_response};
use learner_mcp_server::catalogue::{Catalogue, Outbox};
use learner_mcp_server::engine::{self, Dispatch, Refusal};
use learner_mcp_server::jsonrpc::{self, Body, Id, Incoming, RpcError};
use learner_mcp_server::model::params::InitializeParams;
use learner_mcp_server::revision::Revision;
use learner_mcp_server::session::{Session, Stored};
use serde_json::{Map, Value};

use super::messages::run_messages;
use super::{
    Admitted, Endpoint, SESSION_HEADER, VERSION_HEADER, accepted, accepts, events, header_str,
    not_allowed, owner_of, rpc_error, server_info, sse_response, sse_stream, stateless, stream,
    subscriptions, unavailable,
};
use crate::extension::Extension;
use crate::{cors, guard, oauth};

/// `/mcp`, any method.
pub async fn handle<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
) -> Reply {
    if cors::is_preflight(request) {
        return endpoint.preflight(request, "GET, POST, DELETE");
    }
    let reply = handle_checked(endpoint, request).await;
    endpoint.with_cors(request, reply)
}

/// Every check every method shares (address, origin, token), then the method.
async fn handle_checked<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
) -> Result<Reply, Response> {
    let admitted = endpoint.gate(request).await?;
    match *request.method() {
        Method::POST => post(endpoint, &admitted, request).await,
        Method::DELETE => Ok(delete(endpoint, request, &admitted).await.into()),
        Method::GET => get_stream(endpoint, request, &admitted).await,
        _ => Err(not_allowed("use POST, GET or DELETE", "GET, POST, DELETE")),
    }
}

/// Opens the session named by the request's header for the token's owner; the
/// response to send when that fails.
async fn open_session<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
    admitted: &Admitted,
) -> Result<Stored, Response> {
    let Some(id) = header_str(request, SESSION_HEADER) else {
        return Err(rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &RpcError::invalid_request("Mcp-Session-Id is required (initialize first)"),
        ));
    };
    endpoint.open_session(id.trim(), &admitted.principal).await
}

/// `DELETE /mcp`: ends the session.
async fn delete<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
    admitted: &Admitted,
) -> Response {
    let stored = match open_session(endpoint, request, admitted).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let ended = endpoint.sessions().end(&stored.id).await;
    // Open streams of the session end with it.
    let _ = events::close(endpoint.host.key_value(), &stored.id).await;
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
async fn post<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    admitted: &Admitted,
    request: &Request,
) -> Result<Reply, Response> {
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
    if !oauth::has_media_type(request, "application/json") {
        return Err(rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            &RpcError::invalid_request("Content-Type must be application/json"),
        ));
    }
    let body = jsonrpc::parse_body(request.body());
    if stateless::is_stateless(request, &body) {
        return stateless::post(endpoint, admitted, request, body, wants_sse).await;
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
        return Ok(initialize(endpoint, id, params, admitted).await.into());
    }
    if let Body::Single(Err((id, error))) = &body {
        return Err(rpc_error(StatusCode::BAD_REQUEST, id.as_ref(), error));
    }
    let mut stored = open_session(endpoint, request, admitted).await?;
    let revision = stored.session.revision();

    // A tool call may talk to the client before it answers: stream it.
    if wants_sse
        && let Body::Single(Ok(Incoming::Request { id, method, params })) = &body
        && method == "tools/call"
    {
        // A scope refusal is an HTTP 403, so it must be decided before the stream starts.
        let principal = &admitted.principal;
        let tool_scope = params
            .get("name")
            .and_then(Value::as_str)
            .and_then(|name| {
                endpoint
                    .catalogue()
                    .tools()
                    .into_iter()
                    .find(|t| t.name == name)
            })
            .and_then(|tool| tool.scope);
        if let Some(scope) = tool_scope.filter(|s| !principal.has_scope(s)) {
            return Err(guard::insufficient_scope(&admitted.issuer, &scope));
        }
        endpoint
            .sessions()
            .touch(&stored)
            .await
            .map_err(|_| unavailable())?;
        return Ok(stream_tool_call(
            endpoint.clone(),
            stored,
            principal.clone(),
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
    let (out, any_request) = run_messages(endpoint, admitted, &mut stored, messages, None).await?;
    if !any_request {
        return Ok(accepted().into());
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
fn stream_tool_call<H: Host + 'static, E: Extension>(
    endpoint: Endpoint<H, E>,
    stored: Stored,
    caller: Principal,
    id: Id,
    params: Map<String, Value>,
) -> Reply {
    let host = Rc::clone(&endpoint.host);
    let outbox = Outbox::default();
    let requests =
        stream::SessionRequests::new(Rc::clone(&host), stored.id.clone(), Rc::clone(&outbox));
    let out = Rc::clone(&outbox);
    let mut raw = [0u8; 8];
    host.random().fill(&mut raw);
    let stream = learner_core::hex(&raw);
    let priming = stored.session.revision() >= Revision::V2025_11_25;
    let session_id = stored.id.clone();
    let recorder = Rc::clone(&host);
    let handler = async move {
        let catalogue = endpoint.catalogue();
        let dispatch = Dispatch {
            catalogue: &catalogue,
            caller: &caller,
            revision: stored.session.revision(),
            client_capabilities: &stored.session.client_capabilities,
            log_level: stored.session.log_level,
            page_size: endpoint.settings.mcp.page_size,
            client: Some(&requests),
            notifications: Rc::clone(&out),
            updated: RefCell::default(),
            state_key: None,
        };
        let outcome = dispatch.request("tools/call", &params).await;
        for uri in dispatch.updated.take() {
            subscriptions::notify_updated(&*host, &uri, endpoint.settings.mcp.session_idle_ms)
                .await;
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
    let body =
        stream::EventStream::new(outbox, handler).recorded(recorder, session_id, stream, priming);
    sse_stream(body)
}

/// `GET /mcp`: the session's standalone stream (messages other requests produce, such
/// as resource updates), or — with `Last-Event-ID` — the rest of a stream the client
/// lost, replayed from the event log and followed until it ends.
async fn get_stream<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
    admitted: &Admitted,
) -> Result<Reply, Response> {
    let host = &*endpoint.host;
    if !accepts(request, "text/event-stream") {
        return Err(rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            None,
            &RpcError::invalid_request("Accept must include text/event-stream"),
        ));
    }
    let stored = open_session(endpoint, request, admitted).await?;
    let kv = host.key_value();
    let max_ms = endpoint.settings.mcp.stream_max_ms;
    let (stream, after, prefix) = if let Some(last) = header_str(request, "last-event-id") {
        let unknown = || {
            rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                &RpcError::invalid_request("Last-Event-ID names no stream of this session"),
            )
        };
        let (stream, after) = events::parse_event_id(last).ok_or_else(unknown)?;
        let known = stream == events::STANDALONE
            || events::last(kv, &stored.id, &stream)
                .await
                .map_err(|_| unavailable())?
                > 0;
        if !known {
            return Err(unknown());
        }
        (stream, after, Vec::new())
    } else {
        let after = events::last(kv, &stored.id, events::STANDALONE)
            .await
            .map_err(|_| unavailable())?;
        let priming = (stored.session.revision() >= Revision::V2025_11_25).then(|| {
            events::priming_frame(
                &events::event_id(events::STANDALONE, after),
                stream::RETRY_MS,
            )
        });
        (
            events::STANDALONE.to_owned(),
            after,
            priming.into_iter().collect(),
        )
    };
    endpoint
        .sessions()
        .touch(&stored)
        .await
        .map_err(|_| unavailable())?;
    Ok(endpoint.follow(stored.id, stream, after, max_ms, prefix))
}

/// `initialize`: negotiates the revision and opens a session bound to the token.
async fn initialize<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    id: &Id,
    params: &Map<String, Value>,
    admitted: &Admitted,
) -> Response {
    let initialize = match InitializeParams::parse(params) {
        Ok(initialize) => initialize,
        Err(error) => return rpc_error(StatusCode::OK, Some(id), &error),
    };
    let revision = Revision::negotiate(&initialize.protocol_version);
    let session = Session {
        owner: owner_of(&admitted.principal),
        revision: revision.as_str().into(),
        client_capabilities: initialize.capabilities,
        client_info: initialize.client_info,
        initialized: false,
        log_level: None,
        subscriptions: Vec::new(),
        renewed_at_ms: 0,
    };
    let Ok(created) = endpoint.sessions().create(&session).await else {
        return unavailable();
    };
    events::close_all(endpoint.host.key_value(), &created.evicted).await;
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
