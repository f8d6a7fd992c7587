//! Which destinations a component may reach through `wasi:http/outgoing-handler`
//! (the Spin adapter's fetch port uses it): the allow-list, enforced before connecting.

use std::sync::Arc;

use learner_core::outbound::{AllowedHost, check_url};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The allow-list as `wasi:http` hooks.
#[derive(Clone, Default)]
pub struct OutboundPolicy {
    allowed: Arc<Vec<AllowedHost>>,
}

impl OutboundPolicy {
    /// A policy allowing only `allowed`.
    pub fn new(allowed: Vec<AllowedHost>) -> Self {
        Self {
            allowed: Arc::new(allowed),
        }
    }
}

type Exchange = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Exchange {
        let allowed = Arc::clone(&self.allowed);
        Box::new(async move {
            _ = fut;
            let url = request.uri().to_string();
            if let Err(reason) = check_url(&allowed, &url) {
                tracing::debug!(%url, %reason, "outbound request denied");
                return Err(Error::HttpRequestDenied);
            }
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(http_body_util::BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}
