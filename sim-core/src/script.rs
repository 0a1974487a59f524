//! `kubesim run` scripts: a cluster, declared images and a list of steps (apply manifests,
//! kubectl commands, moving time, waiting for a rollout, node faults). The runner prints what a
//! user at a terminal would see and records the trace. Files named by a script are read
//! through a [`FileSource`], so this stays free of IO.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::apiserver::call::ApiCall;
use crate::controller::node_lifecycle::NodeFault;
use crate::kubectl::{self, FileSource};
use crate::runtime::{DeclaredImages, ImageBehavior};
use crate::sim::{NodeConfig, ProbeMode, Sim, SimConfig};
use crate::time::{SimDuration, parse_duration};
use crate::trace::Tracer;

/// A parsed script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Seed (default 0; `--seed` overrides).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Cluster shape.
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Declared image behaviour.
    #[serde(default)]
    pub images: BTreeMap<String, ImageBehavior>,
    /// What to do.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
}

/// `cluster:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// A count or a list of nodes.
    #[serde(default)]
    pub nodes: Option<NodesSpec>,
}

/// `nodes: 3` or `nodes: [{name, cpu, memory, pods, labels}]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NodesSpec {
    /// That many default nodes.
    Count(u32),
    /// Explicit nodes.
    List(Vec<NodeSpec>),
}

/// One node of `cluster.nodes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NodeSpec {
    pub name: String,
    #[serde(default)]
    pub cpu: Option<String>,
    #[serde(default)]
    pub memory: Option<String>,
    #[serde(default)]
    pub pods: Option<i64>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// One step.
#[derive(Debug, Clone)]
pub enum StepSpec {
    /// Inline YAML, or a path relative to the script.
    Apply(String),
    /// Inline YAML, or a path relative to the script: `kubectl replace -f` (whole objects,
    /// as the real kubectl's `replace`, `patch` and `edit` leave them).
    Replace(String),
    /// Inline YAML, or a path relative to the script: `kubectl create -f` (objects created
    /// as they are written: no last-applied annotation, an error if one exists).
    Create(String),
    /// A kubectl command line.
    Kubectl(String),
    /// Move virtual time forward (`90s`, `10m`).
    Advance(String),
    /// Run until a condition holds or the timeout passes.
    WaitFor(WaitSpec),
    /// Stop a node's kubelet.
    NodeDown(String),
    /// Bring a node's kubelet back.
    NodeUp(String),
    /// Remove a node.
    RemoveNode(String),
    /// Print a line in the transcript.
    Echo(String),
    /// Print the deployment controller's reasoning so far (`deployment/NAME [-n NS]`).
    Explain(String),
    /// Send one request to a Service and print the answer.
    Request(RequestSpec),
    /// Start sending load to a Service.
    Traffic(TrafficSpec),
    /// Stop the load on a Service (or on every Service of a namespace).
    StopTraffic(StopTrafficSpec),
    /// One write to the API as a client sent it (the real kubectl, the Python client):
    /// recorded runs replay them this way.
    Api(Box<ApiCall>),
}

/// `request: {service, namespace, method, path, body}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// The Service (`name`, `name.namespace`, or a URL such as `http://name:80/path`).
    pub service: String,
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Method (default `GET`, or `POST` with a body).
    #[serde(default)]
    pub method: Option<String>,
    /// Path (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Body: YAML/JSON (sent as JSON) or a string (sent as is).
    #[serde(default)]
    pub body: Option<serde_yaml::Value>,
}

/// `traffic: {service, namespace, rps, path, method, body, duration}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// The Service's name.
    pub service: String,
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Requests per second.
    pub rps: f64,
    /// Method (default `GET`, or `POST` with a body).
    #[serde(default)]
    pub method: Option<String>,
    /// Path (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Body, as for `request`.
    #[serde(default)]
    pub body: Option<serde_yaml::Value>,
    /// How long (default `1h`).
    #[serde(default)]
    pub duration: Option<String>,
}

/// `stopTraffic: {service, namespace}`: ends the flows a `traffic` step started.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopTrafficSpec {
    /// The Service's name (every Service of the namespace when absent).
    #[serde(default)]
    pub service: Option<String>,
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
}

/// A body as bytes: strings as they are, anything else as compact JSON.
fn body_bytes(body: &Option<serde_yaml::Value>) -> Result<Vec<u8>, String> {
    match body {
        None => Ok(Vec::new()),
        Some(serde_yaml::Value::String(s)) => Ok(s.clone().into_bytes()),
        Some(v) => {
            let json: serde_json::Value = serde_yaml::from_value(v.clone())
                .map_err(|e| format!("body is not JSON-like: {e}"))?;
            Ok(json.to_string().into_bytes())
        }
    }
}

fn method_for(method: &Option<String>, body: &[u8]) -> String {
    match method {
        Some(m) => m.to_uppercase(),
        None if body.is_empty() => "GET".into(),
        None => "POST".into(),
    }
}

/// A step as written: a map with exactly one known key.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawStep {
    apply: Option<String>,
    replace: Option<String>,
    create: Option<String>,
    kubectl: Option<String>,
    advance: Option<serde_yaml::Value>,
    wait_for: Option<WaitSpec>,
    node_down: Option<String>,
    node_up: Option<String>,
    remove_node: Option<String>,
    echo: Option<String>,
    explain: Option<String>,
    request: Option<RequestSpec>,
    traffic: Option<TrafficSpec>,
    stop_traffic: Option<StopTrafficSpec>,
    api: Option<Box<ApiCall>>,
}

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawStep::deserialize(d)?;
        let advance = r.advance.map(|v| match v {
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Number(n) => n.to_string(),
            other => format!("{other:?}"),
        });
        let mut found: Vec<StepSpec> = Vec::new();
        found.extend(r.apply.map(StepSpec::Apply));
        found.extend(r.replace.map(StepSpec::Replace));
        found.extend(r.create.map(StepSpec::Create));
        found.extend(r.kubectl.map(StepSpec::Kubectl));
        found.extend(advance.map(StepSpec::Advance));
        found.extend(r.wait_for.map(StepSpec::WaitFor));
        found.extend(r.node_down.map(StepSpec::NodeDown));
        found.extend(r.node_up.map(StepSpec::NodeUp));
        found.extend(r.remove_node.map(StepSpec::RemoveNode));
        found.extend(r.echo.map(StepSpec::Echo));
        found.extend(r.explain.map(StepSpec::Explain));
        found.extend(r.request.map(StepSpec::Request));
        found.extend(r.traffic.map(StepSpec::Traffic));
        found.extend(r.stop_traffic.map(StepSpec::StopTraffic));
        found.extend(r.api.map(StepSpec::Api));
        if found.len() != 1 {
            return Err(serde::de::Error::custom(
                "a step has exactly one of: apply, replace, create, kubectl, advance, waitFor, nodeDown, nodeUp, removeNode, echo, explain, request, traffic, stopTraffic",
            ));
        }
        Ok(found.remove(0))
    }
}

/// `waitFor: {rollout: deployment/x, namespace: ns, timeout: 10m}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitSpec {
    /// `deployment/NAME`.
    pub rollout: String,
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Give up after this long (default 10m).
    #[serde(default)]
    pub timeout: Option<String>,
}

/// Why a script failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    /// The YAML is not a valid script.
    #[error("invalid script{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Parse {
        /// Line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A step failed.
    #[error("step {step} (line {line}) failed: {message}")]
    Step {
        /// 1-based step number.
        step: usize,
        /// Line of the step in the script.
        line: usize,
        /// What went wrong.
        message: String,
    },
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct RunOutput {
    /// The transcript.
    pub transcript: String,
    /// The trace.
    pub tracer: Tracer,
}

/// Parses a script.
pub fn parse(text: &str) -> Result<Script, ScriptError> {
    serde_yaml::from_str::<Script>(text).map_err(|e| ScriptError::Parse {
        line: e.location().map(|l| l.line()),
        message: e.to_string(),
    })
}

/// The 1-based line of each step in the script's text.
pub fn step_lines(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut in_steps = false;
    let mut indent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ind = line.len() - trimmed.len();
        if !in_steps {
            if line.starts_with("steps:") {
                in_steps = true;
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if ind == 0 && !trimmed.starts_with('-') {
            break;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            match indent {
                None => {
                    indent = Some(ind);
                    out.push(i + 1);
                }
                Some(x) if x == ind => out.push(i + 1),
                _ => {}
            }
        }
    }
    out
}

/// The URL a `request` step names: a URL as given, or `http://SERVICE.NAMESPACE/PATH`.
fn request_url(service: &str, ns: &str, path: Option<&str>) -> String {
    if service.starts_with("http://") || service.starts_with("https://") {
        return service.to_string();
    }
    let host = if service.contains('.') {
        service.to_string()
    } else {
        format!("{service}.{ns}")
    };
    let path = path.unwrap_or("/");
    let sep = if path.starts_with('/') { "" } else { "/" };
    format!("http://{host}{sep}{path}")
}

/// Every image that names a `module` names one the run has (when it runs workers at all).
fn check_modules(script: &Script, opts: &RunOptions) -> Result<(), ScriptError> {
    let Some(programs) = &opts.programs else {
        return Ok(());
    };
    for (image, b) in &script.images {
        if let Some(m) = &b.module
            && !programs.has(m)
        {
            return Err(ScriptError::Parse {
                line: None,
                message: format!(
                    "images.{image}.module: no worker module {m:?} (the built-in ones are credit-scoring-api, text-generator, clothes-gateway, clothes-model; add one with --module {m}=FILE.wasm)"
                ),
            });
        }
    }
    Ok(())
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The worker programs the course's images run (the `inference-worker` crate); without
    /// them every image's behaviour is declared.
    pub programs: Option<std::sync::Arc<dyn crate::program::Programs>>,
    /// Run every request of `traffic` steps in wasm, not only one sample per pod and second
    /// (slower; the trace is the same).
    pub every_request: bool,
    /// Overrides the script's seed.
    pub seed: Option<u64>,
    /// How probes are simulated.
    pub probe_mode: ProbeMode,
    /// Print every controller decision, with its arithmetic, after the step that caused it.
    pub why: bool,
    /// Unix milliseconds of virtual time zero (default: a fixed date, so runs are
    /// byte-identical; `kubesim serve` anchors it to the wall clock for kubectl's ages).
    pub epoch_unix_ms: Option<i64>,
}

/// One decision as the transcript shows it.
fn decision_line(sim: &Sim, d: &crate::store::Decision) -> String {
    let t = crate::kubectl::print::human_duration(k8s_openapi::jiff::SignedDuration::from_millis(
        d.time.millis() as i64,
    ));
    let kind = crate::apiserver::kind_prefix(d.object.kind.as_str());
    let _ = sim;
    format!("  why [{t}] {kind}/{}: {}\n", d.object.name, d.text)
}

/// Builds the cluster a script describes.
pub fn build_sim(script: &Script, opts: &RunOptions) -> Sim {
    let nodes = match &script.cluster.nodes {
        None => (1..=3)
            .map(|i| NodeConfig::named(&format!("node-{i}")))
            .collect(),
        Some(NodesSpec::Count(n)) => (1..=*n)
            .map(|i| NodeConfig::named(&format!("node-{i}")))
            .collect(),
        Some(NodesSpec::List(list)) => list
            .iter()
            .map(|n| {
                let mut c = NodeConfig::named(&n.name);
                if let Some(v) = &n.cpu {
                    c.cpu = v.clone();
                }
                if let Some(v) = &n.memory {
                    c.memory = v.clone();
                }
                if let Some(v) = n.pods {
                    c.pods = v;
                }
                c.labels = n.labels.clone();
                c
            })
            .collect(),
    };
    let mut images = DeclaredImages::builtin_with(opts.programs.clone());
    for (name, b) in &script.images {
        images.insert(name, b.clone());
    }
    let config = SimConfig {
        seed: opts.seed.or(script.seed).unwrap_or(0),
        nodes,
        probe_mode: opts.probe_mode,
        epoch_unix_ms: opts
            .epoch_unix_ms
            .unwrap_or(crate::sim::DEFAULT_EPOCH_UNIX_MS),
    };
    let mut sim = Sim::with_runtime(config, Box::new(images));
    sim.traffic.real_requests = opts.every_request;
    sim
}

fn stamp(sim: &Sim) -> String {
    format!(
        "[{}]",
        crate::kubectl::print::human_duration(k8s_openapi::jiff::SignedDuration::from_millis(
            sim.now().millis() as i64
        ))
    )
}

/// Moves time to `until`, tracing every instant; stops early (returning true) once `stop`
/// holds.
pub fn run_to(
    sim: &mut Sim,
    tracer: &mut Tracer,
    until: crate::time::SimTime,
    mut stop: impl FnMut(&Sim) -> bool,
) -> bool {
    sim.settle();
    tracer.observe(sim);
    if stop(sim) {
        return true;
    }
    while let Some(t) = sim.next_event_time() {
        if t > until {
            break;
        }
        sim.step();
        tracer.observe(sim);
        if stop(sim) {
            return true;
        }
    }
    sim.advance(SimDuration(
        until.millis().saturating_sub(sim.now().millis()),
    ));
    tracer.observe(sim);
    false
}

/// Runs a script's steps; stops at the first step that fails.
// The error carries the transcript up to the failure; it is returned once per run.
#[allow(clippy::result_large_err)]
pub fn run(
    text: &str,
    opts: RunOptions,
    files: &dyn FileSource,
) -> Result<RunOutput, (RunOutput, ScriptError)> {
    let script = parse(text).map_err(|e| (RunOutput::default(), e))?;
    check_modules(&script, &opts).map_err(|e| (RunOutput::default(), e))?;
    let mut sim = build_sim(&script, &opts);
    let mut out = RunOutput::default();
    run_steps(&mut sim, text, &script, &opts, files, &mut out)
        .map_err(|e| (std::mem::take(&mut out), e))?;
    Ok(out)
}

/// Builds the script's cluster and runs its steps, returning the cluster too (the web UI
/// keeps running it).
#[allow(clippy::result_large_err)]
pub fn run_keeping_sim(
    text: &str,
    opts: RunOptions,
    files: &dyn FileSource,
) -> Result<(RunOutput, Sim), (RunOutput, ScriptError)> {
    let script = parse(text).map_err(|e| (RunOutput::default(), e))?;
    check_modules(&script, &opts).map_err(|e| (RunOutput::default(), e))?;
    let mut sim = build_sim(&script, &opts);
    let mut out = RunOutput::default();
    run_steps(&mut sim, text, &script, &opts, files, &mut out)
        .map_err(|e| (std::mem::take(&mut out), e))?;
    Ok((out, sim))
}

/// Runs a parsed script's steps on `sim`.
fn run_steps(
    sim: &mut Sim,
    text: &str,
    script: &Script,
    opts: &RunOptions,
    files: &dyn FileSource,
    out: &mut RunOutput,
) -> Result<(), ScriptError> {
    let lines = step_lines(text);
    out.tracer.observe(sim);
    for (i, step) in script.steps.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        run_step(sim, step, i + 1, line, opts, files, out)?;
    }
    Ok(())
}

/// Runs one step on `sim` (`number` and `line` name it in an error), printing to `out`'s
/// transcript and tracing; scenarios run their steps one at a time through this.
pub fn run_step(
    sim: &mut Sim,
    step: &StepSpec,
    number: usize,
    line: usize,
    opts: &RunOptions,
    files: &dyn FileSource,
    out: &mut RunOutput,
) -> Result<(), ScriptError> {
    let shown_decisions = sim.store.decisions.len();
    let fail = |message: String| ScriptError::Step {
        step: number,
        line,
        message,
    };
    {
        match step {
            StepSpec::Apply(body) | StepSpec::Replace(body) | StepSpec::Create(body) => {
                let verb = match step {
                    StepSpec::Replace(_) => "replace",
                    StepSpec::Create(_) => "create",
                    _ => "apply",
                };
                let (source, text) = if body.contains('\n') || body.contains(':') {
                    ("STDIN".to_string(), body.clone())
                } else {
                    match files.read(body.trim()) {
                        Ok(t) => (body.trim().to_string(), t),
                        Err(e) => return Err(fail(e)),
                    }
                };
                out.transcript.push_str(&format!(
                    "{} $ kubectl {verb} -f {}\n",
                    stamp(sim),
                    if source == "STDIN" { "-" } else { &source }
                ));
                let o = match verb {
                    "replace" => kubectl::replace_text(sim, &text, &source, "default"),
                    "create" => kubectl::apply_text(sim, &text, &source, "default", true),
                    _ => kubectl::apply_text(sim, &text, &source, "default", false),
                };
                out.transcript.push_str(&o.stdout);
                out.transcript.push_str(&o.stderr);
                out.tracer.observe(sim);
                if o.code != 0 {
                    return Err(fail(o.stderr.trim_end().to_string()));
                }
            }
            StepSpec::Kubectl(cmd) => {
                out.transcript
                    .push_str(&format!("{} $ kubectl {}\n", stamp(sim), cmd.trim()));
                let o = kubectl::run(sim, cmd, files);
                out.transcript.push_str(&o.stdout);
                out.transcript.push_str(&o.stderr);
                out.tracer.observe(sim);
                let words = kubectl::split_words(cmd).unwrap_or_default();
                // A failing read-only command is a lesson, not a broken script; a failing
                // change is.
                let read_only = kubectl::is_read_only(&words);
                if o.code != 0 && !read_only {
                    return Err(fail(o.stderr.trim_end().to_string()));
                }
            }
            StepSpec::Api(call) => {
                out.transcript.push_str(&format!(
                    "{} $ {} {}{}\n",
                    stamp(sim),
                    format!("{:?}", call.verb).to_uppercase(),
                    call.target(),
                    call.namespace
                        .as_deref()
                        .map(|n| format!(" -n {n}"))
                        .unwrap_or_default()
                ));
                let done = sim.api(call);
                out.tracer.observe(sim);
                match done {
                    Ok(_) => out.transcript.push_str(&format!(
                        "{} {}\n",
                        call.target(),
                        call.verb.done()
                    )),
                    Err(e) => {
                        let line = format!("Error from server ({}): {e}", e.reason());
                        out.transcript.push_str(&line);
                        out.transcript.push('\n');
                        return Err(fail(line));
                    }
                }
            }
            StepSpec::Advance(d) => {
                let d = parse_duration(d).map_err(|e| (RunOutput::default(), fail(e.to_string())));
                let d = match d {
                    Ok(d) => d,
                    Err((_, e)) => return Err(e),
                };
                let until = sim.now() + d;
                run_to(sim, &mut out.tracer, until, |_| false);
            }
            StepSpec::WaitFor(w) => {
                let ns = w.namespace.clone().unwrap_or_else(|| "default".into());
                let Some(name) = w
                    .rollout
                    .strip_prefix("deployment/")
                    .or_else(|| w.rollout.strip_prefix("deploy/"))
                    .or_else(|| w.rollout.strip_prefix("deployments/"))
                else {
                    return Err(fail(format!(
                        "waitFor.rollout must be deployment/NAME, not {:?}",
                        w.rollout
                    )));
                };
                if sim.deployment_id(&ns, name).is_err() {
                    return Err(fail(format!(
                        "deployments.apps {name:?} not found in namespace {ns:?}"
                    )));
                }
                let timeout = match parse_duration(w.timeout.as_deref().unwrap_or("10m")) {
                    Ok(t) => t,
                    Err(e) => return Err(fail(e.to_string())),
                };
                out.transcript.push_str(&format!(
                    "{} $ kubectl rollout status deployment/{name} -n {ns} --timeout={timeout}\n",
                    stamp(sim)
                ));
                let until = sim.now() + timeout;
                let mut last = String::new();
                let mut lines = String::new();
                let done = run_to(sim, &mut out.tracer, until, |s| {
                    let (line, code) = kubectl::rollout_status(s, &ns, name);
                    if line != last {
                        lines.push_str(&line);
                        lines.push('\n');
                        last = line;
                    }
                    code.is_some()
                });
                out.transcript.push_str(&lines);
                if !done {
                    out.transcript
                        .push_str("error: timed out waiting for the condition\n");
                }
                out.transcript
                    .push_str(&format!("{} (rollout wait ended)\n", stamp(sim)));
            }
            StepSpec::NodeDown(n) | StepSpec::NodeUp(n) | StepSpec::RemoveNode(n) => {
                let (fault, word) = match step {
                    StepSpec::NodeDown(_) => (NodeFault::Down, "stops (kubelet down)"),
                    StepSpec::NodeUp(_) => (NodeFault::Up, "is back"),
                    _ => (NodeFault::Remove, "is removed"),
                };
                out.transcript
                    .push_str(&format!("{} # node {n} {word}\n", stamp(sim)));
                if let Err(e) = sim.node_fault(n, fault) {
                    return Err(fail(e.to_string()));
                }
                out.tracer.observe(sim);
            }
            StepSpec::Echo(text) => out
                .transcript
                .push_str(&format!("{} # {text}\n", stamp(sim))),
            StepSpec::Explain(target) => {
                let words = kubectl::split_words(target).unwrap_or_default();
                let mut ns = "default".to_string();
                let mut name = None;
                let mut it = words.iter();
                while let Some(w) = it.next() {
                    if w == "-n" || w == "--namespace" {
                        if let Some(n) = it.next() {
                            ns = n.clone();
                        }
                    } else if let Some(n) = w.strip_prefix("--namespace=") {
                        ns = n.to_string();
                    } else {
                        name = w
                            .strip_prefix("deployment/")
                            .or_else(|| w.strip_prefix("deploy/"))
                            .map(str::to_string);
                    }
                }
                let Some(name) = name else {
                    return Err(fail(format!(
                        "explain takes deployment/NAME [-n NAMESPACE], not {target:?}"
                    )));
                };
                let Ok(id) = sim.deployment_id(&ns, &name) else {
                    return Err(fail(format!(
                        "deployments.apps {name:?} not found in namespace {ns:?}"
                    )));
                };
                out.transcript.push_str(&format!(
                    "{} # why did deployment/{name} do that?\n",
                    stamp(sim)
                ));
                let lines: Vec<String> = sim
                    .store
                    .decisions
                    .iter()
                    .filter(|d| d.object.id == id)
                    .map(|d| decision_line(sim, d))
                    .collect();
                if lines.is_empty() {
                    out.transcript.push_str("  (no decisions yet)\n");
                }
                for l in lines {
                    out.transcript.push_str(&l);
                }
            }
            StepSpec::Request(r) => {
                let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
                let body = body_bytes(&r.body).map_err(fail)?;
                let method = method_for(&r.method, &body);
                let url = request_url(&r.service, &ns, r.path.as_deref());
                let mut curl = format!("{} $ curl -s", stamp(sim));
                if method != "GET" {
                    curl.push_str(&format!(" -X {method}"));
                }
                curl.push_str(&format!(" {url}"));
                if !body.is_empty() {
                    curl.push_str(&format!(" -d '{}'", String::from_utf8_lossy(&body)));
                }
                out.transcript.push_str(&curl);
                out.transcript.push('\n');
                let reply = sim.service_request(&ns, &url, &method, &body);
                let line = match &reply {
                    crate::network::ServiceReply::Response { response, .. } => {
                        format!("{} {}", response.status, response.text().trim_end())
                    }
                    crate::network::ServiceReply::Failed(why) => why.clone(),
                };
                out.transcript.push_str(&line);
                out.transcript.push('\n');
                out.tracer.observe(sim);
                out.tracer.record_request(sim, &ns, &url, &method, &reply);
            }
            StepSpec::Traffic(t) => {
                let ns = t.namespace.clone().unwrap_or_else(|| "default".into());
                let body = body_bytes(&t.body).map_err(fail)?;
                let method = method_for(&t.method, &body);
                let path = t.path.clone().unwrap_or_else(|| "/".into());
                let duration = t.duration.clone().unwrap_or_else(|| "1h".into());
                let d = parse_duration(&duration).map_err(|e| fail(e.to_string()))?;
                sim.start_traffic(&ns, &t.service, &method, &path, &body, t.rps, d)
                    .map_err(fail)?;
                out.transcript.push_str(&format!(
                    "{} # traffic: {} req/s to service/{} ({method} {path}) for {duration}\n",
                    stamp(sim),
                    t.rps,
                    t.service
                ));
            }
            StepSpec::StopTraffic(t) => {
                let ns = t.namespace.clone().unwrap_or_else(|| "default".into());
                sim.stop_traffic(&ns, t.service.as_deref());
                let what = t.service.as_ref().map_or_else(
                    || format!("every service in {ns}"),
                    |s| format!("service/{s}"),
                );
                out.transcript
                    .push_str(&format!("{} # traffic stopped: {what}\n", stamp(sim)));
            }
        }
        if opts.why {
            for d in &sim.store.decisions[shown_decisions..] {
                out.transcript.push_str(&decision_line(sim, d));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lines_point_at_each_step() {
        let text = "seed: 1\nsteps:\n  - apply: |\n      kind: X\n  - advance: 10s\n  # note\n  - kubectl: get pods\nimages: {}\n";
        assert_eq!(step_lines(text), vec![3, 5, 7]);
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(parse("sed: 1\n").is_err());
        assert!(parse("steps:\n  - advnce: 10s\n").is_err());
        assert!(parse("seed: 3\ncluster: {nodes: 2}\nsteps:\n  - advance: 10s\n").is_ok());
    }

    #[test]
    fn stop_traffic_ends_the_flows_it_names() {
        let text = "steps:\n  - apply: |\n      apiVersion: v1\n      kind: Service\n      metadata: {name: web}\n      spec: {selector: {app: web}, ports: [{port: 80}]}\n  - traffic: {service: web, rps: 10}\n  - advance: 5s\n  - stopTraffic: {service: web}\n  - advance: 5s\n";
        let (out, sim) = run_keeping_sim(text, RunOptions::default(), &crate::kubectl::NoFiles)
            .map_err(|(_, e)| e)
            .unwrap();
        assert!(
            out.transcript.contains("# traffic stopped: service/web"),
            "{}",
            out.transcript
        );
        let last = sim.traffic.seconds.last().unwrap();
        assert_eq!(last.time, 5.0, "no traffic after the stop");
        assert_eq!(
            (last.requests, last.errors),
            (10, 10),
            "no endpoints: refused"
        );
    }
}
