//! What moves the sandbox besides the console: the clock (pause, play, step, scrub), node and
//! image faults, and traffic (load on a Service, one request).

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sim_core::controller::node_lifecycle::NodeFault;
use sim_core::kubectl::Output;

use super::{done, output_json};
use crate::sandbox::{self, Action, Sandbox, Speed};
use crate::{AppState, view};

pub(crate) async fn pause(State(st): State<AppState>, h: HeaderMap) -> Response {
    st.sb().speed = Speed::Paused;
    st.notify();
    done(&h, serde_json::json!({"speed": "paused"}))
}

#[derive(Deserialize)]
pub(crate) struct PlayQuery {
    pub(crate) speed: Option<String>,
}

pub(crate) async fn play(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<PlayQuery>,
) -> Response {
    let speed = match Speed::from_query(q.speed.as_deref()) {
        Ok(s) => s,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    st.sb().speed = speed;
    st.notify();
    done(&h, serde_json::json!({"speed": speed.label()}))
}

pub(crate) async fn step(State(st): State<AppState>, h: HeaderMap) -> Response {
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
pub(crate) struct ScrubForm {
    ms: u64,
}

pub(crate) async fn scrub(
    State(st): State<AppState>,
    h: HeaderMap,
    Form(f): Form<ScrubForm>,
) -> Response {
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

pub(crate) async fn fault(
    State(st): State<AppState>,
    h: HeaderMap,
    Path(kind): Path<String>,
) -> Response {
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
        // What `kubectl set image deployment/N CONTAINER=IMAGE` sends (the first container),
        // recorded as that request.
        let dep = |image: &str| {
            first_deployment.as_ref().and_then(|(ns, n)| {
                let container = sb
                    .sim
                    .store
                    .deployments
                    .lookup(ns, n)
                    .and_then(|id| sb.sim.store.deployments.get(id))
                    .and_then(|(_, d)| {
                        let spec = d.spec.as_ref()?.template.spec.as_ref()?;
                        spec.containers.first().map(|c| c.name.clone())
                    })
                    .unwrap_or_else(|| "*".into());
                let images = [(container, image.to_string())];
                match sb.sim.set_image_call(ns, n, &images) {
                    Ok(Some(call)) => Some(Action::Api(Box::new(call))),
                    _ => None,
                }
            })
        };
        match kind.as_str() {
            "break-image" => dep(&format!("{repo}:broken")),
            "fix-image" => dep(&format!("{repo}:v2")),
            // What the console runs for `rollout undo deployment/N`.
            "undo" => first_deployment
                .as_ref()
                .map(|(ns, n)| Action::Kubectl(format!("rollout undo deployment/{n} -n {ns}"))),
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
                .map(|(ns, n, _)| {
                    // What `kubectl delete pod N --wait=false` sends: one DELETE.
                    Action::Api(Box::new(sim_core::apiserver::call::ApiCall {
                        verb: sim_core::apiserver::call::Verb::Delete,
                        resource: "pods".into(),
                        group: String::new(),
                        namespace: Some(ns.to_string()),
                        name: Some(n.to_string()),
                        subresource: None,
                        patch_type: None,
                        body: serde_json::Value::Null,
                        options: Default::default(),
                    }))
                }),
            "node-down" => node.map(|n| Action::node(NodeFault::Down, n)),
            "node-up" => node.map(|n| Action::node(NodeFault::Up, n)),
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
        c.push(format!("# {label}\n{}{}", out.stdout, out.stderr));
    }
    st.notify();
    done(&h, output_json(&out))
}

/// The traffic form: a Service (`namespace/name`), what to send, and for load how much.
#[derive(Deserialize)]
pub(crate) struct TrafficForm {
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
    st.console()
        .push(format!("# {label}\n{}{}", out.stdout, out.stderr));
    st.notify();
    done(h, output_json(out))
}

pub(crate) async fn traffic_start(
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

pub(crate) async fn traffic_stop(
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
        let action = Action::StopTraffic(sandbox::StopTraffic {
            namespace: r.namespace,
            service: Some(r.service),
        });
        let out = sb.act(action.clone());
        (action, out)
    };
    answer(&st, &h, &view::action_label(&action), &out)
}

pub(crate) async fn request(
    State(st): State<AppState>,
    h: HeaderMap,
    Form(f): Form<TrafficForm>,
) -> Response {
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;

    use super::*;
    use crate::routes::tests::{app, call, form, urlencode};

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
}
