//! `/mcp` in the stateless revision (2026-07-28): each POST is a whole request — its
//! version and the client's capabilities in `_meta`, its method and name repeated in
//! headers — with no session. Results carry `resultType`, caching hints and the
//! server's identity; input from the client comes by rounds (`InputRequiredResult`),
//! never by requests on the stream; `subscriptions/listen` is a long-lived stream.

use std::cell::RefCell;

use http::StatusCode;
use learner_core::ports::{Host, shared_secret};
use learner_core::{Reply, Request, Response, json_response};
use learner_mcp_server::catalogue::{Catalogue, Outbox};
use learner_mcp_server::engine::{self, Dispatch, Refusal};
use learner_mcp_server::jsonrpc::{self, Body, Id, Incoming, RpcError};
use learner_mcp_server::revision::Revision;
use learner_mcp_server::session::Session;
use learner_mcp_server::stateless::{self, Headers, SERVER_INFO, SUBSCRIPTION_ID};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    Admitted, Endpoint, SESSION_HEADER, VERSION_HEADER, accepted, events, header_str, owner_of,
    rpc_error, server_info, sse_response, subscriptions, unavailable,
};
use crate::extension::Extension;
use crate::guard;

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
fn rejected(id: &Id, rejection: &stateless::Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
    rpc_error(status, Some(id), &rejection.error)
}

/// Adds the server's identity to a result's `_meta`.
fn identified(mut result: Value) -> Value {
    if let Value::Object(map) = &mut result {
        let meta = map
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let (Value::Object(meta), Ok(info)) =
            (meta, serde_json::to_value(server_info().implementation()))
        {
            meta.insert(SERVER_INFO.into(), info);
        }
    }
    result
}

/// A stateless POST.
pub async fn post<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    admitted: &Admitted,
    request: &Request,
    body: Body,
    wants_sse: bool,
) -> Result<Reply, Response> {
    let host = &*endpoint.host;
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
            return Ok(accepted().into());
        }
        Body::Single(Ok(Incoming::Request { id, method, params })) => (id, method, params),
    };
    let headers = Headers {
        protocol_version: header_str(request, VERSION_HEADER),
        method: header_str(request, "mcp-method"),
        name: header_str(request, "mcp-name"),
    };
    let meta = stateless::validate(&headers, &method, &params).map_err(|r| rejected(&id, &r))?;
    match method.as_str() {
        "server/discover" => {
            let result = identified(engine::discover_result(&server_info()));
            return Ok(json_response(StatusCode::OK, &jsonrpc::result(&id, result)).into());
        }
        "subscriptions/listen" => return listen(endpoint, admitted, id, &params).await,
        _ => {}
    }
    let catalogue = endpoint.catalogue();
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
        .map_err(|r| rejected(&id, &r))?;
    }
    let key = shared_secret(host.key_value(), host.random(), STATE_KEY)
        .await
        .map_err(|_| unavailable())?;
    let dispatch = Dispatch {
        catalogue: &catalogue,
        caller: &admitted.principal,
        revision: Revision::V2026_07_28,
        client_capabilities: &meta.client_capabilities,
        log_level: meta.log_level,
        page_size: endpoint.settings.mcp.page_size,
        client: None,
        notifications: Outbox::default(),
        updated: RefCell::default(),
        state_key: Some(key),
    };
    let outcome = dispatch.request(&method, &params).await;
    let ttl = endpoint.settings.mcp.session_idle_ms;
    for uri in dispatch.updated.take() {
        subscriptions::notify_updated(host, &uri, ttl).await;
    }
    let (status, answer) = match outcome {
        Ok(answer) => (
            StatusCode::OK,
            jsonrpc::result(&id, identified(answer.result)),
        ),
        Err(Refusal::Rpc(error)) => (status_for(&error), jsonrpc::error(Some(&id), &error)),
        Err(Refusal::InsufficientScope(scope)) => {
            return Err(guard::insufficient_scope(&admitted.issuer, &scope));
        }
    };
    let notifications: Vec<Value> = dispatch.notifications.borrow_mut().drain(..).collect();
    if wants_sse && !notifications.is_empty() && status == StatusCode::OK {
        // Progress and log messages go first on the response's own stream.
        let mut messages = notifications;
        messages.push(answer);
        return Ok(sse_response(&messages).into());
    }
    Ok(json_response(status, &answer).into())
}

/// `subscriptions/listen`: acknowledges what it will send, then streams resource
/// updates for the URIs asked for, each tagged with the listen request's id. Lists
/// never change while the server runs, so list-change notifications are agreed to but
/// never sent.
async fn listen<H: Host + 'static, E: Extension>(
    endpoint: &Endpoint<H, E>,
    admitted: &Admitted,
    id: Id,
    params: &Map<String, Value>,
) -> Result<Reply, Response> {
    let host = &*endpoint.host;
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
    let resources = endpoint.catalogue().resources();
    let uris: Vec<String> = filter
        .get("resourceSubscriptions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|uri| resources.iter().any(|r| r.uri == *uri))
        .take(learner_mcp_server::session::MAX_SUBSCRIPTIONS)
        .map(str::to_owned)
        .collect();
    if !uris.is_empty() {
        agreed.insert("resourceSubscriptions".into(), json!(uris));
    }
    // The listener is a session in all but name: the subscriber index and the event
    // log work the same for it.
    let idle = endpoint.settings.mcp.session_idle_ms;
    let listener = Session {
        owner: owner_of(&admitted.principal),
        revision: Revision::V2026_07_28.as_str().into(),
        client_capabilities: json!({}),
        client_info: json!({"subscriptionId": id.to_value()}),
        initialized: true,
        log_level: None,
        subscriptions: uris.clone(),
        renewed_at_ms: 0,
    };
    let created = endpoint
        .sessions()
        .create(&listener)
        .await
        .map_err(|_| unavailable())?;
    events::close_all(host.key_value(), &created.evicted).await;
    let listener_id = created.id;
    for uri in &uris {
        subscriptions::set_subscribed(host.key_value(), uri, &listener_id, idle, true)
            .await
            .map_err(|_| unavailable())?;
    }
    let mut meta = Map::new();
    meta.insert(SUBSCRIPTION_ID.into(), id.to_value());
    let ack = jsonrpc::notification(
        "notifications/subscriptions/acknowledged",
        &Acknowledged {
            notifications: agreed,
            meta,
        },
    );
    Ok(endpoint.follow(
        listener_id,
        events::STANDALONE.to_owned(),
        0,
        endpoint.settings.mcp.stream_max_ms,
        vec![events::sse_frame(None, &ack)],
    ))
}

/// `notifications/subscriptions/acknowledged`: what a listener will be sent.
#[derive(Serialize)]
struct Acknowledged {
    notifications: Map<String, Value>,
    #[serde(rename = "_meta")]
    meta: Map<String, Value>,
}

/// The subscription id a listener's notifications carry, if `session` is a listener.
pub fn subscription_id(session: &Session) -> Option<Value> {
    (!session.revision().has_sessions())
        .then(|| session.client_info.get("subscriptionId").cloned())
        .flatten()
}
