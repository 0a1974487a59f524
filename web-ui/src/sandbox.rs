//! One sandbox: a simulated cluster started from a scenario script, the log of everything the
//! user did (with its virtual time), and the speed at which virtual time runs.
//!
//! Because a run is deterministic, the log is the run: replaying the scenario and the log
//! reaches any earlier moment exactly (the scrubber), and the log exported as a `kubesim run`
//! script replays the same run anywhere.

use serde_yaml::Value;
use sim_core::apiserver::call::ApiCall;
use sim_core::controller::node_lifecycle::NodeFault;
use sim_core::kubectl::{self, NoFiles, Output};
use sim_core::network::ServiceReply;
use sim_core::script::{self, RunOptions, ScriptError};
use sim_core::trace::Tracer;
use sim_core::{Sim, SimDuration, SimTime};

/// The inference workers every sandbox's images run.
pub fn workers() -> std::sync::Arc<dyn sim_core::program::Programs> {
    std::sync::Arc::new(inference_worker::Builtin::new())
}

/// Marks where an exported file's recorded actions begin.
const RECORDED: &str = "kubesim: recorded actions follow";

/// How fast virtual time runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// Stopped.
    Paused,
    /// Virtual seconds per wall second.
    Times(f64),
    /// As fast as the machine goes.
    Max,
}

impl Speed {
    /// The `speed` of a play request: absent is 1×; `max`, `pause` (or `0`), or a number
    /// from 0.01 to 10,000; anything else says what is allowed.
    pub fn from_query(q: Option<&str>) -> Result<Speed, String> {
        match q {
            None => Ok(Speed::Times(1.0)),
            Some("max") => Ok(Speed::Max),
            Some("0" | "pause") => Ok(Speed::Paused),
            Some(x) => match x.parse::<f64>() {
                Ok(v) if (0.01..=10_000.0).contains(&v) => Ok(Speed::Times(v)),
                _ => Err(format!(
                    "speed must be pause, a number from 0.01 to 10000 or max, not {x:?}"
                )),
            },
        }
    }

    /// A short label (`paused`, `5×`, `max`).
    pub fn label(self) -> String {
        match self {
            Speed::Paused => "paused".into(),
            Speed::Times(x) => format!("{x}×"),
            Speed::Max => "max".into(),
        }
    }
}

/// Something the user did.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Applied YAML.
    Apply(String),
    /// Whole objects that replaced the live ones (the real kubectl's `replace`, `patch`,
    /// `edit` and server-side apply, as the objects they left).
    Replace(String),
    /// Objects created as they were sent (the real kubectl's `create`, and the POST of a
    /// client-side `apply`, which carries its own last-applied annotation).
    Create(String),
    /// Ran a kubectl command.
    Kubectl(String),
    /// A node fault.
    Node(NodeFault, String),
    /// One request to a Service (the request form, a NodePort, the API's services proxy).
    Request(Request),
    /// Load on a Service.
    Traffic(Traffic),
    /// Stop the load on a Service (every Service of the namespace when `service` is `None`).
    StopTraffic {
        /// Namespace.
        namespace: String,
        /// The Service.
        service: Option<String>,
    },
    /// A write to the API as a client sent it (the real kubectl, the Python client).
    Api(Box<ApiCall>),
}

/// One request to a Service, as a script's `request` step sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Namespace of the Service.
    pub namespace: String,
    /// The Service's name.
    pub service: String,
    /// Method, upper case.
    pub method: String,
    /// Path (with its query, if any).
    pub path: String,
    /// Body (text: the run file stores it as a YAML string).
    pub body: String,
}

impl Request {
    /// The URL a `request` step with these fields names, as `kubesim run` builds it: a
    /// `service` that is a URL is used as it is, a dotted one is the host, else
    /// `http://SERVICE.NAMESPACE/PATH`.
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

/// Load on a Service, as a script's `traffic` step starts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    /// Namespace of the Service.
    pub namespace: String,
    /// The Service's name.
    pub service: String,
    /// Method, upper case.
    pub method: String,
    /// Path.
    pub path: String,
    /// Body (text).
    pub body: String,
    /// Requests per virtual second.
    pub rps: f64,
    /// How long.
    pub duration: SimDuration,
}

/// An action and when it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    /// Virtual time when it started.
    pub at: SimTime,
    /// Virtual time when it returned (kubectl delete and drain wait for pods to go).
    pub end: SimTime,
    /// What.
    pub action: Action,
    /// What the user typed, when a client said (kubectl's `Kubectl-Command` header): shown
    /// on the timeline; not part of the replayed run.
    pub typed: Option<String>,
}

/// Why a sandbox could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The scenario failed.
    #[error("{0}")]
    Script(#[from] ScriptError),
    /// The file is not YAML.
    #[error("not a kubesim run file: {0}")]
    Yaml(String),
}

/// A running sandbox.
#[derive(Debug)]
pub struct Sandbox {
    scenario: String,
    seed: Option<u64>,
    /// The cluster.
    pub sim: Sim,
    /// Trace of the Deployments over time (the timeline).
    pub tracer: Tracer,
    /// Everything the user did, in order.
    pub actions: Vec<Logged>,
    /// How many of `actions` have been applied (more when the user went back in time).
    applied: usize,
    /// Virtual time when the scenario's setup ended.
    pub start: SimTime,
    /// How fast time runs.
    pub speed: Speed,
    /// The furthest virtual time this run has reached (the scrubber's end).
    furthest: SimTime,
    /// Unix milliseconds of virtual time zero, when anchored to the wall clock.
    epoch: Option<i64>,
    /// What the cluster panel last computed per pod (a scrub builds a new sandbox, and so a
    /// new cache).
    pub cells: crate::view::PodCells,
    /// The wall-clock shift the API last showed for this cluster.
    pub(crate) shown_shift: crate::kube_api::WallShift,
}

impl Sandbox {
    /// Builds the scenario's cluster and runs its setup steps.
    pub fn new(scenario: &str, seed: Option<u64>) -> Result<Sandbox, SandboxError> {
        Sandbox::with_epoch(scenario, seed, None)
    }

    /// Like [`Sandbox::new`], with virtual time zero at `epoch` (Unix ms) if given.
    pub fn with_epoch(
        scenario: &str,
        seed: Option<u64>,
        epoch: Option<i64>,
    ) -> Result<Sandbox, SandboxError> {
        let opts = RunOptions {
            seed,
            epoch_unix_ms: epoch,
            programs: Some(workers()),
            ..RunOptions::default()
        };
        let (out, sim) = script::run_keeping_sim(scenario, opts, &NoFiles).map_err(|(_, e)| e)?;
        let start = sim.now();
        Ok(Sandbox {
            scenario: scenario.to_string(),
            seed,
            sim,
            tracer: out.tracer,
            actions: Vec::new(),
            applied: 0,
            start,
            speed: Speed::Times(1.0),
            furthest: start,
            epoch,
            cells: crate::view::PodCells::default(),
            shown_shift: Default::default(),
        })
    }

    /// Opens an exported run (or any `kubesim run` script): its setup runs at once, and its
    /// recorded actions become the log, replayed as virtual time reaches them.
    pub fn open(text: &str) -> Result<Sandbox, SandboxError> {
        let mut doc: Value =
            serde_yaml::from_str(text).map_err(|e| SandboxError::Yaml(e.to_string()))?;
        let mut recorded = Vec::new();
        if let Some(steps) = doc.get_mut("steps").and_then(Value::as_sequence_mut)
            && let Some(mark) = steps
                .iter()
                .position(|s| s.get("echo").and_then(Value::as_str) == Some(RECORDED))
        {
            recorded = steps.split_off(mark);
            recorded.remove(0);
        }
        let scenario =
            serde_yaml::to_string(&doc).map_err(|e| SandboxError::Yaml(e.to_string()))?;
        let mut sb = Sandbox::new(&scenario, None)?;
        // Replay while reading: a command that waits (delete, drain) moves the clock, and the
        // next `advance` counts from when it returned.
        for step in recorded {
            let s = |k: &str| step.get(k).and_then(Value::as_str).map(str::to_string);
            let action = if let Some(d) = s("advance") {
                let d = sim_core::time::parse_duration(&d)
                    .map_err(|e| SandboxError::Yaml(e.to_string()))?;
                let t = sb.sim.now() + d;
                sb.run_to(t);
                continue;
            } else if let Some(y) = s("apply") {
                Action::Apply(y)
            } else if let Some(y) = s("replace") {
                Action::Replace(y)
            } else if let Some(y) = s("create") {
                Action::Create(y)
            } else if let Some(c) = s("kubectl") {
                Action::Kubectl(c)
            } else if let Some(n) = s("nodeDown") {
                Action::Node(NodeFault::Down, n)
            } else if let Some(n) = s("nodeUp") {
                Action::Node(NodeFault::Up, n)
            } else if let Some(n) = s("removeNode") {
                Action::Node(NodeFault::Remove, n)
            } else if let Some(c) = step.get("api") {
                Action::Api(Box::new(
                    serde_yaml::from_value(c.clone())
                        .map_err(|e| SandboxError::Yaml(format!("api step: {e}")))?,
                ))
            } else if let Some(r) = step.get("request") {
                Action::Request(request_from(r)?)
            } else if let Some(t) = step.get("traffic") {
                Action::Traffic(traffic_from(t)?)
            } else if let Some(t) = step.get("stopTraffic") {
                let f = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
                Action::StopTraffic {
                    namespace: f("namespace").unwrap_or_else(|| "default".into()),
                    service: f("service"),
                }
            } else {
                continue;
            };
            sb.act(action);
        }
        sb.speed = Speed::Paused;
        Ok(sb)
    }

    /// The run as a `kubesim run` script: the scenario, then every action with the virtual
    /// time between them.
    pub fn export(&self) -> String {
        let mut doc: Value = serde_yaml::from_str(&self.scenario).unwrap_or(Value::Null);
        if self.seed.is_some()
            && let Value::Mapping(m) = &mut doc
        {
            m.insert("seed".into(), Value::from(self.sim.seed()));
        }
        let mut extra = vec![step("echo", RECORDED.into())];
        let mut t = self.start;
        for a in &self.actions[..self.applied] {
            if a.at > t {
                extra.push(step("advance", format!("{}ms", a.at.since(t).millis())));
            }
            extra.push(match &a.action {
                Action::Apply(y) => step("apply", y.clone()),
                Action::Replace(y) => step("replace", y.clone()),
                Action::Create(y) => step("create", y.clone()),
                Action::Kubectl(c) => step("kubectl", c.clone()),
                Action::Node(NodeFault::Down, n) => step("nodeDown", n.clone()),
                Action::Node(NodeFault::Up, n) => step("nodeUp", n.clone()),
                Action::Node(NodeFault::Remove, n) => step("removeNode", n.clone()),
                Action::Request(r) => map_step(
                    "request",
                    &[
                        ("service", r.service.as_str().into()),
                        ("namespace", r.namespace.as_str().into()),
                        ("method", r.method.as_str().into()),
                        ("path", r.path.as_str().into()),
                        ("body", r.body.as_str().into()),
                    ],
                ),
                Action::Traffic(t) => map_step(
                    "traffic",
                    &[
                        ("service", t.service.as_str().into()),
                        ("namespace", t.namespace.as_str().into()),
                        ("rps", t.rps.into()),
                        ("method", t.method.as_str().into()),
                        ("path", t.path.as_str().into()),
                        ("body", t.body.as_str().into()),
                        ("duration", format!("{}ms", t.duration.millis()).into()),
                    ],
                ),
                Action::Api(call) => {
                    let mut m = serde_yaml::Mapping::new();
                    m.insert(
                        "api".into(),
                        serde_yaml::to_value(call).unwrap_or(Value::Null),
                    );
                    Value::Mapping(m)
                }
                Action::StopTraffic { namespace, service } => {
                    let mut fields = vec![("namespace", Value::from(namespace.as_str()))];
                    if let Some(svc) = service {
                        fields.push(("service", svc.as_str().into()));
                    }
                    map_step("stopTraffic", &fields)
                }
            });
            t = a.end;
        }
        if self.sim.now() > t {
            extra.push(step(
                "advance",
                format!("{}ms", self.sim.now().since(t).millis()),
            ));
        }
        if let Value::Mapping(m) = &mut doc {
            let steps = m
                .entry("steps".into())
                .or_insert_with(|| Value::Sequence(Vec::new()));
            if let Value::Sequence(seq) = steps {
                seq.extend(extra);
            }
        }
        let body = serde_yaml::to_string(&doc).unwrap_or_default();
        format!(
            "# A kubesim run, exported at virtual time {}. Replay: kubesim run FILE, or open it in kubesim serve.\n{body}",
            SimDuration(self.sim.now().millis())
        )
    }

    /// Does something now, records it, and returns what kubectl printed.
    pub fn act(&mut self, action: Action) -> Output {
        self.act_full(action, None).0
    }

    /// [`Sandbox::act`], remembering what the user typed for the timeline.
    pub fn act_typed(&mut self, action: Action, typed: Option<String>) -> Output {
        self.act_full(action, typed).0
    }

    /// One write to the API now, recorded (as an `api` step) when it changed the cluster:
    /// not a dry run, not an error. The object it left, or the API server's error.
    pub fn api(
        &mut self,
        call: ApiCall,
        typed: Option<String>,
    ) -> sim_core::apiserver::call::WriteResult {
        if call.options.dry_run {
            return self.sim.api_with_warnings(&call);
        }
        self.actions.truncate(self.applied);
        let at = self.sim.now();
        let result = self.sim.api_with_warnings(&call);
        self.tracer.observe(&mut self.sim);
        if result.is_ok() {
            let end = self.sim.now();
            self.furthest = self.furthest.max(end);
            self.actions.push(Logged {
                at,
                end,
                action: Action::Api(Box::new(call)),
                typed,
            });
            self.applied = self.actions.len();
        }
        result
    }

    /// Sends one request to a Service now and records it (as a `request` step): the
    /// Service's answer, exactly as the program gave it.
    pub fn request(&mut self, request: Request) -> ServiceReply {
        match self.act_full(Action::Request(request), None) {
            (_, Some(reply)) => reply,
            (out, None) => ServiceReply::Failed(out.stderr),
        }
    }

    /// Does something now and records it: what kubectl printed, and a request's answer.
    fn act_full(
        &mut self,
        action: Action,
        typed: Option<String>,
    ) -> (Output, Option<ServiceReply>) {
        // A new action after going back in time starts a new branch of history.
        self.actions.truncate(self.applied);
        let at = self.sim.now();
        let out = apply_action(&mut self.sim, &mut self.tracer, &action);
        if matches!(action, Action::Traffic(_)) && out.0.code != 0 {
            // Load that never started changed nothing, and a `traffic` step that fails would
            // stop an exported run: it is not part of the history.
            return out;
        }
        let end = self.sim.now();
        self.furthest = self.furthest.max(end);
        self.actions.push(Logged {
            at,
            end,
            action,
            typed,
        });
        self.applied = self.actions.len();
        out
    }

    /// Whether every request of the traffic model really runs in WebAssembly: at 1× or
    /// slower and when stepping; faster, only a sample per pod and second does. The numbers
    /// are the same either way (latency comes from the queue model and fuel, not the wall
    /// clock).
    pub(crate) fn real_requests_for(speed: Speed) -> bool {
        match speed {
            Speed::Paused => true,
            Speed::Times(x) => x <= 1.0,
            Speed::Max => false,
        }
    }

    /// Runs to virtual time `t`, applying recorded actions as their moments come.
    pub fn run_to(&mut self, t: SimTime) {
        self.run_to_with(t, true);
    }

    /// Runs to `t`; actions recorded exactly at `t` are applied only if `inclusive`.
    fn run_to_with(&mut self, t: SimTime, inclusive: bool) {
        while let Some(next) = self
            .actions
            .get(self.applied)
            .filter(|a| a.at < t || (inclusive && a.at == t))
            .cloned()
        {
            self.run_sim_to(next.at);
            apply_action(&mut self.sim, &mut self.tracer, &next.action);
            self.applied += 1;
        }
        self.run_sim_to(t);
    }

    fn run_sim_to(&mut self, t: SimTime) {
        while let Some(next) = self.sim.next_event_time() {
            if next > t {
                break;
            }
            self.sim.step();
            self.tracer.observe(&mut self.sim);
        }
        if t > self.sim.now() {
            self.sim
                .advance(SimDuration(t.millis() - self.sim.now().millis()));
        }
        self.furthest = self.furthest.max(self.sim.now());
    }

    /// Runs to the next moment anything happens (the step button).
    pub fn step_event(&mut self) {
        self.sim.traffic.real_requests = true;
        let next_action = self.actions.get(self.applied).map(|a| a.at);
        let next = match (self.sim.next_event_time(), next_action) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(t) = next {
            self.run_to(t);
        }
    }

    /// Moves time forward by `wall` at the current speed; at `Max`, runs events for up to
    /// `budget` of wall time.
    pub fn tick(&mut self, wall: std::time::Duration, budget: std::time::Duration) {
        self.sim.traffic.real_requests = Sandbox::real_requests_for(self.speed);
        match self.speed {
            Speed::Paused => {}
            Speed::Times(x) => {
                let dt = SimDuration::from_secs_f64(wall.as_secs_f64() * x);
                let t = self.sim.now() + dt;
                self.run_to(t);
            }
            Speed::Max => {
                let started = std::time::Instant::now();
                while started.elapsed() < budget {
                    let before = self.sim.now();
                    self.step_event();
                    if self.sim.now() == before && self.sim.next_event_time().is_none() {
                        let t = self.sim.now() + SimDuration::from_secs(60);
                        self.run_to(t);
                        break;
                    }
                }
            }
        }
    }

    /// Goes back (or forward) to virtual time `t` by replaying the scenario and the log.
    /// `t` is kept within what this run has reached, so a request cannot make the server
    /// simulate forever.
    pub fn scrub(&mut self, t: SimTime) -> Result<(), SandboxError> {
        let t = t.clamp(self.start, self.furthest.max(self.start));
        if t >= self.sim.now() {
            self.run_to(t);
            return Ok(());
        }
        let mut fresh = Sandbox::with_epoch(&self.scenario, self.seed, self.epoch)?;
        fresh.actions = std::mem::take(&mut self.actions);
        fresh.speed = Speed::Paused;
        fresh.furthest = self.furthest;
        // The moment just before anything recorded at `t`.
        fresh.run_to_with(t.max(fresh.start), false);
        *self = fresh;
        Ok(())
    }

    /// The latest virtual time the log reaches (for the scrubber's range).
    pub fn horizon(&self) -> SimTime {
        self.furthest.max(self.sim.now())
    }
}

fn step(key: &str, value: String) -> Value {
    let mut m = serde_yaml::Mapping::new();
    m.insert(key.into(), Value::String(value));
    Value::Mapping(m)
}

fn map_step(key: &str, fields: &[(&str, Value)]) -> Value {
    let mut inner = serde_yaml::Mapping::new();
    for (k, v) in fields {
        inner.insert((*k).into(), v.clone());
    }
    let mut m = serde_yaml::Mapping::new();
    m.insert(key.into(), Value::Mapping(inner));
    Value::Mapping(m)
}

/// A body as the run file holds it: text as it is, anything else as compact JSON (what a
/// script's `request` step sends).
fn body_text(v: Option<&Value>) -> Result<String, SandboxError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => serde_yaml::from_value::<serde_json::Value>(other.clone())
            .map(|j| j.to_string())
            .map_err(|e| SandboxError::Yaml(format!("body is not JSON-like: {e}"))),
    }
}

/// The method a step names, or GET/POST by whether there is a body (as scripts do).
fn method_of(v: &Value, body: &str) -> String {
    match v.get("method").and_then(Value::as_str) {
        Some(m) => m.to_uppercase(),
        None if body.is_empty() => "GET".into(),
        None => "POST".into(),
    }
}

fn request_from(v: &Value) -> Result<Request, SandboxError> {
    let f = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let body = body_text(v.get("body"))?;
    Ok(Request {
        method: method_of(v, &body),
        namespace: f("namespace").unwrap_or_else(|| "default".into()),
        service: f("service")
            .ok_or_else(|| SandboxError::Yaml("a request needs a service".into()))?,
        path: f("path").unwrap_or_else(|| "/".into()),
        body,
    })
}

fn traffic_from(v: &Value) -> Result<Traffic, SandboxError> {
    let f = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let body = body_text(v.get("body"))?;
    let duration = f("duration").unwrap_or_else(|| "1h".into());
    Ok(Traffic {
        method: method_of(v, &body),
        namespace: f("namespace").unwrap_or_else(|| "default".into()),
        service: f("service")
            .ok_or_else(|| SandboxError::Yaml("a traffic step needs a service".into()))?,
        path: f("path").unwrap_or_else(|| "/".into()),
        body,
        rps: v
            .get("rps")
            .and_then(Value::as_f64)
            .ok_or_else(|| SandboxError::Yaml("a traffic step needs rps".into()))?,
        duration: sim_core::time::parse_duration(&duration)
            .map_err(|e| SandboxError::Yaml(e.to_string()))?,
    })
}

/// Applies an action to the cluster and lets the tracer look, as a script's step does.
fn apply_action(
    sim: &mut Sim,
    tracer: &mut Tracer,
    action: &Action,
) -> (Output, Option<ServiceReply>) {
    let failed = |stderr: String| Output {
        stderr,
        code: 1,
        ..Output::default()
    };
    let said = |stdout: String| Output {
        stdout,
        ..Output::default()
    };
    let out = match action {
        Action::Apply(y) => kubectl::apply_text(sim, y, "STDIN", "default", false),
        Action::Replace(y) => kubectl::replace_text(sim, y, "STDIN", "default"),
        Action::Create(y) => kubectl::apply_text(sim, y, "STDIN", "default", true),
        Action::Kubectl(c) => kubectl::run(sim, c, &NoFiles),
        Action::Node(f, n) => match sim.node_fault(n, *f) {
            Ok(()) => said(format!("node/{n} {}\n", fault_word(*f))),
            Err(e) => failed(format!("Error from server ({}): {e}\n", e.reason())),
        },
        Action::Request(r) => {
            let url = r.url();
            let reply = sim.service_request(&r.namespace, &url, &r.method, r.body.as_bytes());
            tracer.observe(sim);
            tracer.record_request(sim, &r.namespace, &url, &r.method, &reply);
            let out = match &reply {
                ServiceReply::Response { response, pod, .. } => said(format!(
                    "{} {}\n(answered by pod {pod})\n",
                    response.status,
                    response.text().trim_end()
                )),
                ServiceReply::Failed(why) => failed(format!("{why}\n")),
            };
            return (out, Some(reply));
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
        Action::Api(call) => match sim.api(call) {
            Ok(_) => said(format!("{} {}\n", call.target(), call.verb.done())),
            Err(e) => failed(format!("Error from server ({}): {e}\n", e.reason())),
        },
        Action::StopTraffic { namespace, service } => {
            sim.stop_traffic(namespace, service.as_deref());
            said(match service {
                Some(s) => format!("traffic to service/{s} stopped\n"),
                None => format!("traffic to every service in {namespace} stopped\n"),
            })
        }
    };
    tracer.observe(sim);
    (out, None)
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

    const DEMO: &str = include_str!("demo.yaml");

    #[test]
    fn the_scrubber_stays_within_the_run_and_can_go_forward_again() {
        let mut sb = Sandbox::new(DEMO, None).unwrap();
        let end = sb.sim.now() + SimDuration::from_secs(600);
        sb.run_to(end);
        sb.scrub(SimTime(u64::MAX)).unwrap();
        assert_eq!(sb.sim.now(), end, "clamped to the furthest moment reached");
        sb.scrub(sb.start + SimDuration::from_secs(20)).unwrap();
        assert_eq!(sb.horizon(), end, "going back keeps the way forward");
        sb.scrub(end).unwrap();
        assert_eq!(sb.sim.now(), end);
    }

    #[test]
    fn a_command_that_waits_replays_at_the_same_moments() {
        let mut sb = Sandbox::new(DEMO, None).unwrap();
        let t0 = sb.sim.now();
        let pod = sb
            .sim
            .store
            .pods
            .all_names()
            .next()
            .map(|(_, n, _)| n.to_string())
            .unwrap();
        sb.act(Action::Kubectl(format!("delete pod {pod} -n live-coding")));
        assert!(sb.sim.now() > t0, "kubectl delete waits for the pod to go");
        sb.run_to(sb.sim.now() + SimDuration::from_secs(30));
        let again = Sandbox::open(&sb.export()).unwrap();
        assert_eq!(again.sim.now(), sb.sim.now());
        assert_eq!(again.tracer.to_jsonl(), sb.tracer.to_jsonl());
    }

    #[test]
    fn export_then_open_replays_the_same_run() {
        let mut sb = Sandbox::new(DEMO, None).unwrap();
        sb.run_to(sb.sim.now() + SimDuration::from_secs(5));
        sb.act(Action::Kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding".into()));
        sb.run_to(sb.sim.now() + SimDuration::from_secs(20));
        sb.act(Action::Node(NodeFault::Down, "node-2".into()));
        sb.run_to(sb.sim.now() + SimDuration::from_secs(90));
        let file = sb.export();
        let again = Sandbox::open(&file).unwrap();
        assert_eq!(again.sim.now(), sb.sim.now());
        assert_eq!(again.tracer.to_jsonl(), sb.tracer.to_jsonl());
        // And the file is a script kubesim run accepts.
        let opts = RunOptions {
            programs: Some(workers()),
            ..RunOptions::default()
        };
        let out = script::run(&file, opts, &NoFiles)
            .map_err(|(_, e)| e)
            .unwrap();
        assert_eq!(out.tracer.to_jsonl(), sb.tracer.to_jsonl());
    }

    #[test]
    fn scrubbing_back_gives_the_earlier_state_and_replays_the_future() {
        let mut sb = Sandbox::new(DEMO, None).unwrap();
        let t0 = sb.sim.now();
        sb.act(Action::Kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v3-broken -n live-coding".into()));
        sb.run_to(t0 + SimDuration::from_secs(30));
        let at_30 = sim_core::trace::snapshot(&sb.sim);
        sb.run_to(t0 + SimDuration::from_secs(120));
        sb.scrub(t0 + SimDuration::from_secs(30)).unwrap();
        assert_eq!(sim_core::trace::snapshot(&sb.sim), at_30);
        assert_eq!(sb.speed, Speed::Paused);
        // Before the action: revision 1 only.
        sb.scrub(t0).unwrap();
        assert_eq!(sim_core::trace::snapshot(&sb.sim)[0].revision, 1);
        // Playing forward replays the recorded image change.
        sb.run_to(t0 + SimDuration::from_secs(30));
        assert_eq!(sim_core::trace::snapshot(&sb.sim), at_30);
    }

    const GOOD: &str = r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#;

    fn credit(method: &str, path: &str, body: &str) -> Request {
        Request {
            namespace: "live-coding".into(),
            service: "credit-scoring-api".into(),
            method: method.into(),
            path: path.into(),
            body: body.into(),
        }
    }

    #[test]
    fn traffic_and_requests_are_recorded_exported_and_replayed() {
        let mut sb = Sandbox::new(DEMO, None).unwrap();
        let t0 = sb.sim.now();
        sb.run_to(t0 + SimDuration::from_secs(5));
        let ServiceReply::Response { response, .. } = sb.request(credit("POST", "/predict", GOOD))
        else {
            panic!("the demo's Service answers");
        };
        assert_eq!(response.status, 200);
        assert!(response.text().contains("probability_of_default"));
        // Load that cannot start is refused and not recorded.
        let logged = sb.actions.len();
        let out = sb.act(Action::Traffic(Traffic {
            namespace: "live-coding".into(),
            service: "nope".into(),
            method: "GET".into(),
            path: "/".into(),
            body: String::new(),
            rps: 10.0,
            duration: SimDuration::from_secs(60),
        }));
        assert_eq!(out.code, 1);
        assert!(out.stderr.contains("\"nope\" not found"), "{}", out.stderr);
        assert_eq!(sb.actions.len(), logged);
        sb.act(Action::Traffic(Traffic {
            namespace: "live-coding".into(),
            service: "credit-scoring-api".into(),
            method: "GET".into(),
            path: "/healthz".into(),
            body: String::new(),
            rps: 40.0,
            duration: SimDuration::from_secs(600),
        }));
        sb.run_to(t0 + SimDuration::from_secs(15));
        sb.act(Action::Kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:broken -n live-coding".into()));
        sb.run_to(t0 + SimDuration::from_secs(40));
        sb.act(Action::StopTraffic {
            namespace: "live-coding".into(),
            service: Some("credit-scoring-api".into()),
        });
        sb.run_to(t0 + SimDuration::from_secs(50));
        let last = sb.sim.traffic.seconds.last().unwrap().time;
        assert!(
            last <= (t0 + SimDuration::from_secs(40)).as_secs_f64() + 1.0,
            "stopped at {last}"
        );

        let file = sb.export();
        for step in ["request:", "traffic:", "stopTraffic:", "rps: 40"] {
            assert!(file.contains(step), "{step} in:\n{file}");
        }
        let again = Sandbox::open(&file).unwrap();
        assert_eq!(again.sim.now(), sb.sim.now());
        assert_eq!(again.actions, sb.actions);
        assert_eq!(again.sim.traffic.seconds, sb.sim.traffic.seconds);
        assert_eq!(again.tracer.to_jsonl(), sb.tracer.to_jsonl());
        // `kubesim run` of the file is the same run.
        let opts = RunOptions {
            programs: Some(workers()),
            ..RunOptions::default()
        };
        let out = script::run(&file, opts, &NoFiles)
            .map_err(|(_, e)| e)
            .unwrap();
        assert_eq!(out.tracer.to_jsonl(), sb.tracer.to_jsonl());
        assert!(
            out.transcript.contains("probability_of_default"),
            "{}",
            out.transcript
        );
        // Scrubbing back replays the same traffic.
        let seconds = sb.sim.traffic.seconds.clone();
        sb.scrub(t0 + SimDuration::from_secs(10)).unwrap();
        sb.run_to(t0 + SimDuration::from_secs(50));
        assert_eq!(sb.sim.traffic.seconds, seconds);
    }

    #[test]
    fn every_request_runs_in_wasm_at_one_x_and_the_numbers_do_not_change() {
        let mut slow = Sandbox::new(DEMO, None).unwrap();
        let mut fast = Sandbox::new(DEMO, None).unwrap();
        let end = slow.sim.now() + SimDuration::from_secs(6);
        fast.speed = Speed::Times(30.0);
        let tick = std::time::Duration::from_millis(250);
        while slow.sim.now() < end {
            slow.tick(tick, tick);
        }
        while fast.sim.now() < end {
            fast.tick(tick, tick);
        }
        assert!(slow.sim.traffic.real_requests && !fast.sim.traffic.real_requests);
        let t = slow.sim.now().max(fast.sim.now());
        slow.run_to(t);
        fast.run_to(t);
        assert_eq!(slow.sim.traffic.seconds, fast.sim.traffic.seconds);
        assert!(
            slow.sim.traffic.real_runs > 10 * fast.sim.traffic.real_runs,
            "{} real runs at 1×, {} at 30×",
            slow.sim.traffic.real_runs,
            fast.sim.traffic.real_runs
        );
    }

    #[test]
    fn a_request_names_its_url_as_a_script_step_does() {
        let mut r = credit("GET", "/healthz", "");
        assert_eq!(r.url(), "http://credit-scoring-api.live-coding/healthz");
        r.path = "healthz".into();
        assert_eq!(r.url(), "http://credit-scoring-api.live-coding/healthz");
        r.service = "credit-scoring-api.live-coding".into();
        assert_eq!(r.url(), "http://credit-scoring-api.live-coding/healthz");
        r.service = "http://credit-scoring-api:80/".into();
        assert_eq!(r.url(), "http://credit-scoring-api:80/");
    }
}
