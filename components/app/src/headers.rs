//! Header plumbing the MCP endpoint and the authorization server share: reading a
//! list-valued request header item by item, and setting a response's fixed headers.

use http::{HeaderName, HeaderValue};
use learner_core::{Request, Response};

/// The items of `request`'s `name` headers, each value split at `separator`. A list
/// header (`Accept` by `,`, `Cookie` by `;`) may arrive as several headers; values
/// that are not text are skipped. Items are not trimmed.
pub fn list_items(
    request: &Request,
    name: HeaderName,
    separator: char,
) -> impl Iterator<Item = &str> {
    request
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(move |v| v.split(separator))
}

/// Sets `headers` on `response`, in the order given (replacing any earlier value).
pub fn set_static(
    response: &mut Response,
    headers: impl IntoIterator<Item = (HeaderName, &'static str)>,
) {
    let map = response.headers_mut();
    for (name, value) in headers {
        map.insert(name, HeaderValue::from_static(value));
    }
}
