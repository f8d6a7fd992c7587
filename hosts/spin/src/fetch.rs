//! The fetch port over `wasi:http/outgoing-handler`, with a deadline for the whole
//! exchange. Which destinations are reachable is Spin's decision
//! (`allowed_outbound_hosts`); a refused one comes back as `denied`.

use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll;
use wasi::io::streams::StreamError;

use crate::Adapter;
use crate::bindings::exports::learner_dna::app::fetch::{
    FetchError, Guest, OutboundRequest, OutboundResponse,
};

/// Waits until `ready` fires or the deadline passes; `false` on the deadline.
fn wait(ready: &wasi::io::poll::Pollable, deadline: u64) -> bool {
    let timer = monotonic_clock::subscribe_instant(deadline);
    let fired = poll::poll(&[ready, &timer]);
    fired.contains(&0)
}

fn method(name: &str) -> Method {
    match name.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    }
}

fn error(code: ErrorCode) -> FetchError {
    match code {
        ErrorCode::HttpRequestDenied => FetchError::Denied("destination not allowed".into()),
        ErrorCode::HttpRequestUriInvalid => FetchError::Denied("invalid URL".into()),
        ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout => FetchError::Timeout,
        ErrorCode::HttpResponseBodySize(_) => FetchError::TooLarge,
        other => FetchError::Transport(format!("{other:?}")),
    }
}

/// Splits an absolute http(s) URL into scheme, authority and path-with-query.
fn split_url(url: &str) -> Result<(Scheme, &str, &str), FetchError> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(FetchError::Denied(format!("unsupported URL {url:?}")));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(index) => rest.split_at(index),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(FetchError::Denied(format!("URL without host {url:?}")));
    }
    Ok((scheme, authority, if path.is_empty() { "/" } else { path }))
}

impl Guest for Adapter {
    fn send(request: OutboundRequest) -> Result<OutboundResponse, FetchError> {
        let deadline = monotonic_clock::now()
            .saturating_add(u64::from(request.timeout_ms).saturating_mul(1_000_000));
        let (scheme, authority, path) = split_url(&request.url)?;
        let mut entries: Vec<(String, Vec<u8>)> = request
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.into_bytes()))
            .filter(|(name, _)| name != "content-length")
            .collect();
        // Declare the length, so the body is not sent chunked.
        if !request.body.is_empty() {
            entries.push((
                "content-length".into(),
                request.body.len().to_string().into_bytes(),
            ));
        }
        let headers = Fields::from_list(&entries)
            .map_err(|e| FetchError::Denied(format!("invalid header: {e:?}")))?;
        let outgoing = OutgoingRequest::new(headers);
        let invalid = |what: &str| FetchError::Denied(format!("invalid {what}"));
        outgoing
            .set_method(&method(&request.method))
            .map_err(|()| invalid("method"))?;
        outgoing
            .set_scheme(Some(&scheme))
            .map_err(|()| invalid("scheme"))?;
        outgoing
            .set_authority(Some(authority))
            .map_err(|()| invalid("authority"))?;
        outgoing
            .set_path_with_query(Some(path))
            .map_err(|()| invalid("path"))?;
        let body = outgoing.body().map_err(|()| invalid("body"))?;
        let options = RequestOptions::new();
        let budget = Some(u64::from(request.timeout_ms).saturating_mul(1_000_000));
        // Per-phase limits for the host; the deadline below bounds the whole exchange.
        let _ = options.set_connect_timeout(budget);
        let _ = options.set_first_byte_timeout(budget);
        let _ = options.set_between_bytes_timeout(budget);
        let pending = outgoing_handler::handle(outgoing, Some(options)).map_err(error)?;
        {
            let stream = body.write().map_err(|()| invalid("body stream"))?;
            for chunk in request.body.chunks(4096) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| FetchError::Transport(format!("writing the body: {e:?}")))?;
            }
        }
        OutgoingBody::finish(body, None).map_err(error)?;

        if !wait(&pending.subscribe(), deadline) {
            return Err(FetchError::Timeout);
        }
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(error(code)),
            Some(Err(())) | None => return Err(FetchError::Transport("no response".into())),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| FetchError::Transport("body taken".into()))?;
        let stream = incoming
            .stream()
            .map_err(|()| FetchError::Transport("body stream taken".into()))?;
        let limit = request.max_response_bytes as usize;
        let mut bytes = Vec::new();
        loop {
            if !wait(&stream.subscribe(), deadline) {
                return Err(FetchError::Timeout);
            }
            match stream.read(64 * 1024) {
                Ok(chunk) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > limit {
                        return Err(FetchError::TooLarge);
                    }
                }
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(FetchError::Transport(e.to_debug_string()));
                }
            }
        }
        drop(stream);
        drop(IncomingBody::finish(incoming));
        Ok(OutboundResponse {
            status,
            headers,
            body: bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_authority_and_path() {
        let (_, authority, path) = split_url("http://127.0.0.1:8080/a?b=c").expect("valid");
        assert_eq!((authority, path), ("127.0.0.1:8080", "/a?b=c"));
        let (_, authority, path) = split_url("https://example.org").expect("valid");
        assert_eq!((authority, path), ("example.org", "/"));
        assert!(split_url("ftp://example.org/").is_err());
        assert!(split_url("https:///x").is_err());
    }
}
