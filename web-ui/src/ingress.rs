//! The ingress controller on a real port of this machine: under `kubesim serve`, requests to
//! `--ingress-addr` (`127.0.0.1:8081` by default, loopback like every listener) are routed by
//! their `Host` and path as the cluster's Ingresses say (`sim_core::ingress`), so
//! `curl -H 'Host: api.local' http://127.0.0.1:8081/predict` reaches a simulated pod.
//!
//! As on a NodePort ([`crate::node_ports`]): each request is one recorded `ingress` action
//! (Host, method, path and body), so a run driven by curl replays exactly; the sandbox is
//! locked only while the request runs; the body is bounded and must be text; and a port this
//! machine already uses is a warning on the page and in the log, tried again every few
//! seconds, never a crash. The listener serves nothing but the routing: no page, no API, so
//! the main router's guard (Host allow-list, token, cross-site refusal) has nothing to guard
//! here; the Host header is the routing key, as it is for nginx.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sim_core::action::IngressRequest;

use crate::AppState;
use crate::node_ports::reply_response;

/// How long a port that could not be bound waits before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// What the ingress listener is doing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ListenerState {
    /// Not started (`serve` without an ingress address, or tests).
    #[default]
    Off,
    /// Listening on the address.
    Listening(SocketAddr),
    /// Could not listen: the address and why.
    Failed(SocketAddr, String),
}

/// Listens on `addr` until the process ends (retrying while the port is taken).
pub fn spawn(state: AppState, addr: SocketAddr) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut warned: Option<String> = None;
        let mut shutdown = state.shutdown.subscribe();
        loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => {
                    let bound = listener.local_addr().unwrap_or(addr);
                    crate::say(format_args!(
                        "kubesim: the ingress controller answers on http://{bound}/ (try curl -H 'Host: HOST' http://{bound}/PATH)"
                    ));
                    tokio::select! {
                        _ = serve_on(listener, state.clone()) => {}
                        _ = shutdown.changed() => {}
                    }
                    return;
                }
                Err(e) => {
                    let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                        format!("port {} is already in use on this machine", addr.port())
                    } else {
                        format!("cannot listen on {addr}: {e}")
                    };
                    if warned.as_ref() != Some(&why) {
                        crate::say(format_args!(
                            "kubesim: warning: the ingress controller cannot listen: {why}"
                        ));
                        warned = Some(why.clone());
                    }
                    set(&state, ListenerState::Failed(addr, why));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(RETRY_AFTER) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

/// Serves the ingress controller on a bound listener (what [`spawn`] does once it could
/// bind; tests bind port 0 themselves).
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) {
    if let Ok(bound) = listener.local_addr() {
        set(&state, ListenerState::Listening(bound));
    }
    let _ = axum::serve(listener, router(state)).await;
}

fn set(state: &AppState, new: ListenerState) {
    let changed = {
        let mut cur = state.ingress.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *cur != new;
        *cur = new;
        changed
    };
    if changed {
        state.notify();
    }
}

/// The listener's server: every method, host and path goes to the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .fallback(on_request)
        .layer(DefaultBodyLimit::max(crate::BODY_LIMIT))
        .with_state(state)
}

async fn on_request(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return (
            StatusCode::BAD_REQUEST,
            "kubesim: the request body must be UTF-8 text (requests are recorded in the run file as text)\n",
        )
            .into_response();
    };
    // HTTP/1.1 requires a Host; without one (HTTP/1.0) the catch-all server answers.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.host())
        .unwrap_or("")
        .to_string();
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    let reply = st.sb().ingress(IngressRequest {
        host,
        method: method.as_str().to_string(),
        path,
        body,
    });
    st.notify();
    match reply_response(reply) {
        Ok(mut res) => {
            // nginx's own status lines where they differ from the standard phrases.
            let phrase: Option<&'static [u8]> = match res.status().as_u16() {
                503 => Some(b"Service Temporarily Unavailable"),
                504 => Some(b"Gateway Time-out"),
                _ => None,
            };
            if let Some(p) = phrase {
                res.extensions_mut()
                    .insert(hyper::ext::ReasonPhrase::from_static(p));
            }
            res
        }
        Err(why) => (
            StatusCode::BAD_GATEWAY,
            format!("kubesim: no pod answered: {why}\n"),
        )
            .into_response(),
    }
}

/// The page's line on the ingress controller: where it answers, or why it cannot.
pub fn panel(state: &ListenerState) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    match state {
        ListenerState::Off => String::new(),
        ListenerState::Listening(addr) => format!(
            r#"<ul class="nodeports"><li>the ingress controller (IngressClass <code>nginx</code>) answers on <code>http://{addr}/</code> <small>(try <code>curl -H 'Host: HOST' http://{addr}/PATH</code>)</small></li></ul>"#
        ),
        ListenerState::Failed(addr, why) => format!(
            r#"<ul class="nodeports"><li class="warning">⚠ the ingress controller cannot listen on {}: {}: curl cannot reach it here (the simulation is not affected)</li></ul>"#,
            esc(&addr.to_string()),
            esc(why)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Sandbox;

    async fn until(what: &str, mut ok: impl FnMut() -> bool) {
        for _ in 0..300 {
            if ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("not within 30 s: {what}");
    }

    fn state_of(st: &AppState) -> ListenerState {
        st.ingress.lock().unwrap().clone()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_port_in_use_is_a_warning_then_listens_once_free() {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = holder.local_addr().unwrap();
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let task = spawn(st.clone(), addr);
        until("the warning", || {
            matches!(state_of(&st), ListenerState::Failed(..))
        })
        .await;
        assert_eq!(
            state_of(&st),
            ListenerState::Failed(
                addr,
                format!("port {} is already in use on this machine", addr.port())
            )
        );
        let html = st.node_ports_html();
        assert!(
            html.contains("the ingress controller cannot listen"),
            "{html}"
        );
        drop(holder);
        until("listening once the port is free", || {
            state_of(&st) == ListenerState::Listening(addr)
        })
        .await;
        let html = st.node_ports_html();
        assert!(
            html.contains(&format!("answers on <code>http://{addr}/</code>")),
            "{html}"
        );
        // An unknown host: ingress-nginx's 404, recorded as the request it was.
        let res = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /x HTTP/1.1\r\nhost: nowhere.local\r\nconnection: close\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        })
        .await
        .unwrap();
        assert!(res.starts_with("HTTP/1.1 404 Not Found\r\n"), "{res}");
        let last = st.sb().actions.last().map(|a| a.action.clone());
        let Some(sim_core::action::Action::Ingress(r)) = last else {
            panic!("not recorded: {last:?}");
        };
        assert_eq!((r.host.as_str(), r.path.as_str()), ("nowhere.local", "/x"));
        assert!(st.sb().export().contains("- ingress:"));
        task.abort();
    }
}
