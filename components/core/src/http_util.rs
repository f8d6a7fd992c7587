//! The HTTP types the core speaks, and the limits every host enforces identically.

use http::{HeaderValue, StatusCode, header};

/// A request as the core sees it: the whole body already read (within
/// [`MAX_BODY_BYTES`]).
pub type Request = http::Request<Vec<u8>>;
/// A response as the core produces it.
pub type Response = http::Response<Vec<u8>>;

/// A response body produced over time (server-sent events), chunk by chunk. Hosts
/// poll it and write each chunk as it comes.
pub trait BodyStream {
    /// The next chunk; `Ready(None)` once the body is complete.
    fn poll_chunk(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Vec<u8>>>;
}

/// What the application answers with: a whole response, or a head whose body follows
/// as a stream.
pub enum Reply {
    /// Status, headers and the whole body.
    Complete(Response),
    /// Status and headers now (the body of `head` is empty); the body as it is made.
    Stream {
        /// Status and headers.
        head: Response,
        /// The body.
        body: Box<dyn BodyStream>,
    },
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Self::Complete(response)
    }
}

/// Largest request body the core accepts. Hosts stop reading past it and answer with
/// [`crate::ApiError::PayloadTooLarge`].
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest total size of request header names and values.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// A JSON response with the headers every API response carries.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    // Serializing a `serde_json::Value` cannot fail: its map keys are always strings.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = http::Response::new(bytes);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Total bytes of header names and values, as counted against [`MAX_HEADER_BYTES`].
pub fn header_bytes(headers: &http::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}
