//! `pods/{name}/portforward`: `kubectl port-forward` as kubectl 1.37 speaks it first
//! (KEP-4006, client-go's `tools/portforward/tunneling_connection.go`): a WebSocket with the
//! subprotocol `SPDY/3.1+portforward.k8s.io` whose binary messages carry a SPDY/3.1 session
//! byte for byte. (The plain SPDY upgrade kubectl falls back to is not served.)
//!
//! The SPDY side is the least kubectl needs: for every local connection kubectl opens an
//! `error` stream, then a `data` stream (`SYN_STREAM`, waiting for the `SYN_REPLY` of each).
//! Their header blocks (`streamType`, `port`, `requestID`) are zlib streams primed with SPDY's
//! dictionary, which kubesim does not read: it tells the two apart by their order (a
//! connection's error stream, then its data stream), so connections opened one after another
//! are served, and every forwarded port reaches the pod's program. The replies' header blocks
//! are empty, in stored (uncompressed) deflate blocks of a zlib stream without a dictionary,
//! which Go's reader accepts. An error stream is closed at once (nothing went wrong); a data
//! stream's bytes are read as one HTTP/1.1 request, sent to the pod's program as a recorded
//! `request` action (to the pod's IP and port), and the answer written back with
//! `Connection: close` before the stream is closed. `PING`s are answered.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};

#[allow(unused_imports)]
use super::*;

/// The subprotocol kubectl offers for a tunnelled SPDY session.
const PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

/// How long a session waits for its client's next message.
const IDLE: Duration = Duration::from_secs(15 * 60);

/// The most a request may be (headers and body) before the stream is reset.
const MAX_REQUEST: usize = 1 << 20;

/// `GET .../pods/{name}/portforward` with a WebSocket upgrade.
pub(super) fn pod_port_forward(
    st: &Cluster,
    ns: &str,
    name: &str,
    uri: &Uri,
    ws: Option<WebSocketUpgrade>,
) -> Response {
    let target = {
        let sb = st.lock();
        let sim = sb.sim();
        let Some(p) = sim
            .store
            .pods
            .lookup(ns, name)
            .and_then(|id| sim.store.pods.get(id))
        else {
            return status(
                404,
                "NotFound",
                &format!("pods \"{name}\" not found"),
                json!({"name": name, "kind": "pods"}),
            );
        };
        // The port its program listens on: the first container port declared.
        let port = p
            .template
            .spec
            .as_ref()
            .and_then(|s| s.containers.iter().find_map(|c| c.ports.as_ref()?.first()))
            .map_or(80, |cp| cp.container_port);
        (sim_core::store::pod::ip_string(p.ip), port)
    };
    let Some(ws) = ws else {
        return port_forward_unserved();
    };
    let st = st.clone();
    let path = uri.path().to_string();
    let ns = ns.to_string();
    ws.protocols([PROTOCOL])
        .on_upgrade(move |socket| session(socket, st, ns, target, path))
}

/// SPDY/3 control frame types.
const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const FLAG_FIN: u8 = 1;

/// One SPDY frame read from the session.
enum Frame {
    Control {
        kind: u16,
        data: Vec<u8>,
    },
    Data {
        stream: u32,
        fin: bool,
        data: Vec<u8>,
    },
}

/// Takes one whole frame off the front of `buf`, if there is one.
fn next_frame(buf: &mut Vec<u8>) -> Option<Frame> {
    if buf.len() < 8 {
        return None;
    }
    let len = (usize::from(buf[5]) << 16) | (usize::from(buf[6]) << 8) | usize::from(buf[7]);
    if buf.len() < 8 + len {
        return None;
    }
    let data = buf[8..8 + len].to_vec();
    let head: Vec<u8> = buf.drain(..8 + len).take(8).collect();
    if head[0] & 0x80 != 0 {
        Some(Frame::Control {
            kind: u16::from_be_bytes([head[2], head[3]]),
            data,
        })
    } else {
        Some(Frame::Data {
            stream: u32::from_be_bytes([head[0] & 0x7f, head[1], head[2], head[3]]),
            fin: head[4] & FLAG_FIN != 0,
            data,
        })
    }
}

fn control(kind: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut f = vec![
        0x80,
        3,
        (kind >> 8) as u8,
        kind as u8,
        flags,
        (len >> 16) as u8,
        (len >> 8) as u8,
        len as u8,
    ];
    f.extend_from_slice(payload);
    f
}

fn data_frame(stream: u32, fin: bool, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut f = (stream & 0x7fff_ffff).to_be_bytes().to_vec();
    f.extend_from_slice(&[
        if fin { FLAG_FIN } else { 0 },
        (len >> 16) as u8,
        (len >> 8) as u8,
        len as u8,
    ]);
    f.extend_from_slice(payload);
    f
}

/// The session's side of SPDY: what is open and what each data stream has received.
struct Spdy {
    /// The zlib stream header went out with the first header block.
    zlib_started: bool,
    /// SYN_STREAMs seen: odd ones are error streams, even ones data streams.
    opened: u64,
    /// Data streams and the request bytes they have received.
    requests: BTreeMap<u32, Vec<u8>>,
}

impl Spdy {
    /// An empty header block (no headers), as the next piece of the session's zlib stream.
    fn empty_headers(&mut self) -> Vec<u8> {
        let mut b = Vec::new();
        if !self.zlib_started {
            // CMF 0x78 (deflate, 32K window), FLG 0x01: no dictionary, check bits.
            b.extend_from_slice(&[0x78, 0x01]);
            self.zlib_started = true;
        }
        // A stored, non-final block holding the four bytes of "0 headers", then the empty
        // stored block of a sync flush, which makes the reader hand those bytes over.
        b.extend_from_slice(&[0x00, 0x04, 0x00, 0xfb, 0xff, 0, 0, 0, 0]);
        b.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
        b
    }
}

async fn send(socket: &mut WebSocket, bytes: Vec<u8>) -> bool {
    socket.send(Message::Binary(bytes.into())).await.is_ok()
}

async fn session(
    mut socket: WebSocket,
    st: Cluster,
    ns: String,
    (ip, port): (String, i32),
    path: String,
) {
    let mut spdy = Spdy {
        zlib_started: false,
        opened: 0,
        requests: BTreeMap::new(),
    };
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Ok(Some(Ok(msg))) = tokio::time::timeout(IDLE, socket.recv()).await else {
            return;
        };
        match msg {
            Message::Binary(b) => buf.extend_from_slice(&b),
            Message::Close(_) => return,
            _ => continue,
        }
        if buf.len() > 2 * MAX_REQUEST {
            return;
        }
        while let Some(frame) = next_frame(&mut buf) {
            match frame {
                Frame::Control {
                    kind: SYN_STREAM,
                    data,
                } if data.len() >= 4 => {
                    let stream = u32::from_be_bytes([data[0] & 0x7f, data[1], data[2], data[3]]);
                    spdy.opened += 1;
                    let mut reply = stream.to_be_bytes().to_vec();
                    reply.extend(spdy.empty_headers());
                    if !send(&mut socket, control(SYN_REPLY, 0, &reply)).await {
                        return;
                    }
                    if spdy.opened % 2 == 1 {
                        // The error stream: nothing went wrong, so it ends empty.
                        if !send(&mut socket, data_frame(stream, true, &[])).await {
                            return;
                        }
                    } else {
                        spdy.requests.insert(stream, Vec::new());
                    }
                }
                Frame::Control { kind: PING, data } => {
                    if !send(&mut socket, control(PING, 0, &data)).await {
                        return;
                    }
                }
                Frame::Control { kind: GOAWAY, .. } => return,
                Frame::Control {
                    kind: RST_STREAM,
                    data,
                } if data.len() >= 4 => {
                    let stream = u32::from_be_bytes([data[0] & 0x7f, data[1], data[2], data[3]]);
                    spdy.requests.remove(&stream);
                }
                Frame::Control { .. } => {}
                Frame::Data { stream, fin, data } => {
                    let Some(req) = spdy.requests.get_mut(&stream) else {
                        continue;
                    };
                    req.extend_from_slice(&data);
                    let whole = http_request(req);
                    if whole.is_none() && !fin && req.len() <= MAX_REQUEST {
                        continue;
                    }
                    spdy.requests.remove(&stream);
                    let answer = match whole {
                        Some((method, target, body)) => {
                            forward(&st, &ns, &ip, port, method, target, body, &path).await
                        }
                        None => b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".to_vec(),
                    };
                    for chunk in answer.chunks(16 << 10) {
                        if !send(&mut socket, data_frame(stream, false, chunk)).await {
                            return;
                        }
                    }
                    if !send(&mut socket, data_frame(stream, true, &[])).await {
                        return;
                    }
                }
            }
        }
    }
}

/// A whole HTTP/1.1 request in `bytes`: method, request target and body.
fn http_request(bytes: &[u8]) -> Option<(String, String, String)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let body = bytes.get(end + 4..end + 4 + length)?;
    Some((method, target, String::from_utf8_lossy(body).into_owned()))
}

/// Sends one request to the pod's program as a recorded `request` action; the HTTP/1.1
/// answer to write back.
#[allow(clippy::too_many_arguments)]
async fn forward(
    st: &Cluster,
    ns: &str,
    ip: &str,
    port: i32,
    method: String,
    target: String,
    body: String,
    path: &str,
) -> Vec<u8> {
    let request = crate::sandbox::Request {
        namespace: ns.to_string(),
        service: format!("http://{ip}:{port}{target}"),
        method,
        path: target,
        body,
    };
    let cluster = st.clone();
    let reply = tokio::task::spawn_blocking(move || cluster.request(request)).await;
    st.save(path).await;
    match reply {
        Ok(sim_core::network::ServiceReply::Response { response, .. }) => {
            let mut out = format!(
                "HTTP/1.1 {} {}\r\n",
                response.status,
                StatusCode::from_u16(response.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("")
            );
            if let Some(ct) = &response.content_type {
                out.push_str(&format!("Content-Type: {ct}\r\n"));
            }
            out.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                response.body.len()
            ));
            let mut out = out.into_bytes();
            out.extend_from_slice(&response.body);
            out
        }
        // Nothing listens: the connection is dropped, as the kubelet drops it.
        _ => Vec::new(),
    }
}
