//! The HTTP+SSE transport of protocol revision 2024-11-05, which older clients still
//! speak: `GET /sse` (or `/mcp/sse`) opens a session and its stream, whose first event
//! (`endpoint`) names where to POST; `POST /messages?sessionId=…` (or `/mcp/messages`)
//! delivers messages, answered with 202, while every response travels on the stream. The session, its binding to the
//! token and the engine are those of Streamable HTTP.

use std::rc::Rc;

use http::{HeaderValue, StatusCode, header};
use learner_core::ports::Host;
use learner_core::{Reply, Request, Response};
use learner_mcp_server::engine;
use learner_mcp_server::jsonrpc::{self, Body, Incoming, RpcError};
use learner_mcp_server::model::params::InitializeParams;
use learner_mcp_server::revision::Revision;
use learner_mcp_server::session::Session;
use learner_oauth::params::Params;
use serde_json::{Map, Value};

use super::messages::run_messages;
use super::{
    Endpoint, accepts, events, not_allowed, owner_of, rpc_error, server_info, stream, unavailable,
};
use crate::extension::Extension;
use crate::{cors, oauth};

/// Where the stream is opened: `/sse` by the old convention, and `/mcp/sse` — under the
/// protected resource `/mcp`, which SDK clients require of the URL they connect to (a
/// URL outside the resource's path is refused before any authorization).
const STREAM_PATHS: [&str; 2] = ["/sse", "/mcp/sse"];
/// Where messages are posted, beside each stream path.
const MESSAGE_PATHS: [&str; 2] = ["/messages", "/mcp/messages"];

/// Whether `path` is one of this transport's.
pub fn serves(path: &str) -> bool {
    STREAM_PATHS.contains(&path) || MESSAGE_PATHS.contains(&path)
}

/// `GET /sse` and `POST /messages` (also under `/mcp/`).
pub async fn handle<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
) -> Reply {
    let path = request.uri().path();
    let is_stream = STREAM_PATHS.contains(&path);
    if cors::is_preflight(request) {
        let methods = if is_stream { "GET" } else { "POST" };
        return endpoint.preflight(request, methods);
    }
    let method = request.method();
    let reply = if is_stream && method == http::Method::GET {
        open(endpoint, request).await
    } else if !is_stream && method == http::Method::POST {
        deliver(endpoint, request).await.map(Reply::from)
    } else if is_stream {
        Err(not_allowed("GET opens the stream", "GET"))
    } else {
        Err(not_allowed("POST delivers messages", "POST"))
    };
    endpoint.with_cors(request, reply)
}

/// `GET /sse`: a new session bound to the token, and its stream.
async fn open<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
) -> Result<Reply, Response> {
    let admitted = endpoint.gate(request).await?;
    if !accepts(request, "text/event-stream") {
        return Err(rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            None,
            &RpcError::invalid_request("Accept must include text/event-stream"),
        ));
    }
    let session = Session {
        owner: owner_of(&admitted.principal),
        // Until `initialize` says otherwise: this transport is 2024-11-05's.
        revision: Revision::V2024_11_05.as_str().into(),
        client_capabilities: Value::Object(Map::new()),
        client_info: Value::Null,
        initialized: false,
        log_level: None,
        subscriptions: Vec::new(),
        renewed_at_ms: 0,
    };
    let idle = endpoint.settings.mcp.session_idle_ms;
    let created = endpoint
        .sessions()
        .create(&session)
        .await
        .map_err(|_| unavailable())?;
    events::close_all(endpoint.host.key_value(), &created.evicted).await;
    let id = created.id;
    // Messages go beside the stream: `/mcp/messages` for `/mcp/sse`.
    let messages = if request.uri().path().starts_with("/mcp/") {
        "/mcp/messages"
    } else {
        "/messages"
    };
    let announcement = format!("event: endpoint\ndata: {messages}?sessionId={id}\n\n").into_bytes();
    // The stream lasts as long as the session may idle: legacy clients cannot resume.
    Ok(endpoint.follow(
        id,
        events::STANDALONE.to_owned(),
        0,
        idle,
        vec![announcement],
    ))
}

/// `POST /messages?sessionId=…`: the messages are handled and their answers put on
/// the session's stream; the POST itself gets 202.
async fn deliver<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    request: &Request,
) -> Result<Response, Response> {
    let host = &*endpoint.host;
    let admitted = endpoint.gate(request).await?;
    if !oauth::has_media_type(request, "application/json") {
        return Err(rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            &RpcError::invalid_request("Content-Type must be application/json"),
        ));
    }
    let session_id = Params::parse(request.uri().query().unwrap_or("").as_bytes())
        .ok()
        .and_then(|p| p.get("sessionId").map(str::to_owned))
        .ok_or_else(|| {
            rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                &RpcError::invalid_request("sessionId is required"),
            )
        })?;
    let mut stored = endpoint
        .open_session(&session_id, &admitted.principal)
        .await?;
    let mut messages = match jsonrpc::parse_body(request.body()) {
        Body::Single(Err((id, error))) => {
            return Err(rpc_error(StatusCode::BAD_REQUEST, id.as_ref(), &error));
        }
        Body::Single(parsed) => vec![parsed],
        Body::Batch(_) if !stored.session.revision().allows_batches() => {
            return Err(rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                &RpcError::invalid_request("JSON-RPC batches are not part of this revision"),
            ));
        }
        Body::Batch(items) => items,
    };
    let kv = host.key_value();
    let mut out: Vec<Value> = Vec::new();
    // `initialize` negotiates on the session the stream opened.
    if let [Ok(Incoming::Request { id, method, params })] = messages.as_slice()
        && method == "initialize"
    {
        let message = if stored.session.client_info.is_null() {
            let initialize = InitializeParams::lenient(params);
            let revision = Revision::negotiate(&initialize.protocol_version);
            endpoint
                .sessions()
                .update(&mut stored, |session| {
                    session.revision = revision.as_str().into();
                    session.client_capabilities = initialize.capabilities.clone();
                    session.client_info = initialize.client_info.clone();
                    true
                })
                .await
                .map_err(|_| unavailable())?;
            jsonrpc::result(id, engine::initialize_result(revision, &server_info()))
        } else {
            jsonrpc::error(
                Some(id),
                &RpcError::invalid_request("the session is already initialized"),
            )
        };
        out.push(message);
        messages.clear();
    }
    let requests =
        stream::SessionRequests::on_standalone(Rc::clone(&endpoint.host), stored.id.clone());
    let (answers, _) =
        run_messages(endpoint, &admitted, &mut stored, messages, Some(&requests)).await?;
    out.extend(answers);
    for message in &out {
        events::append(kv, &stored.id, events::STANDALONE, message)
            .await
            .map_err(|_| unavailable())?;
    }
    let mut response = http::Response::new(b"Accepted".to_vec());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}
