//! One sandbox: a simulated cluster started from a scenario script, the log of everything the
//! user did (with its virtual time), and the speed at which virtual time runs.
//!
//! Because a run is deterministic, the log is the run: replaying the scenario and the log
//! reaches any earlier moment exactly (the scrubber), and the log exported as a `kubesim run`
//! script replays the same run anywhere.

use serde_yaml::Value;
use sim_core::action::Outcome;
use sim_core::apiserver::call::ApiCall;
use sim_core::kubectl::{NoFiles, Output, SimClock};
use sim_core::network::ServiceReply;
use sim_core::script::{self, RunOptions, ScriptError, StepSpec};
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

pub use sim_core::action::{Action, Request, StopTraffic, Traffic, fault_word};

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
    /// Whoever asked for it went away before it was built (an import whose client left).
    #[error("cancelled: the client went away")]
    Cancelled,
}

/// Gives every sandbox built an identity, so "the sandbox changed" notices a replaced one.
static SANDBOXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Which sandbox, at which edit: two equal revisions are the same history (virtual time may
/// have moved on, but nobody did anything). See [`Sandbox::revision`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revision {
    id: u64,
    edits: u64,
}

impl Revision {
    /// Whether both are revisions of the same sandbox (not one replaced by another).
    pub fn same_sandbox(self, other: Revision) -> bool {
        self.id == other.id
    }
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
    /// This sandbox's identity and how many times its history changed.
    revision: Revision,
    /// Whether the last tick ran out of its wall-time budget before reaching the time the
    /// speed asked for (the clock shows it).
    pub behind: bool,
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
            revision: Revision {
                id: SANDBOXES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                edits: 0,
            },
            behind: false,
        })
    }

    /// Opens an exported run (or any `kubesim run` script): its setup runs at once, and its
    /// recorded actions become the log, replayed as virtual time reaches them.
    pub fn open(text: &str) -> Result<Sandbox, SandboxError> {
        Sandbox::open_unless(text, &|| false)
    }

    /// [`Sandbox::open`], giving up with [`SandboxError::Cancelled`] between steps (and every
    /// virtual minute of a long `advance`) once `cancelled` says so.
    ///
    /// The whole file is checked as a script first (`script::parse`: unknown steps, the
    /// cluster's size, durations with units, at most `MAX_STEPS` steps and
    /// `MAX_VIRTUAL_TIME`), so nothing is built for a file that would be refused.
    pub fn open_unless(text: &str, cancelled: &dyn Fn() -> bool) -> Result<Sandbox, SandboxError> {
        script::parse(text)?;
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
        let recorded = recorded
            .into_iter()
            .map(|step| {
                serde_yaml::from_value::<StepSpec>(step)
                    .map_err(|e| SandboxError::Yaml(format!("a recorded step: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scenario =
            serde_yaml::to_string(&doc).map_err(|e| SandboxError::Yaml(e.to_string()))?;
        let mut sb = Sandbox::new(&scenario, None)?;
        // Replay while reading: a command that waits (delete, drain) moves the clock, and the
        // next `advance` counts from when it returned.
        for step in recorded {
            if cancelled() {
                return Err(SandboxError::Cancelled);
            }
            match step {
                StepSpec::Act(action) => {
                    sb.act(action);
                }
                StepSpec::Advance(d) => {
                    let d = sim_core::time::parse_duration(&d)
                        .map_err(|e| SandboxError::Yaml(e.to_string()))?;
                    let end = sb.sim.now() + d;
                    while sb.sim.now() < end {
                        if cancelled() {
                            return Err(SandboxError::Cancelled);
                        }
                        let t = (sb.sim.now() + SimDuration::from_secs(60)).min(end);
                        sb.run_to(t);
                    }
                }
                // Steps that print or wait for a rollout are not actions of a recorded run:
                // its `advance` steps hold the time they took.
                StepSpec::Echo(_) | StepSpec::Explain(_) | StepSpec::WaitFor(_) => {}
            }
        }
        sb.speed = Speed::Paused;
        Ok(sb)
    }

    /// A sandbox from `scenario` with `actions` replayed up to the end of the last one (a
    /// journal read back after the server stopped).
    pub fn restore(
        scenario: &str,
        seed: Option<u64>,
        epoch: Option<i64>,
        actions: Vec<Logged>,
    ) -> Result<Sandbox, SandboxError> {
        let mut sb = Sandbox::with_epoch(scenario, seed, epoch)?;
        let end = actions.last().map(|a| a.end);
        sb.actions = actions;
        if let Some(end) = end {
            sb.furthest = sb.furthest.max(end);
            sb.run_to(end);
        }
        Ok(sb)
    }

    /// The scenario text this sandbox started from.
    pub fn scenario(&self) -> &str {
        &self.scenario
    }

    /// The seed it was given, if any.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// This sandbox and how often its history changed (an action recorded, a scrub back): an
    /// import that began at one revision replaces the sandbox only if it is still there.
    pub fn revision(&self) -> Revision {
        self.revision
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
            extra.push(serde_yaml::to_value(&a.action).unwrap_or(Value::Null));
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
        self.act_full(action, None).output
    }

    /// [`Sandbox::act`], remembering what the user typed for the timeline.
    pub fn act_typed(&mut self, action: Action, typed: Option<String>) -> Output {
        self.act_full(action, typed).output
    }

    /// One write to the API now, recorded (as an `api` step) when it changed the cluster:
    /// not a dry run, not an error. The object it left, or the API server's error.
    pub fn api(
        &mut self,
        call: ApiCall,
        typed: Option<String>,
    ) -> sim_core::apiserver::call::WriteResult {
        match self.act_full(Action::Api(Box::new(call)), typed).written {
            Some(written) => written,
            None => Err(sim_core::ApiError::Unclassified(
                "the write was not run".into(),
            )),
        }
    }

    /// Sends one request to a Service now and records it (as a `request` step): the
    /// Service's answer, exactly as the program gave it.
    pub fn request(&mut self, request: Request) -> ServiceReply {
        let out = self.act_full(Action::Request(request), None);
        out.reply.unwrap_or(ServiceReply::Failed(out.output.stderr))
    }

    /// Sends one request through the ingress controller now and records it (as an
    /// `ingress` step): the answer of the pod it reached, or ingress-nginx's own page.
    pub fn ingress(&mut self, request: sim_core::action::IngressRequest) -> ServiceReply {
        let out = self.act_full(Action::Ingress(request), None);
        out.reply.unwrap_or(ServiceReply::Failed(out.output.stderr))
    }

    /// Runs a command in a container now (`kubectl exec`), recorded (as an `exec` step) when
    /// it sent requests; what it printed and its exit code, or why it could not run.
    pub fn exec(
        &mut self,
        exec: sim_core::shell::Exec,
        typed: Option<String>,
    ) -> Result<sim_core::shell::ExecOutput, sim_core::shell::ExecError> {
        let out = self.act_full(Action::Exec(Box::new(exec)), typed);
        out.exec.unwrap_or_else(|| Ok(Default::default()))
    }

    /// Does something now and records it when it belongs in the history
    /// ([`Outcome::recorded`]).
    fn act_full(&mut self, action: Action, typed: Option<String>) -> Outcome {
        let at = self.sim.now();
        let out = apply_action(&mut self.sim, &mut self.tracer, &action);
        if !out.recorded(&action) {
            return out;
        }
        // A new action after going back in time starts a new branch of history.
        self.actions.truncate(self.applied);
        let end = self.sim.now();
        self.furthest = self.furthest.max(end);
        self.actions.push(Logged {
            at,
            end,
            action,
            typed,
        });
        self.applied = self.actions.len();
        self.revision.edits += 1;
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

    /// Runs toward `t` one instant at a time for at most `budget` of wall time, so the lock
    /// is never held for long however much a second of the cluster holds (a million replicas
    /// at 100×); `false` when the budget ran out first: the virtual clock then stops at the
    /// last instant it finished and goes on from there at the next tick, running slower than
    /// asked while the machine cannot keep up. Each instant is the same as in [`Self::run_to`],
    /// so where the slices fall never changes the run.
    pub(crate) fn run_to_within(&mut self, t: SimTime, budget: std::time::Duration) -> bool {
        let started = std::time::Instant::now();
        let from = self.sim.now();
        loop {
            let next_action = self
                .actions
                .get(self.applied)
                .map(|a| a.at)
                .filter(|&at| at <= t);
            let next_event = self.sim.next_event_time().filter(|&e| e <= t);
            let next = match (next_event, next_action) {
                (Some(e), Some(a)) => e.min(a),
                (e, a) => match e.or(a) {
                    Some(n) => n,
                    None => break,
                },
            };
            if started.elapsed() >= budget && self.sim.now() > from {
                return false;
            }
            // Everything due before `next`, then the instant itself (its actions last, as
            // `run_to` applies them).
            self.run_to_with(next, next_action == Some(next));
        }
        self.run_to(t);
        true
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
                self.behind = !self.run_to_within(t, budget);
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
        fresh.revision = Revision {
            edits: self.revision.edits + 1,
            ..self.revision
        };
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

/// Does an action on the cluster and lets the tracer look, as a script's step does.
fn apply_action(sim: &mut Sim, tracer: &mut Tracer, action: &Action) -> Outcome {
    sim_core::action::apply(sim, tracer, action, &NoFiles, &mut SimClock)
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
    fn a_run_exported_before_actions_had_one_vocabulary_still_opens() {
        // The steps as the export wrote them by hand (session 6): every action kind but `api`
        // (tests/kubectl_writes.rs replays those), with the map field orders it used.
        let file = "# A kubesim run, exported at virtual time 1m. Replay: kubesim run FILE, or open it in kubesim serve.\n\
cluster:\n  nodes: 2\n\
steps:\n\
- apply: |\n    apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec: {selector: {app: web}, ports: [{port: 80}]}\n\
- echo: 'kubesim: recorded actions follow'\n\
- advance: 5000ms\n\
- kubectl: create deployment web --image=registry.local/credit-scoring-api:v1 --replicas=2\n\
- advance: 30000ms\n\
- request:\n    service: web\n    namespace: default\n    method: GET\n    path: /healthz\n    body: ''\n\
- traffic:\n    service: web\n    namespace: default\n    rps: 5.0\n    method: GET\n    path: /healthz\n    body: ''\n    duration: 10000ms\n\
- nodeDown: node-2\n\
- stopTraffic:\n    namespace: default\n    service: web\n\
- advance: 25000ms\n";
        let sb = Sandbox::open(file).unwrap();
        let kinds: Vec<&str> = sb
            .actions
            .iter()
            .map(|a| match a.action {
                Action::Kubectl(_) => "kubectl",
                Action::Request(_) => "request",
                Action::Traffic(_) => "traffic",
                Action::NodeDown(_) => "nodeDown",
                Action::StopTraffic(_) => "stopTraffic",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["kubectl", "request", "traffic", "nodeDown", "stopTraffic"]
        );
        assert_eq!(sb.sim.now().since(sb.start).as_secs_f64(), 60.0);
        // Its export is the same steps, and opens to the same run.
        let export = sb.export();
        let steps = |t: &str| {
            t.split_once("recorded actions follow")
                .map(|(_, s)| s.to_string())
        };
        assert_eq!(steps(&export), steps(file));
        let again = Sandbox::open(&export).unwrap();
        assert_eq!(again.tracer.to_jsonl(), sb.tracer.to_jsonl());
        // An unknown step is an error, not skipped.
        let bad = file.replace("- nodeDown: node-2", "- frob: 1");
        let e = Sandbox::open(&bad).unwrap_err().to_string();
        assert!(e.contains("unknown field `frob`"), "{e}");
    }

    #[test]
    fn export_then_open_replays_the_same_run() {
        let mut sb = Sandbox::new(DEMO, None).unwrap();
        sb.run_to(sb.sim.now() + SimDuration::from_secs(5));
        sb.act(Action::Kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding".into()));
        sb.run_to(sb.sim.now() + SimDuration::from_secs(20));
        sb.act(Action::NodeDown("node-2".into()));
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
        sb.act(Action::StopTraffic(StopTraffic {
            namespace: "live-coding".into(),
            service: Some("credit-scoring-api".into()),
        }));
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
    fn a_heavy_second_slows_the_clock_in_slices_without_changing_the_run() {
        // 3,000 replicas at 100×: far more than one 40 ms slice holds in one tick.
        let scale = || {
            Action::Kubectl(
                "scale deployment/credit-scoring-api --replicas=3000 -n live-coding".into(),
            )
        };
        let mut sliced = Sandbox::new(DEMO, None).unwrap();
        let mut whole = Sandbox::new(DEMO, None).unwrap();
        sliced.act(scale());
        whole.act(scale());
        let end = sliced.sim.now() + SimDuration::from_secs(20);
        sliced.speed = Speed::Times(100.0);
        let mut ticks = 0;
        let mut behind = 0;
        while sliced.sim.now() < end {
            // No budget at all: one instant of the cluster per tick.
            sliced.tick(
                std::time::Duration::from_millis(50),
                std::time::Duration::ZERO,
            );
            ticks += 1;
            behind += usize::from(sliced.behind);
        }
        assert!(behind > 0 && ticks > 4, "{ticks} ticks, {behind} behind");
        whole.run_to(sliced.sim.now());
        assert_eq!(
            sliced.sim.store.resource_version(),
            whole.sim.store.resource_version()
        );
        assert_eq!(sliced.tracer.to_jsonl(), whole.tracer.to_jsonl());
        assert_eq!(
            sliced.sim.store.pods.len(),
            whole.sim.store.pods.len(),
            "the same pods"
        );
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
