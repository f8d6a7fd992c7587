//! `wasi:http/incoming-handler` ⇄ `learner_core::{Request, Response}`.

use learner_app::App;
use learner_core::{
    ApiError, ClientAddr, MAX_BODY_BYTES, PEER_ADDR_HEADER, Reply, Request, Response,
};

use crate::bindings::exports::wasi::http::incoming_handler::Guest;
use crate::bindings::wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse,
    ResponseOutparam, Scheme,
};
use crate::bindings::wasi::io::streams::StreamError;
use crate::ports::{WIT_HOST, WitHost};
use crate::stream::next_chunk;
use learner_core::executor::block_on;

/// Largest chunk `blocking-write-and-flush` accepts (WASI 0.2 guarantees 4096).
const WRITE_CHUNK: usize = 4096;

impl Guest for crate::Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let reply = match to_core_request(&request) {
            Ok(core_request) => {
                let app = app();
                block_on(app.handle(core_request)).unwrap_or_else(|| {
                    ApiError::Unavailable("port future stalled".into())
                        .into_response()
                        .into()
                })
            }
            Err(error) => error.into_response().into(),
        };
        match reply {
            Reply::Complete(response) => send(response, response_out),
            Reply::Stream { head, mut body } => {
                send_streaming(head, response_out, || next_chunk(body.as_mut()));
            }
        }
    }
}

/// The application as this build has it: as it ships, or with the test build's routes
/// and fixtures (feature `test-routes`).
#[cfg(not(feature = "test-routes"))]
fn app() -> App<WitHost> {
    App::new(WIT_HOST)
}

/// The application as this build has it: as it ships, or with the test build's routes
/// and fixtures (feature `test-routes`).
#[cfg(feature = "test-routes")]
fn app() -> App<WitHost, learner_test_routes::TestBuild> {
    App::with(WIT_HOST, learner_test_routes::TestBuild)
}

fn method(method: Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other,
    }
}

fn to_core_request(request: &IncomingRequest) -> Result<Request, ApiError> {
    let scheme = match request.scheme() {
        Some(Scheme::Https) => "https",
        _ => "http",
    };
    let authority = request.authority().unwrap_or_else(|| "localhost".into());
    let path = request.path_with_query().unwrap_or_else(|| "/".into());
    let mut builder = http::Request::builder()
        .method(method(request.method()).as_str())
        .uri(format!("{scheme}://{authority}{path}"));
    for (name, value) in request.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = read_body(request)?;
    let mut request = builder
        .body(body)
        .map_err(|e| ApiError::BadRequest(format!("malformed request: {e}")))?;
    // The runtime (Spin, the harness) sets this header on every request, replacing
    // any value the client sent; it becomes the request's trusted client address.
    if let Some(addr) = request
        .headers_mut()
        .remove(PEER_ADDR_HEADER)
        .and_then(|v| v.to_str().ok().and_then(ClientAddr::parse))
    {
        request.extensions_mut().insert(addr);
    }
    Ok(request)
}

fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, ApiError> {
    let unavailable = |what: &str| ApiError::Unavailable(format!("request body {what}"));
    let incoming = request
        .consume()
        .map_err(|()| unavailable("already consumed"))?;
    let stream = incoming
        .stream()
        .map_err(|()| unavailable("stream taken"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY_BYTES {
                    return Err(ApiError::PayloadTooLarge {
                        limit: MAX_BODY_BYTES,
                    });
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(ApiError::BadRequest(format!(
                    "reading the request body failed: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
    drop(stream);
    IncomingBody::finish(incoming);
    Ok(body)
}

fn send(response: Response, out: ResponseOutparam) {
    let (parts, body) = response.into_parts();
    let mut chunks = body
        .chunks(WRITE_CHUNK)
        .map(<[u8]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter();
    send_streaming(http::Response::from_parts(parts, Vec::new()), out, || {
        chunks.next()
    });
}

/// Sends `head`, then each chunk `next` yields, flushed as it comes, until it yields
/// `None`.
fn send_streaming(
    head: Response,
    out: ResponseOutparam,
    mut next: impl FnMut() -> Option<Vec<u8>>,
) {
    let (parts, _) = head.into_parts();
    let entries: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    // The core only produces valid header names and values, so this cannot fail; if it
    // ever did, an empty header set is the safe fallback.
    let fields = Fields::from_list(&entries).unwrap_or_else(|_| Fields::new());
    let outgoing = OutgoingResponse::new(fields);
    // Every `http::StatusCode` is in 100..=999, which wasi accepts.
    let _ = outgoing.set_status_code(parts.status.as_u16());
    let Ok(outgoing_body) = outgoing.body() else {
        ResponseOutparam::set(out, Ok(outgoing));
        return;
    };
    ResponseOutparam::set(out, Ok(outgoing));
    if let Ok(stream) = outgoing_body.write() {
        'body: while let Some(chunk) = next() {
            for piece in chunk.chunks(WRITE_CHUNK) {
                if stream.blocking_write_and_flush(piece).is_err() {
                    // The client went away; nothing more to do.
                    break 'body;
                }
            }
        }
        drop(stream);
    }
    let _ = OutgoingBody::finish(outgoing_body, None);
}
