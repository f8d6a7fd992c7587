//! The HTTP server: hyper in front, a fresh component instance per request.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wasmtime::Store;
use wasmtime::component::Linker;
use wasmtime::error::Context as _;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::state::{Ports, RequestState};

/// Largest buffer hyper keeps for one connection's reads; header sections that do
/// not fit are refused with 431 before they reach the component.
const MAX_READ_BUFFER: usize = 64 * 1024;

/// A ready-to-serve application: the pre-instantiated component and its ports.
#[derive(Clone)]
pub struct App {
    pre: ProxyPre<RequestState>,
    ports: Arc<Ports>,
}

impl App {
    /// Links `component` against WASI, wasi:http and either the native ports or —
    /// for a Spin application (`ports.spin` set) — the Spin interfaces.
    pub fn new(
        engine: &wasmtime::Engine,
        component: &wasmtime::component::Component,
        ports: Arc<Ports>,
    ) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        if ports.spin.is_some() {
            crate::spin::host::add_to_linker(&mut linker)?;
        } else {
            crate::native::add_to_linker(&mut linker)?;
        }
        let pre = ProxyPre::new(
            linker
                .instantiate_pre(component)
                .context("the component's imports cannot all be satisfied by this harness")?,
        )?;
        Ok(Self { pre, ports })
    }

    /// Serves one request on a fresh instance.
    pub async fn handle(
        &self,
        mut request: hyper::Request<Incoming>,
        peer: SocketAddr,
    ) -> wasmtime::Result<hyper::Response<HyperOutgoingBody>> {
        // As Spin does: the peer address travels in `spin-client-addr`, and a value
        // the client sent is replaced, never trusted.
        request.headers_mut().insert(
            learner_core::PEER_ADDR_HEADER,
            hyper::header::HeaderValue::from_str(&peer.to_string())
                .context("a socket address is a valid header value")?,
        );
        let mut store = Store::new(
            self.pre.engine(),
            RequestState::new(Arc::clone(&self.ports)),
        );
        store.limiter(|state| &mut state.limits);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = wasmtime_wasi_http::WasiHttpView::http(store.data_mut())
            .new_incoming_request(Scheme::Http, request)?;
        let out = wasmtime_wasi_http::WasiHttpView::http(store.data_mut())
            .new_response_outparam(sender)?;
        let pre = self.pre.clone();
        // The guest may keep writing the body after sending the head, so it runs in
        // its own task while hyper streams what it writes.
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, out)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => match task.await {
                Ok(Ok(())) => wasmtime::bail!("the component never set a response"),
                Ok(Err(error)) => Err(error.context("the component failed")),
                Err(error) => Err(error.into()),
            },
        }
    }

    /// Instantiates the component once without serving anything (for benchmarks).
    pub async fn instantiate_once(&self) -> wasmtime::Result<()> {
        let mut store = Store::new(
            self.pre.engine(),
            RequestState::new(Arc::clone(&self.ports)),
        );
        store.limiter(|state| &mut state.limits);
        self.pre.instantiate_async(&mut store).await?;
        Ok(())
    }
}

fn internal_error() -> hyper::Response<HyperOutgoingBody> {
    use http_body_util::BodyExt;
    let body = http_body_util::Full::new(bytes::Bytes::from_static(
        br#"{"error":"server_error","error_description":"the request could not be completed"}"#,
    ))
    .map_err(|never| match never {})
    .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Accepts connections on `listener` until the process is told to stop.
pub async fn serve(listener: TcpListener, app: App) -> wasmtime::Result<()> {
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => {
                tracing::info!("shutting down");
                return Ok(());
            }
        };
        // Streamed responses (SSE) are written in small pieces: without this, Nagle's
        // algorithm holds each piece until the client's delayed ACK (~40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%peer, %error, "TCP_NODELAY not set");
        }
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let app = app.clone();
                async move {
                    let method = request.method().clone();
                    let path = request.uri().path().to_owned();
                    let started = std::time::Instant::now();
                    let response = match app.handle(request, peer).await {
                        Ok(response) => response,
                        Err(error) => {
                            tracing::error!(%method, %path, error = format!("{error:#}"), "request failed");
                            internal_error()
                        }
                    };
                    tracing::debug!(%method, %path, status = response.status().as_u16(),
                        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                        "served");
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            if let Err(error) = http1::Builder::new()
                .keep_alive(true)
                .max_buf_size(MAX_READ_BUFFER)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
}
