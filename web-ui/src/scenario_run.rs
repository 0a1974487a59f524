//! A course scenario played in the browser: a [`scenarios::Session`] (setup, steps, timed and
//! conditional events, checks) plus the log of everything that moved it, and the student's
//! progress (revealed hints, passed steps).
//!
//! As with the sandbox, the log is the run: replaying the scenario's text and the log gives
//! the same cluster, which is how "reset step" works (replay up to the moment the step began).
//! Time goes through the session, so the scenario's events fire as the page's clock runs.

use sim_core::apiserver::call::ApiCall;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use scenarios::Session;
use scenarios::runner::{CheckResult, ScenarioError};
use sim_core::kubectl::{FileSource, NoFiles, Output};
use sim_core::program::Programs;
use sim_core::script::RunOptions;
use sim_core::{SimDuration, SimTime};

use sim_core::network::ServiceReply;

use crate::sandbox::{Request, Speed};
use sim_core::action::{Action, Outcome};

/// Something that moved the run, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// Time ran to this moment. `free` when no `when` event was waiting: consecutive free
    /// advances are one (see [`Session::awaits_condition`]).
    Advance {
        /// Where time stopped.
        to: SimTime,
        /// Can merge with the next free advance.
        free: bool,
    },
    /// Something the student did that changed the cluster (a kubectl command, a manifest
    /// from the editor, a write through the scenario's API, a request to a Service).
    Act(Action),
    /// The student moved on to this step (0-based).
    Enter(usize),
}

/// What the console and the YAML box show on this scenario's page (shared by its tabs).
#[derive(Clone, Debug, Default)]
pub struct Console {
    /// Last command.
    pub cmd: String,
    /// Every command and output of this run (the scrollback, 64 KiB), oldest first.
    pub out: String,
    /// The page's namespace: the cluster view's, the console's default and the kubeconfig's
    /// (`None`: all namespaces, the console then in `default`); the scenario's
    /// `setup.namespace` at first.
    pub namespace: Option<String>,
    /// The editor's text.
    pub yaml: String,
    /// What apply printed.
    pub apply_out: String,
}

impl Console {
    /// Adds one entry (a command line and its output) to the scrollback.
    pub fn push(&mut self, entry: &str) {
        crate::state::push_scrollback(&mut self.out, entry);
    }

    /// The namespace a command without `-n` runs in.
    pub fn context_namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

/// Where the current step's verify script stands (steps without one stay `NotRun`).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Verify {
    /// Not run in this step yet.
    #[default]
    NotRun,
    /// Running now.
    Running,
    /// Ran: whether it exited 0, and what it printed.
    Done {
        /// Exit code 0.
        passed: bool,
        /// Its output.
        output: String,
    },
}

/// A script a step runs as it begins.
#[derive(Clone, Debug, PartialEq)]
pub struct StepScript {
    /// Which it is, for the log ("step 2's background script").
    pub what: String,
    /// The script.
    pub script: String,
    /// A foreground script: its output is shown as a terminal would show it.
    pub foreground: bool,
}

/// What one script printed.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptLog {
    /// When it finished (virtual time).
    pub at: SimTime,
    /// Which it was.
    pub what: String,
    /// A foreground script.
    pub foreground: bool,
    /// It exited 0.
    pub passed: bool,
    /// Its output.
    pub output: String,
}

/// A scenario being played in the browser.
pub struct ScenarioRun {
    /// The file's text when the run started.
    pub text: Arc<str>,
    /// The scenario's session: the cluster, the current step, its events.
    pub session: Session,
    /// Everything that moved the run.
    pub log: Vec<Entry>,
    /// How fast virtual time runs.
    pub speed: Speed,
    /// Hints revealed, per step.
    pub hints: Vec<usize>,
    /// Steps whose checks all passed at some moment.
    pub passed: BTreeSet<usize>,
    /// The current step's checks at their last evaluation.
    pub checks: Vec<CheckResult>,
    /// Failures of the scenario's own actions and events, with their time.
    pub problems: Vec<(SimTime, String)>,
    /// What the scenario's background and foreground scripts printed, in the order they
    /// ran.
    pub script_log: Vec<ScriptLog>,
    /// The current step's background and foreground scripts are still running.
    pub scripts_running: bool,
    /// The console and editor.
    pub console: Console,
    /// The current step's verify script: its last result, or that it is running.
    pub verify: Verify,
    /// When the checks were last evaluated: (time, resource version, log length).
    checked: Option<(SimTime, u64, usize)>,
    /// Virtual time when the first step began (after the setup).
    started: SimTime,
    programs: Arc<dyn Programs>,
    dir: Option<PathBuf>,
    /// What the cluster panel last computed per pod (a replayed run is a new run, with a new
    /// cache).
    pub cells: crate::view::PodCells,
    /// The wall-clock shift the API last showed for this run's cluster.
    pub(crate) shown_shift: crate::kube_api::WallShift,
}

impl std::fmt::Debug for ScenarioRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioRun")
            .field("session", &self.session)
            .field("log", &self.log.len())
            .finish_non_exhaustive()
    }
}

/// Files that `kubectl apply -f` names: an absolute path is one of the scenario's assets
/// (`/root/assets/pod.yaml`, as its scripts find them), a relative one a file of the
/// scenario's folder (never outside it).
struct Files {
    folder: Option<PathBuf>,
    assets: Vec<scenarios::format::Asset>,
}

impl FileSource for Files {
    fn read(&self, path: &str) -> Result<String, String> {
        if path.starts_with('/') {
            return self
                .assets
                .iter()
                .find(|a| a.path == path)
                .map(|a| a.content.clone())
                .ok_or_else(|| format!("the path {path:?} does not exist"));
        }
        match &self.folder {
            Some(d) => scenarios::folder::read_inside(d, path).map_err(|e| e.to_string()),
            None => Err(format!("the path {path:?} does not exist")),
        }
    }
}

/// Everything needed to rebuild a run from its log, taken so that the replay can run
/// without holding the run's lock.
pub struct Replay {
    text: Arc<str>,
    programs: Arc<dyn Programs>,
    dir: Option<PathBuf>,
    log: Vec<Entry>,
    hints: Vec<usize>,
    passed: BTreeSet<usize>,
    speed: Speed,
    /// The console to carry over (none: the new run's own).
    console: Option<Console>,
}

impl Replay {
    /// A fresh run of the same text with the log replayed; the progress (hints, steps passed
    /// before the log's last step, speed, console) carries over.
    pub fn run(self) -> Result<ScenarioRun, ScenarioError> {
        let mut run = ScenarioRun::start(&self.text, self.programs, self.dir)?;
        for e in &self.log {
            run.replay(e);
        }
        run.log = self.log;
        if self.hints.len() == run.hints.len() {
            run.hints = self.hints;
        }
        let step = run.step();
        run.passed = self.passed.into_iter().filter(|s| *s < step).collect();
        run.speed = self.speed;
        if let Some(c) = self.console {
            run.console = c;
        }
        run.checked = None;
        run.evaluate();
        Ok(run)
    }
}

impl ScenarioRun {
    /// Validates `text`, builds the cluster, runs the setup and begins the first step.
    /// `dir` is where `apply -f FILE` reads files (none for the embedded course).
    pub fn start(
        text: &str,
        programs: Arc<dyn Programs>,
        dir: Option<PathBuf>,
    ) -> Result<ScenarioRun, ScenarioError> {
        // The files exist before the session parses the text (a read, no CEL compiled).
        let assets = scenarios::format::parse(text)
            .map(|s| s.setup.assets)
            .unwrap_or_default();
        let files: Box<dyn FileSource + Send + Sync> = if dir.is_none() && assets.is_empty() {
            Box::new(NoFiles)
        } else {
            Box::new(Files {
                folder: dir.clone(),
                assets,
            })
        };
        let opts = RunOptions {
            programs: Some(programs.clone()),
            ..RunOptions::default()
        };
        let session = Session::start(text, opts, files)?;
        let session_namespace = session.scenario.setup.namespace.clone();
        let steps = session.scenario.steps.len();
        let started = session.sim.now();
        let mut run = ScenarioRun {
            started,
            text: text.into(),
            session,
            log: Vec::new(),
            speed: Speed::Times(1.0),
            hints: vec![0; steps],
            passed: BTreeSet::new(),
            checks: Vec::new(),
            problems: Vec::new(),
            script_log: Vec::new(),
            scripts_running: false,
            console: Console {
                namespace: session_namespace,
                ..Console::default()
            },
            verify: Verify::NotRun,
            checked: None,
            programs,
            dir,
            cells: crate::view::PodCells::default(),
            shown_shift: Default::default(),
        };
        run.evaluate();
        Ok(run)
    }

    /// A run of `text` with saved progress replayed (the log, hints and passed steps of an
    /// earlier server): the same cluster, since runs are deterministic.
    pub(crate) fn restore(
        text: &str,
        programs: Arc<dyn Programs>,
        dir: Option<PathBuf>,
        saved: crate::progress::Saved,
    ) -> Result<ScenarioRun, ScenarioError> {
        Replay {
            text: text.into(),
            programs,
            dir,
            log: saved.log,
            hints: saved.hints,
            passed: saved.passed,
            speed: Speed::Times(1.0),
            console: None,
        }
        .run()
    }

    /// What replaying the log up to the moment step `index` began takes (the setup alone
    /// for step 0): "reset step".
    pub fn replay_to_step(&self, index: usize) -> Replay {
        let log = match self.log.iter().position(|e| *e == Entry::Enter(index)) {
            Some(i) => self.log[..=i].to_vec(),
            None => Vec::new(),
        };
        self.replay_of(log)
    }

    /// What replaying the whole log takes.
    pub fn replay_all(&self) -> Replay {
        self.replay_of(self.log.clone())
    }

    fn replay_of(&self, log: Vec<Entry>) -> Replay {
        Replay {
            text: self.text.clone(),
            programs: self.programs.clone(),
            dir: self.dir.clone(),
            log,
            hints: self.hints.clone(),
            passed: self.passed.clone(),
            speed: self.speed,
            console: Some(self.console.clone()),
        }
    }

    fn replay(&mut self, e: &Entry) {
        // Failures happened live too (they were shown then); the replay goes on past them.
        let result = match e {
            Entry::Advance { to, .. } => {
                let d = to.since(self.session.sim.now());
                self.session.advance(d)
            }
            Entry::Act(a) => self.session.act(a).1.map_or(Ok(()), Err),
            Entry::Enter(i) => self.session.enter_step(*i),
        };
        if let Err(err) = result {
            self.problems
                .push((self.session.sim.now(), err.to_string()));
        }
    }

    /// The student's actions as chart markers: (virtual seconds, label). Each is placed where
    /// the log's time stood when it was recorded.
    pub fn marks(&self) -> Vec<(f64, String)> {
        let mut t = self.started;
        let mut out = Vec::new();
        for e in &self.log {
            let label = match e {
                Entry::Advance { to, .. } => {
                    t = *to;
                    continue;
                }
                Entry::Act(a) => crate::view::action_label(a),
                Entry::Enter(i) => format!("step {}", i + 1),
            };
            out.push((t.as_secs_f64(), label));
        }
        out
    }

    /// The current step (0-based).
    pub fn step(&self) -> usize {
        self.session.step()
    }

    /// Number of steps.
    pub fn steps(&self) -> usize {
        self.session.scenario.steps.len()
    }

    /// Every step is passed.
    pub fn complete(&self) -> bool {
        self.steps() > 0 && self.passed.contains(&(self.steps() - 1))
    }

    /// A kubectl command typed by the student; recorded if it changed anything.
    pub fn kubectl(&mut self, line: &str) -> Output {
        let words = sim_core::kubectl::split_words(line).unwrap_or_default();
        let before = self.fingerprint();
        let action = Action::Kubectl(line.to_string());
        let out = self.act_now(&action).output;
        if !sim_core::kubectl::is_read_only(&words) || self.fingerprint() != before {
            self.log.push(Entry::Act(action));
        }
        self.evaluate();
        out
    }

    /// A manifest applied from the editor (or by the real kubectl); always recorded.
    pub fn apply(&mut self, yaml: &str) -> Output {
        self.act(Action::Apply(yaml.to_string())).output
    }

    /// Whole objects replacing the live ones (the real kubectl's `replace`); always
    /// recorded.
    pub fn replace(&mut self, yaml: &str) -> Output {
        self.act(Action::Replace(yaml.to_string())).output
    }

    /// Objects created as they were sent (the real kubectl's `create`); always recorded.
    pub fn create(&mut self, yaml: &str) -> Output {
        self.act(Action::Create(yaml.to_string())).output
    }

    /// A write through the scenario's API: recorded when it changed the cluster (not a dry
    /// run, not an error).
    pub fn api(&mut self, call: ApiCall) -> sim_core::apiserver::call::WriteResult {
        self.act(Action::Api(Box::new(call)))
            .written
            .unwrap_or_else(|| {
                Err(sim_core::ApiError::Unclassified(
                    "the write was not run".into(),
                ))
            })
    }

    /// One request to a Service, recorded: the program's answer as it gave it.
    pub fn request(&mut self, request: Request) -> ServiceReply {
        let out = self.act(Action::Request(request));
        out.reply.unwrap_or(ServiceReply::Failed(out.output.stderr))
    }

    /// Runs a command in a container now (`kubectl exec`), recorded when it sent requests.
    pub fn exec(
        &mut self,
        exec: sim_core::shell::Exec,
    ) -> Result<sim_core::shell::ExecOutput, sim_core::shell::ExecError> {
        let out = self.act(Action::Exec(Box::new(exec)));
        out.exec.unwrap_or_else(|| Ok(Default::default()))
    }

    /// Does `action` now and records it when it belongs in the history
    /// ([`Outcome::recorded`]).
    pub fn act(&mut self, action: Action) -> Outcome {
        let out = self.act_now(&action);
        if out.recorded(&action) {
            self.log.push(Entry::Act(action));
        }
        self.evaluate();
        out
    }

    /// Does `action` now, unrecorded: a scenario event that failed after it is a problem
    /// of the run, and the command's answer says so.
    fn act_now(&mut self, action: &Action) -> Outcome {
        let (mut out, failed) = self.session.act(action);
        if let Some(e) = failed {
            let said = self.problem(e);
            if out.output.code == 0 {
                out.output = said;
            }
        }
        out
    }

    fn problem(&mut self, e: ScenarioError) -> Output {
        let text = e.to_string();
        self.problems.push((self.session.sim.now(), text.clone()));
        Output {
            stdout: String::new(),
            stderr: format!("the scenario's event failed: {text}\n"),
            code: 1,
        }
    }

    fn fingerprint(&self) -> (SimTime, u64, usize) {
        (
            self.session.sim.now(),
            self.session.sim.store.resource_version(),
            self.session.messages.len(),
        )
    }

    /// Runs time to `t` through the session (events fire), recorded.
    pub fn advance_to(&mut self, t: SimTime) {
        let now = self.session.sim.now();
        if t <= now {
            return;
        }
        let free = !self.session.awaits_condition();
        if let Err(e) = self.session.advance(t.since(now)) {
            self.problem(e);
        }
        match self.log.last_mut() {
            Some(Entry::Advance { to, free: true }) if free => *to = t,
            _ => self.log.push(Entry::Advance { to: t, free }),
        }
    }

    /// Moves time forward by `wall` at the current speed; at `Max`, a virtual second at a
    /// time for up to `budget` of wall time.
    pub fn tick(&mut self, wall: std::time::Duration, budget: std::time::Duration) {
        match self.speed {
            Speed::Paused => {}
            Speed::Times(x) => {
                // One instant of the cluster at a time within `budget`, as the sandbox does
                // (`Sandbox::run_to_within`): a heavy second slows this run's clock, never
                // the server.
                let t = self.session.sim.now() + SimDuration::from_secs_f64(wall.as_secs_f64() * x);
                let started = std::time::Instant::now();
                loop {
                    let now = self.session.sim.now();
                    if now >= t {
                        break;
                    }
                    let next = self
                        .session
                        .sim
                        .next_event_time()
                        .map_or(t, |e| e.max(now + SimDuration(1)).min(t));
                    self.advance_to(next);
                    if self.session.sim.now() == now || started.elapsed() >= budget {
                        break;
                    }
                }
            }
            Speed::Max => {
                let started = std::time::Instant::now();
                while started.elapsed() < budget {
                    let t = self.session.sim.now() + SimDuration::from_secs(1);
                    self.advance_to(t);
                }
            }
        }
    }

    /// Evaluates the current step's checks if anything changed since the last time, and
    /// records the step as passed when they all hold.
    pub fn evaluate(&mut self) {
        let key = (
            self.session.sim.now(),
            self.session.sim.store.resource_version(),
            self.log.len(),
        );
        if self.checked == Some(key) {
            return;
        }
        self.checked = Some(key);
        self.checks = self.session.check();
        // A step passes when its checks hold and its verify script (if it has one) exited 0;
        // a step with neither is passed as it begins (a reading step).
        let script_ok = self.verify_script().is_none()
            || matches!(self.verify, Verify::Done { passed: true, .. });
        if script_ok && self.checks.iter().all(|c| c.outcome.passed) {
            self.passed.insert(self.step());
        }
    }

    /// The current step's verify script, if it has one.
    pub fn verify_script(&self) -> Option<&str> {
        self.session.scenario.steps[self.step()].verify.as_deref()
    }

    /// The scripts to run as the current step begins, in order: the setup's background and
    /// foreground scripts (before the first step), then the step's own.
    pub fn step_scripts(&self) -> Vec<StepScript> {
        let sc = &self.session.scenario;
        let step = self.step();
        let mut out = Vec::new();
        let mut add = |what: String, script: &Option<String>, foreground: bool| {
            if let Some(script) = script {
                out.push(StepScript {
                    what,
                    script: script.clone(),
                    foreground,
                });
            }
        };
        if step == 0 {
            add(
                "the setup's background script".into(),
                &sc.setup.background,
                false,
            );
            add(
                "the setup's foreground script".into(),
                &sc.setup.foreground,
                true,
            );
        }
        let s = &sc.steps[step];
        add(
            format!("step {}'s background script", step + 1),
            &s.background,
            false,
        );
        add(
            format!("step {}'s foreground script", step + 1),
            &s.foreground,
            true,
        );
        out
    }

    /// The files the scenario's scripts find when it starts.
    pub fn assets(&self) -> &[scenarios::format::Asset] {
        &self.session.scenario.setup.assets
    }

    /// Records the verify script's result for `step` (ignored if the run moved on).
    pub fn verified(&mut self, step: usize, result: Verify) {
        if step == self.step() {
            self.verify = result;
            self.checked = None;
            self.evaluate();
        }
    }

    /// Where `kubectl apply -f FILE` and the scripts look for files (the scenario's folder).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }

    /// Moves on to the next step once this one is passed.
    pub fn next_step(&mut self) -> Result<(), String> {
        let step = self.step();
        if !self.passed.contains(&step) {
            return Err("the checks of this step do not all pass yet".into());
        }
        if step + 1 >= self.steps() {
            return Err("this is the last step".into());
        }
        self.log.push(Entry::Enter(step + 1));
        if let Err(e) = self.session.enter_step(step + 1) {
            self.problem(e);
        }
        self.verify = Verify::NotRun;
        self.checked = None;
        self.evaluate();
        Ok(())
    }

    /// Reveals the current step's next hint; false if there is none left.
    pub fn reveal_hint(&mut self) -> bool {
        let step = self.step();
        let total = self.session.scenario.steps[step].hints.len();
        match self.hints.get_mut(step) {
            Some(n) if *n < total => {
                *n += 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: &str = include_str!("../../scenarios/course/05-broken-release.yaml");

    fn programs() -> Arc<dyn Programs> {
        crate::sandbox::workers()
    }

    #[test]
    fn the_log_replays_the_same_run_and_reset_goes_back_to_the_steps_start() {
        let mut run = ScenarioRun::start(FIVE, programs(), None).unwrap();
        assert_eq!(run.step(), 0);
        assert!(run.checks.iter().all(|c| !c.outcome.passed));
        let out = run.kubectl("get deploy -n live-coding");
        assert!(out.stdout.contains("10/10"), "{out:?}");
        assert!(run.log.is_empty(), "a read is not part of the run");
        run.kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding");
        // Small ticks, as the page's clock moves.
        for _ in 0..400 {
            run.tick(
                std::time::Duration::from_millis(50),
                std::time::Duration::MAX,
            );
        }
        run.speed = Speed::Times(30.0);
        for _ in 0..100 {
            run.tick(
                std::time::Duration::from_millis(50),
                std::time::Duration::MAX,
            );
        }
        run.evaluate();
        assert!(
            run.checks.iter().all(|c| c.outcome.passed),
            "{:?}",
            run.checks
        );
        assert!(run.passed.contains(&0));
        assert!(run.log.len() <= 3, "free advances merge: {:?}", run.log);
        let again = run.replay_all().run().unwrap();
        assert_eq!(again.session.sim.now(), run.session.sim.now());
        assert_eq!(
            again.session.out.tracer.to_jsonl(),
            run.session.out.tracer.to_jsonl()
        );
        run.next_step().unwrap();
        assert_eq!(run.step(), 1);
        let entered = run.session.sim.now();
        run.kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:broken -n live-coding");
        run.advance_to(entered + SimDuration::from_secs(60));
        let reset = run.replay_to_step(1).run().unwrap();
        assert_eq!(reset.step(), 1);
        assert_eq!(reset.session.sim.now(), entered);
        assert!(reset.passed.contains(&0) && !reset.passed.contains(&1));
        assert!(reset.checks.iter().all(|c| !c.outcome.passed));
    }

    #[test]
    fn timed_events_fire_as_the_pages_clock_runs() {
        let text = include_str!("../../scenarios/course/10-node-failure.yaml");
        let mut run = ScenarioRun::start(text, programs(), None).unwrap();
        assert!(run.session.messages.is_empty());
        let start = run.session.sim.now();
        for _ in 0..5 {
            run.tick(
                std::time::Duration::from_millis(50),
                std::time::Duration::MAX,
            );
        }
        assert!(run.session.messages.is_empty(), "not yet: 10 s in");
        run.speed = Speed::Times(100.0);
        for _ in 0..4 {
            run.tick(
                std::time::Duration::from_millis(50),
                std::time::Duration::MAX,
            );
        }
        let (at, said) = run.session.messages.first().cloned().unwrap();
        assert_eq!(said, "node-3 stopped answering");
        assert_eq!(at.since(start), SimDuration::from_secs(10), "at its moment");
        let again = run.replay_all().run().unwrap();
        assert_eq!(again.session.messages, run.session.messages);
    }

    #[test]
    fn next_step_waits_for_the_checks_and_hints_come_one_at_a_time() {
        let mut run = ScenarioRun::start(FIVE, programs(), None).unwrap();
        assert!(run.next_step().is_err());
        assert!(run.reveal_hint());
        assert!(run.reveal_hint());
        assert!(!run.reveal_hint(), "step 1 has two hints");
        assert_eq!(run.hints[0], 2);
    }
}
