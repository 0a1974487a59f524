//! The sandbox page: `/` server-rendered, its stream, the console (kubectl, apply), a pod's
//! page, the kubeconfig, and the embedded assets.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{done, error_line, output_json, pod_page, render};
use crate::sandbox::Action;
use crate::{AppState, kube_api, stream, view};

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

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

pub(crate) async fn index(State(st): State<AppState>) -> Response {
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
pub(crate) struct StreamQuery {
    view: Option<String>,
}

pub(crate) async fn stream(
    State(st): State<AppState>,
    Query(q): Query<StreamQuery>,
) -> impl IntoResponse {
    let compare_view = q.view.as_deref() == Some("compare");
    let (changes, shutdown) = (st.changed.subscribe(), st.shutdown.subscribe());
    stream::sse(changes, shutdown, move |version| {
        st.panels(version, compare_view)
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
    let text = kube_api::kubeconfig(&super::server_url(&st, &h), None, st.guard.token.as_deref());
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
        assert!(page.contains(&format!("Name:         {pod}")), "{page}");
        assert!(page.contains("Namespace:    live-coding"), "{page}");
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
