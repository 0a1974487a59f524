//! `kubesim serve`: the sandbox live in the browser.
//!
//! One driver task owns the clock: every 50 ms it moves virtual time forward at the chosen
//! speed. Pages are rendered on the server (askama), so they show the current state without
//! JavaScript; with JavaScript, one Server-Sent Events stream per tab sends the panels whose
//! HTML changed, at most 20 times a second (a cluster drawn as tiles goes as the tiles that
//! changed, as data). The sandbox sits behind a mutex that is never
//! held across an `.await`. Every asset is embedded in the binary.
//!
//! `state.rs` holds [`AppState`], `driver.rs` the clocks, `routes/` the handlers by page, and
//! this file the router and `serve`.

pub mod catalog;
mod cluster;
pub mod compare;
pub mod conn;
mod driver;
pub mod guard;
pub mod ingress;
mod journal;
pub mod kube_api;
mod markdown;
mod memory;
pub mod node_ports;
mod progress;
mod protobuf;
pub mod relay;
mod routes;
pub mod sandbox;
pub mod scenario_run;
pub mod scenario_ui;
mod scripts;
mod state;
mod stream;
pub mod timeline;
pub mod view;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::sandbox::{Sandbox, SandboxError, Speed};

pub use driver::spawn_driver;
pub use state::AppState;

/// The embedded default demo: the course's Deployment, rolled out, ready for an image change.
pub const DEMO: &str = include_str!("demo.yaml");

/// Largest request body accepted (YAML, imported runs).
pub const BODY_LIMIT: usize = 512 * 1024;

/// The router (no socket: tests call it directly).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(routes::sandbox::index))
        .route("/stream", get(routes::sandbox::stream))
        .route("/healthz", get(|| async { "ok" }))
        .route("/control/pause", post(routes::control::pause))
        .route("/control/play", post(routes::control::play))
        .route("/control/step", post(routes::control::step))
        .route("/control/scrub", post(routes::control::scrub))
        .route("/kubectl", post(routes::sandbox::kubectl))
        .route("/complete", get(routes::sandbox::complete))
        .route("/console/stop/{n}", post(routes::console::stop))
        .route("/apply", post(routes::sandbox::apply))
        .route("/namespace", post(routes::sandbox::namespace))
        .route("/fault/{kind}", post(routes::control::fault))
        .route("/traffic/start", post(routes::control::traffic_start))
        .route("/traffic/stop", post(routes::control::traffic_stop))
        .route("/request", post(routes::control::request))
        .route("/pod/{ns}/{name}", get(routes::sandbox::pod))
        .route("/export", get(routes::import::export))
        .route("/kubeconfig", get(routes::sandbox::kubeconfig))
        .route("/images", get(routes::sandbox::images))
        .route("/import", post(routes::import::import))
        .route("/assets/{*file}", get(routes::sandbox::asset))
        .route("/compare", get(routes::compare::compare_page))
        .route("/compare/image", post(routes::compare::compare_image))
        .route("/compare/speed", post(routes::compare::compare_speed))
        .route("/compare/undo", post(routes::compare::compare_undo))
        .route("/compare.svg", get(routes::compare::compare_svg))
        .merge(kube_api::routes())
        .merge(routes::scenario::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            scenario_ui::save_after,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            journal::save_after,
        ))
        // The guard reads a form's body for its token, so it runs inside the limits (a body
        // within its timeout and size).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            conn::limit,
        ))
        .with_state(state)
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
    /// Extra Host names (`--allow-host`) and the token (`--token`), see [`guard`].
    pub guard: guard::Guard,
    /// Where the ingress controller listens (`--ingress-addr`), if anywhere ([`ingress`]).
    pub ingress_addr: Option<SocketAddr>,
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
    /// A non-loopback address without a token: anyone who can reach it could run commands.
    #[error(
        "refusing to listen on {0} without a token: every machine that can reach this address could change the sandbox and run its scenarios' scripts as your user. Give one with --token TOKEN or --token-file PATH (students then open the join URL kubesim prints), or listen on 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    /// An empty token protects nothing.
    #[error("the token is empty: give a secret of at least one character")]
    EmptyToken,
}

/// Checks that a sandbox reachable from other machines has a token (see [`ServeError::TokenRequired`]).
pub fn check_exposure(opts: &ServeOptions) -> Result<(), ServeError> {
    match opts.guard.token.as_deref() {
        Some("") => Err(ServeError::EmptyToken),
        None if !opts.addr.ip().is_loopback() => Err(ServeError::TokenRequired(opts.addr)),
        _ => Ok(()),
    }
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
    // Scenario scripts reach the API from their sandbox through this socket.
    if let Err(e) = scripts::listen(&state) {
        eprintln!("kubesim: scenario scripts cannot reach the API: {e}");
    }
    let limits = state.conn.clone();
    conn::serve_connections(listener, router(state), &limits, std::future::pending()).await
}

/// Runs `kubesim serve` until Ctrl-C; `ready` is called with the bound address.
pub async fn serve(opts: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    check_exposure(&opts)?;
    // kubectl describe computes ages against the student's clock: anchor virtual time so that
    // the sandbox's "now" after its setup is the wall clock's now (the setup's virtual length
    // is deterministic, so a first build measures it). At 1x the two clocks then agree.
    let setup = sandbox_for(&opts)?.sim.now().millis() as i64;
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(sim_core::sim::DEFAULT_EPOCH_UNIX_MS, |d| {
            d.as_millis() as i64
        });
    let epoch = Some(wall_ms - setup);
    let progress = progress::Progress::from_env();
    // The sandbox's journal, beside the scenarios' progress: the last server's actions,
    // replayed, when there are any.
    let journal = progress.as_ref().map(|p| {
        journal::Journal::in_dir(p.dir(), opts.scenario.as_deref().unwrap_or(DEMO), opts.seed)
    });
    let restored = journal.as_ref().and_then(|j| j.restore(epoch));
    let sb = match restored {
        Some(Ok(mut sb)) => {
            sb.speed = if opts.speed > 0.0 {
                Speed::Times(opts.speed)
            } else {
                Speed::Paused
            };
            sb
        }
        Some(Err(e)) => {
            eprintln!(
                "kubesim: the sandbox's journal could not be replayed ({e}); starting afresh"
            );
            sandbox_at(&opts, epoch)?
        }
        None => sandbox_at(&opts, epoch)?,
    };
    let mut state = AppState::new(sb, opts.title.as_deref().unwrap_or("default demo"))
        .with_guard(opts.guard.clone());
    if let Some(j) = journal {
        state = state.with_journal(j);
        if let Some(j) = state.journal.clone() {
            journal::sync(&state, &j);
        }
    }
    if let Some(dir) = &opts.scenarios {
        state
            .scenarios
            .use_dir(dir)
            .map_err(ServeError::Scenarios)?;
    }
    state.scenarios.keep_progress(progress);
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: opts.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let _ = state.scenarios.addr.set(addr);
    if let Err(e) = scripts::listen(&state) {
        eprintln!("kubesim: scenario scripts cannot reach the API: {e}");
    }
    if let Ok(me) = std::env::current_exe() {
        state.scenarios.use_kubesim_binary(me);
    }
    let driver = spawn_driver(state.clone());
    let node_ports = node_ports::spawn(state.clone(), addr.ip());
    let ingress = opts.ingress_addr.map(|a| ingress::spawn(state.clone(), a));
    let state_for_shutdown = state.clone();
    ready(addr);
    let limits = state.conn.clone();
    let result = conn::serve_connections(listener, router(state), &limits, {
        let shutdown = state_for_shutdown.shutdown.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = shutdown.send(true);
        }
    })
    .await;
    driver.abort();
    // The scenario scripts' private file systems and the API socket go with the server.
    let _ = std::fs::remove_dir_all(&**state_for_shutdown.scenarios.sandbox_base);
    node_ports.abort();
    if let Some(i) = ingress {
        i.abort();
    }
    result.map_err(ServeError::Serve)
}
