//! Connections: how many, how slow, how many streams. A client that sends its request a
//! byte at a time, or never finishes it, or opens thousands of streams, must not take the
//! server's memory or its sockets from everyone else.
//!
//! - **Accepting** ([`serve_connections`]): at most [`ConnLimits::max_connections`] open at
//!   once (one more is answered `503 Service Unavailable` and closed); a request's headers
//!   must arrive within [`ConnLimits::header_read_timeout`] (hyper's `header_read_timeout`,
//!   which also closes a keep-alive connection left idle that long); on shutdown, open
//!   connections finish their request and close (streams end on the shutdown signal).
//! - **Per request** ([`limit`], a middleware): a body must arrive within
//!   [`ConnLimits::body_read_timeout`] (`408 Request Timeout`) and within
//!   [`crate::BODY_LIMIT`] (`413`); a client (by IP address) may hold at most
//!   [`ConnLimits::streams_per_client`] streams at once, SSE pages and API watches together
//!   (`429 Too Many Requests` beyond, with `Retry-After`).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio_stream::StreamExt;
use tower::ServiceExt;

use crate::AppState;

/// The server's connection limits (see the module's documentation).
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time for a request's headers to arrive (and for an idle keep-alive connection).
    pub header_read_timeout: Duration,
    /// Time for a request's body to arrive.
    pub body_read_timeout: Duration,
    /// SSE streams and watches one client IP may hold at once.
    pub streams_per_client: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            streams_per_client: 64,
        }
    }
}

/// The streams each client holds, for [`ConnLimits::streams_per_client`].
#[derive(Debug, Default)]
pub(crate) struct Streams {
    held: Mutex<BTreeMap<Option<IpAddr>, usize>>,
}

/// One stream held by a client; dropped when its response body is.
struct StreamPermit {
    streams: Arc<Streams>,
    client: Option<IpAddr>,
}

impl Streams {
    fn acquire(self: &Arc<Self>, client: Option<IpAddr>, max: usize) -> Option<StreamPermit> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(client).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(StreamPermit {
            streams: self.clone(),
            client,
        })
    }

    /// How many streams `client` holds.
    #[cfg(test)]
    fn held(&self, client: Option<IpAddr>) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get(&client).copied().unwrap_or(0)
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut held = self.streams.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.client);
            }
        }
    }
}

/// Whether a request opens a stream: a page's SSE stream (`/stream`, `/scenarios/ID/stream`,
/// the compare page's), or an API watch (`?watch=true`, as Go's `strconv.ParseBool` reads it).
fn is_stream(req: &Request) -> bool {
    let path = req.uri().path();
    if req.method() == Method::GET && (path == "/stream" || path.ends_with("/stream")) {
        return true;
    }
    req.uri().query().is_some_and(|q| {
        q.split('&').any(|kv| {
            matches!(
                kv.split_once('=').unwrap_or((kv, "")),
                ("watch", "1" | "t" | "T" | "true" | "TRUE" | "True")
            )
        })
    })
}

/// The per-request limits: a body read within its timeout and size, and a client's streams
/// counted while they last.
pub(crate) async fn limit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let limits = st.conn.clone();
    if is_stream(&req) {
        let Some(permit) = st.streams.acquire(client, limits.streams_per_client) else {
            let mut res = crate::guard::refuse(
                &path,
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "too many streams from this client: at most {} pages and watches at once; close some tabs or watches",
                    limits.streams_per_client
                ),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return res;
        };
        let res = next.run(req).await;
        // The permit lives as long as the stream's body: until the client goes or the
        // stream ends.
        let (parts, body) = res.into_parts();
        let body = Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _held = &permit;
            chunk
        }));
        return Response::from_parts(parts, body);
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let read = async {
        let mut data = body.into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = data.next().await {
            let Ok(chunk) = chunk else {
                return Err(StatusCode::BAD_REQUEST);
            };
            if buf.len() + chunk.len() > crate::BODY_LIMIT {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    };
    let buf = match tokio::time::timeout(limits.body_read_timeout, read).await {
        Ok(Ok(buf)) => buf,
        Ok(Err(StatusCode::PAYLOAD_TOO_LARGE)) => {
            return crate::guard::refuse(
                &path,
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the request body is larger than {} KiB",
                    crate::BODY_LIMIT / 1024
                ),
            );
        }
        Ok(Err(code)) => {
            return crate::guard::refuse(&path, code, "the request body could not be read");
        }
        Err(_) => {
            return crate::guard::refuse(
                &path,
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within {} s",
                    limits.body_read_timeout.as_secs_f64()
                ),
            );
        }
    };
    next.run(Request::from_parts(parts, Body::from(buf))).await
}

/// Serves `app` on `listener` until `shutdown` resolves, within `limits`: at most
/// `max_connections` at once, headers within `header_read_timeout`, each request carrying its
/// peer's address (`ConnectInfo<SocketAddr>`) for the per-client limits.
pub(crate) async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &ConnLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors, or a connection reset before it was accepted:
                // wait a little rather than spin (as axum::serve does).
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(busy(stream, limits.max_connections));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let service = hyper_util::service::TowerToHyperService::new(service);
        // With upgrades (`kubectl exec`'s WebSocket): hyper-util's graceful shutdown does not
        // take such connections, so each one watches the shutdown signal itself.
        let http = http.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let conn = http
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection has finished when every slot is back.
    let _ = slots
        .acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// Serves `app` on the Unix socket `listener` (the scenario scripts' relay, `scripts.rs`):
/// every connection is a local script's, seen as `127.0.0.1`, with the same header timeout.
pub(crate) async fn serve_unix(
    listener: tokio::net::UnixListener,
    app: Router,
    limits: ConnLimits,
) {
    let peer: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let service = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let http = http.clone();
        tokio::spawn(async move {
            let _ = http
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

/// One connection too many: a short `503` and the connection closed.
async fn busy(mut stream: tokio::net::TcpStream, max: usize) {
    let text = format!("the server has {max} connections open, its limit: try again in a moment\n");
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{text}",
        text.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests;
