//! NodePort Services on real ports of this machine: in `kubesim serve`, every nodePort of a
//! NodePort (or LoadBalancer) Service also listens on the serve address's IP, so
//! `curl http://127.0.0.1:30080/predict` reaches a simulated pod and gets its program's real
//! answer (status, content type and body).
//!
//! Each request is recorded in the sandbox's log as the `request` action it stands for, so a
//! run driven by curl replays exactly. Listeners follow the Services: one opens when a
//! NodePort Service appears, closes when it goes. A port this machine already uses is a
//! warning on the page and in the log, never a crash; it is tried again every few seconds.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sim_core::Sim;
use sim_core::network::ServiceReply;

use crate::AppState;
use crate::sandbox::Request;

/// How often the listeners are compared with the Services.
const RECONCILE_EVERY: Duration = Duration::from_millis(250);

/// How long a port that could not be bound waits before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// What one nodePort is doing on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortState {
    /// Listening.
    Listening,
    /// Could not listen (the port is in use, or not allowed).
    Failed(String),
}

/// A nodePort and the Service it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePort {
    /// The port.
    pub port: u16,
    /// Namespace of the Service.
    pub namespace: String,
    /// The Service.
    pub service: String,
    /// Whether it listens.
    pub state: PortState,
}

/// The nodePorts of every Service that has them, with their Service (namespace, name).
pub fn node_ports(sim: &Sim) -> BTreeMap<u16, (String, String)> {
    let mut out = BTreeMap::new();
    for (ns, name, id) in sim.store.services.all_names() {
        let Some((_, svc)) = sim.store.services.get(id) else {
            continue;
        };
        let ports = svc.spec.iter().flat_map(|s| s.ports.iter().flatten());
        for p in ports.filter_map(|p| p.node_port) {
            if let Ok(port) = u16::try_from(p) {
                out.entry(port)
                    .or_insert_with(|| (ns.to_string(), name.to_string()));
            }
        }
    }
    out
}

/// A program's answer as an HTTP response, with the pod that gave it and the virtual
/// latency in `x-kubesim-*` headers.
pub fn reply_response(reply: ServiceReply) -> Result<Response, String> {
    match reply {
        ServiceReply::Response {
            response,
            pod,
            latency_ms,
        } => {
            let status =
                StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut res = (status, response.body).into_response();
            let h = res.headers_mut();
            if let Some(ct) = response
                .content_type
                .as_deref()
                .and_then(|c| HeaderValue::from_str(c).ok())
            {
                h.insert(header::CONTENT_TYPE, ct);
            }
            // The ingress controller's own pages (404, 503) come from no pod.
            if !pod.is_empty() {
                if let Ok(v) = HeaderValue::from_str(&pod) {
                    h.insert("x-kubesim-pod", v);
                }
                if let Ok(v) = HeaderValue::from_str(&format!("{latency_ms:.3}")) {
                    h.insert("x-kubesim-latency-ms", v);
                }
            }
            Ok(res)
        }
        // The text is curl's (`curl: (7) Failed to connect ...`); the reason is enough here.
        ServiceReply::Failed(why) => Err(match why.strip_prefix("curl: (") {
            Some(rest) => rest
                .split_once(") ")
                .map_or(why.clone(), |(_, r)| r.to_string()),
            None => why,
        }),
    }
}

/// Keeps one real listener per nodePort on `ip` until the process ends.
pub fn spawn(state: AppState, ip: IpAddr) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut open: BTreeMap<u16, tokio::task::JoinHandle<()>> = BTreeMap::new();
        // Ports that failed: when, and why (warned once).
        let mut failed: BTreeMap<u16, (tokio::time::Instant, String)> = BTreeMap::new();
        let mut interval = tokio::time::interval(RECONCILE_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = state.shutdown.subscribe();
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = shutdown.changed() => break,
            }
            let wanted = node_ports(&state.sb().sim);
            open.retain(|port, task| {
                let keep = wanted.contains_key(port);
                if !keep {
                    task.abort();
                    crate::say(format_args!(
                        "kubesim: NodePort {port} closed (its Service is gone)"
                    ));
                }
                keep
            });
            failed.retain(|port, _| wanted.contains_key(port));
            for (port, (ns, svc)) in &wanted {
                if open.contains_key(port) {
                    continue;
                }
                if failed
                    .get(port)
                    .is_some_and(|(at, _)| at.elapsed() < RETRY_AFTER)
                {
                    continue;
                }
                match tokio::net::TcpListener::bind((ip, *port)).await {
                    Ok(listener) => {
                        failed.remove(port);
                        crate::say(format_args!(
                            "kubesim: service {ns}/{svc} answers on http://{}/ (NodePort)",
                            std::net::SocketAddr::new(ip, *port)
                        ));
                        let app = router(state.clone(), *port);
                        open.insert(
                            *port,
                            tokio::spawn(async move {
                                let _ = axum::serve(listener, app).await;
                            }),
                        );
                    }
                    Err(e) => {
                        let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                            format!("port {port} is already in use on this machine")
                        } else {
                            format!("cannot listen on {ip}:{port}: {e}")
                        };
                        if failed.get(port).is_none_or(|(_, w)| *w != why) {
                            crate::say(format_args!(
                                "kubesim: warning: NodePort of service {ns}/{svc}: {why}"
                            ));
                        }
                        failed.insert(*port, (tokio::time::Instant::now(), why));
                    }
                }
            }
            let status: Vec<NodePort> = wanted
                .iter()
                .map(|(port, (ns, svc))| NodePort {
                    port: *port,
                    namespace: ns.clone(),
                    service: svc.clone(),
                    state: match failed.get(port) {
                        Some((_, why)) => PortState::Failed(why.clone()),
                        None => PortState::Listening,
                    },
                })
                .collect();
            let changed = {
                let mut cur = state.node_ports.lock().unwrap_or_else(|e| e.into_inner());
                let changed = cur.1 != status;
                cur.0 = Some(ip);
                cur.1 = status;
                changed
            };
            if changed {
                state.notify();
            }
        }
        for task in open.values() {
            task.abort();
        }
    })
}

/// One nodePort's server: every method and path goes to the Service.
fn router(state: AppState, port: u16) -> Router {
    Router::new()
        .fallback(on_request)
        .layer(DefaultBodyLimit::max(crate::BODY_LIMIT))
        .with_state((state, port))
}

async fn on_request(
    State((st, port)): State<(AppState, u16)>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return (
            StatusCode::BAD_REQUEST,
            "kubesim: the request body must be UTF-8 text (requests are recorded in the run file as text)\n",
        )
            .into_response();
    };
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    let reply = {
        let mut sb = st.sb();
        let Some((namespace, service)) = node_ports(&sb.sim).get(&port).cloned() else {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("kubesim: no Service has nodePort {port} any more\n"),
            )
                .into_response();
        };
        sb.request(Request {
            namespace,
            service,
            method: method.as_str().to_string(),
            path,
            body,
        })
    };
    st.notify();
    match reply_response(reply) {
        Ok(res) => res,
        // kube-proxy would refuse the connection; an HTTP answer says why.
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("kubesim: no pod answered: {why}\n"),
        )
            .into_response(),
    }
}

/// The page's note on NodePorts: where each Service answers on this machine, or why not.
pub fn panel(ip: Option<IpAddr>, ports: &[NodePort]) -> String {
    use std::fmt::Write;
    let Some(ip) = ip else {
        return String::new();
    };
    if ports.is_empty() {
        return r#"<p class="empty">No NodePort Service: create one and it answers on a real port of this machine.</p>"#.into();
    }
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = String::from(r#"<ul class="nodeports">"#);
    for p in ports {
        let addr = std::net::SocketAddr::new(ip, p.port);
        let _ = match &p.state {
            PortState::Listening => write!(
                out,
                r#"<li>service {}/{} answers on <code>http://{addr}/</code> <small>(NodePort; try <code>curl http://{addr}/</code>)</small></li>"#,
                esc(&p.namespace),
                esc(&p.service)
            ),
            PortState::Failed(why) => write!(
                out,
                r#"<li class="warning">⚠ service {}/{} has nodePort {}, but {}: curl cannot reach it here (the simulation is not affected)</li>"#,
                esc(&p.namespace),
                esc(&p.service),
                p.port,
                esc(why)
            ),
        };
    }
    out.push_str("</ul>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{Action, Sandbox};
    use std::io::{Read, Write};

    /// A nodePort nothing on this machine listens on now. The kernel's ephemeral ports start
    /// at 32768, above the NodePort range, so only another program that chose one could
    /// collide; the start moves with the process id so parallel runs spread out.
    fn free_node_port(skip: &[u16]) -> u16 {
        let start = 30000 + (std::process::id() % 2768) as u16;
        (0..2768)
            .map(|i| 30000 + (start - 30000 + i) % 2768)
            .find(|p| !skip.contains(p) && std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .expect("a free port in 30000-32767")
    }

    fn scenario(port: u16) -> String {
        format!(
            "seed: 3
steps:
  - apply: |
      apiVersion: v1
      kind: Namespace
      metadata: {{name: demo}}
  - apply: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {{name: web, namespace: demo}}
      spec:
        replicas: 2
        selector: {{matchLabels: {{app: web}}}}
        template:
          metadata: {{labels: {{app: web}}}}
          spec:
            containers:
              - name: api
                image: registry.local/credit-scoring-api:v1
                ports: [{{containerPort: 8080}}]
                readinessProbe: {{httpGet: {{port: 8080, path: /healthz}}, periodSeconds: 1}}
  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {{name: web, namespace: demo}}
      spec:
        type: NodePort
        selector: {{app: web}}
        ports: [{{port: 80, targetPort: 8080, nodePort: {port}}}]
  - waitFor: {{rollout: deployment/web, namespace: demo}}
"
        )
    }

    /// One HTTP/1.1 exchange on a fresh connection: the whole response as text.
    async fn http(port: u16, request: &str) -> std::io::Result<String> {
        let request = request.to_string();
        tokio::task::spawn_blocking(move || {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
            s.set_read_timeout(Some(Duration::from_secs(20)))?;
            s.write_all(request.as_bytes())?;
            let mut out = Vec::new();
            s.read_to_end(&mut out)?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        })
        .await?
    }

    async fn until(what: &str, mut ok: impl FnMut() -> bool) {
        for _ in 0..200 {
            if ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("not within 20 s: {what}");
    }

    fn state_of(st: &AppState, port: u16) -> Option<PortState> {
        let status = st.node_ports.lock().unwrap();
        status
            .1
            .iter()
            .find(|p| p.port == port)
            .map(|p| p.state.clone())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_node_port_answers_on_a_real_port_and_closes_with_its_service() {
        let port = free_node_port(&[]);
        let st = AppState::new(Sandbox::new(&scenario(port), None).unwrap(), "test");
        let task = spawn(st.clone(), "127.0.0.1".parse().unwrap());
        until("the nodePort listens", || {
            state_of(&st, port) == Some(PortState::Listening)
        })
        .await;
        let body = r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#;
        let res = http(
            port,
            &format!(
                "POST /predict HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
        .await
        .unwrap();
        assert!(res.starts_with("HTTP/1.1 200 OK\r\n"), "{res}");
        assert!(res.contains("content-type: application/json\r\n"), "{res}");
        assert!(res.contains("x-kubesim-pod: web-"), "{res}");
        assert!(
            res.ends_with(r#"{"probability_of_default":0.139101,"decision":"approve"}"#),
            "{res}"
        );
        // Recorded as the request it was, so the run replays.
        let last = st.sb().actions.last().map(|a| a.action.clone());
        let Some(Action::Request(r)) = last else {
            panic!("not recorded: {last:?}");
        };
        assert_eq!(
            (r.service.as_str(), r.method.as_str(), r.path.as_str()),
            ("web", "POST", "/predict")
        );
        assert!(st.sb().export().contains("- request:"));
        // A wrong path gets the program's own 404.
        let res = http(
            port,
            "GET /nope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        assert!(res.starts_with("HTTP/1.1 404"), "{res}");
        // The Service goes: so does the listener.
        st.sb()
            .act(Action::Kubectl("delete service web -n demo".into()));
        until("the nodePort closes", || state_of(&st, port).is_none()).await;
        let mut closed = false;
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
            {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(closed, "port {port} still accepts connections");
        task.abort();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_port_in_use_is_a_warning_then_listens_once_free() {
        let port = free_node_port(&[]);
        let holder = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let st = AppState::new(Sandbox::new(&scenario(port), None).unwrap(), "test");
        let task = spawn(st.clone(), "127.0.0.1".parse().unwrap());
        until("the warning", || {
            matches!(state_of(&st, port), Some(PortState::Failed(_)))
        })
        .await;
        let Some(PortState::Failed(why)) = state_of(&st, port) else {
            unreachable!()
        };
        assert_eq!(
            why,
            format!("port {port} is already in use on this machine")
        );
        let html = st.node_ports_html();
        assert!(html.contains("curl cannot reach it here"), "{html}");
        // The sandbox is unaffected: the same Service answers through the API.
        let reply = st.sb().request(Request {
            namespace: "demo".into(),
            service: "web".into(),
            method: "GET".into(),
            path: "/healthz".into(),
            body: String::new(),
        });
        assert!(matches!(reply, ServiceReply::Response { .. }), "{reply:?}");
        drop(holder);
        until("listening once the port is free", || {
            state_of(&st, port) == Some(PortState::Listening)
        })
        .await;
        task.abort();
    }
}
