//! What changes a cluster, in one vocabulary: the `kubesim run` steps that act (apply a
//! manifest, a kubectl command line, a write to the API, a node fault, a request or load on
//! a Service). The sandbox, a scenario's run, the page's console and the API record these and
//! replay them through [`apply`]; a script's other steps (`advance`, `waitFor`, `echo`,
//! `explain`) move time or print, and change nothing themselves.
//!
//! An action serializes as the script step it is (`{apply: YAML}`, `{api: {...}}`,
//! `{request: {...}}`), so an exported run is a script.

use serde::{Deserialize, Serialize};

use crate::apiserver::call::{ApiCall, WriteResult};
use crate::controller::node_lifecycle::NodeFault;
use crate::kubectl::{self, Clock, FileSource, Output};
use crate::network::ServiceReply;
use crate::shell::{Exec, ExecError, ExecOutput};
use crate::sim::Sim;
use crate::time::{SimDuration, parse_duration};
use crate::trace::Tracer;

/// Something that changes the cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ActionMap", into = "ActionMap")]
pub enum Action {
    /// `kubectl apply -f`: inline YAML, or in a script a path relative to it.
    Apply(String),
    /// `kubectl replace -f`: whole objects that replace the live ones (the real kubectl's
    /// `replace`, and before the API recorded its writes, `patch`, `edit` and server-side
    /// apply, as the objects they left).
    Replace(String),
    /// `kubectl create -f`: objects created as they are written (no last-applied
    /// annotation, an error if one exists).
    Create(String),
    /// A kubectl command line, as typed.
    Kubectl(String),
    /// Stop a node's kubelet.
    NodeDown(String),
    /// Bring a node's kubelet back.
    NodeUp(String),
    /// Remove a node.
    RemoveNode(String),
    /// One request to a Service.
    Request(Request),
    /// Load on a Service.
    Traffic(Traffic),
    /// Stop the load on a Service, or on every Service of a namespace.
    StopTraffic(StopTraffic),
    /// One write to the API as a client sent it (the real kubectl, the Python client).
    Api(Box<ApiCall>),
    /// One request through the ingress controller, with its `Host`.
    Ingress(IngressRequest),
    /// A command run in a container (`kubectl exec`) that sent requests.
    Exec(Box<Exec>),
}

/// An action as a step writes it: a map with one key (YAML's tagged enums would read
/// `!apply`, not the `apply:` every script has).
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ActionMap {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    create: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kubectl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_down: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_up: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remove_node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request: Option<Request>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traffic: Option<Traffic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stop_traffic: Option<StopTraffic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api: Option<Box<ApiCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ingress: Option<IngressRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exec: Option<Box<Exec>>,
}

impl TryFrom<ActionMap> for Action {
    type Error = &'static str;

    fn try_from(m: ActionMap) -> Result<Action, &'static str> {
        let mut found: Vec<Action> = Vec::new();
        found.extend(m.apply.map(Action::Apply));
        found.extend(m.replace.map(Action::Replace));
        found.extend(m.create.map(Action::Create));
        found.extend(m.kubectl.map(Action::Kubectl));
        found.extend(m.node_down.map(Action::NodeDown));
        found.extend(m.node_up.map(Action::NodeUp));
        found.extend(m.remove_node.map(Action::RemoveNode));
        found.extend(m.request.map(Action::Request));
        found.extend(m.traffic.map(Action::Traffic));
        found.extend(m.stop_traffic.map(Action::StopTraffic));
        found.extend(m.api.map(Action::Api));
        found.extend(m.ingress.map(Action::Ingress));
        found.extend(m.exec.map(Action::Exec));
        match (found.pop(), found.is_empty()) {
            (Some(a), true) => Ok(a),
            _ => Err(
                "an action has exactly one of: apply, replace, create, kubectl, api, nodeDown, nodeUp, removeNode, request, traffic, stopTraffic, ingress, exec",
            ),
        }
    }
}

impl From<Action> for ActionMap {
    fn from(a: Action) -> ActionMap {
        let mut m = ActionMap::default();
        match a {
            Action::Apply(y) => m.apply = Some(y),
            Action::Replace(y) => m.replace = Some(y),
            Action::Create(y) => m.create = Some(y),
            Action::Kubectl(c) => m.kubectl = Some(c),
            Action::NodeDown(n) => m.node_down = Some(n),
            Action::NodeUp(n) => m.node_up = Some(n),
            Action::RemoveNode(n) => m.remove_node = Some(n),
            Action::Request(r) => m.request = Some(r),
            Action::Traffic(t) => m.traffic = Some(t),
            Action::StopTraffic(s) => m.stop_traffic = Some(s),
            Action::Api(call) => m.api = Some(call),
            Action::Ingress(r) => m.ingress = Some(r),
            Action::Exec(e) => m.exec = Some(e),
        }
        m
    }
}

impl Action {
    /// A node fault as an action.
    pub fn node(fault: NodeFault, name: impl Into<String>) -> Action {
        let name = name.into();
        match fault {
            NodeFault::Down => Action::NodeDown(name),
            NodeFault::Up => Action::NodeUp(name),
            NodeFault::Remove => Action::RemoveNode(name),
        }
    }

    /// The node fault this action is, if it is one.
    pub fn node_fault(&self) -> Option<(NodeFault, &str)> {
        match self {
            Action::NodeDown(n) => Some((NodeFault::Down, n)),
            Action::NodeUp(n) => Some((NodeFault::Up, n)),
            Action::RemoveNode(n) => Some((NodeFault::Remove, n)),
            _ => None,
        }
    }
}

/// One request to a Service, as a `request` step sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawRequest")]
pub struct Request {
    /// The Service (`name`, `name.namespace`, or a URL such as `http://name:80/path`).
    pub service: String,
    /// Namespace of the Service.
    pub namespace: String,
    /// Method, upper case.
    pub method: String,
    /// Path (with its query, if any).
    pub path: String,
    /// Body (text: YAML or JSON written in a script is sent as compact JSON).
    pub body: String,
}

impl Request {
    /// The URL this request names: a `service` that is a URL as it is, a dotted one as the
    /// host, else `http://SERVICE.NAMESPACE/PATH`.
    pub fn url(&self) -> String {
        if self.service.starts_with("http://") || self.service.starts_with("https://") {
            return self.service.clone();
        }
        let host = if self.service.contains('.') {
            self.service.clone()
        } else {
            format!("{}.{}", self.service, self.namespace)
        };
        let sep = if self.path.starts_with('/') { "" } else { "/" };
        format!("http://{host}{sep}{}", self.path)
    }
}

/// One request through the ingress controller, as an `ingress` step sends it: what reached
/// the ingress listener (`curl -H 'Host: api.local' http://127.0.0.1:8081/predict`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawIngressRequest")]
pub struct IngressRequest {
    /// The `Host` header (routing compares it without port and case).
    pub host: String,
    /// Method, upper case.
    pub method: String,
    /// Path (with its query, if any).
    pub path: String,
    /// Body (text).
    pub body: String,
}

/// `ingress:` as written: everything but the host may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIngressRequest {
    host: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    body: Option<serde_yaml::Value>,
}

impl TryFrom<RawIngressRequest> for IngressRequest {
    type Error = String;

    fn try_from(r: RawIngressRequest) -> Result<IngressRequest, String> {
        let body = body_text(r.body)?;
        Ok(IngressRequest {
            method: method_for(r.method, &body),
            host: r.host,
            path: r.path.unwrap_or_else(|| "/".into()),
            body,
        })
    }
}

/// Load on a Service, as a `traffic` step starts it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawTraffic")]
pub struct Traffic {
    /// The Service's name.
    pub service: String,
    /// Namespace of the Service.
    pub namespace: String,
    /// Requests per virtual second.
    pub rps: f64,
    /// Method, upper case.
    pub method: String,
    /// Path.
    pub path: String,
    /// Body (text).
    pub body: String,
    /// How long.
    #[serde(serialize_with = "as_millis")]
    pub duration: SimDuration,
}

/// `stopTraffic: {service, namespace}`: ends the flows a `traffic` step started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopTraffic {
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// The Service (every Service of the namespace when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

fn default_namespace() -> String {
    "default".into()
}

fn as_millis<S: serde::Serializer>(d: &SimDuration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}ms", d.millis()))
}

/// `request:` as written: everything but the service may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    service: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    body: Option<serde_yaml::Value>,
}

/// `traffic:` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    service: String,
    #[serde(default)]
    namespace: Option<String>,
    rps: f64,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    body: Option<serde_yaml::Value>,
    #[serde(default)]
    duration: Option<String>,
}

/// A body as text: strings as they are, anything else as compact JSON.
fn body_text(body: Option<serde_yaml::Value>) -> Result<String, String> {
    match body {
        None | Some(serde_yaml::Value::Null) => Ok(String::new()),
        Some(serde_yaml::Value::String(s)) => Ok(s),
        Some(v) => serde_yaml::from_value::<serde_json::Value>(v)
            .map(|j| j.to_string())
            .map_err(|e| format!("body is not JSON-like: {e}")),
    }
}

/// The method a step names, or GET/POST by whether there is a body.
fn method_for(method: Option<String>, body: &str) -> String {
    match method {
        Some(m) => m.to_uppercase(),
        None if body.is_empty() => "GET".into(),
        None => "POST".into(),
    }
}

impl TryFrom<RawRequest> for Request {
    type Error = String;

    fn try_from(r: RawRequest) -> Result<Request, String> {
        let body = body_text(r.body)?;
        Ok(Request {
            method: method_for(r.method, &body),
            service: r.service,
            namespace: r.namespace.unwrap_or_else(default_namespace),
            path: r.path.unwrap_or_else(|| "/".into()),
            body,
        })
    }
}

impl TryFrom<RawTraffic> for Traffic {
    type Error = String;

    fn try_from(t: RawTraffic) -> Result<Traffic, String> {
        let body = body_text(t.body)?;
        let duration = t.duration.as_deref().unwrap_or("1h");
        let duration = parse_duration(duration).map_err(|e| format!("traffic.duration: {e}"))?;
        if !(t.rps.is_finite() && t.rps > 0.0) {
            return Err(format!(
                "traffic.rps must be a positive number, not {}",
                t.rps
            ));
        }
        Ok(Traffic {
            method: method_for(t.method, &body),
            service: t.service,
            namespace: t.namespace.unwrap_or_else(default_namespace),
            rps: t.rps,
            path: t.path.unwrap_or_else(|| "/".into()),
            body,
            duration,
        })
    }
}

/// What an action did.
#[derive(Debug)]
pub struct Outcome {
    /// What a terminal shows (kubectl's output, a request's answer, an error).
    pub output: Output,
    /// A request's answer, exactly as the program gave it.
    pub reply: Option<ServiceReply>,
    /// A write to the API: the object it left and the warnings, or the API server's error.
    pub written: Option<WriteResult>,
    /// An exec: what the command did, or why it could not run.
    pub exec: Option<Result<ExecOutput, ExecError>>,
}

impl Outcome {
    fn printed(output: Output) -> Outcome {
        Outcome {
            output,
            reply: None,
            written: None,
            exec: None,
        }
    }

    /// Lets `tracer` see the cluster after `action`, and a request's answer.
    pub fn trace(&self, action: &Action, sim: &mut Sim, tracer: &mut Tracer) {
        tracer.observe(sim);
        if let (Action::Request(r), Some(reply)) = (action, &self.reply) {
            tracer.record_request(sim, &r.namespace, &r.url(), &r.method, reply);
        }
        if let (Action::Ingress(r), Some(reply)) = (action, &self.reply) {
            let url = format!("http://{}{}", r.host, r.path);
            tracer.record_request(sim, "", &url, &r.method, reply);
        }
    }

    /// Whether the action belongs in the run's history: everything that was tried, except
    /// load that never started (a failing `traffic` step would stop an exported run) and API
    /// writes that failed or were dry runs (they changed nothing).
    pub fn recorded(&self, action: &Action) -> bool {
        match action {
            Action::Traffic(_) => self.output.code == 0,
            Action::Api(call) => {
                !call.options.dry_run && self.written.as_ref().is_some_and(Result::is_ok)
            }
            // Only an exec that sent requests changed the cluster (a read is not recorded,
            // as a GET is not).
            Action::Exec(_) => self
                .exec
                .as_ref()
                .is_some_and(|e| e.as_ref().is_ok_and(|o| o.requests > 0)),
            _ => true,
        }
    }
}

/// Does `action` on `sim`: `files` resolves a manifest given as a path, `clock` moves time
/// while a command waits (`delete`, `drain`), and `tracer` sees the cluster afterwards (and
/// a request's answer).
pub fn apply(
    sim: &mut Sim,
    tracer: &mut Tracer,
    action: &Action,
    files: &dyn FileSource,
    clock: &mut dyn Clock,
) -> Outcome {
    let outcome = perform(sim, action, files, clock);
    outcome.trace(action, sim, tracer);
    outcome
}

/// The manifest an apply, replace or create names: inline YAML, or a file to read.
pub fn manifest<'a>(
    body: &'a str,
    files: &dyn FileSource,
) -> Result<(std::borrow::Cow<'a, str>, String), String> {
    if body.contains('\n') || body.contains(':') {
        Ok((body.into(), "STDIN".into()))
    } else {
        let path = body.trim();
        files.read(path).map(|t| (t.into(), path.to_string()))
    }
}

/// [`apply`] without the tracer, for a caller whose clock holds it while a command waits
/// (a scenario's session): it calls [`Outcome::trace`] afterwards.
pub fn perform(
    sim: &mut Sim,
    action: &Action,
    files: &dyn FileSource,
    clock: &mut dyn Clock,
) -> Outcome {
    let failed = |stderr: String| Output {
        stderr,
        code: 1,
        ..Output::default()
    };
    let said = |stdout: String| Output {
        stdout,
        ..Output::default()
    };
    let output = match action {
        Action::Apply(body) | Action::Replace(body) | Action::Create(body) => {
            let (text, source) = match manifest(body, files) {
                Ok(m) => m,
                Err(e) => return Outcome::printed(failed(format!("error: {e}\n"))),
            };
            match action {
                Action::Replace(_) => kubectl::replace_text(sim, &text, &source, "default"),
                Action::Create(_) => kubectl::apply_text(sim, &text, &source, "default", true),
                _ => kubectl::apply_text(sim, &text, &source, "default", false),
            }
        }
        Action::Kubectl(line) => kubectl::run_with(sim, line, files, clock),
        Action::NodeDown(n) | Action::NodeUp(n) | Action::RemoveNode(n) => {
            let fault = action.node_fault().map_or(NodeFault::Down, |(f, _)| f);
            match sim.node_fault(n, fault) {
                Ok(()) => said(format!("node/{n} {}\n", fault_word(fault))),
                Err(e) => failed(format!("Error from server ({}): {e}\n", e.reason())),
            }
        }
        Action::Request(r) => {
            let reply = sim.service_request(&r.namespace, &r.url(), &r.method, r.body.as_bytes());
            let output = match &reply {
                ServiceReply::Response { response, pod, .. } => said(format!(
                    "{} {}\n(answered by pod {pod})\n",
                    response.status,
                    response.text().trim_end()
                )),
                ServiceReply::Failed(why) => failed(format!("{why}\n")),
            };
            return Outcome {
                output,
                reply: Some(reply),
                written: None,
                exec: None,
            };
        }
        Action::Traffic(t) => match sim.start_traffic(
            &t.namespace,
            &t.service,
            &t.method,
            &t.path,
            t.body.as_bytes(),
            t.rps,
            t.duration,
        ) {
            Ok(()) => said(format!(
                "traffic: {} req/s to service/{} ({} {}) for {}\n",
                t.rps, t.service, t.method, t.path, t.duration
            )),
            Err(e) => failed(format!("error: {e}\n")),
        },
        Action::StopTraffic(s) => {
            sim.stop_traffic(&s.namespace, s.service.as_deref());
            said(match &s.service {
                Some(svc) => format!("traffic to service/{svc} stopped\n"),
                None => format!("traffic to every service in {} stopped\n", s.namespace),
            })
        }
        Action::Ingress(r) => {
            let out = sim.ingress_request(&r.host, &r.method, &r.path, r.body.as_bytes());
            if let Some((ns, svc)) = &out.service {
                sim.count_single_request(ns, svc, &out.reply);
            }
            let output = match &out.reply {
                ServiceReply::Response { response, pod, .. } if pod.is_empty() => said(format!(
                    "{} {}\n(answered by the ingress controller)\n",
                    response.status,
                    response.text().trim_end()
                )),
                ServiceReply::Response { response, pod, .. } => said(format!(
                    "{} {}\n(answered by pod {pod})\n",
                    response.status,
                    response.text().trim_end()
                )),
                ServiceReply::Failed(why) => failed(format!("{why}\n")),
            };
            return Outcome {
                output,
                reply: Some(out.reply),
                written: None,
                exec: None,
            };
        }
        Action::Api(call) => {
            let written = sim.api_with_warnings(call);
            let output = match &written {
                Ok(_) => said(format!("{} {}\n", call.target(), call.verb.done())),
                Err(e) => failed(format!("Error from server ({}): {e}\n", e.reason())),
            };
            return Outcome {
                output,
                reply: None,
                written: Some(written),
                exec: None,
            };
        }
        Action::Exec(e) => {
            let ran = sim.exec(e);
            let output = exec_output(&ran);
            return Outcome {
                output,
                reply: None,
                written: None,
                exec: Some(ran),
            };
        }
    };
    Outcome::printed(output)
}

/// What `kubectl exec` prints for an exec: the command's output and `command terminated with
/// exit code N` (client-go's `errorDecoderV4`), or the refusal as kubectl words it.
pub fn exec_output(ran: &Result<ExecOutput, ExecError>) -> Output {
    match ran {
        Ok(o) => {
            let mut stderr = String::from_utf8_lossy(&o.stderr).into_owned();
            match &o.internal {
                Some(why) => stderr.push_str(&format!("error: Internal error occurred: {why}\n")),
                None if o.code != 0 => {
                    stderr.push_str(&format!("command terminated with exit code {}\n", o.code));
                }
                None => {}
            }
            Output {
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr,
                code: o.code,
            }
        }
        Err(e @ ExecError::PodNotFound(_)) => Output {
            stderr: format!("Error from server ({}): {e}\n", e.reason()),
            code: 1,
            ..Output::default()
        },
        Err(e) => Output {
            stderr: format!("error: unable to upgrade connection: {e}\n"),
            code: 1,
            ..Output::default()
        },
    }
}

/// What a node fault does, in a word.
pub fn fault_word(f: NodeFault) -> &'static str {
    match f {
        NodeFault::Down => "stopped (kubelet down)",
        NodeFault::Up => "is back",
        NodeFault::Remove => "removed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml: &str) -> Action {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn an_action_reads_and_writes_as_its_script_step() {
        for yaml in [
            "apply: |\n  kind: Namespace\n",
            "kubectl: scale deploy/web --replicas=3\n",
            "nodeDown: node-2\n",
            "request:\n  service: web\n  namespace: default\n  method: POST\n  path: /predict\n  body: '{\"a\":1}'\n",
            "traffic:\n  service: web\n  namespace: shop\n  rps: 20.0\n  method: GET\n  path: /\n  body: ''\n  duration: 60000ms\n",
            "stopTraffic:\n  namespace: shop\n",
        ] {
            let a = step(yaml);
            assert_eq!(serde_yaml::to_string(&a).unwrap(), yaml, "{a:?}");
        }
    }

    #[test]
    fn a_request_step_fills_what_it_leaves_out() {
        let Action::Request(r) = step("request: {service: web, body: {a: 1}}") else {
            panic!("not a request");
        };
        assert_eq!(
            (r.namespace.as_str(), r.method.as_str(), r.path.as_str()),
            ("default", "POST", "/")
        );
        assert_eq!(r.body, "{\"a\":1}");
        assert_eq!(r.url(), "http://web.default/");
    }

    #[test]
    fn bad_steps_are_errors_that_say_what_is_wrong() {
        for (yaml, says) in [
            ("frob: 1", "unknown field `frob`"),
            (
                "traffic: {service: web, rps: 5, duration: soon}",
                "traffic.duration",
            ),
            ("traffic: {service: web, rps: -1}", "positive"),
            ("request: {service: web, verb: GET}", "unknown field `verb`"),
        ] {
            let e = serde_yaml::from_str::<Action>(yaml)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{yaml}: {e}");
        }
    }
}
