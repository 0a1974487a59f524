//! `kubesim serve`: the sandbox live in the browser.
//!
//! One driver task owns the clock: every 50 ms it moves virtual time forward at the chosen
//! speed. Pages are rendered on the server (askama), so they show the current state without
//! JavaScript; with JavaScript, one Server-Sent Events stream per tab sends the panels whose
//! HTML changed, at most 20 times a second (a cluster drawn as tiles goes as the tiles that
//! changed, as data). The sandbox sits behind a mutex that is never
//! held across an `.await`. Every asset is embedded in the binary.

pub mod catalog;
mod cluster;
pub mod compare;
pub mod kube_api;
mod managed;
mod markdown;
pub mod node_ports;
mod progress;
mod protobuf;
mod routes;
pub mod sandbox;
pub mod scenario_run;
pub mod scenario_ui;
mod scripts;
mod stream;
pub mod timeline;
pub mod view;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sim_core::controller::node_lifecycle::NodeFault;
use sim_core::kubectl::Output;
use tokio::sync::watch;

use sandbox::{Action, Sandbox, SandboxError, Speed};

/// The embedded default demo: the course's Deployment, rolled out, ready for an image change.
pub const DEMO: &str = include_str!("demo.yaml");

/// Largest request body accepted (YAML, imported runs).
pub const BODY_LIMIT: usize = 512 * 1024;

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// What the console and the YAML box last showed (shared by every tab).
#[derive(Debug, Default, Clone)]
struct Console {
    cmd: String,
    out: String,
    yaml: String,
    apply_out: String,
}

/// Panels rendered for one change number.
type Rendered = (u64, Arc<view::Live>);

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    sandbox: Arc<Mutex<Sandbox>>,
    console: Arc<Mutex<Console>>,
    changed: watch::Sender<u64>,
    title: Arc<str>,
    compare: Arc<Mutex<Option<compare::Compare>>>,
    /// Set when the server is stopping: streams end so that shutdown does not wait for tabs.
    shutdown: watch::Sender<bool>,
    /// The panels of the last change (main page, compare page), rendered once and shared by
    /// every tab.
    rendered: Arc<Mutex<[Rendered; 2]>>,
    /// The address NodePorts listen on (when they do) and what each nodePort is doing.
    node_ports: Arc<Mutex<NodePortStatus>>,
    /// The scenario pages (`/scenarios`): the catalog and the runs started.
    pub scenarios: scenario_ui::Scenarios,
    /// Who manages which fields of the sandbox's objects (server-side apply).
    managed: Arc<Mutex<managed::Managed>>,
}

/// Where NodePorts listen, and each one's state.
type NodePortStatus = (Option<std::net::IpAddr>, Vec<node_ports::NodePort>);

impl AppState {
    /// State around a sandbox.
    pub fn new(sandbox: Sandbox, title: &str) -> AppState {
        let (changed, _) = watch::channel(0);
        let (shutdown, _) = watch::channel(false);
        AppState {
            sandbox: Arc::new(Mutex::new(sandbox)),
            console: Arc::new(Mutex::new(Console {
                yaml: DEFAULT_YAML.into(),
                ..Console::default()
            })),
            changed,
            title: title.into(),
            compare: Arc::new(Mutex::new(None)),
            shutdown,
            rendered: Arc::new(Mutex::new([
                (u64::MAX, Arc::default()),
                (u64::MAX, Arc::default()),
            ])),
            node_ports: Arc::new(Mutex::new((None, Vec::new()))),
            scenarios: scenario_ui::Scenarios::course(),
            managed: Arc::default(),
        }
    }

    fn sb(&self) -> MutexGuard<'_, Sandbox> {
        self.sandbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn console(&self) -> MutexGuard<'_, Console> {
        self.console.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cmp(&self) -> MutexGuard<'_, Option<compare::Compare>> {
        self.compare.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The panels for change number `version` (main or compare page), rendered at most once.
    fn panels(&self, version: u64, compare_view: bool) -> Arc<view::Live> {
        let slot = usize::from(compare_view);
        let mut cache = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        if cache[slot].0 == version {
            return cache[slot].1.clone();
        }
        let live = if compare_view {
            self.cmp()
                .as_ref()
                .map(compare::Compare::live)
                .unwrap_or_default()
        } else {
            let mut live = view::live(&self.sb());
            live.panels.push(("nodeports", self.node_ports_html()));
            live
        };
        cache[slot] = (version, Arc::new(live));
        cache[slot].1.clone()
    }

    fn node_ports_html(&self) -> String {
        let status = self.node_ports.lock().unwrap_or_else(|e| e.into_inner());
        node_ports::panel(status.0, &status.1)
    }

    fn notify(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
}

const DEFAULT_YAML: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: credit-scoring-api
  namespace: live-coding
  labels: {phase: live-coding, app: rest-api}
spec:
  replicas: 10
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}
  selector:
    matchLabels: {phase: live-coding, app: rest-api}
  template:
    metadata:
      labels: {phase: live-coding, app: rest-api}
    spec:
      containers:
        - name: api
          image: registry.local/credit-scoring-api:v2
          ports: [{containerPort: 8080}]
          readinessProbe:
            periodSeconds: 5
            httpGet: {port: 8080, path: /}
";

/// The router (no socket: tests call it directly).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/stream", get(stream))
        .route("/healthz", get(|| async { "ok" }))
        .route("/control/pause", post(pause))
        .route("/control/play", post(play))
        .route("/control/step", post(step))
        .route("/control/scrub", post(scrub))
        .route("/kubectl", post(kubectl))
        .route("/apply", post(apply))
        .route("/fault/{kind}", post(fault))
        .route("/traffic/start", post(traffic_start))
        .route("/traffic/stop", post(traffic_stop))
        .route("/request", post(request))
        .route("/pod/{ns}/{name}", get(pod))
        .route("/export", get(export))
        .route("/kubeconfig", get(kubeconfig))
        .route("/import", post(import))
        .route("/assets/{*file}", get(asset))
        .route("/compare", get(compare_page))
        .route("/compare/image", post(compare_image))
        .route("/compare/speed", post(compare_speed))
        .merge(kube_api::routes())
        .merge(routes::scenario::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Starts the clock driver for `state`.
pub fn spawn_driver(state: AppState) -> tokio::task::JoinHandle<()> {
    scenario_ui::spawn_driver(state.clone());
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(50));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = tokio::time::Instant::now();
        let mut seen = (0u64, 0u64, 0usize, String::new());
        loop {
            interval.tick().await;
            let now = tokio::time::Instant::now();
            // A long pause (a slow request, a suspended laptop) is not a jump in virtual time.
            let wall = (now - last).min(Duration::from_millis(250));
            last = now;
            let key = {
                let mut sb = state.sb();
                sb.tick(wall, Duration::from_millis(40));
                (
                    sb.sim.now().millis(),
                    sb.sim.store.resource_version(),
                    sb.actions.len(),
                    sb.speed.label(),
                )
            };
            let key = {
                let mut c = state.cmp();
                match c.as_mut() {
                    Some(c) => {
                        c.tick(wall);
                        (
                            key.0 ^ (c.sides[0].sim.now().millis() << 20),
                            key.1 ^ c.sides[1].sim.store.resource_version(),
                            key.2,
                            key.3,
                        )
                    }
                    None => key,
                }
            };
            if key != seen {
                seen = key;
                state.notify();
            }
        }
    })
}

/// Options of `kubesim serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Scenario text (a `kubesim run` script); the demo when `None`.
    pub scenario: Option<String>,
    /// Seed override.
    pub seed: Option<u64>,
    /// Virtual seconds per wall second at start.
    pub speed: f64,
    /// What the page calls the sandbox (the scenario's file name).
    pub title: Option<String>,
    /// A folder of scenario files served at `/scenarios` instead of the built-in course.
    pub scenarios: Option<std::path::PathBuf>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The scenario failed.
    #[error("the scenario failed: {0}")]
    Scenario(#[from] SandboxError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The scenario folder cannot be read.
    #[error("{0}")]
    Scenarios(String),
    /// The server stopped with an error.
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Tells the person who started the server something on stderr. A closed stderr (the
/// terminal went away, a pipe's reader quit) loses the message, never the server.
pub(crate) fn say(msg: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// Builds the sandbox for `opts` (virtual time zero on a fixed date: deterministic).
pub fn sandbox_for(opts: &ServeOptions) -> Result<Sandbox, SandboxError> {
    sandbox_at(opts, None)
}

/// Builds the sandbox for `opts` with virtual time zero at `epoch` (Unix ms).
pub fn sandbox_at(opts: &ServeOptions, epoch: Option<i64>) -> Result<Sandbox, SandboxError> {
    let mut sb = Sandbox::with_epoch(opts.scenario.as_deref().unwrap_or(DEMO), opts.seed, epoch)?;
    sb.speed = if opts.speed > 0.0 {
        Speed::Times(opts.speed)
    } else {
        Speed::Paused
    };
    Ok(sb)
}

/// Serves `state` on an already bound listener until the process ends (tests use this).
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let _ = state.scenarios.addr.set(listener.local_addr()?);
    axum::serve(listener, router(state)).await
}

/// Runs `kubesim serve` until Ctrl-C; `ready` is called with the bound address.
pub async fn serve(opts: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    // kubectl describe computes ages against the student's clock: anchor virtual time so that
    // the sandbox's "now" after its setup is the wall clock's now (the setup's virtual length
    // is deterministic, so a first build measures it). At 1x the two clocks then agree.
    let setup = sandbox_for(&opts)?.sim.now().millis() as i64;
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(sim_core::sim::DEFAULT_EPOCH_UNIX_MS, |d| {
            d.as_millis() as i64
        });
    let sb = sandbox_at(&opts, Some(wall_ms - setup))?;
    let state = AppState::new(sb, opts.title.as_deref().unwrap_or("default demo"));
    if let Some(dir) = &opts.scenarios {
        state
            .scenarios
            .use_dir(dir)
            .map_err(ServeError::Scenarios)?;
    }
    state
        .scenarios
        .keep_progress(progress::Progress::from_env());
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: opts.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let _ = state.scenarios.addr.set(addr);
    let driver = spawn_driver(state.clone());
    let node_ports = node_ports::spawn(state.clone(), addr.ip());
    let state_for_shutdown = state.clone();
    ready(addr);
    let result = axum::serve(listener, router(state))
        .with_graceful_shutdown({
            let shutdown = state_for_shutdown.shutdown.clone();
            async move {
                let _ = tokio::signal::ctrl_c().await;
                let _ = shutdown.send(true);
            }
        })
        .await;
    driver.abort();
    node_ports.abort();
    result.map_err(ServeError::Serve)
}

// ---- pages ----

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    title: String,
    /// This server's URL (the kubeconfig hint).
    server: String,
    clock: String,
    now_ms: u64,
    start_ms: u64,
    horizon_ms: u64,
    cluster: String,
    deployments: String,
    timeline: String,
    events: String,
    last_cmd: String,
    console: String,
    yaml: String,
    apply_out: String,
    nodeports: String,
    services: Vec<String>,
    service: String,
}

fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("rendering failed: {e}"),
        )
            .into_response(),
    }
}

async fn index(State(st): State<AppState>) -> Response {
    let (panels, now_ms, start_ms, horizon_ms, services) = {
        let sb = st.sb();
        let panels: BTreeMap<&str, String> = view::panels(&sb).into_iter().collect();
        let services: Vec<String> = sb
            .sim
            .store
            .services
            .all_names()
            .filter(|(ns, n, _)| *ns != "kube-system" && (*ns, *n) != ("default", "kubernetes"))
            .map(|(ns, n, _)| format!("{ns}/{n}"))
            .collect();
        // The form starts on a Service under load, if any.
        let mut services = services;
        if let Some(f) = sb.sim.traffic.flows.first() {
            let loaded = format!("{}/{}", f.namespace, f.service);
            if let Some(i) = services.iter().position(|s| *s == loaded) {
                let s = services.remove(i);
                services.insert(0, s);
            }
        }
        (
            panels,
            sb.sim.now().millis(),
            sb.start.millis(),
            sb.horizon().millis(),
            services,
        )
    };
    let c = st.console().clone();
    let p = |k: &str| panels.get(k).cloned().unwrap_or_default();
    render(&IndexPage {
        title: st.title.to_string(),
        server: st.scenarios.server(),
        clock: p("clock"),
        now_ms,
        start_ms,
        horizon_ms,
        cluster: p("cluster"),
        deployments: p("deployments"),
        timeline: p("timeline"),
        events: p("events"),
        last_cmd: c.cmd,
        console: c.out,
        yaml: c.yaml,
        apply_out: c.apply_out,
        nodeports: st.node_ports_html(),
        service: services.first().cloned().unwrap_or_default(),
        services,
    })
}

/// One stream per tab ([`stream::sse`]): every panel at once, then what changed, at most every
/// 50 ms.
#[derive(Deserialize)]
struct StreamQuery {
    view: Option<String>,
}

async fn stream(State(st): State<AppState>, Query(q): Query<StreamQuery>) -> impl IntoResponse {
    let compare_view = q.view.as_deref() == Some("compare");
    let (changes, shutdown) = (st.changed.subscribe(), st.shutdown.subscribe());
    stream::sse(changes, shutdown, move |version| {
        st.panels(version, compare_view)
    })
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn done(h: &HeaderMap, body: serde_json::Value) -> Response {
    if wants_json(h) {
        axum::Json(body).into_response()
    } else {
        Redirect::to("/").into_response()
    }
}

async fn pause(State(st): State<AppState>, h: HeaderMap) -> Response {
    st.sb().speed = Speed::Paused;
    st.notify();
    done(&h, serde_json::json!({"speed": "paused"}))
}

#[derive(Deserialize)]
struct PlayQuery {
    speed: Option<String>,
}

async fn play(State(st): State<AppState>, h: HeaderMap, Query(q): Query<PlayQuery>) -> Response {
    let speed = match Speed::from_query(q.speed.as_deref()) {
        Ok(s) => s,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    st.sb().speed = speed;
    st.notify();
    done(&h, serde_json::json!({"speed": speed.label()}))
}

async fn step(State(st): State<AppState>, h: HeaderMap) -> Response {
    let now = {
        let mut sb = st.sb();
        sb.speed = Speed::Paused;
        sb.step_event();
        sb.sim.now().millis()
    };
    st.notify();
    done(&h, serde_json::json!({"now_ms": now}))
}

#[derive(Deserialize)]
struct ScrubForm {
    ms: u64,
}

async fn scrub(State(st): State<AppState>, h: HeaderMap, Form(f): Form<ScrubForm>) -> Response {
    let result = {
        let mut sb = st.sb();
        sb.scrub(sim_core::SimTime(f.ms))
            .map(|()| sb.sim.now().millis())
    };
    st.notify();
    match result {
        Ok(now) => done(&h, serde_json::json!({"now_ms": now})),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
struct CmdForm {
    cmd: String,
}

fn output_json(o: &Output) -> serde_json::Value {
    serde_json::json!({"stdout": o.stdout, "stderr": o.stderr, "code": o.code})
}

async fn kubectl(State(st): State<AppState>, h: HeaderMap, Form(f): Form<CmdForm>) -> Response {
    let cmd = f
        .cmd
        .trim()
        .trim_start_matches("kubectl ")
        .trim()
        .to_string();
    if cmd.is_empty() {
        return done(
            &h,
            serde_json::json!({"stdout": "", "stderr": "error: no command given\n", "code": 1}),
        );
    }
    let words = sim_core::kubectl::split_words(&cmd).unwrap_or_default();
    let out = if sim_core::kubectl::is_read_only(&words) {
        // Reading changes nothing, so it is not part of the run's history.
        let mut sb = st.sb();
        sim_core::kubectl::run(&mut sb.sim, &cmd, &sim_core::kubectl::NoFiles)
    } else {
        st.sb().act(Action::Kubectl(cmd.clone()))
    };
    {
        let mut c = st.console();
        c.cmd = cmd.clone();
        c.out = format!("$ kubectl {cmd}\n{}{}", out.stdout, out.stderr);
    }
    st.notify();
    done(&h, output_json(&out))
}

#[derive(Deserialize)]
struct ApplyForm {
    yaml: String,
}

/// Where in `yaml` a kubectl error points: the line of a decode error, or the line of the
/// last key of an invalid field's path.
fn error_line(yaml: &str, message: &str) -> Option<usize> {
    // "line 7" as a word (not the end of "deadline"), followed by its number.
    for (i, _) in message.match_indices("line ") {
        if message[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphabetic)
        {
            continue;
        }
        let n: String = message[i + 5..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = n.parse() {
            return Some(n);
        }
    }
    // `spec.strategy.rollingUpdate.maxUnavailable: Invalid value` or `unknown field "spec.replcas"`.
    let field = message.split(['"', ' ', ':', '*', '\n']).find(|w| {
        w.contains('.') && w.starts_with(|c: char| c.is_ascii_lowercase()) && !w.contains('/')
    })?;
    let key = field.rsplit('.').next()?.split('[').next()?;
    yaml.lines()
        .position(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .starts_with(&format!("{key}:"))
        })
        .map(|i| i + 1)
}

async fn apply(State(st): State<AppState>, h: HeaderMap, Form(f): Form<ApplyForm>) -> Response {
    let out = st.sb().act(Action::Apply(f.yaml.clone()));
    let line = (out.code != 0)
        .then(|| error_line(&f.yaml, &out.stderr))
        .flatten();
    {
        let mut c = st.console();
        c.yaml = f.yaml.clone();
        c.apply_out = format!(
            "{}{}{}",
            out.stdout,
            out.stderr,
            line.map(|l| format!("(see line {l})\n"))
                .unwrap_or_default()
        );
    }
    st.notify();
    let mut body = output_json(&out);
    body["line"] = serde_json::json!(line);
    done(&h, body)
}

async fn fault(State(st): State<AppState>, h: HeaderMap, Path(kind): Path<String>) -> Response {
    let action = {
        let sb = st.sb();
        let first_deployment = sb
            .sim
            .store
            .deployments
            .all_names()
            .next()
            .map(|(ns, n, _)| (ns.to_string(), n.to_string()));
        let repo = first_deployment
            .as_ref()
            .and_then(|(ns, n)| sb.sim.store.deployments.lookup(ns, n))
            .and_then(|id| sb.sim.store.deployments.get(id))
            .and_then(|(_, d)| {
                d.spec
                    .as_ref()?
                    .template
                    .spec
                    .as_ref()?
                    .containers
                    .first()?
                    .image
                    .clone()
            })
            .map(|i| i.rsplit_once(':').map_or(i.clone(), |(r, _)| r.to_string()))
            .unwrap_or_else(|| "registry.local/credit-scoring-api".into());
        let node = sb
            .sim
            .store
            .nodes
            .lookup("", "node-2")
            .or_else(|| {
                sb.sim
                    .store
                    .nodes
                    .iter()
                    .max_by_key(|(_, n)| n.pods.len())
                    .map(|(id, _)| id)
            })
            .and_then(|id| sb.sim.store.nodes.get(id))
            .map(|n| n.name.to_string());
        let dep = |image: &str| {
            first_deployment.as_ref().map(|(ns, n)| {
                let container = sb
                    .sim
                    .store
                    .deployments
                    .lookup(ns, n)
                    .and_then(|id| sb.sim.store.deployments.get(id))
                    .and_then(|(_, d)| {
                        d.spec
                            .as_ref()?
                            .template
                            .spec
                            .as_ref()?
                            .containers
                            .first()
                            .map(|c| c.name.clone())
                    })
                    .unwrap_or_else(|| "*".into());
                Action::Kubectl(format!(
                    "set image deployment/{n} {container}={image} -n {ns}"
                ))
            })
        };
        match kind.as_str() {
            "break-image" => dep(&format!("{repo}:broken")),
            "fix-image" => dep(&format!("{repo}:v2")),
            "kill-pod" => sb
                .sim
                .store
                .pods
                .all_names()
                .find(|(ns, _, id)| {
                    *ns != "kube-system"
                        && sb
                            .sim
                            .store
                            .pods
                            .get(*id)
                            .is_some_and(|p| p.deletion.is_none())
                })
                .map(|(ns, n, _)| Action::Kubectl(format!("delete pod {n} -n {ns} --wait=false"))),
            "node-down" => node.map(|n| Action::Node(NodeFault::Down, n)),
            "node-up" => node.map(|n| Action::Node(NodeFault::Up, n)),
            _ => return (StatusCode::NOT_FOUND, format!("no fault {kind:?}")).into_response(),
        }
    };
    let Some(action) = action else {
        return done(
            &h,
            serde_json::json!({"stdout": "", "stderr": "nothing to do that to\n", "code": 1}),
        );
    };
    let label = view::action_label(&action);
    let out = st.sb().act(action);
    {
        let mut c = st.console();
        c.out = format!("# {label}\n{}{}", out.stdout, out.stderr);
    }
    st.notify();
    done(&h, output_json(&out))
}

#[derive(Template)]
#[template(path = "pod.html")]
struct PodPage {
    ns: String,
    name: String,
    describe: String,
    logs: String,
}

async fn pod(State(st): State<AppState>, Path((ns, name)): Path<(String, String)>) -> Response {
    let mut sb = st.sb();
    pod_page(&mut sb.sim, ns, name)
}

/// A pod's page: `kubectl describe` and `kubectl logs` of a pod of `sim` (the main sandbox's
/// or a scenario's), after checking that the names from the URL are names.
pub(crate) fn pod_page(sim: &mut sim_core::Sim, ns: String, name: String) -> Response {
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    };
    if !valid(&ns) || !valid(&name) {
        return (StatusCode::BAD_REQUEST, "not a pod name").into_response();
    }
    let run = |sim: &mut sim_core::Sim, cmd: String| {
        let o = sim_core::kubectl::run(sim, &cmd, &sim_core::kubectl::NoFiles);
        format!("{}{}", o.stdout, o.stderr)
    };
    let describe = run(sim, format!("describe pod {name} -n {ns}"));
    let logs = run(sim, format!("logs {name} -n {ns}"));
    render(&PodPage {
        ns,
        name,
        describe,
        logs,
    })
}

/// A kubeconfig for the sandbox, as `kubesim kubeconfig` prints it.
async fn kubeconfig(State(st): State<AppState>) -> Response {
    let text = kube_api::kubeconfig(&st.scenarios.server(), None);
    ([(header::CONTENT_TYPE, "application/yaml")], text).into_response()
}

async fn export(State(st): State<AppState>) -> Response {
    let text = st.sb().export();
    (
        [
            (header::CONTENT_TYPE, "application/yaml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kubesim-run.yaml\"",
            ),
        ],
        text,
    )
        .into_response()
}

/// The contents of field `name` of a `multipart/form-data` body (what a plain form with a file
/// input sends), or `None` if the body is not multipart or has no such field.
fn multipart_field<'a>(content_type: &str, body: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    let wanted = format!("name=\"{name}\"");
    loop {
        // Each part: CRLF, headers, a blank line, the contents, CRLF, the next delimiter.
        let part_end = find(rest, &delimiter)?;
        let part = &rest[..part_end];
        let head_end = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..head_end]);
        if head.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("content-disposition:") && l.contains(&wanted)
        }) {
            let contents = &part[head_end + 4..];
            return Some(contents.strip_suffix(b"\r\n").unwrap_or(contents));
        }
        rest = &rest[part_end + delimiter.len()..];
    }
}

/// Opens an exported run: the file's text as the body (app.js), or a plain form's
/// `multipart/form-data` with the file in field `run` (without JavaScript; answered with a
/// redirect to the page, or the reason it cannot be opened).
async fn import(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let content_type = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let from_form = content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    let file: &[u8] = if from_form {
        match multipart_field(content_type, &body, "run") {
            Some(f) if !f.is_empty() => f,
            _ => {
                return refused(
                    from_form,
                    StatusCode::BAD_REQUEST,
                    "choose a run file to open",
                );
            }
        }
    } else {
        &body
    };
    let Ok(text) = std::str::from_utf8(file) else {
        return refused(
            from_form,
            StatusCode::BAD_REQUEST,
            "the run file must be UTF-8 text",
        );
    };
    // Replaying a run can take a while: keep it off the async workers.
    let text = text.to_string();
    let opened = match tokio::task::spawn_blocking(move || Sandbox::open(&text)).await {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("import failed: {e}"),
            )
                .into_response();
        }
    };
    match opened {
        Ok(sb) => {
            *st.sb() = sb;
            st.notify();
            done(&h, serde_json::json!({"ok": true}))
        }
        Err(e) => refused(
            from_form,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("cannot open this run: {e}"),
        ),
    }
}

/// Why a run was not opened: plain text for app.js, a small page with a way back for a form.
fn refused(from_form: bool, status: StatusCode, why: &str) -> Response {
    if !from_form {
        return (status, why.to_string()).into_response();
    }
    let why = why
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>kubesim · run not opened</title><link rel=\"stylesheet\" href=\"/assets/app.css\"><main class=\"refused\"><h1>The run was not opened</h1><pre class=\"error-line\">{why}</pre><p><a class=\"button\" href=\"/\">back to the sandbox</a></p></main></html>"
    );
    (status, Html(page)).into_response()
}

/// The traffic form: a Service (`namespace/name`), what to send, and for load how much.
#[derive(Deserialize)]
struct TrafficForm {
    service: String,
    method: Option<String>,
    path: Option<String>,
    body: Option<String>,
    rps: Option<String>,
    duration: Option<String>,
}

/// A form's fields checked: the Service (which must exist), method, path and body.
fn checked_request(
    sb: &Sandbox,
    f: &TrafficForm,
) -> Result<sandbox::Request, (StatusCode, String)> {
    let bad = |msg: String| Err((StatusCode::BAD_REQUEST, msg));
    let service = f.service.trim();
    let (namespace, name) = service.split_once('/').unwrap_or(("default", service));
    if name.is_empty() {
        return bad("name a Service: namespace/name".into());
    }
    if sb.sim.store.services.lookup(namespace, name).is_none() {
        return Err((
            StatusCode::NOT_FOUND,
            format!("services \"{name}\" not found in namespace \"{namespace}\""),
        ));
    }
    let body = f.body.clone().unwrap_or_default();
    let method = match f.method.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_uppercase(),
        None if body.is_empty() => "GET".into(),
        None => "POST".into(),
    };
    if method.len() > 16 || !method.chars().all(|c| c.is_ascii_alphabetic()) {
        return bad(format!("{method:?} is not an HTTP method"));
    }
    let path = f
        .path
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("/");
    if !path.starts_with('/') || path.len() > 2048 || path.chars().any(char::is_whitespace) {
        return bad(format!(
            "the path must start with / and have no spaces, not {path:?}"
        ));
    }
    Ok(sandbox::Request {
        namespace: namespace.to_string(),
        service: name.to_string(),
        method,
        path: path.to_string(),
        body,
    })
}

/// Shows an action's output in the console (every tab sees it) and answers the form.
fn answer(st: &AppState, h: &HeaderMap, label: &str, out: &Output) -> Response {
    st.console().out = format!("# {label}\n{}{}", out.stdout, out.stderr);
    st.notify();
    done(h, output_json(out))
}

async fn traffic_start(
    State(st): State<AppState>,
    h: HeaderMap,
    Form(f): Form<TrafficForm>,
) -> Response {
    let rps = match f.rps.as_deref().map(str::trim).unwrap_or("").parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1_000_000.0 => r,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                format!(
                    "rps must be a number above 0 and at most 1000000, not {:?}",
                    f.rps.as_deref().unwrap_or("")
                ),
            )
                .into_response();
        }
    };
    let duration = match f
        .duration
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => sim_core::SimDuration::from_secs(3600),
        Some(d) => match sim_core::time::parse_duration(d) {
            Ok(d) if d.millis() > 0 => d,
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("the duration must be like 90s, 10m or 1h, not {d:?}"),
                )
                    .into_response();
            }
        },
    };
    let (action, out) = {
        let mut sb = st.sb();
        let r = match checked_request(&sb, &f) {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        let action = Action::Traffic(sandbox::Traffic {
            namespace: r.namespace,
            service: r.service,
            method: r.method,
            path: r.path,
            body: r.body,
            rps,
            duration,
        });
        let out = sb.act(action.clone());
        (action, out)
    };
    answer(&st, &h, &view::action_label(&action), &out)
}

async fn traffic_stop(
    State(st): State<AppState>,
    h: HeaderMap,
    Form(f): Form<TrafficForm>,
) -> Response {
    let (action, out) = {
        let mut sb = st.sb();
        let r = match checked_request(&sb, &f) {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        let action = Action::StopTraffic {
            namespace: r.namespace,
            service: Some(r.service),
        };
        let out = sb.act(action.clone());
        (action, out)
    };
    answer(&st, &h, &view::action_label(&action), &out)
}

async fn request(State(st): State<AppState>, h: HeaderMap, Form(f): Form<TrafficForm>) -> Response {
    let (label, out) = {
        let mut sb = st.sb();
        let r = match checked_request(&sb, &f) {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        let label = format!("curl -X {} {}", r.method, r.url());
        (label, sb.act(Action::Request(r)))
    };
    answer(&st, &h, &label, &out)
}

async fn asset(Path(file): Path<String>) -> Response {
    match Assets::get(&file) {
        Some(f) => {
            let mime = f.metadata.mimetype().to_string();
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "no-cache".to_string()),
                ],
                f.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[derive(Deserialize)]
struct CompareQuery {
    left: Option<String>,
    right: Option<String>,
    left_strategy: Option<String>,
    right_strategy: Option<String>,
}

/// One side of the compare view: a written strategy block wins over the preset.
fn side(
    preset: Option<&str>,
    custom: Option<&str>,
    default: compare::Preset,
) -> Result<compare::Side, String> {
    if let Some(y) = custom.filter(|y| !y.trim().is_empty()) {
        if y.len() > 4096 {
            return Err("a strategy block is at most 4 KiB".into());
        }
        if let Some(p) = compare::Preset::ALL
            .iter()
            .find(|p| p.strategy_yaml().trim() == y.trim())
        {
            return Ok((*p).into());
        }
        let words = y.split_whitespace().collect::<Vec<_>>().join(" ");
        return Ok(compare::Side {
            label: format!("custom: {words}"),
            strategy: y.to_string(),
        });
    }
    match preset {
        None => Ok(default.into()),
        Some(k) => compare::Preset::parse(k).map(Into::into).ok_or_else(|| {
            let keys: Vec<&str> = compare::Preset::ALL.iter().map(|p| p.key()).collect();
            format!("unknown strategy {k:?}; choose one of: {}", keys.join(", "))
        }),
    }
}

async fn compare_page(State(st): State<AppState>, Query(q): Query<CompareQuery>) -> Response {
    let left = side(
        q.left.as_deref(),
        q.left_strategy.as_deref(),
        compare::Preset::Recreate,
    );
    let right = side(
        q.right.as_deref(),
        q.right_strategy.as_deref(),
        compare::Preset::RollingSurge2,
    );
    let (left, right) = match (left, right) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let asked = q.left.is_some()
        || q.right.is_some()
        || q.left_strategy.is_some()
        || q.right_strategy.is_some();
    let page = {
        let mut c = st.cmp();
        if asked || c.is_none() {
            match compare::Compare::new(left, right) {
                Ok(n) => *c = Some(n),
                Err(e) => {
                    return (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("this strategy does not apply: {e}"),
                    )
                        .into_response();
                }
            }
        }
        let Some(cur) = c.as_ref() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        compare::ComparePage {
            left: cur.left.label.clone(),
            right: cur.right.label.clone(),
            left_yaml: cur.left.strategy.clone(),
            right_yaml: cur.right.strategy.clone(),
            choices: compare::Preset::ALL
                .iter()
                .map(|p| {
                    (
                        p.key(),
                        p.label(),
                        p.label() == cur.left.label,
                        p.label() == cur.right.label,
                    )
                })
                .collect(),
            panels: cur.panels().into_iter().collect(),
            summary: cur.summary().render().unwrap_or_default(),
        }
    };
    st.notify();
    render(&page)
}

#[derive(Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

async fn compare_image(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<KindQuery>,
) -> Response {
    {
        let mut c = st.cmp();
        if c.is_none() {
            match compare::Compare::new(
                compare::Preset::Recreate.into(),
                compare::Preset::RollingSurge2.into(),
            ) {
                Ok(n) => *c = Some(n),
                Err(e) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
                }
            }
        }
        if let Some(c) = c.as_mut() {
            c.change_image(q.kind.as_deref().unwrap_or("good"));
        }
    }
    st.notify();
    if wants_json(&h) {
        axum::Json(serde_json::json!({"ok": true})).into_response()
    } else {
        Redirect::to("/compare").into_response()
    }
}

async fn compare_speed(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<PlayQuery>,
) -> Response {
    let speed = match q.speed.as_deref() {
        Some("max") => Speed::Max,
        Some("step") => {
            if let Some(c) = st.cmp().as_mut() {
                c.step_event();
            }
            st.notify();
            return if wants_json(&h) {
                axum::Json(serde_json::json!({"speed": "paused"})).into_response()
            } else {
                Redirect::to("/compare").into_response()
            };
        }
        Some(x) => match x.parse::<f64>() {
            Ok(0.0) => Speed::Paused,
            Ok(v) if (0.01..=1000.0).contains(&v) => Speed::Times(v),
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    "speed must be 0, a number from 0.01 to 1000, max or step",
                )
                    .into_response();
            }
        },
        None => Speed::Times(1.0),
    };
    if let Some(c) = st.cmp().as_mut() {
        c.set_speed(speed);
    }
    st.notify();
    if wants_json(&h) {
        axum::Json(serde_json::json!({"speed": speed.label()})).into_response()
    } else {
        Redirect::to("/compare").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn app() -> Router {
        router(AppState::new(Sandbox::new(DEMO, None).unwrap(), "test"))
    }

    async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String) {
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn form(uri: &str, body: &str) -> Request<Body> {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn the_first_page_shows_the_cluster_without_javascript() {
        let (status, html) = call(&app(), Request::get("/").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            html.matches("class=\"pod ready rev-1").count(),
            10,
            "ten ready pods of revision 1 rendered on the server"
        );
        assert!(html.contains("RollingUpdate: maxSurge 2, maxUnavailable 0"));
        assert!(html.contains("at least 10 available (replicas 10 − maxUnavailable 0)"));
        assert!(html.contains("<svg"), "the timeline is server-rendered SVG");
        assert!(html.contains("/assets/app.css") && html.contains("<noscript>"));
    }

    #[tokio::test]
    async fn assets_are_embedded() {
        let app = app();
        let (status, css) = call(
            &app,
            Request::get("/assets/app.css").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(css.contains("--ready"));
        let (status, _) = call(
            &app,
            Request::get("/assets/nope.js").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_bad_manifest_gets_kubectls_error_and_its_line() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: live-coding}\nspec:\n  replcas: 3\n";
        let body = format!("yaml={}", urlencode(yaml));
        let (status, json) = call(&app(), form("/apply", &body)).await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["code"], 1);
        assert!(
            v["stderr"]
                .as_str()
                .unwrap()
                .contains("unknown field \"spec.replcas\""),
            "{v}"
        );
        assert_eq!(v["line"], 5);
    }

    #[tokio::test]
    async fn the_console_runs_kubectl_and_bad_input_is_refused_cleanly() {
        let app = app();
        let (_, json) = call(&app, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(json.contains("credit-scoring-api   10/10"), "{json}");
        let (_, json) = call(&app, form("/kubectl", "cmd=frobnicate")).await;
        assert!(json.contains("unknown command"), "{json}");
        let (status, _) = call(&app, form("/fault/meteor", "")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(&app, form("/control/play?speed=-3", "")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let huge = format!("yaml={}", "a".repeat(BODY_LIMIT + 10));
        let (status, _) = call(&app, form("/apply", &huge)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let (status, body) = call(
            &app,
            Request::post("/import")
                .body(Body::from("steps: [{nope: 1}]"))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // And the sandbox still serves.
        let (status, _) = call(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn export_and_import_round_trip() {
        let app = app();
        call(
            &app,
            form(
                "/kubectl",
                "cmd=scale+deployment%2Fcredit-scoring-api+--replicas%3D4+-n+live-coding",
            ),
        )
        .await;
        let (status, file) = call(&app, Request::get("/export").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            file.contains(
                "kubectl: scale deployment/credit-scoring-api --replicas=4 -n live-coding"
            ),
            "{file}"
        );
        let other = router(AppState::new(Sandbox::new(DEMO, None).unwrap(), "other"));
        let (status, _) = call(
            &other,
            Request::post("/import")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(file))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        call(&other, form("/control/step", "")).await;
        let (_, json) = call(&other, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(
            json.contains("/4"),
            "the imported run replays the scale: {json}"
        );
    }

    fn multipart(file: &str) -> Request<Body> {
        let body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"run\"; filename=\"kubesim-run.yaml\"\r\nContent-Type: application/yaml\r\n\r\n{file}\r\n--XyZ--\r\n"
        );
        Request::post("/import")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn a_run_opens_from_a_plain_form_without_javascript() {
        let app = app();
        let (status, page) = call(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(r#"<form class="import" method="post" action="/import" enctype="multipart/form-data">"#),
            "the open form posts without JavaScript"
        );
        call(
            &app,
            form(
                "/kubectl",
                "cmd=scale+deployment%2Fcredit-scoring-api+--replicas%3D4+-n+live-coding",
            ),
        )
        .await;
        let (_, file) = call(&app, Request::get("/export").body(Body::empty()).unwrap()).await;
        let other = router(AppState::new(Sandbox::new(DEMO, None).unwrap(), "other"));
        let res = other.clone().oneshot(multipart(&file)).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "back to the page");
        call(&other, form("/control/step", "")).await;
        let (_, json) = call(&other, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(
            json.contains("/4"),
            "the opened run replays the scale: {json}"
        );

        // A bad file: the reason, as a page with a way back; the sandbox is untouched.
        let (status, page) = call(&other, multipart("steps: [{nonsense: 1}]")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.contains("cannot open this run") && page.contains(r#"href="/""#),
            "{page}"
        );
        let (status, page) = call(&other, multipart("")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("choose a run file"), "{page}");
        let (_, json) = call(&other, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(json.contains("/4"), "{json}");
    }

    #[test]
    fn multipart_fields_are_found_by_name() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"run\"; filename=\"r.yaml\"\r\n\r\na: 1\r\n\r\nb: --c\r\n--b--\r\n";
        let ct = "multipart/form-data; boundary=b";
        assert_eq!(
            multipart_field(ct, body, "run"),
            Some(&b"a: 1\r\n\r\nb: --c"[..])
        );
        assert_eq!(multipart_field(ct, body, "other"), None);
        assert_eq!(multipart_field("text/plain", body, "run"), None);
        assert_eq!(multipart_field(ct, b"garbage", "run"), None);
        let quoted = "multipart/form-data; boundary=\"b\"";
        assert!(multipart_field(quoted, body, "run").is_some());
    }

    const GOOD: &str = r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#;

    #[tokio::test]
    async fn traffic_forms_start_stop_and_send_and_refuse_bad_input() {
        let app = app();
        let svc = "service=live-coding%2Fcredit-scoring-api";
        // One request: the real model's answer, in the console.
        let body = format!("{svc}&method=POST&path=%2Fpredict&body={}", urlencode(GOOD));
        let (status, json) = call(&app, form("/request", &body)).await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["code"], 0, "{v}");
        assert!(
            v["stdout"]
                .as_str()
                .unwrap()
                .starts_with(r#"200 {"probability_of_default":0.139101,"decision":"approve"}"#),
            "{v}"
        );
        // Bad input: a clear 4xx, nothing recorded.
        for (uri, body, want, says) in [
            (
                "/traffic/start",
                format!("{svc}&rps=0"),
                StatusCode::BAD_REQUEST,
                "rps must be",
            ),
            (
                "/traffic/start",
                format!("{svc}&rps=-5"),
                StatusCode::BAD_REQUEST,
                "rps must be",
            ),
            (
                "/traffic/start",
                format!("{svc}&rps=lots"),
                StatusCode::BAD_REQUEST,
                "rps must be",
            ),
            (
                "/traffic/start",
                format!("{svc}&rps=5&duration=forever"),
                StatusCode::BAD_REQUEST,
                "duration",
            ),
            (
                "/traffic/start",
                "service=live-coding%2Fnope&rps=5".into(),
                StatusCode::NOT_FOUND,
                "services \"nope\" not found",
            ),
            (
                "/request",
                "service=live-coding%2Fnope".into(),
                StatusCode::NOT_FOUND,
                "not found",
            ),
            (
                "/request",
                format!("{svc}&path=predict"),
                StatusCode::BAD_REQUEST,
                "must start with /",
            ),
            (
                "/request",
                format!("{svc}&method=G+T"),
                StatusCode::BAD_REQUEST,
                "not an HTTP method",
            ),
            (
                "/traffic/stop",
                "service=".into(),
                StatusCode::BAD_REQUEST,
                "name a Service",
            ),
        ] {
            let (status, text) = call(&app, form(uri, &body)).await;
            assert_eq!(status, want, "{uri} {body}: {text}");
            assert!(text.contains(says), "{uri} {body}: {text}");
        }
        let (_, json) = call(
            &app,
            form(
                "/traffic/start",
                &format!("{svc}&rps=25&path=%2Fhealthz&method=GET&duration=2m"),
            ),
        )
        .await;
        assert!(
            json.contains("traffic: 25 req/s to service/credit-scoring-api (GET /healthz) for 2m"),
            "{json}"
        );
        for _ in 0..5 {
            call(&app, form("/control/step", "")).await;
        }
        let (_, json) = call(&app, form("/traffic/stop", svc)).await;
        assert!(
            json.contains("traffic to service/credit-scoring-api stopped"),
            "{json}"
        );
        let (_, file) = call(&app, Request::get("/export").body(Body::empty()).unwrap()).await;
        assert_eq!(file.matches("- request:").count(), 1, "{file}");
        assert!(
            file.contains("rps: 25.0") && file.contains("duration: 120000ms"),
            "{file}"
        );
        assert!(file.contains("- stopTraffic:"), "{file}");
        // The page: the traffic form, and the chart under the Deployment's.
        let (_, html) = call(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        assert!(
            html.contains(r#"action="/traffic/start""#)
                && html.contains(r#"formaction="/request""#)
        );
        assert!(
            html.contains(r#"value="live-coding/credit-scoring-api""#),
            "the form starts on the loaded Service"
        );
        let chart = html
            .find("service live-coding / credit-scoring-api: traffic")
            .expect("a traffic chart");
        assert!(html.find("pods over virtual time").unwrap() < chart);
        assert!(
            html.contains("every request runs in WebAssembly"),
            "stepping runs every request"
        );
    }

    fn urlencode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn errors_point_at_the_line() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replcas: 3\n";
        assert_eq!(
            error_line(
                yaml,
                "strict decoding error: unknown field \"spec.replcas\""
            ),
            Some(4)
        );
        assert_eq!(
            error_line(
                yaml,
                "error converting YAML to JSON: yaml: line 7: mapping values"
            ),
            Some(7)
        );
        assert_eq!(
            error_line(yaml, "exceeded its progress deadline 600: at spec.replcas"),
            Some(4)
        );
    }
}
