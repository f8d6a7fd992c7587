//! Learner DNA MCP as a Cloudflare worker.
//!
//! Workers do not run WASI components, so the core crates are linked in directly and
//! the ports are implemented over Cloudflare bindings (see `ports`). This crate holds
//! no application logic: it converts requests and responses and hands them to
//! [`learner_app::App`].

mod audit_object;
mod kv_object;
mod object_storage;
mod ports;
mod sql_object;

use learner_app::App;
use learner_core::{ApiError, ClientAddr, MAX_BODY_BYTES, Reply};
use worker::{Context, Env, Request, Response, event};

pub use audit_object::AuditLog;
pub use kv_object::{KvObject, McpSession};
pub use sql_object::LearnerStore;

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let core_request = match to_core_request(request).await {
        Ok(request) => request,
        Err(error) => return to_worker_response(error.into_response()),
    };
    let app = app(ports::host(&env));
    match app.handle(core_request).await {
        Reply::Complete(response) => to_worker_response(response),
        Reply::Stream { head, mut body } => {
            // The body is polled as workerd pulls it; the stream owns what it needs.
            let chunks = futures_util::stream::poll_fn(move |cx| {
                body.poll_chunk(cx)
                    .map(|chunk| chunk.map(Ok::<_, worker::Error>))
            });
            let (parts, _) = head.into_parts();
            Ok(Response::builder()
                .with_status(parts.status.as_u16())
                .with_headers(worker_headers(&parts.headers)?)
                .from_stream(chunks)?)
        }
    }
}

/// The application as this build has it: as it ships, or with the test build's routes
/// and fixtures (feature `test-routes`).
#[cfg(not(feature = "test-routes"))]
fn app(host: ports::CfHost) -> App<ports::CfHost> {
    App::new(host)
}

/// The application as this build has it: as it ships, or with the test build's routes
/// and fixtures (feature `test-routes`).
#[cfg(feature = "test-routes")]
fn app(host: ports::CfHost) -> App<ports::CfHost, learner_test_routes::TestBuild> {
    App::with(host, learner_test_routes::TestBuild)
}

async fn to_core_request(mut request: Request) -> Result<learner_core::Request, ApiError> {
    let too_large = ApiError::PayloadTooLarge {
        limit: MAX_BODY_BYTES,
    };
    // Refuse early on a declared length; the core checks the actual length again.
    if let Ok(Some(length)) = request.headers().get("content-length")
        && length.parse::<usize>().map_or(true, |n| n > MAX_BODY_BYTES)
    {
        return Err(too_large);
    }
    let method = request.inner().method();
    let url = request
        .url()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut builder = http::Request::builder()
        .method(method.as_str())
        .uri(url.as_str());
    for (name, value) in request.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = if matches!(method.as_str(), "GET" | "HEAD") {
        Vec::new()
    } else {
        request
            .bytes()
            .await
            .map_err(|e| ApiError::BadRequest(format!("reading the body failed: {e}")))?
    };
    let mut core_request = builder
        .body(body)
        .map_err(|e| ApiError::BadRequest(format!("malformed request: {e}")))?;
    // Cloudflare's edge sets `CF-Connecting-IP` to the connecting client on every
    // request, replacing any value the client sent.
    if let Some(addr) = core_request
        .headers()
        .get("cf-connecting-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(ClientAddr::parse)
    {
        core_request.extensions_mut().insert(addr);
    }
    Ok(core_request)
}

fn worker_headers(headers: &http::HeaderMap) -> worker::Result<worker::Headers> {
    let out = worker::Headers::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            out.append(name.as_str(), value)?;
        }
    }
    Ok(out)
}

fn to_worker_response(response: learner_core::Response) -> worker::Result<Response> {
    let (parts, body) = response.into_parts();
    Ok(Response::builder()
        .with_status(parts.status.as_u16())
        .with_headers(worker_headers(&parts.headers)?)
        .fixed(body))
}
