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
use learner_mcp_server::revision::Revision;
use learner_mcp_server::session::{Session, Sessions};
use learner_oauth::params::Params;
use serde_json::{Value, json};

use crate::mcp_http::{
    accepts, caller_of, gate, idle_ms, open_session_id, owner_of, rpc_error, run_messages,
    server_info, set_sse_headers, unavailable,
};
use crate::{cors, mcp_events, mcp_stream};

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
pub async fn handle<H: Host + 'static>(host: Rc<H>, request: &Request) -> Reply {
    let path = request.uri().path();
    let is_stream = STREAM_PATHS.contains(&path);
    if cors::is_preflight(request) {
        let methods = if is_stream { "GET" } else { "POST" };
        return cors::preflight(host.config(), request, methods).into();
    }
    let method = request.method();
    let reply = if is_stream && method == http::Method::GET {
        open(Rc::clone(&host), request).await
    } else if !is_stream && method == http::Method::POST {
        deliver(Rc::clone(&host), request).await.map(Reply::from)
    } else if is_stream {
        Err(crate::mcp_http::not_allowed("GET opens the stream", "GET"))
    } else {
        Err(crate::mcp_http::not_allowed(
            "POST delivers messages",
            "POST",
        ))
    };
    match reply {
        Ok(Reply::Complete(response)) | Err(response) => {
            cors::decorate(host.config(), request, response).into()
        }
        Ok(Reply::Stream { head, body }) => Reply::Stream {
            head: cors::decorate(host.config(), request, head),
            body,
        },
    }
}

/// `GET /sse`: a new session bound to the token, and its stream.
async fn open<H: Host + 'static>(shared: Rc<H>, request: &Request) -> Result<Reply, Response> {
    let host = &*shared;
    let (_, grant) = gate(host, request).await?;
    if !accepts(request, "text/event-stream") {
        return Err(rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            None,
            &RpcError::invalid_request("Accept must include text/event-stream"),
        ));
    }
    let session = Session {
        owner: owner_of(&grant),
        // Until `initialize` says otherwise: this transport is 2024-11-05's.
        revision: Revision::V2024_11_05.as_str().into(),
        client_capabilities: json!({}),
        client_info: Value::Null,
        initialized: false,
        log_level: None,
        subscriptions: Vec::new(),
    };
    let idle = idle_ms(host.config());
    let created = Sessions::new(host.key_value(), host.random(), idle)
        .create(&session)
        .await
        .map_err(|_| unavailable())?;
    mcp_events::close_all(host.key_value(), &created.evicted).await;
    let id = created.id;
    // Messages go beside the stream: `/mcp/messages` for `/mcp/sse`.
    let messages = if request.uri().path().starts_with("/mcp/") {
        "/mcp/messages"
    } else {
        "/messages"
    };
    let endpoint = format!("event: endpoint\ndata: {messages}?sessionId={id}\n\n").into_bytes();
    // The stream lasts as long as the session may idle: legacy clients cannot resume.
    let body = mcp_events::Follower::new(
        Rc::clone(&shared),
        id,
        mcp_events::STANDALONE.to_owned(),
        0,
        idle,
        vec![endpoint],
    );
    let mut head = http::Response::new(Vec::new());
    set_sse_headers(&mut head);
    Ok(Reply::Stream {
        head,
        body: Box::new(body),
    })
}

/// `POST /messages?sessionId=…`: the messages are handled and their answers put on
/// the session's stream; the POST itself gets 202.
async fn deliver<H: Host + 'static>(
    shared: Rc<H>,
    request: &Request,
) -> Result<Response, Response> {
    let host = &*shared;
    let (issuer, grant) = gate(host, request).await?;
    if !crate::oauth_http::has_media_type(request, "application/json") {
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
    let mut stored = open_session_id(host, &session_id, &grant).await?;
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
            let requested = params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let revision = Revision::negotiate(requested);
            let capabilities = params
                .get("capabilities")
                .filter(|c| c.is_object())
                .cloned()
                .unwrap_or_else(|| json!({}));
            let client_info = params.get("clientInfo").cloned().unwrap_or(json!({}));
            Sessions::new(kv, host.random(), idle_ms(host.config()))
                .update(&mut stored, |session| {
                    session.revision = revision.as_str().into();
                    session.client_capabilities = capabilities.clone();
                    session.client_info = client_info.clone();
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
        mcp_stream::SessionRequests::on_standalone(Rc::clone(&shared), stored.id.clone());
    let (answers, _) = run_messages(
        host,
        &issuer,
        &mut stored,
        &caller_of(&grant),
        messages,
        Some(&requests),
    )
    .await?;
    out.extend(answers);
    for message in &out {
        mcp_events::append(kv, &stored.id, mcp_events::STANDALONE, message)
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
