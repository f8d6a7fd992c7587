//! Outbound HTTP through `fetch()`, limited by the config's `outbound.allow` list.

use futures_util::future::{Either, select};
use learner_core::outbound::{self, AllowedHost};
use learner_core::ports::{self as core, FetchError, OutboundRequest, OutboundResponse};
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Outbound fetch.
pub struct CfFetch {
    allowed: Result<Vec<AllowedHost>, String>,
}

impl CfFetch {
    /// Outbound HTTP to the `allowed` hosts (or, if the list did not parse, to none,
    /// saying why).
    pub fn new(allowed: Result<Vec<AllowedHost>, String>) -> Self {
        Self { allowed }
    }
}

impl core::Fetch for CfFetch {
    async fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, FetchError> {
        let allowed = self
            .allowed
            .as_ref()
            .map_err(|e| FetchError::Denied(e.clone()))?;
        outbound::check_url(allowed, &request.url).map_err(FetchError::Denied)?;
        let transport = |e: worker::Error| FetchError::Transport(e.to_string());
        let headers = Headers::new();
        for (name, value) in &request.headers {
            headers
                .append(name, value)
                .map_err(|e| FetchError::Denied(e.to_string()))?;
        }
        let method = Method::from(request.method.to_ascii_uppercase());
        let mut init = RequestInit::new();
        // The port never follows redirects (`wit/ports.wit`): a followed redirect would
        // reach a destination the allow-list was never asked about.
        init.with_method(method)
            .with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual);
        if !request.body.is_empty() {
            init.with_body(Some(js_sys::Uint8Array::from(&request.body[..]).into()));
        }
        let outgoing = Request::new_with_init(&request.url, &init).map_err(transport)?;
        let limit = request.max_response_bytes as usize;
        let exchange = async move {
            let mut response = Fetch::Request(outgoing).send().await.map_err(transport)?;
            if let Ok(Some(length)) = response.headers().get("content-length")
                && length.parse::<usize>().is_ok_and(|n| n > limit)
            {
                return Err(FetchError::TooLarge);
            }
            let body = response.bytes().await.map_err(transport)?;
            if body.len() > limit {
                return Err(FetchError::TooLarge);
            }
            Ok(OutboundResponse {
                status: response.status_code(),
                headers: response.headers().entries().collect(),
                body,
            })
        };
        let deadline = worker::Delay::from(std::time::Duration::from_millis(u64::from(
            request.timeout_ms,
        )));
        match select(Box::pin(exchange), deadline).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), _)) => Err(FetchError::Timeout),
        }
    }
}
