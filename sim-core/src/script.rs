//! `kubesim run` scripts: a cluster, declared images and a list of steps (apply manifests,
//! kubectl commands, moving time, waiting for a rollout, node faults). The runner prints what a
//! user at a terminal would see and records the trace. Files named by a script are read
//! through a [`FileSource`], so this stays free of IO.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::action::{self, Action, Request, StopTraffic, Traffic};
use crate::apiserver::call::ApiCall;
use crate::kubectl::{self, FileSource, SimClock};
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
    /// The sandbox's limits, lower than the defaults (a lesson on a full cluster).
    #[serde(default)]
    pub limits: Option<LimitsSpec>,
}

/// `limits: {pods: N, nodes: N}`: at most the defaults ([`crate::sim::Limits`]), which are
/// what a sandbox can hold.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Pod objects at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<usize>,
    /// Nodes at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<usize>,
}

impl LimitsSpec {
    /// The limits this asks for, or why they cannot be.
    pub fn limits(&self) -> Result<crate::sim::Limits, String> {
        let max = crate::sim::Limits::default();
        let pick = |key: &str, v: Option<usize>, max: usize| match v {
            None => Ok(max),
            Some(0) => Err(format!("limits.{key}: must be at least 1")),
            Some(v) if v > max => Err(format!(
                "limits.{key}: {v} is more than a sandbox can hold ({max})"
            )),
            Some(v) => Ok(v),
        };
        Ok(crate::sim::Limits {
            pods: pick("pods", self.pods, max.pods)?,
            nodes: pick("nodes", self.nodes, max.nodes)?,
        })
    }
}

/// `text` (a script) with its `limits:` set to `limits` (what `kubesim serve --max-pods`
/// does to the scenario it serves, so an export and a replay carry them).
pub fn with_limits(text: &str, limits: LimitsSpec) -> Result<String, ScriptError> {
    limits.limits().map_err(|message| ScriptError::Parse {
        line: None,
        message,
    })?;
    let mut doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(yaml_error)?;
    let serde_yaml::Value::Mapping(m) = &mut doc else {
        return Err(ScriptError::Parse {
            line: Some(1),
            message: "a script is a mapping with `steps:`".into(),
        });
    };
    let mut merged = m
        .get("limits")
        .and_then(|v| serde_yaml::from_value::<LimitsSpec>(v.clone()).ok())
        .unwrap_or_default();
    merged.pods = limits.pods.or(merged.pods);
    merged.nodes = limits.nodes.or(merged.nodes);
    let value = serde_yaml::to_value(merged).map_err(yaml_error)?;
    m.insert("limits".into(), value);
    serde_yaml::to_string(&doc).map_err(yaml_error)
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

/// One step: an [`Action`] on the cluster, or a step that moves time or prints.
#[derive(Debug, Clone)]
pub enum StepSpec {
    /// Something that changes the cluster (apply, kubectl, api, a node fault, a request,
    /// load on a Service).
    Act(Action),
    /// Move virtual time forward (`90s`, `10m`).
    Advance(String),
    /// Run until a condition holds or the timeout passes.
    WaitFor(WaitSpec),
    /// Print a line in the transcript.
    Echo(String),
    /// Print the deployment controller's reasoning so far (`deployment/NAME [-n NS]`).
    Explain(String),
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
    request: Option<Request>,
    traffic: Option<Traffic>,
    stop_traffic: Option<StopTraffic>,
    api: Option<Box<ApiCall>>,
    #[serde(default)]
    ingress: Option<crate::action::IngressRequest>,
    exec: Option<Box<crate::shell::Exec>>,
}

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawStep::deserialize(d)?;
        // A number is kept as written, so the check before the run says it lacks a unit.
        let advance = r.advance.map(|v| match v {
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Number(n) => n.to_string(),
            other => format!("{other:?}"),
        });
        let mut found: Vec<StepSpec> = Vec::new();
        let mut act = |a: Option<Action>| found.extend(a.map(StepSpec::Act));
        act(r.apply.map(Action::Apply));
        act(r.replace.map(Action::Replace));
        act(r.create.map(Action::Create));
        act(r.kubectl.map(Action::Kubectl));
        act(r.node_down.map(Action::NodeDown));
        act(r.node_up.map(Action::NodeUp));
        act(r.remove_node.map(Action::RemoveNode));
        act(r.request.map(Action::Request));
        act(r.traffic.map(Action::Traffic));
        act(r.stop_traffic.map(Action::StopTraffic));
        act(r.api.map(Action::Api));
        act(r.ingress.map(Action::Ingress));
        act(r.exec.map(Action::Exec));
        found.extend(advance.map(StepSpec::Advance));
        found.extend(r.wait_for.map(StepSpec::WaitFor));
        found.extend(r.echo.map(StepSpec::Echo));
        found.extend(r.explain.map(StepSpec::Explain));
        if found.len() != 1 {
            return Err(serde::de::Error::custom(
                "a step has exactly one of: apply, replace, create, kubectl, api, advance, waitFor, nodeDown, nodeUp, removeNode, echo, explain, request, traffic, stopTraffic, ingress, exec",
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

impl ScriptError {
    /// The 1-based line the error points at, when known, and its message without it: the
    /// CLI prints `FILE:LINE: MESSAGE`.
    pub fn located(&self) -> (Option<usize>, String) {
        match self {
            ScriptError::Parse { line, message } => (*line, message.clone()),
            ScriptError::Step {
                step,
                line,
                message,
            } => (
                Some(*line).filter(|l| *l > 0),
                format!("step {step} failed: {message}"),
            ),
        }
    }
}

/// The most steps a script (or an imported run, recorded actions included) may have.
pub const MAX_STEPS: usize = 100_000;

/// The most virtual time a script's steps may ask for (every `advance` plus every
/// `waitFor` timeout): 30 days, checked before anything runs, so an import or a script cannot
/// keep the machine busy for ever.
pub const MAX_VIRTUAL_TIME: SimDuration = SimDuration(30 * 86_400_000);

/// What a script's steps have asked for so far, against [`MAX_STEPS`] and
/// [`MAX_VIRTUAL_TIME`]; an imported run's recorded actions continue its scenario's budget.
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget {
    /// Steps counted.
    pub steps: usize,
    /// Virtual time asked for.
    pub virtual_time: SimDuration,
}

impl Budget {
    /// Counts one step: its durations must have a unit, and the totals stay within bounds.
    pub fn take(&mut self, step: &StepSpec) -> Result<(), String> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(format!(
                "too many steps: at most {MAX_STEPS} in a script or an imported run"
            ));
        }
        let asks = match step {
            StepSpec::Advance(d) => parse_duration(d).map_err(|e| format!("advance: {e}"))?,
            StepSpec::WaitFor(w) => parse_duration(w.timeout.as_deref().unwrap_or("10m"))
                .map_err(|e| format!("waitFor.timeout: {e}"))?,
            _ => SimDuration(0),
        };
        self.virtual_time = SimDuration(self.virtual_time.0.saturating_add(asks.0));
        if self.virtual_time > MAX_VIRTUAL_TIME {
            return Err(format!(
                "the steps ask for {} of virtual time so far, more than the limit of 30 days ({MAX_VIRTUAL_TIME})",
                self.virtual_time
            ));
        }
        Ok(())
    }
}

impl ClusterSpec {
    /// The node count is at least one and within `limits` (checked before any node is built,
    /// so `nodes: 1000000` costs nothing).
    pub fn check(&self, limits: &crate::sim::Limits) -> Result<(), String> {
        let n = match &self.nodes {
            None => return Ok(()),
            Some(NodesSpec::Count(n)) => *n as usize,
            Some(NodesSpec::List(l)) => l.len(),
        };
        if n == 0 {
            return Err("cluster.nodes: a cluster needs at least one node".into());
        }
        if n > limits.nodes {
            return Err(format!(
                "cluster.nodes: {n} nodes is more than the sandbox's limit of {}",
                limits.nodes
            ));
        }
        Ok(())
    }
}

/// Parses a script and checks it before anything runs: the cluster's size, every duration
/// (with a unit), the number of steps and the virtual time they ask for; every error with its
/// line.
pub fn parse(text: &str) -> Result<Script, ScriptError> {
    parse_with_budget(text).map(|(s, _)| s)
}

/// [`parse`], also returning what the steps asked for (an import continues it).
pub fn parse_with_budget(text: &str) -> Result<(Script, Budget), ScriptError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(ScriptError::Parse {
            line: Some(1),
            message: "the script is empty: it needs at least `steps:` (see docs/scripts.md)".into(),
        });
    }
    let script = serde_yaml::from_str::<Script>(text).map_err(yaml_error)?;
    let limits = script
        .limits
        .unwrap_or_default()
        .limits()
        .map_err(|message| ScriptError::Parse {
            line: key_line(text, "limits:"),
            message,
        })?;
    script
        .cluster
        .check(&limits)
        .map_err(|message| ScriptError::Parse {
            line: key_line(text, "nodes:"),
            message,
        })?;
    let lines = step_lines(text);
    let mut budget = Budget::default();
    for (i, step) in script.steps.iter().enumerate() {
        budget.take(step).map_err(|message| ScriptError::Parse {
            line: lines.get(i).copied(),
            message: format!("step {}: {message}", i + 1),
        })?;
    }
    Ok((script, budget))
}

/// A YAML error as a script error: its line, and its message without the position.
pub fn yaml_error(e: serde_yaml::Error) -> ScriptError {
    let line = e.location().map(|l| l.line());
    let mut message = e.to_string();
    if let Some(l) = e.location() {
        let suffix = format!(" at line {} column {}", l.line(), l.column());
        if let Some(m) = message.strip_suffix(&suffix) {
            message = m.to_string();
        }
    }
    ScriptError::Parse { line, message }
}

/// A script's bytes as text; invalid UTF-8 is an error on the line it is found.
pub fn from_utf8(bytes: &[u8]) -> Result<&str, ScriptError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        ScriptError::Parse {
            line: Some(valid.iter().filter(|b| **b == b'\n').count() + 1),
            message: format!(
                "invalid UTF-8 (byte {} of the line): a script is UTF-8 text",
                valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1
            ),
        }
    })
}

/// The 1-based line of the first line whose text starts with `key` (after indentation), for
/// errors found after parsing.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(key) || l.contains(&format!("{{{key}")) || l.contains(&format!(" {key}"))
        })
        .map(|i| i + 1)
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

/// Every image that names a `module` names one the run has (when it runs workers at all).
fn check_modules(text: &str, script: &Script, opts: &RunOptions) -> Result<(), ScriptError> {
    let Some(programs) = &opts.programs else {
        return Ok(());
    };
    for (image, b) in &script.images {
        if let Some(m) = &b.module
            && !programs.has(m)
        {
            return Err(ScriptError::Parse {
                line: script_module_line(text, image, m),
                message: format!(
                    "images.{image}.module: no worker module {m:?} (the built-in ones are credit-scoring-api, text-generator, clothes-gateway, clothes-model; add one with --module {m}=FILE.wasm)"
                ),
            });
        }
    }
    Ok(())
}

/// The line of the first `module: M` after image `image`'s key.
fn script_module_line(text: &str, image: &str, m: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .position(|l| {
            let key = l.trim_start().trim_start_matches(['"', '\'']);
            key.starts_with(image)
                && key[image.len()..]
                    .trim_start_matches(['"', '\''])
                    .starts_with(':')
        })
        .unwrap_or(0);
    (from..lines.len())
        .find(|&i| lines[i].contains("module:") && lines[i].contains(m))
        .map(|i| i + 1)
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
    // `parse` refused limits a sandbox cannot have.
    if let Some(Ok(limits)) = script.limits.map(|l| l.limits()) {
        sim.limits = limits;
    }
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
    if script.steps.is_empty() {
        // A run without steps prints nothing and exits 0: almost certainly the wrong file.
        let e = ScriptError::Parse {
            line: Some(1),
            message: "the script has no steps: a run needs at least one (see docs/scripts.md)"
                .into(),
        };
        return Err((RunOutput::default(), e));
    }
    check_modules(text, &script, &opts).map_err(|e| (RunOutput::default(), e))?;
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
    check_modules(text, &script, &opts).map_err(|e| (RunOutput::default(), e))?;
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

/// Runs one action of a script on `sim`: its command line in the transcript, then what it
/// printed; an error when it failed (a read-only kubectl command that fails is a lesson,
/// not a broken script, and a request's failure is its answer).
fn act(
    sim: &mut Sim,
    a: &Action,
    fail: &dyn Fn(String) -> ScriptError,
    files: &dyn FileSource,
    out: &mut RunOutput,
) -> Result<(), ScriptError> {
    let at = stamp(sim);
    let header = match a {
        Action::Apply(body) | Action::Replace(body) | Action::Create(body) => {
            let verb = match a {
                Action::Replace(_) => "replace",
                Action::Create(_) => "create",
                _ => "apply",
            };
            let source = match action::manifest(body, files) {
                Ok((_, source)) if source != "STDIN" => source,
                _ => "-".into(),
            };
            Some(format!("$ kubectl {verb} -f {source}"))
        }
        Action::Kubectl(cmd) => Some(format!("$ kubectl {}", cmd.trim())),
        Action::Api(call) => Some(format!(
            "$ {} {}{}",
            format!("{:?}", call.verb).to_uppercase(),
            call.target(),
            call.namespace
                .as_deref()
                .map(|n| format!(" -n {n}"))
                .unwrap_or_default()
        )),
        Action::NodeDown(n) => Some(format!("# node {n} stops (kubelet down)")),
        Action::NodeUp(n) => Some(format!("# node {n} is back")),
        Action::RemoveNode(n) => Some(format!("# node {n} is removed")),
        Action::Request(r) => {
            let mut curl = "$ curl -s".to_string();
            if r.method != "GET" {
                curl.push_str(&format!(" -X {}", r.method));
            }
            curl.push_str(&format!(" {}", r.url()));
            if !r.body.is_empty() {
                curl.push_str(&format!(" -d '{}'", r.body));
            }
            Some(curl)
        }
        Action::Ingress(r) => {
            let mut curl = "$ curl -s".to_string();
            if r.method != "GET" {
                curl.push_str(&format!(" -X {}", r.method));
            }
            curl.push_str(&format!(" -H 'Host: {}' http://ingress{}", r.host, r.path));
            if !r.body.is_empty() {
                curl.push_str(&format!(" -d '{}'", r.body));
            }
            Some(curl)
        }
        Action::Traffic(_) | Action::StopTraffic(_) => None,
        Action::Exec(e) => Some(format!(
            "$ kubectl exec {} -n {}{} -- {}",
            e.pod,
            e.namespace,
            e.container
                .as_deref()
                .map(|c| format!(" -c {c}"))
                .unwrap_or_default(),
            e.command.join(" ")
        )),
    };
    if let Some(h) = header {
        out.transcript.push_str(&format!("{at} {h}\n"));
    }
    let o = action::apply(sim, &mut out.tracer, a, files, &mut SimClock);
    let code = o.output.code;
    match a {
        Action::Request(_) | Action::Ingress(_) => {
            let line = match &o.reply {
                Some(crate::network::ServiceReply::Response { response, .. }) => {
                    format!("{} {}", response.status, response.text().trim_end())
                }
                Some(crate::network::ServiceReply::Failed(why)) => why.clone(),
                None => o.output.stderr.trim_end().to_string(),
            };
            out.transcript.push_str(&line);
            out.transcript.push('\n');
            return Ok(());
        }
        Action::Traffic(t) if code == 0 => out.transcript.push_str(&format!(
            "{at} # traffic: {} req/s to service/{} ({} {}) for {}\n",
            t.rps, t.service, t.method, t.path, t.duration
        )),
        Action::StopTraffic(t) => {
            let what = t.service.as_ref().map_or_else(
                || format!("every service in {}", t.namespace),
                |s| format!("service/{s}"),
            );
            out.transcript
                .push_str(&format!("{at} # traffic stopped: {what}\n"));
        }
        Action::Traffic(_) | Action::NodeDown(_) | Action::NodeUp(_) | Action::RemoveNode(_) => {}
        _ => {
            out.transcript.push_str(&o.output.stdout);
            out.transcript.push_str(&o.output.stderr);
        }
    }
    // A read that fails changes nothing, and a command run in a container ends with its own
    // exit code (a `curl` that finds no endpoint): neither stops the run.
    let read_only = match a {
        Action::Kubectl(cmd) => {
            let words = kubectl::split_words(cmd).unwrap_or_default();
            kubectl::is_read_only(&words)
                || words.iter().find(|w| *w != "kubectl").map(String::as_str) == Some("exec")
        }
        Action::Exec(_) => true,
        _ => false,
    };
    if code != 0 && !read_only {
        let why = o.output.stderr.trim_end();
        let why = match a {
            Action::Traffic(_) => why.strip_prefix("error: ").unwrap_or(why),
            _ => why,
        };
        return Err(fail(why.to_string()));
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
            StepSpec::Act(a) => act(sim, a, &fail, files, out)?,
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
    fn limits_lower_the_sandbox_and_stay_in_the_script() {
        let text = "cluster: {nodes: 2}\nlimits: {pods: 5}\nsteps:\n  - kubectl: create deployment web --image=nginx --replicas=8\n  - advance: 30s\n  - kubectl: get deploy web\n";
        let script = parse(text).unwrap();
        let sim = build_sim(&script, &RunOptions::default());
        assert_eq!(sim.limits.pods, 5);
        let out = run(text, RunOptions::default(), &crate::kubectl::NoFiles).unwrap();
        assert!(out.transcript.contains("web    5/8"), "{}", out.transcript);
        for (bad, says) in [
            ("limits: {pods: 0}\nsteps: []\n", "at least 1"),
            (
                "limits: {pods: 200000}\nsteps: []\n",
                "more than a sandbox can hold",
            ),
            (
                "limits: {nodes: 2}\ncluster: {nodes: 3}\nsteps: []\n",
                "limit of 2",
            ),
            ("limits: {cpu: 2}\nsteps: []\n", "unknown field"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
        // `serve --max-pods` writes them into the scenario, merged with the file's own.
        let with = with_limits(
            "limits: {nodes: 4}\nsteps: []\n",
            LimitsSpec {
                pods: Some(100),
                nodes: None,
            },
        )
        .unwrap();
        let script = parse(&with).unwrap();
        assert_eq!(
            script.limits,
            Some(LimitsSpec {
                pods: Some(100),
                nodes: Some(4)
            })
        );
        assert!(
            with_limits(
                "steps: []\n",
                LimitsSpec {
                    pods: Some(0),
                    nodes: None
                }
            )
            .is_err()
        );
    }

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

    /// The line and message a script is refused with before it runs.
    fn check_refused(text: &str, line: usize, message: &str) {
        let e = match run(text, RunOptions::default(), &crate::kubectl::NoFiles) {
            Ok(_) => panic!("{text:?} ran"),
            Err((out, e)) => {
                assert_eq!(out.transcript, "", "nothing ran");
                e
            }
        };
        let (at, got) = e.located();
        assert_eq!(at, Some(line), "{text:?}: {got}");
        assert!(got.contains(message), "{text:?}: {got}");
    }

    #[test]
    fn scripts_are_checked_before_they_run() {
        check_refused("", 1, "the script is empty");
        check_refused("# only a comment\n\n", 1, "the script is empty");
        check_refused("seed: 1\n", 1, "no steps");
        check_refused(
            "steps:\n  - echo: hi\n  - advance: 5\n",
            3,
            "advance: invalid duration \"5\": a number needs a unit (5s",
        );
        check_refused(
            "cluster: {nodes: 0}\nsteps:\n  - echo: hi\n",
            1,
            "at least one node",
        );
        check_refused(
            "seed: 1\ncluster:\n  nodes: 1000000\nsteps:\n  - echo: hi\n",
            3,
            "1000000 nodes is more than the sandbox's limit of 5000",
        );
        check_refused(
            "steps:\n  - advance: 99999999999999999999h\n",
            2,
            "too long",
        );
        check_refused(
            "steps:\n  - advance: 20d\n  - waitFor: {rollout: deployment/x, timeout: 11d}\n",
            3,
            "more than the limit of 30 days",
        );
        check_refused(
            "steps:\n  - echo: a\n  - frob: 1\n",
            3,
            "unknown field `frob`",
        );
    }

    #[test]
    fn invalid_utf8_is_refused_on_its_line() {
        let e = from_utf8(b"steps:\n  - echo: caf\xe9\n").unwrap_err();
        assert_eq!(e.located().0, Some(2));
        assert_eq!(from_utf8(b"ok"), Ok("ok"));
    }

    #[test]
    fn an_unknown_module_is_refused_on_its_line() {
        #[derive(Debug)]
        struct One;
        impl crate::program::Programs for One {
            fn program(&self, _: &str) -> Option<std::sync::Arc<dyn crate::program::Program>> {
                None
            }
            fn has(&self, name: &str) -> bool {
                name == "known"
            }
        }
        let text =
            "images:\n  a:\n    module: known\n  b:\n    module: nope\nsteps:\n  - echo: hi\n";
        let opts = RunOptions {
            programs: Some(std::sync::Arc::new(One)),
            ..RunOptions::default()
        };
        let Err((_, e)) = run(text, opts, &crate::kubectl::NoFiles) else {
            panic!("ran");
        };
        assert_eq!(e.located().0, Some(5), "{e}");
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
