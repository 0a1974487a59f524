//! The sandbox page: `/` server-rendered, its stream, the console (kubectl, apply), a pod's
//! page, the kubeconfig, and the embedded assets.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::console::{self, in_namespace};
use super::{done, error_line, output_json, pod_page, render};
use crate::sandbox::Action;
use crate::{AppState, kube_api, stream, view};

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    /// The server's form token, in every form (`crate::guard`).
    form_token: String,
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
    /// The namespace picker.
    namespaces: String,
    /// The namespace the console's commands run in.
    context_ns: String,
    last_cmd: String,
    console: String,
    yaml: String,
    apply_out: String,
    nodeports: String,
    services: Vec<String>,
    service: String,
    /// The timeline shows the whole run (`?timeline=whole`), else it follows the action.
    whole: bool,
    /// Presenter mode (`?present`): large type for a lecture hall.
    present: bool,
}

/// The main page's view: `?timeline=whole`, `?present`.
#[derive(Deserialize, Default)]
pub(crate) struct IndexQuery {
    timeline: Option<String>,
    present: Option<String>,
}

pub(crate) async fn index(State(st): State<AppState>, Query(q): Query<IndexQuery>) -> Response {
    let window = crate::timeline::Window::parse(q.timeline.as_deref());
    let (panels, now_ms, start_ms, horizon_ms, services) = {
        let sb = st.sb();
        let ns = st.console().namespace.clone();
        let mut panels: BTreeMap<&str, String> = view::live_in(&sb, ns.as_deref(), window)
            .panels
            .into_iter()
            .collect();
        panels.insert(
            "namespaces",
            view::namespace_picker(&sb.sim, ns.as_deref(), &st.form_token),
        );
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
        form_token: st.form_token.to_string(),
        title: st.title.to_string(),
        server: st.scenarios.server(),
        clock: p("clock"),
        now_ms,
        start_ms,
        horizon_ms,
        cluster: p("cluster"),
        deployments: p("deployments"),
        timeline: p("timeline"),
        whole: window == crate::timeline::Window::Whole,
        present: q.present.is_some(),
        events: p("events"),
        namespaces: p("namespaces"),
        context_ns: c.context_namespace().to_string(),
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
pub(crate) struct StreamQuery {
    view: Option<String>,
    /// `whole`: the timeline shows the whole run (else it follows the latest activity).
    timeline: Option<String>,
}

pub(crate) async fn stream(
    State(st): State<AppState>,
    Query(q): Query<StreamQuery>,
) -> impl IntoResponse {
    let compare_view = q.view.as_deref() == Some("compare");
    let window = crate::timeline::Window::parse(q.timeline.as_deref());
    let (changes, shutdown) = (st.changed.subscribe(), st.shutdown.subscribe());
    stream::sse(changes, shutdown, move |version| {
        st.panels(version, compare_view, window)
    })
}

#[derive(Deserialize)]
pub(crate) struct CmdForm {
    cmd: String,
}

pub(crate) async fn kubectl(
    State(st): State<AppState>,
    h: HeaderMap,
    Form(f): Form<CmdForm>,
) -> Response {
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
    if words.first().map(String::as_str) == Some("config") {
        let current = st.console().context_namespace().to_string();
        let view = |ns: &str| {
            let server = super::server_url(&st, &h);
            let text = kube_api::kubeconfig_in(&server, None, st.guard.token.as_deref(), ns);
            // Like kubectl, the token is not shown.
            match &st.guard.token {
                Some(t) => text.replace(t.as_str(), "REDACTED"),
                None => text,
            }
        };
        let (out, moved) = console::config(&words, &current, &view);
        if let Some(ns) = moved {
            st.console().namespace = Some(ns);
        }
        {
            let mut c = st.console();
            c.cmd = cmd.clone();
            c.push(format!("$ kubectl {cmd}\n{}{}", out.stdout, out.stderr));
        }
        st.notify();
        let mut body = output_json(&out);
        body["namespace"] = serde_json::json!(st.console().context_namespace());
        return done(&h, body);
    }
    let ns = st.console().context_namespace().to_string();
    let cmd_in_ns = in_namespace(&cmd, &words, &ns);
    let cmd_typed = cmd;
    let cmd = cmd_in_ns;
    if words.first().map(String::as_str) == Some("edit") {
        let (out, yaml) = console::edit(&st.sb().sim, &cmd);
        {
            let mut c = st.console();
            c.push(format!(
                "$ kubectl {cmd_typed}\n{}{}",
                out.stdout, out.stderr
            ));
            if let Some(y) = &yaml {
                c.yaml = y.clone();
                c.apply_out = String::new();
            }
            c.cmd = cmd_typed;
        }
        let mut body = output_json(&out);
        body["edit"] = serde_json::json!(yaml);
        return done(&h, body);
    }
    // A watch streams to a page that reads it; a form without JavaScript gets what it
    // prints at once, as any command.
    if super::wants_json(&h) && sim_core::kubectl::is_watch(&cmd) {
        st.console().cmd = cmd_typed.clone();
        let rec = st.clone();
        return console::stream_watch(
            crate::cluster::Cluster::Sandbox(st),
            &cmd,
            &cmd_typed,
            Box::new(move |entry| rec.console().push(entry)),
        );
    }
    let out = if sim_core::kubectl::is_read_only(&words) {
        // Reading changes nothing, so it is not part of the run's history.
        let mut sb = st.sb();
        sim_core::kubectl::run(&mut sb.sim, &cmd, &sim_core::kubectl::NoFiles)
    } else {
        st.sb().act(Action::Kubectl(cmd.clone()))
    };
    {
        let mut c = st.console();
        c.push(format!(
            "$ kubectl {cmd_typed}\n{}{}",
            out.stdout, out.stderr
        ));
        c.cmd = cmd_typed;
    }
    st.notify();
    done(&h, output_json(&out))
}

#[derive(Deserialize)]
pub(crate) struct CompleteQuery {
    line: String,
}

/// `GET /complete?line=...`: the words that complete the console line's last word, in the
/// console's namespace.
pub(crate) async fn complete(
    State(st): State<AppState>,
    Query(q): Query<CompleteQuery>,
) -> Response {
    let ns = st.console().context_namespace().to_string();
    console::completions(&st.sb().sim, &q.line, &ns)
}

#[derive(Deserialize)]
pub(crate) struct NamespaceForm {
    ns: String,
}

/// The namespace picker: the page, the console and the kubeconfig move to one namespace (an
/// empty value: all namespaces, the console then in `default`).
pub(crate) async fn namespace(
    State(st): State<AppState>,
    h: HeaderMap,
    Form(f): Form<NamespaceForm>,
) -> Response {
    let ns = match console::picked_namespace(&f.ns) {
        Ok(ns) => ns,
        Err(r) => return *r,
    };
    st.console().namespace = ns;
    st.notify();
    let current = st.console().context_namespace().to_string();
    done(&h, serde_json::json!({"namespace": current}))
}

#[derive(Deserialize)]
pub(crate) struct ApplyForm {
    yaml: String,
}

pub(crate) async fn apply(
    State(st): State<AppState>,
    h: HeaderMap,
    Form(f): Form<ApplyForm>,
) -> Response {
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

pub(crate) async fn pod(
    State(st): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    let sb = st.sb();
    pod_page(&sb.sim, ns, name)
}

/// A kubeconfig for the sandbox, as `kubesim kubeconfig` prints it.
pub(crate) async fn kubeconfig(State(st): State<AppState>, h: HeaderMap) -> Response {
    let ns = st.console().context_namespace().to_string();
    let text = kube_api::kubeconfig_in(
        &super::server_url(&st, &h),
        None,
        st.guard.token.as_deref(),
        &ns,
    );
    ([(header::CONTENT_TYPE, "application/yaml")], text).into_response()
}

pub(crate) async fn asset(Path(file): Path<String>) -> Response {
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;

    use super::*;
    use crate::BODY_LIMIT;
    use crate::routes::tests::{app, call, form, urlencode};

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
    async fn an_image_kubesim_lacks_points_the_student_to_the_catalogue() {
        let st = AppState::new(crate::Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let lecture = "europe-central2-docker.pkg.dev/mlops/course/api:single";
        let out = st.sb().act(Action::Kubectl(format!(
            "run lecture --image={lecture} -n live-coding"
        )));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(30);
        st.sb().run_to(t);
        let app = crate::router(st);
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let (status, page) = call(&app, get("/pod/live-coding/lecture")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains(&format!(
                "kubesim's registry has no image <code>{lecture}</code>: see <a href=\"/images\">"
            )),
            "{page}"
        );
        assert!(
            page.contains("kubesim images"),
            "the event says it too: {page}"
        );
        let (status, images) = call(&app, get("/images")).await;
        assert_eq!(status, StatusCode::OK);
        for i in sim_core::images::catalog() {
            assert!(
                images.contains(&format!("<code>{}</code>", i.image)),
                "{}",
                i.image
            );
        }
        assert!(images.contains("with <code>BROKEN=1 MODEL_VERSION=broken</code>"));
        let (_, first) = call(&app, get("/")).await;
        assert!(
            first.contains("href=\"/images\""),
            "the sandbox links to it"
        );
    }

    #[tokio::test]
    async fn a_pods_page_shows_its_describe_and_its_logs() {
        let st = AppState::new(crate::Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let pod = st
            .sb()
            .sim
            .store
            .pods
            .all_names()
            .find(|(ns, _, _)| *ns == "live-coding")
            .map(|(_, n, _)| n.to_string())
            .unwrap();
        let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(60);
        st.sb().run_to(t);
        let app = crate::router(st);
        let (status, page) = call(
            &app,
            Request::get(format!("/pod/live-coding/{pod}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        // The label column is as wide as `Service Account:` (every pod has one).
        assert!(page.contains(&format!("Name:             {pod}")), "{page}");
        assert!(page.contains("Namespace:        live-coding"), "{page}");
        assert!(!page.contains("Error from server"), "{page}");
        let (_, gone) = call(
            &app,
            Request::get("/pod/live-coding/nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(
            gone.contains("Error from server (NotFound): pods &#34;nope&#34; not found"),
            "{gone}"
        );
    }

    #[tokio::test]
    async fn the_console_the_picker_and_the_kubeconfig_share_one_namespace() {
        let app = app();
        // The demo runs in live-coding, and so does a command without -n.
        let (_, json) = call(&app, form("/kubectl", "cmd=get+deploy")).await;
        assert!(json.contains("credit-scoring-api   10/10"), "{json}");
        let (_, page) = call(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        assert!(
            page.contains(r#"<option value="live-coding" selected>"#),
            "{page}"
        );
        assert!(page.contains("deploy/credit-scoring-api"), "{page}");
        // As in a terminal, set-context moves the console, the picker and the kubeconfig.
        let (_, json) = call(
            &app,
            form(
                "/kubectl",
                "cmd=config+set-context+--current+--namespace%3Dteam-b",
            ),
        )
        .await;
        assert!(
            json.contains(r#"modified"#) && json.contains(r#""namespace":"team-b""#),
            "{json}"
        );
        let (_, json) = call(&app, form("/kubectl", "cmd=get+pods")).await;
        assert!(
            json.contains("No resources found in team-b namespace"),
            "{json}"
        );
        let (_, config) = call(
            &app,
            Request::get("/kubeconfig").body(Body::empty()).unwrap(),
        )
        .await;
        assert!(config.contains("namespace: team-b"), "{config}");
        // All namespaces: the cluster says so, and the console falls back to default.
        let (status, _) = call(&app, form("/namespace", "ns=")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, page) = call(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        assert!(
            page.contains("10 pods in all namespaces (at most 150,000)"),
            "{page}"
        );
        assert!(
            page.contains("live-coding/deploy/credit-scoring-api"),
            "{page}"
        );
        let (status, _) = call(&app, form("/namespace", "ns=Not_Valid")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, json) = call(
            &app,
            form(
                "/kubectl",
                "cmd=config+set-context+--current+--namespace%3D..",
            ),
        )
        .await;
        assert!(json.contains("not a valid namespace"), "{json}");
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
        // The kill-pod fault deletes a pod through the API, recorded as that DELETE.
        let (status, json) = call(&app, form("/fault/kill-pod", "")).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert!(json.contains("deleted"), "{json}");
        let (_, run) = call(&app, Request::get("/export").body(Body::empty()).unwrap()).await;
        assert!(
            run.contains("verb: delete") && run.contains("resource: pods"),
            "{run}"
        );
        let (status, _) = call(&app, form("/control/play?speed=-3", "")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let huge = format!("yaml={}", "a".repeat(BODY_LIMIT + 10));
        let (status, _) = call(&app, form("/apply", &huge)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let (status, body) = call(
            &app,
            Request::post("/import")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from("steps: [{nope: 1}]"))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // And the sandbox still serves.
        let (status, _) = call(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
    }
}

/// One row of the image catalogue page.
struct ImageRow {
    image: String,
    anchor: String,
    ports: String,
    about: String,
    module: Option<&'static str>,
    env: String,
    tags: Option<String>,
}

#[derive(Template)]
#[template(path = "images.html")]
struct ImagesPage {
    images: Vec<ImageRow>,
    spellings: String,
}

/// `GET /images`: every built-in image and what it does (`kubesim images`).
pub(crate) async fn images() -> Response {
    let images = sim_core::images::catalog()
        .into_iter()
        .map(|i| ImageRow {
            anchor: i
                .image
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect(),
            ports: i
                .ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            about: crate::markdown::markdown_inline(i.about),
            tags: i.tags.as_deref().map(crate::markdown::markdown_inline),
            module: i.module,
            env: i
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            image: i.image,
        })
        .collect();
    render(&ImagesPage {
        images,
        spellings: crate::markdown::markdown_inline(sim_core::images::SPELLINGS),
    })
}
