//! `/mcp` in the stateless revision (2026-07-28): each POST is a whole request — its
//! version and the client's capabilities in `_meta`, its method and name repeated in
//! headers — with no session. Results carry `resultType`, caching hints and the
//! server's identity; input from the client comes by rounds (`InputRequiredResult`),
//! never by requests on the stream; `subscriptions/listen` is a long-lived stream.

use std::rc::Rc;

use http::StatusCode;
use learner_core::ports::{Host, shared_secret};
use learner_core::{Reply, Request, Response, json_response};
use learner_mcp_server::catalogue::{Catalogue, Outbox};
use learner_mcp_server::engine::{self, Dispatch, Refusal};
use learner_mcp_server::jsonrpc::{self, Body, Id, Incoming, RpcError};
use learner_mcp_server::revision::Revision;
use learner_mcp_server::session::{Session, Sessions};
use learner_mcp_server::stateless::{self, Headers, SERVER_INFO, SUBSCRIPTION_ID};
use learner_oauth::grants::AccessGrant;
use learner_oauth::metadata::Issuer;
use serde_json::{Map, Value, json};

use crate::mcp_http::{
    SESSION_HEADER, VERSION_HEADER, caller_of, catalogue, header_str, idle_ms, owner_of, page_size,
    rpc_error, server_info, set_sse_headers, stream_max_ms, unavailable,
};
use crate::{mcp_events, mcp_subscriptions};

/// Where the key that signs `requestState` lives (made once, shared by every
/// instance).
const STATE_KEY: &str = "mcp:request-state-key";

/// Whether a POST speaks the stateless revision: it has no session, and says so —
/// an `MCP-Protocol-Version` that is not a session-era revision, or the revision in
/// `_meta`. Anything else is the session era (an `initialize`, or a request that
/// lacks its session).
pub fn is_stateless(request: &Request, body: &Body) -> bool {
    if request.headers().contains_key(SESSION_HEADER) {
        return false;
    }
    match header_str(request, VERSION_HEADER).map(str::trim) {
        Some(version) => !Revision::parse(version).is_some_and(Revision::has_sessions),
        None => matches!(body, Body::Single(Ok(Incoming::Request { params, .. }))
            if params
                .get("_meta")
                .and_then(|meta| meta.get(stateless::PROTOCOL_VERSION))
                .is_some()),
    }
}

fn status_for(error: &RpcError) -> StatusCode {
    match error.code {
        jsonrpc::code::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        stateless::code::HEADER_MISMATCH
        | stateless::code::MISSING_CAPABILITY
        | stateless::code::UNSUPPORTED_VERSION
        | jsonrpc::code::PARSE_ERROR
        | jsonrpc::code::INVALID_REQUEST => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// A refused request as its HTTP answer, echoing the request's id.
fn rejected(id: &Id, rejection: stateless::Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
    rpc_error(status, Some(id), &rejection.error)
}

/// Adds the server's identity to a result's `_meta`.
fn identified(mut result: Value) -> Value {
    if let Value::Object(map) = &mut result {
        let info = server_info();
        let meta = map
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            meta.insert(
                SERVER_INFO.into(),
                json!({"name": info.name, "version": info.version}),
            );
        }
    }
    result
}

/// A stateless POST.
pub async fn post<H: Host + 'static>(
    shared: Rc<H>,
    issuer: &Issuer,
    request: &Request,
    grant: &AccessGrant,
    body: Body,
    wants_sse: bool,
) -> Result<Reply, Response> {
    let host = &*shared;
    let (id, method, params) = match body {
        Body::Batch(_) => {
            return Err(rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                &RpcError::invalid_request("JSON-RPC batches are not part of this revision"),
            ));
        }
        Body::Single(Err((id, error))) => {
            return Err(rpc_error(StatusCode::BAD_REQUEST, id.as_ref(), &error));
        }
        // Cancellation, and answers nobody asked for: nothing to do.
        Body::Single(Ok(Incoming::Notification { .. } | Incoming::Response { .. })) => {
            let mut response = http::Response::new(Vec::new());
            *response.status_mut() = StatusCode::ACCEPTED;
            return Ok(response.into());
        }
        Body::Single(Ok(Incoming::Request { id, method, params })) => (id, method, params),
    };
    let headers = Headers {
        protocol_version: header_str(request, VERSION_HEADER),
        method: header_str(request, "mcp-method"),
        name: header_str(request, "mcp-name"),
    };
    let meta = stateless::validate(&headers, &method, &params).map_err(|r| rejected(&id, r))?;
    match method.as_str() {
        "server/discover" => {
            let result = identified(engine::discover_result(&server_info()));
            return Ok(json_response(StatusCode::OK, &jsonrpc::result(&id, result)).into());
        }
        "subscriptions/listen" => return listen(shared.clone(), grant, id, &params).await,
        _ => {}
    }
    let catalogue = catalogue(host);
    if method == "tools/call"
        && let Some(name) = params.get("name").and_then(Value::as_str)
        && let Some(tool) = catalogue.tools().into_iter().find(|t| t.name == name)
    {
        let arguments = params
            .get("arguments")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        stateless::check_param_headers(&tool.input_schema, &arguments, |name| {
            header_str(request, name)
        })
        .map_err(|r| rejected(&id, r))?;
    }
    let key = shared_secret(host.key_value(), host.random(), STATE_KEY)
        .await
        .map_err(|_| unavailable())?;
    let caller = caller_of(grant);
    let dispatch = Dispatch {
        catalogue: &catalogue,
        caller: &caller,
        revision: Revision::V2026_07_28,
        client_capabilities: &meta.client_capabilities,
        log_level: meta.log_level,
        page_size: page_size(host.config()),
        client: None,
        notifications: Outbox::default(),
        updated: Default::default(),
        state_key: Some(key),
    };
    let outcome = dispatch.request(&method, &params).await;
    let ttl = idle_ms(host.config());
    for uri in dispatch.updated.take() {
        mcp_subscriptions::notify_updated(host, &uri, ttl).await;
    }
    let (status, answer) = match outcome {
        Ok(answer) => (
            StatusCode::OK,
            jsonrpc::result(&id, identified(answer.result)),
        ),
        Err(Refusal::Rpc(error)) => (status_for(&error), jsonrpc::error(Some(&id), &error)),
        Err(Refusal::InsufficientScope(scope)) => {
            return Err(crate::resource_guard::insufficient_scope(issuer, &scope));
        }
    };
    let notifications: Vec<Value> = dispatch.notifications.borrow_mut().drain(..).collect();
    if wants_sse && !notifications.is_empty() && status == StatusCode::OK {
        // Progress and log messages go first on the response's own stream.
        let mut body: Vec<u8> = Vec::new();
        for message in notifications.iter().chain(std::iter::once(&answer)) {
            body.extend(mcp_events::sse_frame(None, message));
        }
        let mut response = http::Response::new(body);
        set_sse_headers(&mut response);
        return Ok(response.into());
    }
    Ok(json_response(status, &answer).into())
}

/// `subscriptions/listen`: acknowledges what it will send, then streams resource
/// updates for the URIs asked for, each tagged with the listen request's id. Lists
/// never change while the server runs, so list-change notifications are agreed to but
/// never sent.
async fn listen<H: Host + 'static>(
    shared: Rc<H>,
    grant: &AccessGrant,
    id: Id,
    params: &Map<String, Value>,
) -> Result<Reply, Response> {
    let host = &*shared;
    let Some(filter) = params.get("notifications").and_then(Value::as_object) else {
        return Err(rpc_error(
            StatusCode::OK,
            Some(&id),
            &RpcError::invalid_params("params.notifications must be an object"),
        ));
    };
    let mut agreed = Map::new();
    for flag in [
        "toolsListChanged",
        "promptsListChanged",
        "resourcesListChanged",
    ] {
        if filter.get(flag) == Some(&Value::Bool(true)) {
            agreed.insert(flag.into(), Value::Bool(true));
        }
    }
    let catalogue = catalogue(host);
    let uris: Vec<String> = filter
        .get("resourceSubscriptions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|uri| catalogue.resources().iter().any(|r| r.uri == *uri))
        .take(learner_mcp_server::session::MAX_SUBSCRIPTIONS)
        .map(str::to_owned)
        .collect();
    if !uris.is_empty() {
        agreed.insert("resourceSubscriptions".into(), json!(uris));
    }
    // The listener is a session in all but name: the subscriber index and the event
    // log work the same for it.
    let idle = idle_ms(host.config());
    let listener = Session {
        owner: owner_of(grant),
        revision: Revision::V2026_07_28.as_str().into(),
        client_capabilities: json!({}),
        client_info: json!({"subscriptionId": id.to_value()}),
        initialized: true,
        log_level: None,
        subscriptions: uris.clone(),
    };
    let created = Sessions::new(host.key_value(), host.random(), idle)
        .create(&listener)
        .await
        .map_err(|_| unavailable())?;
    mcp_events::close_all(host.key_value(), &created.evicted).await;
    let listener_id = created.id;
    for uri in &uris {
        mcp_subscriptions::add(host.key_value(), uri, &listener_id, idle)
            .await
            .map_err(|_| unavailable())?;
    }
    let ack = jsonrpc::notification(
        "notifications/subscriptions/acknowledged",
        json!({"notifications": agreed, "_meta": {SUBSCRIPTION_ID: id.to_value()}}),
    );
    let body = mcp_events::Follower::new(
        Rc::clone(&shared),
        listener_id,
        mcp_events::STANDALONE.to_owned(),
        0,
        stream_max_ms(host.config()),
        vec![mcp_events::sse_frame(None, &ack)],
    );
    let mut head = http::Response::new(Vec::new());
    set_sse_headers(&mut head);
    Ok(Reply::Stream {
        head,
        body: Box::new(body),
    })
}

/// The subscription id a listener's notifications carry, if `session` is a listener.
pub fn subscription_id(session: &Session) -> Option<Value> {
    (!session.revision().has_sessions())
        .then(|| session.client_info.get("subscriptionId").cloned())
        .flatten()
}
