//! The HTTP handlers, grouped by page; [`crate::router`] lists their routes. What several pages
//! share is here: rendering, the JSON-or-redirect answer, a refused apply's line, a pod's page.

pub(crate) mod compare;
pub(crate) mod console;
pub(crate) mod control;
pub(crate) mod import;
pub(crate) mod sandbox;
pub(crate) mod scenario;

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use sim_core::kubectl::Output;

pub(crate) fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("rendering failed: {e}"),
        )
            .into_response(),
    }
}

pub(crate) fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

pub(crate) fn done(h: &HeaderMap, body: serde_json::Value) -> Response {
    if wants_json(h) {
        axum::Json(body).into_response()
    } else {
        Redirect::to("/").into_response()
    }
}

pub(crate) fn output_json(o: &Output) -> serde_json::Value {
    serde_json::json!({"stdout": o.stdout, "stderr": o.stderr, "code": o.code})
}

/// Where in `yaml` a kubectl error points: the line of a decode error, or the line of the
/// last key of an invalid field's path.
pub(crate) fn error_line(yaml: &str, message: &str) -> Option<usize> {
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

#[derive(Template)]
#[template(path = "pod.html")]
struct PodPage {
    ns: String,
    name: String,
    describe: String,
    logs: String,
    /// The image of a container that cannot be pulled.
    unknown_image: Option<String>,
}

/// A pod's page: `kubectl describe` and `kubectl logs` of a pod of `sim` (the main sandbox's
/// or a scenario's), after checking that the names from the URL are names.
pub(crate) fn pod_page(sim: &sim_core::Sim, ns: String, name: String) -> Response {
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    };
    if !valid(&ns) || !valid(&name) {
        return (StatusCode::BAD_REQUEST, "not a pod name").into_response();
    }
    let error = |e: sim_core::ApiError| format!("Error from server ({}): {e}\n", e.reason());
    let describe = sim_core::kubectl::describe_pod(sim, &ns, &name).unwrap_or_else(error);
    // kubectl logs' default: the pod's first container.
    let pod = sim
        .get_object(sim_core::store::Kind::Pod, &ns, &name)
        .map(|p| p.to_value());
    let container = pod.as_ref().and_then(|p| {
        p["spec"]["containers"][0]["name"]
            .as_str()
            .map(str::to_string)
    });
    // An image the sandbox does not have: say where its images are listed.
    let unknown_image = pod.as_ref().and_then(|p| {
        p["status"]["containerStatuses"]
            .as_array()?
            .iter()
            .find(|c| {
                matches!(
                    c["state"]["waiting"]["reason"].as_str(),
                    Some("ErrImagePull" | "ImagePullBackOff")
                )
            })
            .and_then(|c| c["image"].as_str().map(str::to_string))
    });
    let options = sim_core::apiserver::log::LogOptions {
        container,
        ..Default::default()
    };
    let logs = sim.pod_log(&ns, &name, &options).unwrap_or_else(error);
    render(&PodPage {
        ns,
        name,
        describe,
        logs,
        unknown_image,
    })
}

/// This server's URL as the client reached it (its Host header, which the guard has checked:
/// on `0.0.0.0` that is the name students use), else the listen address.
pub(crate) fn server_url(st: &crate::AppState, h: &HeaderMap) -> String {
    match h.get(header::HOST).and_then(|v| v.to_str().ok()) {
        Some(host) => format!("http://{host}"),
        None => st.scenarios.server(),
    }
}

#[cfg(test)]
mod tests {
    //! The oneshot helpers the pages' route tests share.

    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::sandbox::Sandbox;
    use crate::{AppState, DEMO, router};

    pub(super) fn app() -> Router {
        router(AppState::new(Sandbox::new(DEMO, None).unwrap(), "test"))
    }

    pub(super) async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String) {
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    pub(super) fn form(uri: &str, body: &str) -> Request<Body> {
        Request::post(uri)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    pub(super) fn urlencode(s: &str) -> String {
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
