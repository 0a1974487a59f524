//! `kubesim scenario play FILE --kubeconfig PATH`: a terminal tutor on a cluster kubesim does
//! not run (kind, minikube, GKE, or another `kubesim serve`). It prints each step, sets it up
//! (server-side apply, field manager `kubesim`, only in the scenario's namespaces and only
//! after `--yes`), then watches the objects the step's checks read while the student works in
//! their own shell, and prints each check as it turns green. What the scenario does in virtual
//! time becomes a wait on the wall clock with its bound; what a real cluster cannot do is
//! skipped with a note (`scenarios::real` decides both).
//!
//! Keys, typed while a step runs: Enter or `c` checks now (and runs a verify script), `h`
//! shows the next hint, `n` skips to the next step, `q` quits.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::discovery::ApiResource;
use scenarios::format::{Scenario, Step};
use scenarios::real::{History, Plan, RealAction, StepPlan, Write};
use serde_json::Value as Json;
use sim_core::api::resource::{RESOURCES, Resource};
use sim_core::traffic::ServiceSecond;
use tokio::sync::mpsc;

use crate::live::{Target, client, kubeconfig_for, run_verify};

/// `play`'s flags.
pub(crate) struct PlayOptions {
    /// Writes are allowed.
    pub yes: bool,
    /// Show what would be applied (server-side dry run) and stop.
    pub dry_run: bool,
    /// Waits are divided by this (a kubesim sandbox running faster than the wall clock).
    pub time_scale: f64,
    /// The first step to play (1-based).
    pub from_step: usize,
}

/// Field manager of everything play applies.
const MANAGER: &str = "kubesim";

/// At most this many requests per wall second per flow (a sandbox at `--time-scale 20` would
/// otherwise get 20 times a scenario's rate).
const MAX_WALL_RPS: f64 = 40.0;

/// At most this many requests of one flow waiting for their answer; beyond, a second sends
/// fewer.
const MAX_IN_FLIGHT: usize = 64;

/// One request through the service proxy: its latency in ms, or `None` when it failed.
async fn send(
    client: kube::Client,
    method: String,
    url: String,
    body: String,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
) -> Option<f64> {
    let req = http::Request::builder()
        .method(method.as_str())
        .uri(url)
        .header("content-type", "application/json")
        .body(kube::client::Body::from(body.as_bytes().to_vec()));
    let begun = Instant::now();
    let answer = match req {
        Ok(req) => tokio::time::timeout(Duration::from_secs(10), client.send(req)).await,
        Err(_) => {
            in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            return None;
        }
    };
    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    match answer {
        Ok(Ok(r)) if r.status().as_u16() < 500 => Some(begun.elapsed().as_secs_f64() * 1000.0),
        _ => None,
    }
}

pub(crate) fn play(file: &Path, text: &str, t: &Target, opts: &PlayOptions) -> Result<ExitCode> {
    let mut scenario = crate::live::validated(file, text)?;
    if let Some(ns) = &t.namespace {
        scenario = scenarios::real::in_namespace(&scenario, ns);
    }
    if opts.from_step == 0 || opts.from_step > scenario.steps.len() {
        bail!(
            "{} has {} steps; there is no step {}",
            file.display(),
            scenario.steps.len(),
            opts.from_step
        );
    }
    if !(opts.time_scale.is_finite() && opts.time_scale > 0.0) {
        bail!("--time-scale must be a positive number");
    }
    let plan = scenarios::real::plan(&scenario)
        .with_context(|| format!("{} cannot be played on a cluster", file.display()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(Tutor::run(file, &scenario, &plan, t, opts))
}

/// The running tutor: the cluster, its clock and what the student types.
struct Tutor<'a> {
    client: kube::Client,
    /// The client that sends traffic: one that does not retry a 503 (a Service with no
    /// ready pod answers it through the proxy, and that is what the traffic checks count).
    traffic_client: kube::Client,
    server: String,
    file: &'a Path,
    target: &'a Target,
    scale: f64,
    started: Instant,
    keys: mpsc::UnboundedReceiver<String>,
    /// Whether stdin is still open (closed, play goes on by the checks alone).
    keys_open: bool,
    /// The traffic measured so far, one record per scenario second and Service.
    traffic: Arc<Mutex<Vec<ServiceSecond>>>,
    /// The flows sending it: (namespace, Service, the task).
    flows: Vec<(String, String, tokio::task::JoinHandle<()>)>,
}

impl<'a> Tutor<'a> {
    async fn run(
        file: &'a Path,
        scenario: &Scenario,
        plan: &Plan,
        t: &'a Target,
        opts: &PlayOptions,
    ) -> Result<ExitCode> {
        let kc = kubeconfig_for(t)?;
        let server = crate::live::server_of(&kc, t.context.as_deref());
        let client = client(t).await?;
        let version = client
            .apiserver_version()
            .await
            .map_err(|e| anyhow!(reach_error(&e, &server)))?;
        let sandbox = version.git_version.ends_with("-kubesim");
        if opts.time_scale != 1.0 && !sandbox {
            bail!(
                "--time-scale is for kubesim sandboxes only: the cluster at {server} ({}) runs in real time",
                version.git_version
            );
        }
        println!("# {}", scenario.title);
        if !scenario.summary.is_empty() {
            println!("{}", scenario.summary.trim());
        }
        println!(
            "cluster: {server} ({}); namespaces this scenario may write in: {}",
            version.git_version,
            plan.namespaces.join(", ")
        );
        for line in plan.skipped() {
            println!("note: {line}");
        }
        let mut no_retry = crate::live::config(t).await?;
        no_retry.default_retry = false;
        let traffic_client =
            kube::Client::try_from(no_retry).context("cannot make a client for the cluster")?;
        let writes: Vec<&RealAction> = plan.writes().collect();
        let (tx, keys) = mpsc::unbounded_channel();
        let mut tutor = Tutor {
            client,
            traffic_client,
            server,
            file,
            target: t,
            scale: opts.time_scale,
            started: Instant::now(),
            keys,
            keys_open: true,
            traffic: Arc::default(),
            flows: Vec::new(),
        };
        if opts.dry_run {
            return tutor.dry_run(plan).await;
        }
        if !writes.is_empty() && !opts.yes {
            println!("It would write:");
            for w in &writes {
                println!("  {}", describe(w));
            }
            bail!(
                "play writes to the cluster at {} in namespace(s) {}: re-run with --yes to let it, or with --dry-run to see what the server would accept",
                tutor.server,
                plan.namespaces.join(", ")
            );
        }
        // What the student types, read on a thread of its own (stdin blocks).
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            while stdin.read_line(&mut line).is_ok_and(|n| n > 0) {
                if tx.send(line.trim().to_string()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        if opts.from_step == 1 {
            if !scenario.intro.trim().is_empty() {
                println!();
                print!("{}", crate::terminal::markdown(&scenario.intro));
            }
            tutor.setup(plan).await?;
        }
        for (i, (step, sp)) in scenario.steps.iter().zip(&plan.steps).enumerate() {
            if i + 1 < opts.from_step {
                continue;
            }
            match tutor.step(i + 1, scenario.steps.len(), step, sp).await? {
                Outcome::Passed | Outcome::Skipped => {}
                Outcome::Quit => {
                    println!("Stopped at step {}.", i + 1);
                    return Ok(ExitCode::from(1));
                }
            }
        }
        println!();
        println!("All {} steps done.", scenario.steps.len());
        if !scenario.finish.trim().is_empty() {
            print!("{}", crate::terminal::markdown(&scenario.finish));
        }
        Ok(ExitCode::SUCCESS)
    }

    /// The traffic measured so far.
    fn measured(&self) -> Vec<ServiceSecond> {
        self.traffic.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Scenario seconds now (the wall clock times `--time-scale`).
    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * self.scale
    }

    /// A wall-clock duration for `secs` scenario seconds.
    fn wall(&self, secs: f64) -> Duration {
        Duration::from_secs_f64((secs / self.scale).max(0.0))
    }

    /// `--dry-run`: every write of the setup sent with `dryRun=All`, and the kubectl lines
    /// the steps would run; nothing changes.
    async fn dry_run(&self, plan: &Plan) -> Result<ExitCode> {
        let mut ok = true;
        let namespaces: Vec<&str> = plan.namespaces.iter().map(String::as_str).collect();
        let existing = self.existing_namespaces(&namespaces).await?;
        for a in plan.writes() {
            match a {
                RealAction::Apply(ws) => {
                    for w in ws {
                        let unborn = w
                            .namespace
                            .as_deref()
                            .is_some_and(|ns| !existing.iter().any(|e| e == ns));
                        if unborn {
                            println!(
                                "would apply {} (not checked: its namespace does not exist yet)",
                                w.describe()
                            );
                            continue;
                        }
                        match self.apply(w, true).await {
                            Ok(()) => println!("would apply {} (server dry run: ok)", w.describe()),
                            Err(e) => {
                                ok = false;
                                println!("would apply {}: {e:#}", w.describe());
                            }
                        }
                    }
                }
                other => println!("would run {}", describe(other)),
            }
        }
        Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }

    async fn existing_namespaces(&self, names: &[&str]) -> Result<Vec<String>> {
        let api: Api<DynamicObject> =
            Api::all_with(self.client.clone(), &api_resource(ns_resource()));
        let mut out = Vec::new();
        for n in names {
            match api.get_opt(n).await {
                Ok(Some(_)) => out.push(n.to_string()),
                Ok(None) => {}
                Err(e) => bail!(self.api_error(&e, "get", ns_resource(), None)),
            }
        }
        Ok(out)
    }

    /// The setup: namespaces first, then every object checked by the server (`dryRun=All`)
    /// before any is written, so a refused one leaves nothing half-applied; then the waits.
    async fn setup(&mut self, plan: &Plan) -> Result<()> {
        println!();
        println!("Setting up...");
        let all: Vec<&Write> = plan
            .setup
            .iter()
            .filter_map(|a| match a {
                RealAction::Apply(ws) => Some(ws),
                _ => None,
            })
            .flatten()
            .collect();
        let (namespaces, objects): (Vec<&Write>, Vec<&Write>) =
            all.into_iter().partition(|w| w.namespace.is_none());
        for w in &namespaces {
            self.apply(w, false).await?;
            println!("  {} applied", w.describe());
        }
        for w in &objects {
            self.apply(w, true)
                .await
                .with_context(|| format!("nothing was applied: {} is refused", w.describe()))?;
        }
        for w in &objects {
            self.apply(w, false).await?;
            println!("  {} applied", w.describe());
        }
        for a in &plan.setup {
            if !matches!(a, RealAction::Apply(_)) {
                self.act(a).await?;
            }
        }
        Ok(())
    }

    /// Server-side apply of one object (a dry run when `dry`).
    async fn apply(&self, w: &Write, dry: bool) -> Result<()> {
        let ar = api_resource(w.resource);
        let api: Api<DynamicObject> = match &w.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        let mut pp = PatchParams::apply(MANAGER);
        pp.dry_run = dry;
        api.patch(&w.name, &pp, &Patch::Apply(&w.body))
            .await
            .map(|_| ())
            .map_err(|e| anyhow!(self.api_error(&e, "patch", w.resource, w.namespace.as_deref())))
    }

    /// Runs one action of the setup, a step or an event.
    async fn act(&mut self, a: &RealAction) -> Result<()> {
        match a {
            RealAction::Apply(ws) => {
                for w in ws {
                    self.apply(w, false).await?;
                    println!("  {} applied", w.describe());
                }
            }
            RealAction::Kubectl(words) => self.kubectl(words)?,
            RealAction::Wait(secs) => {
                println!(
                    "  waiting {} (a virtual-time step of the sandbox; here the wall clock: {:.0} s)",
                    human(*secs),
                    self.wall(*secs).as_secs_f64()
                );
                tokio::time::sleep(self.wall(*secs)).await;
            }
            RealAction::Rollout {
                namespace,
                name,
                timeout,
            } => self.rollout(namespace, name, *timeout).await?,
            RealAction::Echo(s) => println!("  {s}"),
            RealAction::Traffic(t) => self.start_traffic(t),
            RealAction::StopTraffic { namespace, service } => {
                self.flows.retain(|(ns, svc, task)| {
                    let stop = ns == namespace && service.as_ref().is_none_or(|s| s == svc);
                    if stop {
                        task.abort();
                        println!("  stopped the traffic to service/{svc} in {ns}");
                    }
                    !stop
                });
            }
            RealAction::Skip { what, why } => println!("  skipped: {what} ({why})"),
        }
        Ok(())
    }

    /// Load on a Service through the API server's service proxy: `rps` requests per scenario
    /// second (at most [`MAX_WALL_RPS`] per wall second), each second's count, failures
    /// (no answer within 10 s, or a 5xx such as the proxy's 503 while no pod is ready) and
    /// latencies recorded for the traffic checks.
    fn start_traffic(&mut self, t: &sim_core::action::Traffic) {
        let path = if t.path.starts_with('/') {
            t.path.clone()
        } else {
            format!("/{}", t.path)
        };
        let url = format!(
            "/api/v1/namespaces/{}/services/{}/proxy{path}",
            t.namespace, t.service
        );
        println!(
            "  sending {} requests/s to service/{} in {} ({} {path}) through the API server's service proxy",
            t.rps, t.service, t.namespace, t.method
        );
        let client = self.traffic_client.clone();
        let records = self.traffic.clone();
        let (scale, started) = (self.scale, self.started);
        let t2 = t.clone();
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            let t = t2;
            let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / scale));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let per_tick = t.rps.min(MAX_WALL_RPS / scale);
            let end = started.elapsed().as_secs_f64() * scale + t.duration.as_secs_f64();
            let mut credit = 0.0;
            loop {
                interval.tick().await;
                let time = started.elapsed().as_secs_f64() * scale;
                if time > end {
                    return;
                }
                credit += per_tick;
                let n = credit.floor() as usize;
                credit -= n as f64;
                let sends: Vec<_> = (0..n)
                    .filter(|_| {
                        in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < MAX_IN_FLIGHT
                            || {
                                in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                                false
                            }
                    })
                    .map(|_| {
                        send(
                            client.clone(),
                            t.method.clone(),
                            url.clone(),
                            t.body.clone(),
                            in_flight.clone(),
                        )
                    })
                    .collect();
                if sends.is_empty() {
                    continue;
                }
                let records = records.clone();
                let (ns, svc) = (t.namespace.clone(), t.service.clone());
                tokio::spawn(async move {
                    let answers = futures_util::future::join_all(sends).await;
                    let mut ok: Vec<f64> = answers.iter().filter_map(|a| *a).collect();
                    ok.sort_by(f64::total_cmp);
                    let pct = |p: f64| {
                        (!ok.is_empty()).then(|| {
                            ok[((ok.len() as f64 * p).ceil() as usize).clamp(1, ok.len()) - 1]
                        })
                    };
                    let second = ServiceSecond {
                        time,
                        namespace: ns,
                        service: svc,
                        requests: answers.len() as u64,
                        errors: answers.iter().filter(|a| a.is_none()).count() as u64,
                        p50_ms: pct(0.5),
                        p99_ms: pct(0.99),
                        endpoints: 0,
                        sampled: answers.len() as u64,
                    };
                    if let Ok(mut r) = records.lock() {
                        r.push(second);
                    }
                });
            }
        });
        self.flows
            .push((t.namespace.clone(), t.service.clone(), task));
    }

    /// The user's kubectl, with the target's kubeconfig and context (never a shell).
    fn kubectl(&self, words: &[String]) -> Result<()> {
        println!("  $ kubectl {}", words.join(" "));
        let mut cmd = std::process::Command::new("kubectl");
        cmd.args(words)
            .arg("--kubeconfig")
            .arg(&self.target.kubeconfig);
        if let Some(c) = &self.target.context {
            cmd.arg("--context").arg(c);
        }
        let out = cmd
            .output()
            .context("kubectl could not be started: the scenario runs a kubectl line, so kubectl must be on PATH")?;
        for line in String::from_utf8_lossy(&out.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
        {
            println!("    {line}");
        }
        if !out.status.success() {
            bail!("kubectl {} failed", words.join(" "));
        }
        Ok(())
    }

    /// Waits until a Deployment has rolled out, at most `timeout` scenario seconds.
    async fn rollout(&self, namespace: &str, name: &str, timeout: f64) -> Result<()> {
        println!(
            "  waiting for deployment/{name} in {namespace} to roll out (at most {})",
            human(timeout)
        );
        let res = sim_core::api::resource::of(sim_core::store::Kind::Deployment);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &api_resource(res));
        let deadline = Instant::now() + self.wall(timeout);
        loop {
            let d = api
                .get_opt(name)
                .await
                .map_err(|e| anyhow!(self.api_error(&e, "get", res, Some(namespace))))?;
            if let Some(d) = d {
                let d = serde_json::to_value(&d).unwrap_or_default();
                if scenarios::real::rolled_out(&d) {
                    println!("  deployment/{name} rolled out");
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "deployment/{name} in {namespace} did not roll out within {}",
                    human(timeout)
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// One step: its text, its actions, then its checks as the cluster changes.
    async fn step(&mut self, n: usize, of: usize, step: &Step, sp: &StepPlan) -> Result<Outcome> {
        println!();
        println!("## Step {n} of {of}: {}", step.title);
        print!("{}", crate::terminal::markdown(&step.text));
        if let Some(why) = &sp.skip {
            println!("(This step is not played on a real cluster: {why}. Press Enter to go on.)");
            if !self.keys_open {
                return Ok(Outcome::Skipped);
            }
            return Ok(match self.keys.recv().await.as_deref() {
                Some("q") => Outcome::Quit,
                _ => Outcome::Skipped,
            });
        }
        for a in &sp.actions {
            self.act(a).await?;
        }
        let played: Vec<usize> = (0..step.checks.len())
            .filter(|i| sp.checks.get(*i).is_some_and(Option::is_none))
            .collect();
        let exprs = played
            .iter()
            .map(|i| step.checks[*i].cel.as_str())
            .chain(sp.when.iter().map(|w| w.0.as_str()));
        let kinds = scenarios::real::kinds_read(exprs);
        let cache = Cache::start(&self.client, &kinds, &self.server).await?;
        let mut cache = cache;
        let mut history = History::new(self.now(), &cache.objects());
        let step_start = Instant::now();
        let mut shown: Vec<Option<bool>> = vec![None; step.checks.len()];
        let mut hints = step.hints.iter();
        let mut at: Vec<_> = sp.at.iter().map(|e| (e, false)).collect();
        let mut when: Vec<_> = sp.when.iter().map(|e| (e, false)).collect();
        for (i, why) in sp.checks.iter().enumerate() {
            if let Some(why) = why {
                println!("  – {} (not checked here: {why})", step.checks[i].name);
            }
        }
        let checkable = !played.is_empty() || step.verify.is_some();
        if checkable {
            println!(
                "Work in your own shell; checks turn green here as the cluster changes. Keys: Enter = check, h = hint, n = next step, q = quit."
            );
        } else {
            println!(
                "Nothing here can be checked on this cluster: press Enter for the next step (q quits)."
            );
        }
        let mut tick = tokio::time::interval(Duration::from_millis(300));
        let mut verify_ran = false;
        let mut last_verify: Option<Instant> = None;
        let mut verify_said: Option<String> = None;
        loop {
            tokio::select! {
                change = cache.changes.recv() => {
                    match change {
                        Some(Ok((plural, ev))) => cache.apply(plural, ev),
                        Some(Err(e)) => bail!(e),
                        None => bail!("the watches of {} ended", self.server),
                    }
                    // History functions (minAvailable, maxReplicas) see every state the
                    // watches deliver: a rollout's pods become ready moments apart, so a dip
                    // may last less than one tick.
                    history.observe(self.now(), &cache.objects());
                    continue;
                }
                key = self.keys.recv(), if self.keys_open => {
                    match key.as_deref() {
                        None => {
                            // No more keys (stdin closed): the checks alone move on.
                            self.keys_open = false;
                            if !checkable {
                                return Ok(Outcome::Passed);
                            }
                        }
                        Some("q") => return Ok(Outcome::Quit),
                        Some("n") => { println!("Skipped step {n}."); return Ok(Outcome::Skipped) }
                        Some("h") => match hints.next() {
                            Some(h) => println!("hint: {h}"),
                            None => println!("no more hints"),
                        },
                        Some("" | "c") => {
                            if !checkable {
                                return Ok(Outcome::Passed);
                            }
                            let objects = cache.objects();
                            let world = history.world(objects, self.now(), &self.measured());
                            let results = scenarios::live::check_all(&step.checks, &std::sync::Arc::new(world))?;
                            for i in &played {
                                crate::live::print_result(&results[*i], "  ");
                            }
                            if let Some(v) = &step.verify {
                                let (ok, text) = run_verify(v, self.file, self.target)?;
                                println!("  {} verify script", if ok { "✓" } else { "✗" });
                                for line in text.lines() {
                                    println!("      {line}");
                                }
                                verify_ran = ok;
                            }
                        }
                        Some(other) => println!("unknown key {other:?}: Enter = check, h = hint, n = next step, q = quit"),
                    }
                }
                _ = tick.tick() => {}
            }
            // Timed events whose moment came.
            let elapsed = step_start.elapsed().as_secs_f64() * self.scale;
            for (e, done) in at.iter_mut() {
                if !*done && elapsed >= e.0 {
                    *done = true;
                    if let Some(s) = &e.1 {
                        println!("event: {s}");
                    }
                    for a in &e.2 {
                        self.act(a).await?;
                    }
                }
            }
            let objects = cache.objects();
            history.observe(self.now(), &objects);
            let world = std::sync::Arc::new(history.world(objects, self.now(), &self.measured()));
            for (e, done) in when.iter_mut() {
                if !*done && scenarios::live::holds(&e.0, &world) {
                    *done = true;
                    if let Some(s) = &e.1 {
                        println!("event: {s}");
                    }
                    for a in &e.2 {
                        self.act(a).await?;
                    }
                }
            }
            let mut all = true;
            if !played.is_empty() {
                let results = scenarios::live::check_all(&step.checks, &world)?;
                for i in &played {
                    let r = &results[*i];
                    all &= r.outcome.passed;
                    if shown[*i] != Some(r.outcome.passed) {
                        if r.outcome.passed {
                            println!("  ✓ {}", r.name);
                        } else {
                            println!("  ✗ {}", r.name);
                            if let Some(first) = r.outcome.said.first() {
                                println!("      {first}");
                            }
                        }
                        shown[*i] = Some(r.outcome.passed);
                    }
                }
            }
            if !checkable {
                if !self.keys_open {
                    return Ok(Outcome::Passed);
                }
                continue;
            }
            // A verify script runs once the checks pass, every few seconds until it does.
            if let Some(v) = &step.verify
                && all
                && !verify_ran
                && last_verify.is_none_or(|t: Instant| t.elapsed() >= Duration::from_secs(5))
            {
                last_verify = Some(Instant::now());
                let (ok, text) = run_verify(v, self.file, self.target)?;
                verify_ran = ok;
                if ok {
                    println!("  ✓ verify script");
                } else if verify_said.as_deref() != Some(text.as_str()) {
                    println!("  ✗ verify script");
                    for line in text.lines() {
                        println!("      {line}");
                    }
                    verify_said = Some(text);
                }
            }
            if all && (step.verify.is_none() || verify_ran) {
                println!("Step {n} done.");
                return Ok(Outcome::Passed);
            }
        }
    }

    /// An API error as one line naming what to fix.
    fn api_error(&self, e: &kube::Error, verb: &str, r: &Resource, ns: Option<&str>) -> String {
        api_error(e, verb, r, ns, &self.server)
    }
}

/// How a step ended.
enum Outcome {
    Passed,
    Skipped,
    Quit,
}

fn describe(a: &RealAction) -> String {
    match a {
        RealAction::Apply(ws) => ws
            .iter()
            .map(|w| format!("apply {}", w.describe()))
            .collect::<Vec<_>>()
            .join("; "),
        RealAction::Kubectl(words) => format!("kubectl {}", words.join(" ")),
        other => format!("{other:?}"),
    }
}

fn ns_resource() -> &'static Resource {
    sim_core::api::resource::of(sim_core::store::Kind::Namespace)
}

fn api_resource(r: &Resource) -> ApiResource {
    ApiResource {
        group: r.group.to_string(),
        version: r.version.to_string(),
        api_version: r.api_version(),
        kind: r.kind.as_str().to_string(),
        plural: r.plural.to_string(),
    }
}

/// `90s`, `5m`, `1h 30m`.
fn human(secs: f64) -> String {
    let s = secs.round() as u64;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// Why the cluster cannot be used, in one line naming what to fix.
pub(crate) fn reach_error(e: &kube::Error, server: &str) -> String {
    match e {
        kube::Error::Api(s) if s.code == 401 => format!(
            "the cluster at {server} refused the kubeconfig's credentials (401 Unauthorized): they may have expired; get a fresh kubeconfig (for GKE: gcloud container clusters get-credentials CLUSTER)"
        ),
        kube::Error::Api(s) => format!(
            "the cluster at {server} answered {} {}: {}",
            s.code, s.reason, s.message
        ),
        kube::Error::Auth(a) => format!(
            "the kubeconfig's credentials for {server} cannot be used: {a}; log in again or get a fresh kubeconfig"
        ),
        other => {
            let mut cause: &dyn std::error::Error = other;
            while let Some(next) = cause.source() {
                cause = next;
            }
            format!(
                "cannot reach the cluster at {server}: {cause}; is it running, and are the kubeconfig and context the right ones?"
            )
        }
    }
}

/// A refused API call as one line: RBAC's 403 says which permission is missing.
pub(crate) fn api_error(
    e: &kube::Error,
    verb: &str,
    r: &Resource,
    ns: Option<&str>,
    server: &str,
) -> String {
    let what = r.qualified();
    let place = ns.map_or_else(
        || "cluster-wide".to_string(),
        |n| format!("in namespace {n}"),
    );
    match e {
        kube::Error::Api(s) if s.code == 403 => format!(
            "the kubeconfig's user may not {verb} {what} {place} (403 Forbidden): ask for a Role that grants it ({})",
            s.message
        ),
        kube::Error::Api(s) if s.code == 409 && verb == "patch" => format!(
            "{what} {place} was changed by another field manager: {}; delete it, or apply it yourself",
            s.message
        ),
        kube::Error::Api(s) if s.code != 401 => {
            format!("{verb} {what} {place}: {} ({})", s.message, s.reason)
        }
        other => reach_error(other, server),
    }
}

/// The objects a step's checks read, kept current by watches.
struct Cache {
    objects: BTreeMap<&'static str, BTreeMap<(String, String), Json>>,
    changes: mpsc::UnboundedReceiver<Result<(&'static str, WatchEvent<DynamicObject>), String>>,
    /// Kept so the channel stays open when the step watches nothing (a verify script only).
    _tx: mpsc::UnboundedSender<Result<(&'static str, WatchEvent<DynamicObject>), String>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Cache {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Cache {
    /// Lists each kind and watches it from there (cluster-wide).
    async fn start(
        client: &kube::Client,
        kinds: &std::collections::BTreeSet<&'static str>,
        server: &str,
    ) -> Result<Cache> {
        let (tx, changes) = mpsc::unbounded_channel();
        let mut objects = BTreeMap::new();
        let mut tasks = Vec::new();
        for plural in kinds {
            let Some(r) = RESOURCES.iter().find(|r| r.plural == *plural) else {
                continue;
            };
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &api_resource(r));
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|e| anyhow!(api_error(&e, "list", r, None, server)))?;
            let rv = list.metadata.resource_version.clone().unwrap_or_default();
            let mut items = BTreeMap::new();
            for o in list.items {
                let v = with_type(&o, r);
                items.insert(key(&v), v);
            }
            objects.insert(r.plural, items);
            let tx = tx.clone();
            let server = server.to_string();
            tasks.push(tokio::spawn(async move {
                let mut rv = rv;
                loop {
                    let wp = WatchParams::default().timeout(290);
                    let stream = match api.watch(&wp, &rv).await {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = tx.send(Err(api_error(&e, "watch", r, None, &server)));
                            return;
                        }
                    };
                    let mut stream = std::pin::pin!(stream);
                    while let Some(ev) = stream.next().await {
                        match ev {
                            Ok(WatchEvent::Error(s)) if s.code == 410 => {
                                // Too old: start again from now (the next list is the
                                // cluster as it is; a change in between is seen there).
                                rv = "0".into();
                                break;
                            }
                            Ok(ev) => {
                                if let WatchEvent::Added(o)
                                | WatchEvent::Modified(o)
                                | WatchEvent::Deleted(o) = &ev
                                    && let Some(v) = &o.metadata.resource_version
                                {
                                    rv = v.clone();
                                }
                                if let WatchEvent::Bookmark(b) = &ev {
                                    rv = b.metadata.resource_version.clone();
                                }
                                if tx.send(Ok((r.plural, ev))).is_err() {
                                    return;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }));
        }
        Ok(Cache {
            objects,
            changes,
            _tx: tx,
            tasks,
        })
    }

    fn apply(&mut self, plural: &'static str, ev: WatchEvent<DynamicObject>) {
        let Some(r) = RESOURCES.iter().find(|r| r.plural == plural) else {
            return;
        };
        let items = self.objects.entry(plural).or_default();
        match ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                let v = with_type(&o, r);
                items.insert(key(&v), v);
            }
            WatchEvent::Deleted(o) => {
                items.remove(&key(&with_type(&o, r)));
            }
            WatchEvent::Bookmark(_) | WatchEvent::Error(_) => {}
        }
    }

    fn objects(&self) -> BTreeMap<&'static str, Vec<Json>> {
        self.objects
            .iter()
            .map(|(k, v)| (*k, v.values().cloned().collect()))
            .collect()
    }
}

fn with_type(o: &DynamicObject, r: &Resource) -> Json {
    let mut v = serde_json::to_value(o).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), r.api_version().into());
        m.insert("kind".into(), r.kind.as_str().into());
    }
    v
}

fn key(v: &Json) -> (String, String) {
    (
        v["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        v["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(
            kube::core::Status::failure(message, reason).with_code(code),
        ))
    }

    #[test]
    fn a_refused_call_names_the_missing_permission_or_the_credentials() {
        let deployments = sim_core::api::resource::of(sim_core::store::Kind::Deployment);
        let forbidden = status(
            403,
            "Forbidden",
            "deployments.apps is forbidden: User \"student\" cannot list resource \"deployments\"",
        );
        let said = api_error(&forbidden, "list", deployments, None, "https://gke");
        assert!(
            said.starts_with("the kubeconfig's user may not list deployments.apps cluster-wide (403 Forbidden): ask for a Role"),
            "{said}"
        );
        let said = api_error(
            &forbidden,
            "patch",
            deployments,
            Some("live-coding"),
            "https://gke",
        );
        assert!(
            said.contains("may not patch deployments.apps in namespace live-coding"),
            "{said}"
        );
        let expired = status(401, "Unauthorized", "Unauthorized");
        let said = api_error(&expired, "list", deployments, None, "https://gke");
        assert!(
            said.starts_with(
                "the cluster at https://gke refused the kubeconfig's credentials (401 Unauthorized)"
            ),
            "{said}"
        );
        assert!(!said.contains('\n'));
    }

    #[test]
    fn waits_are_said_in_kubernetes_durations() {
        assert_eq!(human(90.0), "1m30s");
        assert_eq!(human(300.0), "5m");
        assert_eq!(human(5.0), "5s");
        assert_eq!(human(5400.0), "1h30m");
    }
}
