//! The scenario pages' routes: `/scenarios` (the list), `/scenarios/ID` (a step's text beside
//! the live cluster, the kubectl console and the YAML editor) and the actions under it:
//! kubectl, apply, speed, advance, hints, next, reset, restart, verify.

use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::catalog::{Source, Summary};
use crate::markdown::{markdown, markdown_inline};
use crate::sandbox::Speed;
use crate::scenario_run::{ScenarioRun, Verify};
use crate::scenario_ui::Slot;
use crate::view::Live;

use super::console;

/// The routes of the scenario pages (merged into [`crate::router`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/scenarios", get(list_page))
        .route("/scenarios/version", get(version))
        .route("/scenarios/{id}", get(scenario_page))
        .route("/scenarios/{id}/start", post(start))
        .route("/scenarios/{id}/stream", get(stream))
        .route("/scenarios/{id}/state", get(state_json))
        .route("/scenarios/{id}/kubectl", post(kubectl))
        .route("/scenarios/{id}/complete", get(complete))
        .route("/scenarios/{id}/namespace", post(namespace))
        .route("/scenarios/{id}/apply", post(apply))
        .route("/scenarios/{id}/speed", post(speed))
        .route("/scenarios/{id}/advance", post(advance))
        .route("/scenarios/{id}/hint", post(hint))
        .route("/scenarios/{id}/next", post(next))
        .route("/scenarios/{id}/reset", post(reset))
        .route("/scenarios/{id}/restart", post(restart))
        .route("/scenarios/{id}/verify", post(verify))
        .route("/scenarios/{id}/kubeconfig", get(kubeconfig))
        .route("/scenarios/{id}/pod/{ns}/{name}", get(pod))
}

// ---- pages ----

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

pub(crate) fn not_found(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(format!(
            "<!doctype html><title>kubesim</title><p>No scenario {:?} here. <a href=\"/scenarios\">All scenarios</a></p>",
            esc(id)
        )),
    )
        .into_response()
}

pub(crate) fn invalid_page(file: &str, problems: &[String]) -> Response {
    let items: String = problems
        .iter()
        .map(|p| format!("<li><code>{}</code></li>", esc(p)))
        .collect();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Html(format!(
            "<!doctype html><meta charset=utf-8><title>kubesim · {f}</title><link rel=stylesheet href=/assets/app.css><link rel=stylesheet href=/assets/scenario.css><main class=scenario-list><section class=panel><h2>{f} does not validate</h2><ul class=problems>{items}</ul><p>Fix the file and reload; <a href=\"/scenarios\">all scenarios</a>.</p></section></main>",
            f = esc(file)
        )),
    )
        .into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One row of the list.
struct Row {
    id: String,
    file: String,
    summary: Result<Summary, Vec<String>>,
    /// "2 of 5 steps passed", if started.
    progress: Option<String>,
}

#[derive(Template)]
#[template(path = "scenario_list.html")]
struct ListPage {
    source: String,
    error: Option<String>,
    version: u64,
    rows: Vec<Row>,
}

async fn list_page(State(st): State<AppState>) -> Response {
    let sc = &st.scenarios;
    let slots: BTreeMap<String, Arc<Slot>> = sc.runs().clone();
    let progress: BTreeMap<String, String> = slots
        .iter()
        .map(|(id, s)| {
            let r = s.lock();
            let text = if r.complete() {
                "done".to_string()
            } else {
                format!(
                    "on step {} of {}, {} passed",
                    r.step() + 1,
                    r.steps(),
                    r.passed.len()
                )
            };
            (id.clone(), text)
        })
        .collect();
    let c = sc.catalog();
    let page = ListPage {
        source: match &c.source {
            Source::Course => "the course (built in)".into(),
            Source::Dir(d) => d.display().to_string(),
        },
        error: c.error.clone(),
        version: c.version,
        rows: c
            .entries
            .iter()
            .map(|(id, l)| Row {
                id: id.clone(),
                file: l.file.clone(),
                summary: l.summary.clone(),
                progress: progress.get(id).cloned(),
            })
            .collect(),
    };
    drop(c);
    render(&page)
}

async fn version(State(st): State<AppState>) -> Response {
    axum::Json(serde_json::json!({"version": st.scenarios.catalog().version})).into_response()
}

#[derive(Template)]
#[template(path = "scenario.html")]
struct ScenarioPage {
    /// The server's form token, in every form (`crate::guard`).
    form_token: String,
    id: String,
    title: String,
    goals: Vec<String>,
    step: usize,
    steps: usize,
    step_title: String,
    text: String,
    /// The scenario's intro, above the first step.
    intro: String,
    /// Where the student's own kubectl reaches this scenario's cluster.
    server: String,
    panels: BTreeMap<&'static str, String>,
    console: crate::scenario_run::Console,
}

impl ScenarioPage {
    fn panel(&self, id: &str) -> &str {
        self.panels.get(id).map_or("", String::as_str)
    }
}

/// Starts the run of `id` (its setup and background scripts) if no tab did, then shows it.
async fn start(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    match st.scenarios.run_of(&id).await {
        Ok(_) => done(&h, &id, serde_json::json!({"ok": true})),
        Err(r) => r,
    }
}

async fn scenario_page(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let slot = match st.scenarios.started(&id) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let page = {
        let run = slot.lock();
        let step = run.step();
        let scen = &run.session.scenario;
        let s = &scen.steps[step.min(scen.steps.len().saturating_sub(1))];
        ScenarioPage {
            form_token: st.form_token.to_string(),
            id: id.clone(),
            title: scen.title.clone(),
            goals: scen.goals.iter().map(|g| markdown_inline(g)).collect(),
            step,
            steps: scen.steps.len(),
            step_title: s.title.clone(),
            text: markdown(&s.text),
            intro: if step == 0 {
                markdown(&scen.intro)
            } else {
                String::new()
            },
            server: st.scenarios.server(),
            panels: panels(&st, &id, &run).panels.into_iter().collect(),
            console: run.console.clone(),
        }
    };
    render(&page)
}

/// The live fragments of a scenario page, by element id.
fn panels(st: &AppState, id: &str, run: &ScenarioRun) -> Live {
    let sim = &run.session.sim;
    let notice = {
        let c = st.scenarios.catalog();
        match c.entries.get(id) {
            Some(l) if *l.text != *run.text => match &l.summary {
                Ok(_) => "The file changed since this run began: restart the scenario to play the new version.".to_string(),
                Err(p) => format!("The file changed and no longer validates: {}", p.join("; ")),
            },
            None => "The file is gone from the folder; this run goes on until you leave.".into(),
            _ => String::new(),
        }
    };
    let scope = run.console.namespace.as_deref();
    let mut live = Live::default();
    live.panels.push(("clock", clock_html(run)));
    live.push_cluster("cluster", sim, &run.cells, scope);
    live.push_deployments("deployments", sim, scope);
    live.push_events("events", sim, scope);
    live.panels.push((
        "namespaces",
        crate::view::namespace_picker_at(
            sim,
            scope,
            &st.form_token,
            &format!("/scenarios/{id}/namespace"),
        ),
    ));
    live.push_timeline("traffic", traffic_charts(run));
    live.panels.extend([
        ("checks", checks_html(id, run, &st.form_token)),
        ("hints", hints_html(id, run, &st.form_token)),
        ("says", says_html(run)),
        ("notice", esc(&notice)),
    ]);
    live
}

/// The traffic charts of the main page, for the Services this run sends traffic to (empty
/// without traffic), with the frame and lines the live stream sends.
fn traffic_charts(run: &ScenarioRun) -> crate::timeline::Grown {
    crate::timeline::traffic_only(&crate::timeline::Source {
        sim: &run.session.sim,
        records: &run.session.out.tracer.records,
        marks: run.marks(),
    })
}

#[derive(Template)]
#[template(path = "scenario_checks.html")]
struct ChecksPanel<'a> {
    form_token: &'a str,
    id: &'a str,
    step: usize,
    /// (name, passed, explanation, what was found, the same in sentences, the expression).
    checks: Vec<(String, bool, String, String, String, String)>,
    passed_now: bool,
    /// The step's verify script: (state in words, passed, its output).
    verify: Option<(&'static str, bool, String)>,
    /// The scenario's finish text, once complete.
    finish: String,
    passed_step: bool,
    last: bool,
    complete: bool,
    /// (number, title, state: passed / current / ahead)
    progress: Vec<(usize, String, &'static str)>,
}

fn checks_html(id: &str, run: &ScenarioRun, form_token: &str) -> String {
    let step = run.step();
    let checks: Vec<_> = run
        .checks
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.outcome.passed,
                c.explain.clone().unwrap_or_default(),
                if c.outcome.passed {
                    String::new()
                } else {
                    c.outcome.describe()
                },
                c.outcome.said.join(" "),
                c.cel.clone(),
            )
        })
        .collect();
    let verify = run.verify_script().map(|_| match &run.verify {
        Verify::NotRun => ("not run yet", false, String::new()),
        Verify::Running => ("running…", false, String::new()),
        Verify::Done { passed, output } => (
            if *passed { "passed" } else { "failed" },
            *passed,
            output.trim_end().to_string(),
        ),
    });
    ChecksPanel {
        form_token,
        id,
        step,
        passed_now: checks.iter().all(|c| c.1) && verify.as_ref().is_none_or(|v| v.1),
        checks,
        verify,
        finish: if run.complete() {
            markdown(&run.session.scenario.finish)
        } else {
            String::new()
        },
        passed_step: run.passed.contains(&step),
        last: step + 1 >= run.steps(),
        complete: run.complete(),
        progress: run
            .session
            .scenario
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let state = if run.passed.contains(&i) {
                    "passed"
                } else if i == step {
                    "current"
                } else {
                    "ahead"
                };
                (i + 1, s.title.clone(), state)
            })
            .collect(),
    }
    .render()
    .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "scenario_hints.html")]
struct HintsPanel<'a> {
    form_token: &'a str,
    id: &'a str,
    shown: Vec<String>,
    left: usize,
}

fn hints_html(id: &str, run: &ScenarioRun, form_token: &str) -> String {
    let step = run.step();
    let all = &run.session.scenario.steps[step].hints;
    let n = run.hints.get(step).copied().unwrap_or(0).min(all.len());
    HintsPanel {
        form_token,
        id,
        shown: all[..n].iter().map(|h| markdown_inline(h)).collect(),
        left: all.len() - n,
    }
    .render()
    .unwrap_or_default()
}

fn says_html(run: &ScenarioRun) -> String {
    let t = clock;
    let mut lines: Vec<(u64, String)> = run
        .session
        .messages
        .iter()
        .map(|(at, m)| {
            (
                at.millis(),
                format!("<li><time>[{}]</time> {}</li>", t(at.millis()), esc(m)),
            )
        })
        .chain(run.problems.iter().map(|(at, m)| {
            (
                at.millis(),
                format!(
                    "<li class=\"problem\"><time>[{}]</time> {}</li>",
                    t(at.millis()),
                    esc(m)
                ),
            )
        }))
        .collect();
    // What the scripts printed; a failed one is also among the problems.
    for s in &run.script_log {
        let output = s.output.trim_end();
        if output.is_empty() && !s.passed {
            continue;
        }
        let shown = if output.is_empty() {
            String::new()
        } else {
            format!("<pre class=\"terminal\">{}</pre>", esc(output))
        };
        lines.push((
            s.at.millis(),
            format!(
                "<li class=\"script\"><time>[{}]</time> {} {}{shown}</li>",
                t(s.at.millis()),
                esc(&s.what),
                if s.passed { "ran" } else { "failed" },
            ),
        ));
    }
    lines.sort_by_key(|l| l.0);
    lines.into_iter().map(|(_, l)| l).collect()
}

/// Virtual time as `1h02m03s`, `4m05s`, `12s`.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

fn clock_html(run: &ScenarioRun) -> String {
    let now = run.session.sim.now().millis();
    let paused = run.speed == Speed::Paused;
    format!(
        "<span class=\"time\" title=\"virtual time\" data-now=\"{now}\">{}</span> <span class=\"speed{}\">{}</span> <small>step {} of {} · {} s into the step</small>",
        clock(now),
        if paused { " paused" } else { "" },
        run.speed.label(),
        run.step() + 1,
        run.steps(),
        run.session.step_elapsed().millis() / 1000,
    )
}

/// The panels for change number `version`, rendered at most once for every tab.
fn cached_panels(st: &AppState, id: &str, slot: &Slot, version: u64) -> Arc<Live> {
    let mut cache = slot.rendered.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((v, p)) = cache.as_ref()
        && *v == version
    {
        return p.clone();
    }
    let p = Arc::new(panels(st, id, &slot.lock()));
    *cache = Some((version, p.clone()));
    p
}

/// One stream per tab, as on the main page ([`crate::stream::sse`]).
async fn stream(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_found(&id);
    };
    let (changes, shutdown) = (slot.changed.subscribe(), st.shutdown.subscribe());
    crate::stream::sse(changes, shutdown, move |version| {
        cached_panels(&st, &id, &slot, version)
    })
    .into_response()
}

/// The run's state as JSON (tests, scripts).
async fn state_json(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_found(&id);
    };
    let run = slot.lock();
    axum::Json(serde_json::json!({
        "step": run.step() + 1,
        "steps": run.steps(),
        "now_ms": run.session.sim.now().millis(),
        "passed": run.passed.iter().map(|s| s + 1).collect::<Vec<_>>(),
        "hints": run.hints.get(run.step()).copied().unwrap_or(0),
        "complete": run.complete(),
        "checks": run.checks.iter().map(|c| serde_json::json!({
            "name": c.name, "passed": c.outcome.passed, "found": c.outcome.describe(), "said": c.outcome.said,
        })).collect::<Vec<_>>(),
        "scripts_running": run.scripts_running,
        "scripts": run.script_log.iter().map(|s| serde_json::json!({
            "what": s.what, "passed": s.passed, "output": s.output,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

// ---- actions ----

fn wants_json(h: &HeaderMap) -> bool {
    h.get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn done(h: &HeaderMap, id: &str, body: serde_json::Value) -> Response {
    if wants_json(h) {
        axum::Json(body).into_response()
    } else {
        Redirect::to(&format!("/scenarios/{id}")).into_response()
    }
}

fn output_json(o: &sim_core::kubectl::Output) -> serde_json::Value {
    serde_json::json!({"stdout": o.stdout, "stderr": o.stderr, "code": o.code})
}

/// The answer to an action on a scenario whose page was never opened.
fn not_started(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("scenario {id:?} is not started: open /scenarios/{id} first"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct CmdForm {
    cmd: String,
}

async fn kubectl(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    Form(f): Form<CmdForm>,
) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let cmd = f
        .cmd
        .trim()
        .trim_start_matches("kubectl ")
        .trim()
        .to_string();
    if cmd.is_empty() {
        return done(
            &h,
            &id,
            serde_json::json!({"stdout": "", "stderr": "error: no command given\n", "code": 1}),
        );
    }
    let words = sim_core::kubectl::split_words(&cmd).unwrap_or_default();
    let verb = words.first().map(String::as_str);
    if verb == Some("config") {
        let current = slot.lock().console.context_namespace().to_string();
        let view = |ns: &str| {
            let server = super::server_url(&st, &h);
            let text =
                crate::kube_api::kubeconfig_in(&server, Some(&id), st.guard.token.as_deref(), ns);
            match &st.guard.token {
                Some(t) => text.replace(t.as_str(), "REDACTED"),
                None => text,
            }
        };
        let (out, moved) = console::config(&words, &current, &view);
        let namespace = {
            let mut run = slot.lock();
            if let Some(ns) = moved {
                run.console.namespace = Some(ns);
            }
            run.console.cmd = cmd.clone();
            run.console
                .push(&format!("$ kubectl {cmd}\n{}{}", out.stdout, out.stderr));
            run.console.context_namespace().to_string()
        };
        slot.notify();
        let mut body = output_json(&out);
        body["namespace"] = serde_json::json!(namespace);
        return done(&h, &id, body);
    }
    let ns = slot.lock().console.context_namespace().to_string();
    let typed = cmd;
    let cmd = console::in_namespace(&typed, &words, &ns);
    if verb == Some("edit") {
        let (out, yaml) = {
            let mut run = slot.lock();
            let (out, yaml) = console::edit(&run.session.sim, &cmd);
            run.console
                .push(&format!("$ kubectl {typed}\n{}{}", out.stdout, out.stderr));
            if let Some(y) = &yaml {
                run.console.yaml = y.clone();
                run.console.apply_out = String::new();
            }
            run.console.cmd = typed;
            (out, yaml)
        };
        let mut body = output_json(&out);
        body["edit"] = serde_json::json!(yaml);
        return done(&h, &id, body);
    }
    if wants_json(&h) && sim_core::kubectl::is_watch(&cmd) {
        slot.lock().console.cmd = typed.clone();
        let rec = slot.clone();
        return console::stream_watch(
            crate::cluster::Cluster::Scenario(st.clone(), slot),
            &cmd,
            &typed,
            Box::new(move |entry| rec.lock().console.push(&entry)),
        );
    }
    let out = {
        let mut run = slot.lock();
        let out = run.kubectl(&cmd);
        run.console.cmd = typed.clone();
        run.console
            .push(&format!("$ kubectl {typed}\n{}{}", out.stdout, out.stderr));
        out
    };
    slot.notify();
    done(&h, &id, output_json(&out))
}

#[derive(Deserialize)]
struct CompleteQuery {
    line: String,
}

/// The words that complete the console line's last word, in the console's namespace.
async fn complete(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<CompleteQuery>,
) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let run = slot.lock();
    console::completions(&run.session.sim, &q.line, run.console.context_namespace())
}

#[derive(Deserialize)]
struct NamespaceForm {
    ns: String,
}

/// The namespace picker: the page, the console and the kubeconfig move to one namespace (an
/// empty value: all namespaces, the console then in `default`).
async fn namespace(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    Form(f): Form<NamespaceForm>,
) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let ns = match console::picked_namespace(&f.ns) {
        Ok(ns) => ns,
        Err(r) => return *r,
    };
    let current = {
        let mut run = slot.lock();
        run.console.namespace = ns;
        run.console.context_namespace().to_string()
    };
    slot.notify();
    done(&h, &id, serde_json::json!({"namespace": current}))
}

#[derive(Deserialize)]
struct ApplyForm {
    yaml: String,
}

async fn apply(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    Form(f): Form<ApplyForm>,
) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let out = {
        let mut run = slot.lock();
        let out = run.apply(&f.yaml);
        let line = (out.code != 0)
            .then(|| super::error_line(&f.yaml, &out.stderr))
            .flatten();
        run.console.yaml = f.yaml.clone();
        run.console.apply_out = format!(
            "{}{}{}",
            out.stdout,
            out.stderr,
            line.map(|l| format!("(see line {l})\n"))
                .unwrap_or_default()
        );
        let mut body = output_json(&out);
        body["line"] = serde_json::json!(line);
        body
    };
    slot.notify();
    done(&h, &id, out)
}

#[derive(Deserialize)]
struct SpeedQuery {
    speed: Option<String>,
}

async fn speed(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    Query(q): Query<SpeedQuery>,
) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let speed = match Speed::from_query(q.speed.as_deref()) {
        Ok(s) => s,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    slot.lock().speed = speed;
    slot.notify();
    done(&h, &id, serde_json::json!({"speed": speed.label()}))
}

#[derive(Deserialize)]
struct AdvanceQuery {
    seconds: Option<u64>,
}

/// Moves the run's time forward at once (the "+1 min" button), firing events on the way.
async fn advance(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    Query(q): Query<AdvanceQuery>,
) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let secs = q.seconds.unwrap_or(60);
    if !(1..=3600).contains(&secs) {
        return (StatusCode::BAD_REQUEST, "seconds must be from 1 to 3600").into_response();
    }
    let now = {
        let mut run = slot.lock();
        let t = run.session.sim.now() + sim_core::SimDuration::from_secs(secs);
        run.advance_to(t);
        run.evaluate();
        run.session.sim.now().millis()
    };
    slot.notify();
    done(&h, &id, serde_json::json!({"now_ms": now}))
}

async fn hint(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let more = slot.lock().reveal_hint();
    slot.notify();
    done(&h, &id, serde_json::json!({"revealed": more}))
}

async fn next(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let result = slot.lock().next_step();
    slot.notify();
    match result {
        Ok(()) => {
            st.scenarios.begin_step(&id, &slot);
            done(&h, &id, serde_json::json!({"ok": true}))
        }
        Err(e) => (StatusCode::CONFLICT, e).into_response(),
    }
}

/// Replays the log up to the current step's start, off the async workers, and swaps the
/// result in.
async fn reset(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    // Take what the replay needs, then replay without the lock (the clock keeps running
    // meanwhile; the reset wins).
    let plan = {
        let run = slot.lock();
        run.replay_to_step(run.step())
    };
    let fresh = tokio::task::spawn_blocking(move || plan.run()).await;
    match fresh {
        Ok(Ok(run)) => {
            *slot.lock() = run;
            slot.notify();
            st.scenarios.begin_step(&id, &slot);
            done(&h, &id, serde_json::json!({"ok": true}))
        }
        Ok(Err(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the step could not be replayed: {e}"),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Starts the scenario again from the setup, from its current file. The new run goes into
/// the same slot, so every open tab's stream follows it (a new slot would leave the other
/// tabs listening to a run nobody moves any more).
async fn restart(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return done(&h, &id, serde_json::json!({"ok": true}));
    };
    if let Some(p) = st.scenarios.progress() {
        let text = slot.lock().text.clone();
        p.forget(&id, &text);
    }
    *slot.saved.lock().unwrap_or_else(|e| e.into_inner()) = None;
    match st.scenarios.fresh(&id).await {
        Ok((run, _)) => {
            *slot.lock() = run;
            slot.notify();
            st.scenarios.begin_step(&id, &slot);
            done(&h, &id, serde_json::json!({"ok": true}))
        }
        Err(r) => r,
    }
}

/// A kubeconfig for this scenario's cluster (`curl -o kubesim.yaml .../kubeconfig`): the
/// same text `kubesim kubeconfig --scenario ID` prints, for a student who runs kubesim from
/// `cargo run` and has no `kubesim` on their PATH.
async fn kubeconfig(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    if !st.scenarios.catalog().entries.contains_key(&id) {
        return not_found(&id);
    }
    let server = super::server_url(&st, &h);
    // The page's namespace once the run started, else the scenario's own.
    let ns = match st.scenarios.slot(&id) {
        Some(slot) => slot.lock().console.context_namespace().to_string(),
        None => "default".to_string(),
    };
    let text = crate::kube_api::kubeconfig_in(&server, Some(&id), st.guard.token.as_deref(), &ns);
    (
        [(axum::http::header::CONTENT_TYPE, "application/yaml")],
        text,
    )
        .into_response()
}

/// Runs the current step's verify script (a Killercoda step's `verify.sh`) with the real
/// kubectl against the scenario's cluster; the step passes if it exits 0 (and its checks,
/// if any, hold). The run is not locked meanwhile: the script's kubectl calls reach it.
async fn verify(State(st): State<AppState>, Path(id): Path<String>, h: HeaderMap) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let (script, dir, step) = {
        let mut run = slot.lock();
        let Some(script) = run.verify_script().map(str::to_string) else {
            return (
                StatusCode::BAD_REQUEST,
                "this step has no verify script: its checks are evaluated live",
            )
                .into_response();
        };
        if run.verify == Verify::Running {
            return (StatusCode::CONFLICT, "the verify script is already running").into_response();
        }
        run.verify = Verify::Running;
        (script, run.dir().map(FsPath::to_path_buf), run.step())
    };
    slot.notify();
    let ran = match st.scenarios.script_host() {
        Some(host) => {
            crate::scripts::run(&host, &script, &id, dir.as_deref(), crate::scripts::TIMEOUT).await
        }
        None => crate::scripts::Ran {
            passed: false,
            output: "this server has no address for kubectl to reach".into(),
        },
    };
    slot.lock().verified(
        step,
        Verify::Done {
            passed: ran.passed,
            output: ran.output.clone(),
        },
    );
    slot.notify();
    done(
        &h,
        &id,
        serde_json::json!({"passed": ran.passed, "output": ran.output}),
    )
}

async fn pod(
    State(st): State<AppState>,
    Path((id, ns, name)): Path<(String, String, String)>,
) -> Response {
    let Some(slot) = st.scenarios.slot(&id) else {
        return not_started(&id);
    };
    let run = slot.lock();
    super::pod_page(&run.session.sim, ns, name)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;

    use super::*;
    use crate::progress::Progress;

    fn app() -> (Router, AppState) {
        let st = AppState::new(
            crate::sandbox::Sandbox::new(crate::DEMO, None).unwrap(),
            "test",
        );
        (crate::router(st.clone()), st)
    }

    async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String) {
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn post(uri: &str, body: &str) -> Request<Body> {
        Request::post(uri)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    /// Presses the page's Start button (a GET only shows it).
    async fn start(app: &Router, page: &str) {
        let (status, body) = call(app, post(&format!("{page}/start"), "")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    fn check(json: &str, key: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v[key].clone()
    }

    #[test]
    fn a_scenario_with_traffic_gets_the_main_pages_traffic_chart() {
        let five = include_str!("../../../scenarios/course/05-broken-release.yaml");
        let mut run = ScenarioRun::start(five, crate::sandbox::workers(), None).unwrap();
        run.session.sim.traffic.real_requests = false;
        let t = run.session.sim.now() + sim_core::SimDuration::from_secs(5);
        run.advance_to(t);
        run.kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding");
        let t = run.session.sim.now() + sim_core::SimDuration::from_secs(20);
        run.advance_to(t);
        let html = traffic_charts(&run).html;
        assert!(
            html.contains(r#"<figure class="timeline traffic">"#) && html.contains("now 20 req/s"),
            "{html}"
        );
        assert_eq!(
            html.matches(r#"class="marker""#).count(),
            2,
            "the set image, marked in both bands: {html}"
        );
        let at = run.marks();
        assert_eq!(at.len(), 1);
        assert!((at[0].0 - (t.as_secs_f64() - 20.0)).abs() < 1e-9, "{at:?}");
        assert_eq!(at[0].1, "kubectl set image deployment/credit-scoring-api");

        // No traffic, no chart.
        let quiet = include_str!("../../../scenarios/course/04-rolling-update.yaml");
        let mut run = ScenarioRun::start(quiet, crate::sandbox::workers(), None).unwrap();
        let t = run.session.sim.now() + sim_core::SimDuration::from_secs(20);
        run.advance_to(t);
        assert_eq!(traffic_charts(&run).html, "");
    }

    #[tokio::test]
    async fn the_list_shows_the_course() {
        let (app, _) = app();
        let (status, html) = call(&app, get("/scenarios")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            html.matches("class=\"scenario-item\"").count(),
            15,
            "{html}"
        );
        assert!(html.contains("GitOps: the manifest is the only way to deploy"));
        assert!(html.contains("href=\"/scenarios/05-broken-release\""));
        assert!(html.contains("A broken release, caught and rolled back"));
        let (_, html) = call(&app, get("/")).await;
        assert!(
            html.contains("href=\"/scenarios\""),
            "the sandbox links to them"
        );
    }

    #[tokio::test]
    async fn scenario_five_by_its_routes_step_text_checks_hints_next() {
        let (app, _) = app();
        let base = "/scenarios/05-broken-release";
        start(&app, base).await;
        let (status, html) = call(&app, get(base)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Step 1 of 5: Ship v2 without losing capacity"));
        assert!(html.contains("<strong>v1</strong>"), "Markdown is rendered");
        assert!(
            html.contains("class=\"copy\""),
            "code blocks get a copy button"
        );
        assert!(html.contains("class=\"check fail\""), "checks start red");
        assert!(html.contains("id=\"console-form\"") && html.contains("id=\"apply-form\""));
        assert_eq!(html.matches("class=\"pod ready").count(), 10);
        // Not passed yet: no next step.
        let (status, _) = call(&app, post(&format!("{base}/next"), "")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        // Hints one at a time.
        let (_, json) = call(&app, post(&format!("{base}/hint"), "")).await;
        assert_eq!(check(&json, "revealed"), true);
        let (_, json) = call(&app, get(&format!("{base}/state"))).await;
        assert_eq!(check(&json, "hints"), 1);
        // The solution, typed into the console; time moved by the advance button.
        let (_, json) = call(
            &app,
            post(
                &format!("{base}/kubectl"),
                "cmd=kubectl+set+image+deployment%2Fcredit-scoring-api+api%3Dregistry.local%2Fcredit-scoring-api%3Av2+-n+live-coding",
            ),
        )
        .await;
        assert!(
            check(&json, "stdout")
                .as_str()
                .unwrap()
                .contains("image updated"),
            "{json}"
        );
        call(&app, post(&format!("{base}/advance?seconds=120"), "")).await;
        let (_, json) = call(&app, get(&format!("{base}/state"))).await;
        let checks = check(&json, "checks");
        assert!(
            checks
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["passed"] == true),
            "{json}"
        );
        assert_eq!(check(&json, "passed"), serde_json::json!([1]));
        let (status, _) = call(&app, post(&format!("{base}/next"), "")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, html) = call(&app, get(base)).await;
        assert!(
            html.contains("Step 2 of 5: Push a broken image"),
            "progress is kept on the server"
        );
        // Reset goes back to the step's start; the passed step stays passed.
        call(
            &app,
            post(
                &format!("{base}/kubectl"),
                "cmd=set+image+deployment%2Fcredit-scoring-api+api%3Dregistry.local%2Fcredit-scoring-api%3Abroken+-n+live-coding",
            ),
        )
        .await;
        let (_, before) = call(&app, get(&format!("{base}/state"))).await;
        let (status, _) = call(&app, post(&format!("{base}/reset"), "")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, after) = call(&app, get(&format!("{base}/state"))).await;
        assert_eq!(check(&after, "step"), 2);
        assert_eq!(check(&after, "passed"), serde_json::json!([1]));
        assert_eq!(
            check(&after, "now_ms"),
            check(&before, "now_ms"),
            "the set image did not wait"
        );
        let (_, json) = call(
            &app,
            post(
                &format!("{base}/kubectl"),
                "cmd=get+deploy+-n+live-coding+-o+wide",
            ),
        )
        .await;
        assert!(
            !check(&json, "stdout").as_str().unwrap().contains(":broken"),
            "{json}"
        );
    }

    #[tokio::test]
    async fn bad_requests_get_clear_errors() {
        let (app, _) = app();
        let (status, _) = call(&app, get("/scenarios/nope")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = call(
            &app,
            post("/scenarios/01-pods-and-labels/kubectl", "cmd=get+pods"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "not started: {body}");
        start(&app, "/scenarios/01-pods-and-labels").await;
        call(&app, get("/scenarios/01-pods-and-labels")).await;
        let (status, _) = call(
            &app,
            post("/scenarios/01-pods-and-labels/speed?speed=-1", ""),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = call(
            &app,
            post("/scenarios/01-pods-and-labels/advance?seconds=99999", ""),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = call(&app, get("/scenarios/01-pods-and-labels/pod/x/NOT_A_NAME")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, json) = call(
            &app,
            post("/scenarios/01-pods-and-labels/kubectl", "cmd=frobnicate"),
        )
        .await;
        assert!(json.contains("unknown command"), "{json}");
    }

    #[tokio::test]
    async fn a_killercoda_folder_shows_its_intro_a_check_button_and_the_kubectl_setup() {
        let (app, st) = app();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/killercoda");
        st.scenarios.use_dir(&dir).unwrap();
        let (_, list) = call(&app, get("/scenarios")).await;
        assert!(
            list.contains("Deploy, scale and expose a web server"),
            "{list}"
        );
        start(&app, "/scenarios/deploy-and-scale").await;
        let (status, page) = call(&app, get("/scenarios/deploy-and-scale")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("class=\"step-text intro\""),
            "the intro above step 1"
        );
        assert!(page.contains("verify script: not run yet"), "{page}");
        assert!(page.contains("action=\"/scenarios/deploy-and-scale/verify\""));
        assert!(
            page.contains("--scenario deploy-and-scale"),
            "the kubeconfig command"
        );
        assert!(!page.contains("{{exec}}"));
        assert!(page.contains("/scenarios/deploy-and-scale/kubeconfig"));
        let (status, kc) = call(&app, get("/scenarios/deploy-and-scale/kubeconfig")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            kc.contains("server: http://127.0.0.1:8080/scenarios/deploy-and-scale/k8s")
                && kc.contains("namespace: default"),
            "{kc}"
        );
        let (status, _) = call(&app, get("/scenarios/nope/kubeconfig")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // A step with a verify script is not passed by its (absent) CEL checks alone.
        let (_, state) = call(&app, get("/scenarios/deploy-and-scale/state")).await;
        assert_eq!(check(&state, "passed"), serde_json::json!([]), "{state}");
        // Without a server address (no listener here) Check says why instead of hanging.
        let (_, out) = call(&app, post("/scenarios/deploy-and-scale/verify", "")).await;
        assert!(out.contains("no address"), "{out}");
    }

    #[tokio::test]
    async fn progress_survives_a_new_server_and_restart_forgets_it() {
        let dir = std::env::temp_dir().join(format!("kubesim-progress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = "01-pods-and-labels";
        let first = {
            let (router, st) = app();
            st.scenarios.keep_progress(Some(Progress::in_dir(&dir)));
            start(&router, &format!("/scenarios/{id}")).await;
            call(&router, get(&format!("/scenarios/{id}"))).await;
            call(
                &router,
                post(
                    &format!("/scenarios/{id}/kubectl"),
                    "cmd=run+hello+--image%3Dnginx",
                ),
            )
            .await;
            call(&router, post(&format!("/scenarios/{id}/hint"), "")).await;
            // No explicit save: each answer above came after its progress was on disk.
            let slot = st.scenarios.slot(id).unwrap();
            let run = slot.lock();
            (run.log.clone(), run.hints.clone())
        };
        assert!(!first.0.is_empty());
        // A new server with the same folder: the run comes back as it was.
        let (router, st) = app();
        st.scenarios.keep_progress(Some(Progress::in_dir(&dir)));
        start(&router, &format!("/scenarios/{id}")).await;
        call(&router, get(&format!("/scenarios/{id}"))).await;
        let slot = st.scenarios.slot(id).unwrap();
        {
            let run = slot.lock();
            assert_eq!((run.log.clone(), run.hints.clone()), first);
            assert!(
                run.session
                    .sim
                    .get_object(sim_core::store::Kind::Pod, "default", "hello")
                    .is_some(),
                "the replayed cluster has the pod"
            );
        }
        // Restart forgets the saved progress too.
        call(&router, post(&format!("/scenarios/{id}/restart"), "")).await;
        let (router, st) = app();
        st.scenarios.keep_progress(Some(Progress::in_dir(&dir)));
        start(&router, &format!("/scenarios/{id}")).await;
        call(&router, get(&format!("/scenarios/{id}"))).await;
        assert!(st.scenarios.slot(id).unwrap().lock().log.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn restart_keeps_every_open_tab_following_the_new_run() {
        let (app, st) = app();
        let id = "01-pods-and-labels";
        start(&app, &format!("/scenarios/{id}")).await;
        call(&app, get(&format!("/scenarios/{id}"))).await;
        let before = st.scenarios.slot(id).expect("started");
        // Another tab's stream waits on this channel.
        let mut tab = before.changed.subscribe();
        tab.borrow_and_update();
        call(
            &app,
            post(
                &format!("/scenarios/{id}/kubectl"),
                "cmd=run+hello+--image%3Dnginx",
            ),
        )
        .await;
        assert!(!before.lock().log.is_empty());
        call(&app, post(&format!("/scenarios/{id}/restart"), "")).await;
        let after = st.scenarios.slot(id).expect("still there");
        assert!(
            Arc::ptr_eq(&before, &after),
            "the same slot, so tabs keep it"
        );
        assert!(
            tab.has_changed().unwrap(),
            "the other tab hears of the restart"
        );
        assert!(
            after.lock().log.is_empty(),
            "the run starts again from the setup"
        );
    }

    #[tokio::test]
    async fn a_folder_is_reread_when_a_file_changes_and_errors_show_their_line() {
        let dir = std::env::temp_dir().join(format!("kubesim-scenarios-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (app, st) = app();
        st.scenarios.use_dir(&dir).unwrap();
        let (_, html) = call(&app, get("/scenarios")).await;
        assert!(html.contains("No scenario files"), "{html}");
        let one = include_str!("../../../scenarios/course/01-pods-and-labels.yaml");
        std::fs::write(
            dir.join("mine.yaml"),
            one.replace("title: ", "title: My copy of "),
        )
        .unwrap();
        std::fs::write(dir.join("broken.yaml"), "title: Broken\nsteps:\n  - title: x\n    text: y\n    checks:\n      - name: n\n        cel: nosuchfn(1)\n    solution: [{kubectl: get pods}]\n").unwrap();
        assert!(st.scenarios.rescan());
        assert!(!st.scenarios.rescan(), "nothing changed since");
        let (_, html) = call(&app, get("/scenarios")).await;
        assert!(html.contains("My copy of"), "{html}");
        assert!(
            html.contains("broken.yaml:7:"),
            "the error has its file and line: {html}"
        );
        let (status, html) = call(&app, get("/scenarios/broken")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("broken.yaml:7:"), "{html}");
        let (status, _) = call(&app, get("/scenarios/mine")).await;
        assert_eq!(status, StatusCode::OK);
        std::fs::remove_file(dir.join("broken.yaml")).unwrap();
        assert!(st.scenarios.rescan());
        let (_, html) = call(&app, get("/scenarios")).await;
        assert!(!html.contains("broken.yaml"), "{html}");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            st.scenarios.use_dir(&dir).is_err(),
            "a missing folder is an error"
        );
    }

    #[tokio::test]
    async fn the_console_keeps_a_scrollback_and_runs_in_the_scenarios_namespace() {
        let (app, _) = app();
        let page = "/scenarios/05-broken-release";
        start(&app, page).await;
        let (_, html) = call(&app, get(page)).await;
        assert!(
            html.contains(r#"<option value="live-coding" selected>"#)
                && html.contains(
                    r#"title="the namespace commands without -n run in">live-coding</span>"#
                ),
            "the picker and the prompt start in setup.namespace: {html}"
        );
        let kubectl = format!("{page}/kubectl");
        let (_, json) = call(&app, post(&kubectl, "cmd=get+deploy")).await;
        assert!(
            check(&json, "stdout")
                .as_str()
                .unwrap()
                .contains("credit-scoring-api"),
            "{json}"
        );
        call(&app, post(&kubectl, "cmd=get+svc")).await;
        let (_, html) = call(&app, get(page)).await;
        assert!(
            html.contains("$ kubectl get deploy\nNAME") && html.contains("$ kubectl get svc\n"),
            "every command stays in the scrollback: {html}"
        );
        let (_, json) = call(
            &app,
            get(&format!("{page}/complete?line=rollout+status+deploy+")),
        )
        .await;
        assert_eq!(json, r#"{"words":["credit-scoring-api"]}"#);
        // A watch streams here too.
        let res = app
            .clone()
            .oneshot(post(&kubectl, "cmd=get+deploy+-w"))
            .await
            .unwrap();
        assert_eq!(res.headers()["x-kubesim-watch"], "1");
        let mut body = res.into_body().into_data_stream();
        use tokio_stream::StreamExt;
        let first = body.next().await.unwrap().unwrap();
        assert!(
            String::from_utf8_lossy(&first).starts_with("NAME "),
            "{first:?}"
        );
        drop(body);
        // The picker moves the console and the kubeconfig.
        let (status, _) = call(&app, post(&format!("{page}/namespace"), "ns=default")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, json) = call(&app, post(&kubectl, "cmd=get+deploy")).await;
        assert_eq!(
            check(&json, "stderr"),
            "No resources found in default namespace.\n"
        );
        let (_, config) = call(&app, get(&format!("{page}/kubeconfig"))).await;
        assert!(config.contains("namespace: default"), "{config}");
        let (_, json) = call(
            &app,
            post(
                &kubectl,
                "cmd=config+set-context+--current+--namespace%3Dlive-coding",
            ),
        )
        .await;
        assert_eq!(check(&json, "namespace"), "live-coding");
        let (_, json) = call(&app, post(&kubectl, "cmd=edit+deploy%2Fcredit-scoring-api")).await;
        assert!(
            check(&json, "edit")
                .as_str()
                .unwrap()
                .contains("credit-scoring-api"),
            "{json}"
        );
    }
}
