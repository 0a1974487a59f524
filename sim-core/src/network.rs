//! The Service network: a request to a Service goes to one of its ready endpoints, picked as
//! kube-proxy's iptables rules do (uniformly at random, here from a hash of the request's
//! number so that requests never move the run's one random generator), and runs the real
//! program in that pod. A Service with no ready endpoint refuses the connection, as a
//! ClusterIP with no endpoints does (`REJECT` rule).
//!
//! Programs that call other Services (the clothes gateway) get a [`Routes`]: a snapshot of
//! the Services and their endpoints' programs, owned so that it can travel into the caller's
//! invocation; what the calls did to the called containers comes back as [`Effects`] and is
//! applied when the outer invocation returns.

use std::any::Any;

use crate::kubelet::worker::{Effects, Target, WorkerReply, WorkerRequest};
use crate::program::{HttpResponse, Network, NoNetwork};
use crate::sim::Sim;
use crate::store::ObjId;
use crate::time::SimTime;

/// How deep Service calls may nest (a gateway calling a model is 1).
const MAX_CALL_DEPTH: u32 = 4;

/// A request's result as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceReply {
    /// A response, the pod that answered, and the virtual latency in milliseconds
    /// (including the Services it called).
    Response {
        /// The response.
        response: HttpResponse,
        /// The pod's name.
        pod: String,
        /// Milliseconds.
        latency_ms: f64,
    },
    /// The connection failed; the text is what curl would say.
    Failed(String),
}

impl ServiceReply {
    /// The status code, or 0 when there was no response.
    pub fn status(&self) -> u16 {
        match self {
            ServiceReply::Response { response, .. } => response.status,
            ServiceReply::Failed(_) => 0,
        }
    }

    /// curl's exit code for a failure's text, which is always curl's own `curl: (N) ...`
    /// (this module writes them): 0 for anything else.
    pub fn curl_exit(failure: &str) -> i32 {
        failure
            .strip_prefix("curl: (")
            .and_then(|r| r.split_once(')'))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or(0)
    }
}

/// What one endpoint did with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointReply {
    /// The Service has no ready endpoint.
    NoEndpoint,
    /// A response, the pod that answered and the virtual latency (ms).
    Answered {
        /// The response.
        response: HttpResponse,
        /// The pod's name.
        pod: String,
        /// Milliseconds.
        latency_ms: f64,
    },
    /// The pod refused the connection (nothing listens on the port yet).
    Refused,
    /// The pod did not answer in time.
    Timeout,
    /// The connection closed without an answer (a crash, OOMKilled).
    Reset,
}

/// A Service as a request finds it.
#[derive(Debug, Clone)]
pub struct RouteService {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// ClusterIP.
    pub cluster_ip: String,
    /// Service ports.
    pub ports: Vec<i32>,
    /// Ready endpoints that run a program, in the Endpoints object's order.
    pub targets: Vec<Target>,
    /// Ready endpoints whose image declares no program.
    pub declared: Vec<ObjId>,
}

/// Where a URL points: the Service's host part and the path.
pub fn split_url(url: &str) -> Option<(String, Option<i32>, String)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (hostport, None),
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port, path))
}

impl Sim {
    /// The Service that `host` names from a pod in `namespace`: `name`, `name.ns`,
    /// `name.ns.svc`, `name.ns.svc.cluster.local`, or its ClusterIP.
    pub fn resolve_service(&self, namespace: &str, host: &str) -> Option<ObjId> {
        let host = host.trim_end_matches('.');
        let host = host.strip_suffix(".cluster.local").unwrap_or(host);
        let host = host.strip_suffix(".svc").unwrap_or(host);
        let (name, ns) = match host.split_once('.') {
            Some((n, ns)) if !ns.contains('.') && !n.chars().all(|c| c.is_ascii_digit()) => (n, ns),
            _ => (host, namespace),
        };
        if let Some(id) = self.store.services.lookup(ns, name) {
            return Some(id);
        }
        self.store.services.all_names().find_map(|(_, _, id)| {
            let (_, svc) = self.store.services.get(id)?;
            (svc.spec.as_ref()?.cluster_ip.as_deref() == Some(host)).then_some(id)
        })
    }

    /// The Service's ready endpoints: pods with the container that runs a program (the
    /// first one that does), and pods whose images declare no program.
    pub fn service_targets(&self, svc: ObjId) -> (Vec<Target>, Vec<ObjId>) {
        let Some((_, s)) = self.store.services.get(svc) else {
            return (Vec::new(), Vec::new());
        };
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        let name = s.metadata.name.clone().unwrap_or_default();
        let Some(ep) = self
            .store
            .endpoints
            .lookup(&ns, &name)
            .and_then(|id| self.store.endpoints.get(id))
        else {
            return (Vec::new(), Vec::new());
        };
        let mut out: Vec<Target> = Vec::new();
        let mut declared: Vec<ObjId> = Vec::new();
        for subset in ep.1.subsets.iter().flatten() {
            for addr in subset.addresses.iter().flatten() {
                let Some(pod_name) = addr.target_ref.as_ref().and_then(|r| r.name.as_deref())
                else {
                    continue;
                };
                let Some(pod) = self.store.pods.lookup(&ns, pod_name) else {
                    continue;
                };
                if out.iter().any(|t| t.pod == pod) || declared.contains(&pod) {
                    continue;
                }
                let n = self.store.pods.get(pod).map_or(0, |p| p.containers.len());
                match (0..n).find_map(|ci| self.worker_target(pod, ci)) {
                    Some(t) => out.push(t),
                    None => declared.push(pod),
                }
            }
        }
        (out, declared)
    }

    pub(crate) fn route_service(&self, svc: ObjId) -> Option<RouteService> {
        let (_, s) = self.store.services.get(svc)?;
        let spec = s.spec.as_ref()?;
        let (targets, declared) = self.service_targets(svc);
        Some(RouteService {
            namespace: s.metadata.namespace.clone().unwrap_or_default(),
            name: s.metadata.name.clone().unwrap_or_default(),
            cluster_ip: spec.cluster_ip.clone().unwrap_or_default(),
            ports: spec.ports.iter().flatten().map(|p| p.port).collect(),
            targets,
            declared,
        })
    }

    /// A network for a program that calls other Services.
    pub(crate) fn routes(&self, namespace: &str, depth: u32, seq: u64) -> Routes {
        let services = self
            .store
            .services
            .all_names()
            .filter_map(|(_, _, id)| self.route_service(id))
            .collect();
        Routes {
            namespace: namespace.to_string(),
            services,
            now: self.store.now,
            clock: self.program_clock(),
            seed: self.config.seed,
            depth,
            seq,
            effects: Vec::new(),
            upstream_ms: 0.0,
            called: Vec::new(),
        }
    }

    /// Sends a request to a Service from inside the cluster (`curl http://NAME.NS/path`
    /// from a pod): picks a ready endpoint, runs its program, applies what that did.
    pub fn service_request(
        &mut self,
        namespace: &str,
        url: &str,
        method: &str,
        body: &[u8],
    ) -> ServiceReply {
        let seq = self.store.next_request_seq();
        let Some((host, port, path)) = split_url(url) else {
            return ServiceReply::Failed(format!("curl: (3) URL rejected: Bad hostname {url:?}"));
        };
        let Some(svc) = self.resolve_service(namespace, &host) else {
            // A pod's IP (`kubectl port-forward`'s requests, `curl POD_IP` from a pod).
            if let Some(pod) = self.pod_by_ip(&host) {
                return self.pod_request(pod, port, method, &path, body, seq);
            }
            return ServiceReply::Failed(format!("curl: (6) Could not resolve host: {host}"));
        };
        let Some(route) = self.route_service(svc) else {
            return ServiceReply::Failed(format!("curl: (6) Could not resolve host: {host}"));
        };
        if let Some(p) = port
            && !route.ports.contains(&p)
        {
            return ServiceReply::Failed(format!(
                "curl: (7) Failed to connect to {host} port {p}: Connection refused"
            ));
        }
        let shown_port = port.or(route.ports.first().copied()).unwrap_or(80);
        let refused = || {
            ServiceReply::Failed(format!(
                "curl: (7) Failed to connect to {host} port {shown_port}: Connection refused"
            ))
        };
        match self.send_to_endpoint(&route, seq, method, &path, body) {
            EndpointReply::NoEndpoint | EndpointReply::Refused => refused(),
            EndpointReply::Answered {
                response,
                pod,
                latency_ms,
            } => ServiceReply::Response {
                response,
                pod,
                latency_ms,
            },
            EndpointReply::Timeout => ServiceReply::Failed(format!(
                "curl: (28) Operation timed out after {} milliseconds with 0 bytes received",
                crate::kubelet::worker::REQUEST_TIMEOUT_MS
            )),
            EndpointReply::Reset => {
                ServiceReply::Failed("curl: (52) Empty reply from server".to_string())
            }
        }
    }

    /// Sends a request to one of a Service's ready endpoints, picked from a hash of the
    /// request's number `seq` (kube-proxy's random pick), runs its program and applies what
    /// that did. Shared by requests to a Service and those the ingress controller forwards.
    pub(crate) fn send_to_endpoint(
        &mut self,
        route: &RouteService,
        seq: u64,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> EndpointReply {
        let n = route.targets.len() + route.declared.len();
        if n == 0 {
            return EndpointReply::NoEndpoint;
        }
        let pick = (crate::rng::mix64(&[self.config.seed, seq]) % n as u64) as usize;
        let Some(target) = route.targets.get(pick) else {
            // An image with no program: the pod is there and ready, but kubesim has nothing to
            // run for it, and says so rather than inventing an answer.
            let pod = route.declared[pick - route.targets.len()];
            let name = self
                .store
                .pods
                .get(pod)
                .map_or_else(String::new, |p| p.name.to_string());
            return EndpointReply::Answered {
                response: HttpResponse {
                    status: 200,
                    content_type: Some("text/plain".into()),
                    body: format!(
                        "kubesim: pod {name} runs an image that declares no program, so there is no real answer to show\n"
                    )
                    .into_bytes(),
                },
                pod: name,
                latency_ms: crate::traffic::DECLARED_SERVICE_MS,
            };
        };
        let mut target = target.clone();
        let net: Box<dyn Network> = if target.calls_out() {
            Box::new(self.routes(&route.namespace, 1, seq))
        } else {
            NoNetwork::boxed()
        };
        let (now, clock, seed) = (self.store.now, self.program_clock(), self.config.seed);
        let req = WorkerRequest::to_service(method, path, body);
        let (reply, net, effects) = target.request(now, clock, seed, req, net);
        let upstream_ms = self.apply_routes(net);
        self.apply_effects(target.pod, target.ci, effects);
        let pod = self
            .store
            .pods
            .get(target.pod)
            .map_or_else(String::new, |p| p.name.to_string());
        match reply {
            WorkerReply::Response(response, ms) => EndpointReply::Answered {
                response,
                pod,
                latency_ms: ms + upstream_ms,
            },
            WorkerReply::Refused => EndpointReply::Refused,
            WorkerReply::Timeout => EndpointReply::Timeout,
            WorkerReply::Reset(_) | WorkerReply::OutOfMemory => EndpointReply::Reset,
        }
    }

    /// The pod whose IP is `ip`.
    pub fn pod_by_ip(&self, ip: &str) -> Option<ObjId> {
        self.store
            .pods
            .all_names()
            .map(|(_, _, id)| id)
            .find(|&id| {
                self.store
                    .pods
                    .get(id)
                    .is_some_and(|p| p.ip != 0 && crate::store::pod::ip_string(p.ip) == ip)
            })
    }

    /// A request straight to a pod's program (its IP, `localhost` from inside it, or
    /// `kubectl port-forward`): `port`, when given, must be one its container declares (any,
    /// if it declares none).
    pub(crate) fn pod_request(
        &mut self,
        pod: ObjId,
        port: Option<i32>,
        method: &str,
        path: &str,
        body: &[u8],
        seq: u64,
    ) -> ServiceReply {
        let (name, ns, ip) = match self.store.pods.get(pod) {
            Some(p) => (
                p.name.to_string(),
                p.namespace.to_string(),
                crate::store::pod::ip_string(p.ip),
            ),
            None => return ServiceReply::Failed("curl: (7) Couldn't connect to server".into()),
        };
        let n = self.store.pods.get(pod).map_or(0, |p| p.containers.len());
        let refused = |port: Option<i32>| {
            ServiceReply::Failed(format!(
                "curl: (7) Failed to connect to {ip} port {}: Connection refused",
                port.unwrap_or(80)
            ))
        };
        let Some(target) = (0..n).find_map(|ci| self.worker_target(pod, ci)) else {
            return refused(port);
        };
        let ports: Vec<i32> = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref())
            .and_then(|s| s.containers.get(target.ci))
            .map(|c| c.ports.iter().flatten().map(|p| p.container_port).collect())
            .unwrap_or_default();
        if let Some(p) = port
            && !ports.is_empty()
            && !ports.contains(&p)
        {
            return refused(port);
        }
        let net: Box<dyn Network> = if target.calls_out() {
            Box::new(self.routes(&ns, 1, seq))
        } else {
            NoNetwork::boxed()
        };
        let req = WorkerRequest::to_service(method, path, body);
        let (reply, net) = self.worker_request(pod, target.ci, req, net);
        let upstream_ms = self.apply_routes(net);
        match reply {
            WorkerReply::Response(response, ms) => ServiceReply::Response {
                response,
                pod: name,
                latency_ms: ms + upstream_ms,
            },
            WorkerReply::Refused => refused(port),
            WorkerReply::Timeout => ServiceReply::Failed(format!(
                "curl: (28) Operation timed out after {} milliseconds with 0 bytes received",
                crate::kubelet::worker::REQUEST_TIMEOUT_MS
            )),
            WorkerReply::Reset(_) | WorkerReply::OutOfMemory => {
                ServiceReply::Failed("curl: (52) Empty reply from server".to_string())
            }
        }
    }

    /// Applies what a program's Service calls did; returns the latency they added.
    pub(crate) fn apply_routes(&mut self, net: Box<dyn Network>) -> f64 {
        let Ok(routes) = net.into_any().downcast::<Routes>() else {
            return 0.0;
        };
        let routes = *routes;
        for (pod, ci, e) in routes.effects {
            self.apply_effects(pod, ci, e);
        }
        routes.upstream_ms
    }
}

/// The Service network as a program sees it during one invocation.
#[derive(Debug, Default)]
pub struct Routes {
    namespace: String,
    services: Vec<RouteService>,
    now: SimTime,
    clock: u64,
    seed: u64,
    depth: u32,
    seq: u64,
    /// What the calls did, per container, to apply afterwards.
    pub effects: Vec<(ObjId, usize, Effects)>,
    /// Virtual milliseconds the calls took, in sequence.
    pub upstream_ms: f64,
    /// The calls made, in order.
    pub called: Vec<Call>,
}

/// One call a program made to a Service.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Namespace of the Service.
    pub namespace: String,
    /// The Service.
    pub service: String,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Body.
    pub body: Vec<u8>,
}

impl Routes {
    fn find(&self, host: &str) -> Option<usize> {
        let host = host.trim_end_matches('.');
        let host = host.strip_suffix(".cluster.local").unwrap_or(host);
        let host = host.strip_suffix(".svc").unwrap_or(host);
        let (name, ns) = match host.split_once('.') {
            Some((n, ns)) if !ns.contains('.') => (n, ns),
            _ => (host, self.namespace.as_str()),
        };
        self.services
            .iter()
            .position(|s| s.name == name && s.namespace == ns)
            .or_else(|| self.services.iter().position(|s| s.cluster_ip == host))
    }
}

impl Network for Routes {
    fn http_request(
        &mut self,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let (host, port, path) = split_url(url).ok_or_else(|| format!("bad URL {url:?}"))?;
        let si = self
            .find(&host)
            .ok_or_else(|| format!("dial tcp: lookup {host}: no such host"))?;
        let svc = &self.services[si];
        let shown_port = port.or(svc.ports.first().copied()).unwrap_or(80);
        if port.is_some_and(|p| !svc.ports.contains(&p)) || svc.targets.is_empty() {
            return Err(format!(
                "dial tcp {}:{shown_port}: connect: connection refused",
                svc.cluster_ip
            ));
        }
        if self.depth >= MAX_CALL_DEPTH {
            return Err("too many nested Service calls".into());
        }
        self.called.push(Call {
            namespace: svc.namespace.clone(),
            service: svc.name.clone(),
            method: method.to_string(),
            path: path.clone(),
            body: body.to_vec(),
        });
        self.seq += 1;
        let n = svc.targets.len() as u64;
        let ti = (crate::rng::mix64(&[self.seed, self.seq, self.depth as u64]) % n) as usize;
        let mut target = svc.targets[ti].clone();
        // The called program gets the rest of the network; it comes back afterwards.
        let inner = Routes {
            namespace: svc.namespace.clone(),
            services: std::mem::take(&mut self.services),
            now: self.now,
            clock: self.clock,
            seed: self.seed,
            depth: self.depth + 1,
            seq: self.seq * 1_000,
            effects: std::mem::take(&mut self.effects),
            upstream_ms: 0.0,
            called: Vec::new(),
        };
        let req = WorkerRequest::to_service(method, &path, body);
        let (reply, net, effects) =
            target.request(self.now, self.clock, self.seed, req, Box::new(inner));
        let inner = match net.into_any().downcast::<Routes>() {
            Ok(r) => *r,
            Err(_) => return Err("internal: network lost".into()),
        };
        self.services = inner.services;
        self.effects = inner.effects;
        self.called.extend(inner.called);
        self.effects.push((target.pod, target.ci, effects));
        // The called container's snapshot moves on too (requests served, invocations).
        if let Some(t) = self.services[si].targets.get_mut(ti) {
            *t = target;
        }
        match reply {
            WorkerReply::Response(r, ms) => {
                self.upstream_ms += ms + inner.upstream_ms;
                Ok((r.status, r.body))
            }
            WorkerReply::Refused => Err(format!(
                "dial tcp {host}:{shown_port}: connect: connection refused"
            )),
            WorkerReply::Timeout => Err("context deadline exceeded".into()),
            WorkerReply::Reset(_) | WorkerReply::OutOfMemory => {
                Err("connection reset by peer".into())
            }
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_service_port_and_path() {
        assert_eq!(
            split_url("http://clothes-model:8501/v1/models/x:predict"),
            Some((
                "clothes-model".into(),
                Some(8501),
                "/v1/models/x:predict".into()
            ))
        );
        assert_eq!(
            split_url("credit.live-coding/predict"),
            Some(("credit.live-coding".into(), None, "/predict".into()))
        );
        assert_eq!(split_url("http://x"), Some(("x".into(), None, "/".into())));
        assert_eq!(split_url("http://:80/"), None);
        assert_eq!(split_url("http://x:port/"), None);
    }
}
