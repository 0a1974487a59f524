//! Playing a scenario: the setup, then each step with its actions, its timed and conditional
//! events and its checks; and the instructor's `test`, which plays every reference solution.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use sim_core::action::{self, Action};
use sim_core::kubectl::{self, FileSource};
use sim_core::script::{self, RunOptions, RunOutput, Script, ScriptError, StepSpec};
use sim_core::time::{SimDuration, SimTime, parse_duration};
use sim_core::{Sim, kubectl::NoFiles};

use crate::check::{Expr, Outcome, World};
use crate::format::{self, Scenario};
use crate::validate::{self, Diagnostic};

/// Why a scenario cannot be played.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// The file is not a valid scenario.
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
    /// A setup step, action, event or solution step failed.
    #[error("{place}: {source}")]
    Script {
        /// Where: `setup`, `step 2 actions`, `step 3 solution`...
        place: String,
        /// What failed.
        source: ScriptError,
    },
}

/// One check's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// The expression.
    pub cel: String,
    /// What is expected, in words.
    pub explain: Option<String>,
    /// The evaluation.
    pub outcome: Outcome,
}

/// A compiled event of the current step.
#[derive(Debug)]
struct Pending {
    at: Option<SimDuration>,
    when: Option<Expr>,
    say: Option<String>,
    actions: Vec<StepSpec>,
    fired: bool,
}

/// A scenario being played.
pub struct Session {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// The cluster.
    pub sim: Sim,
    /// The transcript and trace so far.
    pub out: RunOutput,
    /// Lines the scenario said (events' `say`), with their virtual time.
    pub messages: Vec<(SimTime, String)>,
    opts: RunOptions,
    files: Arc<dyn FileSource + Send + Sync>,
    checks: Vec<Vec<Expr>>,
    step: usize,
    step_start: SimTime,
    step_first_record: usize,
    events: Vec<Pending>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("title", &self.scenario.title)
            .field("step", &self.step)
            .field("now", &self.sim.now())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Validates `text`, builds the cluster, runs the setup and begins the first step.
    pub fn start(
        text: &str,
        opts: RunOptions,
        files: Box<dyn FileSource + Send + Sync>,
    ) -> Result<Session, ScenarioError> {
        let (scenario, diags) = validate::validate(text);
        let errors: Vec<Diagnostic> = diags.into_iter().filter(|d| d.error).collect();
        let Some(scenario) = scenario.filter(|_| errors.is_empty()) else {
            return Err(ScenarioError::Invalid(errors));
        };
        Session::from_scenario(scenario, opts, files)
    }

    /// Builds the cluster of a parsed (and validated) scenario, runs the setup and begins the
    /// first step.
    pub fn from_scenario(
        scenario: Scenario,
        opts: RunOptions,
        files: Box<dyn FileSource + Send + Sync>,
    ) -> Result<Session, ScenarioError> {
        let checks = scenario
            .steps
            .iter()
            .map(|s| {
                s.checks
                    .iter()
                    .filter_map(|c| Expr::compile(&c.cel).ok())
                    .collect()
            })
            .collect();
        let setup = &scenario.setup;
        let script = Script {
            seed: setup.seed,
            cluster: setup.cluster.clone(),
            images: setup.images.clone(),
            steps: Vec::new(),
            limits: None,
        };
        let sim = script::build_sim(&script, &opts);
        let mut s = Session {
            scenario: Arc::new(scenario),
            sim,
            out: RunOutput::default(),
            messages: Vec::new(),
            opts,
            files: Arc::from(files),
            checks,
            step: 0,
            step_start: SimTime::ZERO,
            step_first_record: 0,
            events: Vec::new(),
        };
        s.out.tracer.observe(&mut s.sim);
        let mut setup_steps = Vec::new();
        if let Some(ns) = &s.scenario.setup.namespace {
            setup_steps.push(StepSpec::Act(Action::Apply(format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
            ))));
        }
        setup_steps.extend(
            s.scenario
                .setup
                .objects
                .iter()
                .map(|o| StepSpec::Act(Action::Apply(o.clone()))),
        );
        setup_steps.extend(s.scenario.setup.steps.iter().cloned());
        s.run_plain(&setup_steps, "setup")?;
        s.enter_step(0)?;
        Ok(s)
    }

    /// The current step (0-based).
    pub fn step(&self) -> usize {
        self.step
    }

    /// Virtual time since the current step began.
    pub fn step_elapsed(&self) -> SimDuration {
        self.sim.now().since(self.step_start)
    }

    /// Moves on to step `index` (0-based): its history starts now, its actions run.
    pub fn enter_step(&mut self, index: usize) -> Result<(), ScenarioError> {
        self.step = index;
        self.sim.settle();
        self.out.tracer.observe(&mut self.sim);
        self.step_start = self.sim.now();
        self.step_first_record = self.out.tracer.records.len();
        let Some(step) = self.scenario.steps.get(index) else {
            self.events.clear();
            return Ok(());
        };
        self.events = step
            .events
            .iter()
            .map(|e| Pending {
                at: e.at.as_deref().and_then(|a| parse_duration(a).ok()),
                when: e.when.as_deref().and_then(|w| Expr::compile(w).ok()),
                say: e.say.clone(),
                actions: e.actions.clone(),
                fired: false,
            })
            .collect();
        let actions = step.actions.clone();
        self.run(&actions, &format!("step {} actions", index + 1))?;
        self.fire_due()
    }

    /// Runs script steps as the student would (kubectl, apply, advance, waitFor...), firing
    /// the step's events as time passes.
    pub fn run(&mut self, steps: &[StepSpec], place: &str) -> Result<(), ScenarioError> {
        for (i, step) in steps.iter().enumerate() {
            let fail = |source| ScenarioError::Script {
                place: place.to_string(),
                source,
            };
            match step {
                StepSpec::Advance(d) => {
                    let d = parse_duration(d).map_err(|e| {
                        fail(ScriptError::Step {
                            step: i + 1,
                            line: 0,
                            message: e.to_string(),
                        })
                    })?;
                    let until = self.sim.now() + d;
                    self.advance_to(until, |_| false)?;
                }
                StepSpec::WaitFor(w) => self.wait_rollout(w, i + 1).map_err(fail)?,
                other => {
                    script::run_step(
                        &mut self.sim,
                        other,
                        i + 1,
                        0,
                        &self.opts,
                        &*self.files,
                        &mut self.out,
                    )
                    .map_err(fail)?;
                }
            }
            self.fire_due()?;
        }
        Ok(())
    }

    /// Something the student did (a kubectl command line, a manifest from the editor, a
    /// write through the scenario's API, a request to a Service): what it did, and a
    /// scenario event that failed after it. While a command waits (`delete`, `drain`), time
    /// goes through the session, so the step's events fire on the way, as they would while
    /// a real kubectl waits.
    pub fn act(&mut self, a: &Action) -> (action::Outcome, Option<ScenarioError>) {
        let files = self.files.clone();
        // The command works on the cluster; the clock puts it back into the session for
        // each wait, so events see (and act on) the same cluster.
        let mut sim = std::mem::replace(&mut self.sim, placeholder_sim());
        let mut clock = SessionClock {
            session: self,
            failed: None,
        };
        let outcome = action::perform(&mut sim, a, &*files, &mut clock);
        let failed = clock.failed.take();
        self.sim = sim;
        outcome.trace(a, &mut self.sim, &mut self.out.tracer);
        let failed = failed.or_else(|| self.fire_due().err());
        (outcome, failed)
    }

    /// A `when` event of the current step has yet to fire. Conditions are looked at after
    /// every action and every virtual second from where time last stopped, so while one
    /// waits, the moments at which time is advanced are part of the run (a replay must stop
    /// at the same moments); otherwise `advance(a)` then `advance(b)` equals `advance(a + b)`.
    pub fn awaits_condition(&self) -> bool {
        self.events.iter().any(|e| !e.fired && e.when.is_some())
    }

    /// Moves virtual time forward by `d`, firing events.
    pub fn advance(&mut self, d: SimDuration) -> Result<(), ScenarioError> {
        let until = self.sim.now() + d;
        self.advance_to(until, |_| false).map(|_| ())
    }

    /// The current step's checks, evaluated now.
    pub fn check(&self) -> Vec<CheckResult> {
        let world = Arc::new(self.world());
        let Some(step) = self.scenario.steps.get(self.step) else {
            return Vec::new();
        };
        step.checks
            .iter()
            .zip(&self.checks[self.step])
            .map(|(c, e)| CheckResult {
                name: c.name.clone(),
                cel: c.cel.clone(),
                explain: c.explain.clone(),
                outcome: e.evaluate(&world),
            })
            .collect()
    }

    /// What checks see now.
    pub fn world(&self) -> World {
        World::capture(
            &self.sim,
            &self.out.tracer,
            self.step_start.as_secs_f64(),
            self.step_first_record,
        )
    }

    /// Runs steps without firing events (the setup, and an event's own actions).
    fn run_plain(&mut self, steps: &[StepSpec], place: &str) -> Result<(), ScenarioError> {
        for (i, step) in steps.iter().enumerate() {
            script::run_step(
                &mut self.sim,
                step,
                i + 1,
                0,
                &self.opts,
                &*self.files,
                &mut self.out,
            )
            .map_err(|source| ScenarioError::Script {
                place: place.to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// Fires every event that is due: its time has come or its condition holds.
    fn fire_due(&mut self) -> Result<(), ScenarioError> {
        let elapsed = self.step_elapsed();
        let needs_world = self.events.iter().any(|e| !e.fired && e.when.is_some());
        let world = needs_world.then(|| Arc::new(self.world()));
        let mut due = Vec::new();
        for (i, e) in self.events.iter().enumerate() {
            if e.fired {
                continue;
            }
            let time_ok = e.at.is_none_or(|at| at <= elapsed);
            let cond_ok = match (&e.when, &world) {
                (Some(w), Some(world)) => w.evaluate(world).passed,
                _ => true,
            };
            if time_ok && cond_ok {
                due.push(i);
            }
        }
        for i in due {
            self.events[i].fired = true;
            if let Some(say) = self.events[i].say.clone() {
                let _ = writeln!(self.out.transcript, "{} # {say}", self.stamp());
                self.messages.push((self.sim.now(), say));
            }
            let actions = self.events[i].actions.clone();
            self.run_plain(&actions, &format!("step {} event {}", self.step + 1, i + 1))?;
        }
        Ok(())
    }

    /// `[1m30s]`, as the script transcript stamps lines.
    fn stamp(&self) -> String {
        let ms = self.sim.now().millis() as i64;
        format!(
            "[{}]",
            kubectl::print::human_duration(k8s_openapi::jiff::SignedDuration::from_millis(ms))
        )
    }

    /// The time of the next timed event still to fire.
    fn next_timed_event(&self) -> Option<SimTime> {
        self.events
            .iter()
            .filter(|e| !e.fired && e.when.is_none())
            .filter_map(|e| e.at)
            .map(|at| self.step_start + at)
            .min()
    }

    /// Moves time to `until`, firing events on the way; true if `stop` held first.
    fn advance_to(
        &mut self,
        until: SimTime,
        mut stop: impl FnMut(&Sim) -> bool,
    ) -> Result<bool, ScenarioError> {
        loop {
            let mut next = until;
            if let Some(t) = self.next_timed_event() {
                next = next.min(t);
            }
            if self.events.iter().any(|e| !e.fired && e.when.is_some()) {
                next = next.min(self.sim.now() + SimDuration::from_secs(1));
            }
            let next = next.max(self.sim.now());
            let stopped = script::run_to(&mut self.sim, &mut self.out.tracer, next, &mut stop);
            self.fire_due()?;
            if stopped {
                return Ok(true);
            }
            if self.sim.now() >= until {
                return Ok(false);
            }
        }
    }

    /// `waitFor: {rollout: deployment/NAME}` as a script runs it, firing events meanwhile.
    fn wait_rollout(&mut self, w: &script::WaitSpec, number: usize) -> Result<(), ScriptError> {
        let fail = |message: String| ScriptError::Step {
            step: number,
            line: 0,
            message,
        };
        let ns = w.namespace.clone().unwrap_or_else(|| "default".into());
        let Some(name) = w
            .rollout
            .strip_prefix("deployment/")
            .or_else(|| w.rollout.strip_prefix("deploy/"))
            .map(str::to_string)
        else {
            return Err(fail(format!(
                "waitFor.rollout must be deployment/NAME, not {:?}",
                w.rollout
            )));
        };
        if self.sim.deployment_id(&ns, &name).is_err() {
            return Err(fail(format!(
                "deployments.apps {name:?} not found in namespace {ns:?}"
            )));
        }
        let timeout = parse_duration(w.timeout.as_deref().unwrap_or("10m"))
            .map_err(|e| fail(e.to_string()))?;
        let _ = writeln!(
            self.out.transcript,
            "{} $ kubectl rollout status deployment/{name} -n {ns} --timeout={timeout}",
            self.stamp()
        );
        let until = self.sim.now() + timeout;
        let mut last = String::new();
        let mut lines = String::new();
        let done = self
            .advance_to(until, |s| {
                let (line, code) = kubectl::rollout_status(s, &ns, &name);
                if line != last {
                    lines.push_str(&line);
                    lines.push('\n');
                    last = line;
                }
                code.is_some()
            })
            .map_err(|e| fail(e.to_string()))?;
        self.out.transcript.push_str(&lines);
        if !done {
            self.out
                .transcript
                .push_str("error: timed out waiting for the condition\n");
        }
        Ok(())
    }
}

/// What `kubesim scenario test` found in one scenario.
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    /// The scenario's title (empty if it did not parse).
    pub title: String,
    /// One entry per step: its title and its problems.
    pub steps: Vec<(String, Vec<String>)>,
    /// Problems outside the steps (validation, setup).
    pub problems: Vec<String>,
    /// What the test could not cover, one line each (verify scripts, which need the API
    /// `kubesim serve` serves).
    pub notes: Vec<String>,
    /// Checks evaluated after the solutions.
    pub checks: usize,
    /// Virtual time the whole run took.
    pub virtual_time: SimDuration,
    /// What the run printed, step by step (kubectl's output as a student would see it).
    pub transcript: String,
}

impl TestReport {
    /// No problem anywhere.
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.steps.iter().all(|(_, p)| p.is_empty())
    }

    /// The report as text, one line per step.
    pub fn render(&self, file: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{file}: {}", self.title);
        for p in &self.problems {
            let _ = writeln!(s, "  {p}");
        }
        for (i, (title, problems)) in self.steps.iter().enumerate() {
            if problems.is_empty() {
                let _ = writeln!(s, "  ok    step {} {title}", i + 1);
            } else {
                let _ = writeln!(s, "  FAIL  step {} {title}", i + 1);
                for p in problems {
                    let _ = writeln!(s, "        {p}");
                }
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        let _ = writeln!(
            s,
            "  {verdict}: {} steps, {} checks, {} of virtual time",
            self.steps.len(),
            self.checks,
            self.virtual_time
        );
        s
    }
}

/// Plays every step's reference solution headless and asserts that each check fails before
/// its step's solution and passes after it (a check that cannot fail is a bug).
pub fn test(text: &str, opts: RunOptions, files: Box<dyn FileSource + Send + Sync>) -> TestReport {
    let mut report = TestReport::default();
    let (scenario, diags) = validate::validate(text);
    if let Some(s) = &scenario {
        report.title = s.title.clone();
    }
    report
        .problems
        .extend(diags.iter().filter(|d| d.error).map(|d| d.to_string()));
    let Some(scenario) = scenario.filter(|_| report.problems.is_empty()) else {
        return report;
    };
    let steps: Vec<(String, Vec<StepSpec>)> = scenario
        .steps
        .iter()
        .map(|s| (s.title.clone(), s.solution.clone()))
        .collect();
    for (i, s) in scenario.steps.iter().enumerate() {
        if s.verify.is_some() {
            report.notes.push(format!(
                "step {}'s verify script was not run: it runs in `kubesim serve` (Check button), against the scenario's API",
                i + 1
            ));
        }
    }
    if scenario.setup.background.is_some()
        || scenario.setup.foreground.is_some()
        || scenario
            .steps
            .iter()
            .any(|s| s.background.is_some() || s.foreground.is_some())
    {
        report.notes.push(
            "background and foreground scripts were not run: they run in `kubesim serve`, against the scenario's API".into(),
        );
    }
    let mut session = match Session::from_scenario(scenario, opts, files) {
        Ok(s) => s,
        Err(e) => {
            report.problems.push(e.to_string());
            return report;
        }
    };
    for (i, (title, solution)) in steps.iter().enumerate() {
        let mut problems = Vec::new();
        let _ = writeln!(session.out.transcript, "\n## step {}: {title}", i + 1);
        if i > 0
            && let Err(e) = session.enter_step(i)
        {
            problems.push(e.to_string());
            report.steps.push((title.clone(), problems));
            break;
        }
        for c in session.check() {
            if c.outcome.passed {
                problems.push(format!(
                    "check {:?} already passes before the solution; a check that cannot fail is a bug ({})",
                    c.name,
                    one_line(&c.cel)
                ));
            }
        }
        if let Err(e) = session.run(solution, &format!("step {} solution", i + 1)) {
            problems.push(e.to_string());
            report.steps.push((title.clone(), problems));
            break;
        }
        for c in session.check() {
            report.checks += 1;
            if !c.outcome.passed {
                problems.push(format!(
                    "check {:?} fails after the solution: expected {}; found {}",
                    c.name,
                    one_line(&c.cel),
                    c.outcome.describe()
                ));
            }
        }
        report.steps.push((title.clone(), problems));
    }
    report.virtual_time = session.sim.now().since(SimTime::ZERO);
    report.transcript = std::mem::take(&mut session.out.transcript);
    report
}

/// An expression on one line, runs of white space made one space.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One scenario file in a folder, for `kubesim scenario list`.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// The file name.
    pub file: String,
    /// Title, level, minutes, number of steps; or why the file does not parse.
    pub summary: Result<(String, &'static str, Option<u32>, usize), String>,
}

/// Summarises scenario files (name and text), sorted by name.
pub fn list(files: &BTreeMap<String, String>) -> Vec<Listing> {
    files
        .iter()
        .map(|(file, text)| Listing {
            file: file.clone(),
            summary: format::parse(text)
                .map(|s| (s.title, s.level.as_str(), s.minutes, s.steps.len()))
                .map_err(|(line, m)| match line {
                    Some(l) => format!("line {l}: {m}"),
                    None => m,
                }),
        })
        .collect()
}

/// A cluster with nothing in it, standing in for the session's while a command holds it.
fn placeholder_sim() -> Sim {
    Sim::new(sim_core::SimConfig {
        nodes: Vec::new(),
        ..sim_core::SimConfig::default()
    })
}

/// Waits of a kubectl command, run by the session (events fire).
struct SessionClock<'a> {
    session: &'a mut Session,
    /// The first event that failed during a wait.
    failed: Option<ScenarioError>,
}

impl kubectl::Clock for SessionClock<'_> {
    fn run_until(
        &mut self,
        sim: &mut Sim,
        until: SimTime,
        done: &mut dyn FnMut(&Sim) -> bool,
    ) -> bool {
        std::mem::swap(sim, &mut self.session.sim);
        let held = match self.session.advance_to(until, &mut *done) {
            Ok(held) => held,
            Err(e) => {
                // The wait goes on without events; the failure is the command's answer.
                self.failed.get_or_insert(e);
                self.session.sim.run_until(until, &mut *done)
            }
        };
        std::mem::swap(sim, &mut self.session.sim);
        held
    }
}

/// A session with no files (every manifest inline).
pub fn no_files() -> Box<dyn FileSource + Send + Sync> {
    Box::new(NoFiles)
}
