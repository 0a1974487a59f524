//! The student's pages: `/scenarios` lists the course (embedded in the binary) or the
//! instructor's folder (`kubesim serve --scenarios DIR`, re-read when a file changes), and
//! `/scenarios/ID` plays one: the step's text beside the live cluster, the kubectl console and
//! the YAML editor; checks turning green as time passes; hints one at a time; next step;
//! reset step.
//!
//! Each scenario started in this server has one [`ScenarioRun`] shared by every tab, so the
//! progress (step, revealed hints, passed steps, the cluster itself) is kept on the server
//! for as long as it runs: a reload shows the same state. One task moves every run's clock
//! and, for a folder, looks at the files' modification times every second.
//!
//! This file holds what the pages share: [`Scenarios`], the catalog ([`crate::catalog`]) and
//! one [`Slot`] per run started. The routes are in `routes/scenario.rs`, the task that moves
//! the runs' clocks in `driver.rs`.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use crate::catalog::{Catalog, Course, Source, read_files, stamps};
use crate::progress::Progress;
use crate::routes::scenario::{invalid_page, not_found};
use crate::scenario_run::ScenarioRun;
use crate::view::Live;

/// A run and what its tabs share.
pub(crate) struct Slot {
    run: Mutex<ScenarioRun>,
    /// Bumped after every change of the run (its tabs' streams and the API's watches wait
    /// on it).
    pub(crate) changed: watch::Sender<u64>,
    pub(crate) rendered: Mutex<Option<(u64, Arc<Live>)>>,
    /// What the progress journal holds (none: rewrite it whole at the next save).
    pub(crate) saved: Mutex<Option<crate::progress::Written>>,
}

impl Slot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, ScenarioRun> {
        self.run.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn notify(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
}

/// Every scenario of this server and the runs started.
#[derive(Clone)]
pub struct Scenarios {
    catalog: Arc<Mutex<Catalog>>,
    runs: Arc<Mutex<BTreeMap<String, Arc<Slot>>>>,
    programs: Arc<dyn sim_core::program::Programs>,
    /// Where this server listens, once it does (a scenario's scripts point kubectl here).
    pub(crate) addr: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
    /// The server's token, if it has one (the scripts' kubeconfig carries it).
    pub(crate) token: Arc<std::sync::OnceLock<String>>,
    /// The `kubesim` binary, whose `sandbox-relay` brings a script's kubectl calls out of
    /// its sandbox (`kubesim serve` sets it to itself).
    kubesim_bin: Arc<std::sync::OnceLock<PathBuf>>,
    /// The API's Unix socket, once it listens (`scripts::listen`).
    pub(crate) socket: Arc<std::sync::OnceLock<PathBuf>>,
    /// This server's folder of scenario scripts' file systems and its API socket.
    pub(crate) sandbox_base: Arc<crate::scripts::BaseDir>,
    /// Where students' progress is kept between servers (`kubesim serve` sets it; none in
    /// tests).
    progress: Arc<Mutex<Option<Progress>>>,
    /// The server's form token, which every form carries (`crate::guard`); `AppState` shares
    /// it.
    pub(crate) form_token: Arc<str>,
}

impl std::fmt::Debug for Scenarios {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenarios").finish_non_exhaustive()
    }
}

impl Default for Scenarios {
    fn default() -> Self {
        Scenarios::course()
    }
}

impl Scenarios {
    /// The embedded course.
    pub fn course() -> Scenarios {
        let files: BTreeMap<String, String> = Course::iter()
            .filter_map(|name| {
                let f = Course::get(&name)?;
                Some((
                    name.to_string(),
                    String::from_utf8_lossy(&f.data).into_owned(),
                ))
            })
            .collect();
        let mut catalog = Catalog {
            source: Source::Course,
            entries: BTreeMap::new(),
            stamps: Vec::new(),
            version: 0,
            error: None,
        };
        catalog.fill(files.into_iter().map(|(n, t)| (n, Ok(t))).collect());
        Scenarios {
            catalog: Arc::new(Mutex::new(catalog)),
            runs: Arc::default(),
            programs: crate::sandbox::workers(),
            addr: Arc::default(),
            token: Arc::default(),
            kubesim_bin: Arc::default(),
            socket: Arc::default(),
            sandbox_base: Arc::new(crate::scripts::BaseDir::new()),
            progress: Arc::default(),
            form_token: crate::guard::new_form_token().into(),
        }
    }

    /// Serves the scenarios of `dir` instead of the course; an error if it is not a folder
    /// that can be read.
    pub fn use_dir(&self, dir: &FsPath) -> Result<(), String> {
        let stamps = stamps(dir)?;
        let files = read_files(dir, &stamps);
        let mut c = self.catalog();
        c.source = Source::Dir(dir.to_path_buf());
        c.stamps = stamps;
        c.fill(files);
        Ok(())
    }

    pub(crate) fn catalog(&self) -> MutexGuard<'_, Catalog> {
        self.catalog.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn runs(&self) -> MutexGuard<'_, BTreeMap<String, Arc<Slot>>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn slot(&self, id: &str) -> Option<Arc<Slot>> {
        self.runs().get(id).cloned()
    }

    /// Re-reads the folder if a file was added, removed or changed; true if so.
    pub(crate) fn rescan(&self) -> bool {
        let dir = match &self.catalog().source {
            Source::Dir(d) => d.clone(),
            Source::Course => return false,
        };
        let now = stamps(&dir);
        let mut c = self.catalog();
        match now {
            Err(e) => {
                let changed = c.error.as_deref() != Some(e.as_str());
                if changed {
                    c.error = Some(e);
                    c.version += 1;
                }
                changed
            }
            Ok(s) if s == c.stamps && c.error.is_none() => false,
            Ok(s) => {
                drop(c);
                // Read outside the lock; the stamps go with what was read.
                let files = read_files(&dir, &s);
                let mut c = self.catalog();
                c.error = None;
                c.stamps = s;
                c.fill(files);
                true
            }
        }
    }

    /// The run of `id` if it was started, else the answer for a GET: the start page (a
    /// scenario that validates), the problems page, or not found. A GET never starts a run:
    /// starting runs the scenario's `background` scripts, so it is a POST
    /// (`/scenarios/ID/start`) that another site cannot send ([`crate::guard`]).
    #[allow(
        clippy::result_large_err,
        reason = "the page run_of answers with too, sent as it is"
    )]
    pub(crate) fn started(&self, id: &str) -> Result<Arc<Slot>, Response> {
        if let Some(s) = self.slot(id) {
            return Ok(s);
        }
        let c = self.catalog();
        let Some(l) = c.entries.get(id) else {
            return Err(not_found(id));
        };
        match &l.summary {
            Err(problems) => Err(invalid_page(&l.file, problems)),
            Ok(summary) => Err(start_page(id, summary, &self.form_token)),
        }
    }

    /// The run of `id`, started if needed (the setup runs off the async workers).
    pub(crate) async fn run_of(&self, id: &str) -> Result<Arc<Slot>, Response> {
        if let Some(s) = self.slot(id) {
            return Ok(s);
        }
        let (run, restored) = self.fresh(id).await?;
        let (changed, _) = watch::channel(0);
        let slot = Arc::new(Slot {
            run: Mutex::new(run),
            changed,
            rendered: Mutex::new(None),
            saved: Mutex::default(),
        });
        // Another tab may have started it meanwhile: keep the first.
        let kept = self
            .runs()
            .entry(id.to_string())
            .or_insert(slot.clone())
            .clone();
        // A restored run replayed what its scripts did: they do not run again.
        if Arc::ptr_eq(&kept, &slot) && !restored {
            self.begin_step(id, &kept);
        }
        // A restored journal is compacted (a torn last line dropped) before it grows again.
        if Arc::ptr_eq(&kept, &slot) && restored {
            let (this, id, kept) = (self.clone(), id.to_string(), kept.clone());
            let _ = tokio::task::spawn_blocking(move || this.save_slot(&id, &kept)).await;
        }
        Ok(kept)
    }

    /// Keeps students' progress in `progress` between servers (none: in memory only).
    pub(crate) fn keep_progress(&self, progress: Option<Progress>) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = progress;
    }

    pub(crate) fn progress(&self) -> Option<Progress> {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Saves each run's progress if it moved since it was last saved.
    pub(crate) fn save_progress(&self) {
        let Some(p) = self.progress() else {
            return;
        };
        let slots: Vec<(String, Arc<Slot>)> = self
            .runs()
            .iter()
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect();
        for (id, slot) in slots {
            save(&p, &id, &slot);
        }
    }

    /// Saves one run's progress (appended and `fsync`ed) if it moved since it was last saved.
    pub(crate) fn save_slot(&self, id: &str, slot: &Slot) {
        if let Some(p) = self.progress() {
            save(&p, id, slot);
        }
    }

    /// This server's URL, for kubeconfigs (the default address before it listens).
    pub(crate) fn server(&self) -> String {
        match self.addr.get() {
            Some(a) => format!("http://{a}"),
            None => "http://127.0.0.1:8080".into(),
        }
    }

    /// Names the `kubesim` binary whose `sandbox-relay` command scenario scripts run in
    /// (`kubesim serve` names itself; a test names the binary it built).
    pub fn use_kubesim_binary(&self, path: PathBuf) {
        let _ = self.kubesim_bin.set(path);
    }

    /// What a scenario's scripts need of this server, once it listens.
    pub(crate) fn script_host(&self) -> Option<crate::scripts::Host> {
        Some(crate::scripts::Host {
            server: *self.addr.get()?,
            token: self.token.get().cloned(),
            kubesim: self.kubesim_bin.get().cloned(),
            socket: self.socket.get().cloned(),
            base: self.sandbox_base.to_path_buf(),
        })
    }

    /// Runs the current step's scripts (the setup's too, and its assets copied, before the
    /// first step), one after the other, off the request; each one's output goes to the
    /// run's script log, a failure with the scenario's problems.
    pub(crate) fn begin_step(&self, id: &str, slot: &Arc<Slot>) {
        let (scripts, assets, dir, step) = {
            let run = slot.lock();
            (
                run.step_scripts(),
                run.assets().to_vec(),
                run.dir().map(FsPath::to_path_buf),
                run.step(),
            )
        };
        if scripts.is_empty() && assets.is_empty() {
            return;
        }
        let host = self.script_host();
        let base = self.sandbox_base.to_path_buf();
        slot.lock().scripts_running = true;
        let (id, slot) = (id.to_string(), slot.clone());
        tokio::spawn(async move {
            if step == 0 {
                let (i, a) = (id.clone(), assets);
                let made = tokio::task::spawn_blocking(move || {
                    crate::scripts::prepare(&base, &i, &a, true)
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|r| r);
                if let Err(e) = made {
                    let mut run = slot.lock();
                    let now = run.session.sim.now();
                    run.problems
                        .push((now, format!("the scenario's files could not be made: {e}")));
                    run.scripts_running = false;
                    drop(run);
                    slot.notify();
                    return;
                }
            }
            for s in scripts {
                let ran = match &host {
                    Some(h) => {
                        crate::scripts::run(
                            h,
                            &s.script,
                            &id,
                            dir.as_deref(),
                            crate::scripts::SETUP_TIMEOUT,
                        )
                        .await
                    }
                    None => crate::scripts::Ran {
                        passed: false,
                        output: "this server has no address for kubectl to reach".into(),
                    },
                };
                let mut run = slot.lock();
                let now = run.session.sim.now();
                if !ran.passed {
                    run.problems
                        .push((now, format!("{} failed: {}", s.what, ran.output.trim())));
                }
                run.script_log.push(crate::scenario_run::ScriptLog {
                    at: now,
                    what: s.what,
                    foreground: s.foreground,
                    passed: ran.passed,
                    output: ran.output,
                });
                drop(run);
                slot.notify();
            }
            slot.lock().scripts_running = false;
            slot.notify();
        });
    }

    /// A run of `id` from its current file (the setup and any replay run off the async
    /// workers): the progress saved for this version of the file, replayed, if there is any
    /// (then `true`), else a new run.
    pub(crate) async fn fresh(&self, id: &str) -> Result<(ScenarioRun, bool), Response> {
        let (text, dir) = {
            let c = self.catalog();
            let Some(l) = c.entries.get(id) else {
                return Err(not_found(id));
            };
            if let Err(problems) = &l.summary {
                return Err(invalid_page(&l.file, problems));
            }
            let dir = match &c.source {
                // A Killercoda folder's files are relative to the folder.
                Source::Dir(d) => Some(match l.file.strip_suffix("/index.json") {
                    Some(sub) => d.join(sub),
                    None => d.clone(),
                }),
                Source::Course => None,
            };
            (l.text.clone(), dir)
        };
        let programs = self.programs.clone();
        let saved = self.progress().and_then(|p| p.load(id, &text));
        let started = tokio::task::spawn_blocking(move || {
            if let Some(saved) = saved
                && let Ok(run) = ScenarioRun::restore(&text, programs.clone(), dir.clone(), saved)
            {
                return Ok((run, true));
            }
            ScenarioRun::start(&text, programs, dir).map(|r| (r, false))
        })
        .await;
        match started {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the scenario could not start: {e}"),
            )
                .into_response()),
            Err(e) => Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the scenario could not start: {e}"),
            )
                .into_response()),
        }
    }
}
/// The page of a scenario not started yet: its summary and a Start button (a POST).
fn start_page(id: &str, summary: &crate::catalog::Summary, form_token: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let goals: String = summary
        .goals
        .iter()
        .map(|g| format!("<li>{}</li>", crate::markdown::markdown_inline(g)))
        .collect();
    let html = format!(
        "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><title>kubesim · {title}</title><link rel=stylesheet href=/assets/app.css><link rel=stylesheet href=/assets/scenario.css><main class=scenario-list><section class=panel><h2>{title}</h2><p>{summary}</p><ul>{goals}</ul><form method=post action=\"/scenarios/{id}/start\"><input type=hidden name=_form value={form_token}><button class=start>Start the scenario</button></form><p>Starting sets up its cluster (and runs its setup scripts); if you played it before on this server, you continue where you left off. <a href=\"/scenarios\">All scenarios</a></p></section></main>",
        title = esc(&summary.title),
        summary = summary.summary,
        id = esc(id),
    );
    axum::response::Html(html).into_response()
}

/// Brings `slot`'s journal up to date (the run locked only to copy what is new, `saved` for
/// the whole save, so saves are in order); a failure is reported and the next save rewrites
/// it.
fn save(p: &Progress, id: &str, slot: &Slot) {
    let mut saved = slot.saved.lock().unwrap_or_else(|e| e.into_inner());
    let plan = p.plan(id, &slot.lock(), saved.as_ref());
    match plan.and_then(|plan| p.write(plan)) {
        Ok(w) => *saved = Some(w),
        Err(e) => {
            if saved.is_some() {
                eprintln!("kubesim: the progress of scenario {id} could not be saved: {e}");
            }
            *saved = None;
        }
    }
}

/// After every request that may have moved a scenario's run (a POST, PUT, PATCH or DELETE
/// under `/scenarios/ID/`, its API included), its progress is saved before the answer goes
/// out: what the student was told is done is on disk.
pub(crate) async fn save_after(
    axum::extract::State(st): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let id = match *req.method() {
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS => None,
        _ => req
            .uri()
            .path()
            .strip_prefix("/scenarios/")
            .and_then(|r| r.split('/').next())
            .filter(|id| !id.is_empty())
            .map(str::to_string),
    };
    let res = next.run(req).await;
    if let Some(id) = id
        && let Some(slot) = st.scenarios.slot(&id)
        && st.scenarios.progress().is_some()
    {
        let scenarios = st.scenarios.clone();
        let _ = tokio::task::spawn_blocking(move || scenarios.save_slot(&id, &slot)).await;
    }
    res
}
