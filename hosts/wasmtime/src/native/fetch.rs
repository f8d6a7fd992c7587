//! The fetch port: outbound HTTP/1.1 over hyper, with an allow-list of destinations.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use learner_core::outbound::AllowedHost;
use learner_core::ports::{FetchError, OutboundRequest, OutboundResponse};
use tokio::net::TcpStream;

/// The outbound HTTP client.
pub struct HttpClient {
    allowed: Vec<AllowedHost>,
    tls: tokio_rustls::TlsConnector,
}

impl HttpClient {
    /// A client that may reach only `allowed`.
    pub fn new(allowed: Vec<AllowedHost>) -> wasmtime::Result<Self> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            allowed,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// Sends one request, within its deadline.
    pub async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, FetchError> {
        let timeout = Duration::from_millis(u64::from(request.timeout_ms));
        tokio::time::timeout(timeout, self.exchange(request))
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    async fn exchange(&self, request: OutboundRequest) -> Result<OutboundResponse, FetchError> {
        let (scheme, host, port) = learner_core::outbound::check_url(&self.allowed, &request.url)
            .map_err(FetchError::Denied)?;
        // `check_url` parsed it already, so this cannot fail.
        let uri: http::Uri = request
            .url
            .parse()
            .map_err(|e| FetchError::Denied(format!("malformed URL: {e}")))?;
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| FetchError::Denied(format!("bad method {:?}", request.method)))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let mut builder = hyper::Request::builder().method(method).uri(path);
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or(host.clone());
        builder = builder.header(http::header::HOST, authority);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let outgoing = builder
            .body(Full::new(Bytes::from(request.body)))
            .map_err(|e| FetchError::Denied(format!("bad request: {e}")))?;

        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let response = if scheme == "https" {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| FetchError::Denied(e.to_string()))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| FetchError::Transport(e.to_string()))?;
            round_trip(TokioIo::new(tls), outgoing).await?
        } else {
            round_trip(TokioIo::new(tcp), outgoing).await?
        };
        let (parts, body) = response.into_parts();
        let limit = request.max_response_bytes as usize;
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    FetchError::TooLarge
                } else {
                    FetchError::Transport(e.to_string())
                }
            })?
            .to_bytes();
        Ok(OutboundResponse {
            status: parts.status.as_u16(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.to_vec(),
        })
    }
}

async fn round_trip<IO>(
    io: IO,
    request: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, FetchError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| FetchError::Transport(e.to_string()))?;
    tokio::spawn(async move {
        // The connection ends with the exchange; its error, if any, surfaces there.
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| FetchError::Transport(e.to_string()))
}
