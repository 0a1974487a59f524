//! The Kubernetes REST API on `kubesim serve`'s port, so the real `kubectl` works against the
//! sandbox (issue 7; what kubectl sends is measured in `shared/kubectl-surface.md`).
//!
//! This layer only translates HTTP to sim-core's API server and renders its answers: reads go
//! to the store, and every write becomes one typed [`sim_core::apiserver::call::ApiCall`]
//! (verb, resource, names, body, options) that [`sim_core::Sim::api`] runs and the run records
//! as it was sent, so a run driven by the real kubectl replays exactly (see [`write`]).
//! Errors come back as [`sim_core::ApiError`] and become the API server's `Status` by their
//! code and reason; no kubectl command line is built from a request, and no text is read to
//! decide what happened.
//!
//! Served: discovery (aggregated or legacy, as the client asks), `/version`, OpenAPI v3 (generated),
//! GET/LIST of every stored kind as JSON or as a server-side `Table`, watches (see [`watch`]),
//! POST, PUT, PATCH (JSON, merge, strategic merge, server-side apply), DELETE, `dryRun=All`
//! on every write, the `scale` subresource, `pods/log`, `pods/exec` (see [`exec`]),
//! `pods/portforward` (see [`portforward`]) and `services/proxy`. Every response
//! moves its timestamps so that kubectl's wall-clock ages are virtual ages ([`WallShift`]).

mod discovery;
mod exec;
mod metrics;
mod openapi;
mod portforward;
mod proxy;
mod read;
mod status;
#[cfg(test)]
mod tests;
mod watch;
mod write;

use discovery::*;
use exec::*;
use openapi::*;
use portforward::*;
use proxy::*;
use read::*;
use status::*;
use watch::*;
use write::*;

pub(crate) use read::WallShift;

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use sim_core::Sim;
use sim_core::api::Object;
use sim_core::api::resource::{RESOURCES, Resource};
use sim_core::api::selector::Selector;
use sim_core::api::validation::Invalid;
use sim_core::apiserver::list::{self, ListOptions};
use sim_core::apiserver::resource_of;
use sim_core::error::ApiError;
use sim_core::kubectl::{self, print::GetOptions};
use sim_core::store::Kind;

use crate::AppState;
use crate::cluster::Cluster;

/// The Kubernetes version kubesim reports (the kubectl the course pins).
pub(super) const VERSION: (&str, &str) = ("1", "37");

/// One served resource type: a row of sim-core's resource registry, the one table discovery,
/// the router, the OpenAPI documents and kubectl's resource names all read.
pub(super) type Res = Resource;

/// The API routes, merged into [`crate::router`].
///
/// The same API is served for each scenario's run under `/scenarios/{id}/k8s` (a kubeconfig
/// whose server URL has that path: `kubesim kubeconfig --scenario ID`); the [`Cluster`]
/// extractor picks the cluster from the path.
pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route("/version", get(version))
        .route("/api", get(api_versions))
        .route("/apis", get(api_groups))
        .route("/api/{*rest}", any(handle))
        .route("/apis/{*rest}", any(handle))
        .route("/openapi/v2", get(openapi_v2))
        .route("/openapi/v3", get(openapi_index))
        .route("/openapi/v3/{*rest}", get(openapi_group))
        .route_layer(axum::middleware::from_fn(with_kubectl_command));
    Router::new()
        .nest("/scenarios/{scenario}/k8s", api.clone())
        .merge(api)
}

tokio::task_local! {
    /// The `Kubectl-Command` header of the request being handled (`kubectl rollout undo`).
    static KUBECTL_COMMAND: Option<String>;
}

/// Keeps the `Kubectl-Command` header kubectl sends with every request for the handler, so
/// a change it makes is labelled with what the student typed on the timeline.
pub(super) async fn with_kubectl_command(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let cmd = req
        .headers()
        .get("kubectl-command")
        .and_then(|v| v.to_str().ok())
        .filter(|c| !c.is_empty() && c.len() <= 200)
        .map(str::to_string);
    KUBECTL_COMMAND.scope(cmd, next.run(req)).await
}

/// A kubeconfig for the real kubectl: one cluster at `server` (plain HTTP). For the sandbox:
/// context `kubesim`, default namespace `live-coding` (the demo's). For a scenario's run: the
/// server URL gains `/scenarios/{id}/k8s`, the context is `kubesim-{id}` and the namespace
/// `default`, as in the scenario page's own console. With the server's `token` (a sandbox on
/// the network), a user carrying it as a bearer token; without, no user.
pub fn kubeconfig(server: &str, scenario: Option<&str>, token: Option<&str>) -> String {
    kubeconfig_in(server, scenario, token, "live-coding")
}

/// [`kubeconfig`], the sandbox's context in `namespace` (the page's current namespace).
pub fn kubeconfig_in(
    server: &str,
    scenario: Option<&str>,
    token: Option<&str>,
    namespace: &str,
) -> String {
    let server = server.trim_end_matches('/');
    let (server, context, namespace) = match scenario {
        None => (server.to_string(), "kubesim".to_string(), namespace),
        Some(id) => (
            format!("{server}/scenarios/{id}/k8s"),
            format!("kubesim-{id}"),
            "default",
        ),
    };
    let (users, user) = match token {
        Some(t) => (
            format!("users:\n- name: {context}\n  user:\n    token: {t}\n"),
            format!("    user: {context}\n"),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: {server}
{users}contexts:
- name: {context}
  context:
    cluster: {context}
{user}    namespace: {namespace}
current-context: {context}
"
    )
}

/// What a resource URL names.
pub(super) struct Target<'a> {
    res: &'static Res,
    /// Namespace from the URL (`None` for cluster-scoped or all-namespace requests).
    ns: Option<&'a str>,
    name: Option<&'a str>,
    sub: Option<&'a str>,
    /// The field manager of a write: `?fieldManager=`, else the User-Agent's product
    /// (`kubectl`, `OpenAPI-Generator`), as the API server defaults it.
    manager: String,
}

/// Parses `/api/v1/...` or `/apis/GROUP/v1/...` of a served group; `None` for anything else.
pub(super) fn parse_target(path: &str) -> Option<Result<Target<'_>, Response>> {
    let (group, rest) = if let Some(rest) = path.strip_prefix("/api/v1") {
        ("", rest)
    } else {
        // `/apis/GROUP/VERSION/...` of a group-version the registry serves.
        let (group, rest) = path.strip_prefix("/apis/")?.split_once('/')?;
        let (version, rest) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let res = RESOURCES
            .iter()
            .find(|r| !r.group.is_empty() && r.group == group && r.version == version)?;
        (res.group, rest)
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let find = |name: &str| {
        RESOURCES
            .iter()
            .find(|r| r.group == group && r.plural == name)
    };
    let (ns, res_name, name, sub) = match segs.as_slice() {
        [] => return Some(Err(json_ok(resource_list(group)))),
        ["namespaces", ns, res, tail @ ..] => {
            (Some(*ns), *res, tail.first().copied(), tail.get(1).copied())
        }
        [res, tail @ ..] => (None, *res, tail.first().copied(), tail.get(1).copied()),
    };
    let Some(res) = find(res_name) else {
        return Some(Err(not_found_plain()));
    };
    Some(Ok(Target {
        res,
        ns,
        name,
        sub,
        manager: String::new(),
    }))
}

pub(super) async fn handle(
    st: Cluster,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Result<
        axum::extract::ws::WebSocketUpgrade,
        axum::extract::ws::rejection::WebSocketUpgradeRejection,
    >,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    // A body over the server's limit is a Status, as the API server answers it.
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let code = e.status().as_u16();
            let reason = if code == 413 {
                "RequestEntityTooLarge"
            } else {
                "BadRequest"
            };
            return status(code, reason, &e.body_text(), json!({}));
        }
    };
    // kubectl's generators (`create deployment`, `create namespace`) send protobuf, as
    // client-go's typed clients do: read it into the JSON every other path takes.
    let is_protobuf = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with(crate::protobuf::CONTENT_TYPE));
    let body = if is_protobuf && !body.is_empty() {
        match crate::protobuf::decode(&body) {
            Ok(v) => Bytes::from(v.to_string()),
            Err(e) => return status(415, "UnsupportedMediaType", &e, json!({})),
        }
    } else {
        body
    };
    if let Some(rest) =
        uri.path()
            .strip_prefix(&format!("/apis/{}/{}", metrics::GROUP, metrics::VERSION))
    {
        return metrics::serve(&st, &method, rest, &uri);
    }
    let mut target = match parse_target(uri.path()) {
        None => return not_found_plain(),
        Some(Err(r)) => return r,
        Some(Ok(t)) => t,
    };
    let query: BTreeMap<String, String> = Query::try_from_uri(&uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    target.manager = field_manager(&query, &headers);
    let res = target.res;
    // `/api/v1/namespaces/x/...` with a cluster-scoped type is not a URL the API knows.
    if target.ns.is_some() && !res.namespaced {
        return not_found_plain();
    }
    if res.kind == Kind::Service
        && target.sub == Some("proxy")
        && let (Some(ns), Some(name)) = (target.ns, target.name)
    {
        return service_proxy(&st, ns, name, &method, &uri, body);
    }
    if res.kind == Kind::Pod
        && target.sub == Some("exec")
        && matches!(method, Method::GET | Method::POST)
        && let (Some(ns), Some(name)) = (target.ns, target.name)
    {
        return pod_exec(&st, ns, name, &uri, ws.ok());
    }
    if res.kind == Kind::Pod
        && target.sub == Some("portforward")
        && let (Some(ns), Some(name)) = (target.ns, target.name)
    {
        return pod_port_forward(&st, ns, name, &uri, ws.ok());
    }
    let pairs = query_pairs(&uri);
    let first = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let response = match (method.as_str(), target.name, target.sub) {
        ("GET", None, _) => {
            // Every bad parameter is answered before any work.
            let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let opts = match ListOptions::parse(pairs, res.kind) {
                Ok(o) => o,
                Err(e) => return request_error(&e),
            };
            if opts.watch {
                return watch(&st, &target, opts, &headers);
            }
            list(&st, &target, &opts, &query, &headers)
        }
        // An object's `status` subresource reads as the object, as the API server serves it.
        ("GET", Some(name), None | Some("status")) => {
            get_one(&st, &target, name, first("resourceVersion"), &headers)
        }
        ("GET", Some(name), Some("scale")) => scale_get(&st, &target, name),
        ("GET", Some(name), Some("log")) if res.kind == Kind::Pod => {
            pod_log(&st, &target, name, &query)
        }
        ("POST", None, None)
        | ("POST", Some(_), Some("eviction"))
        | ("PUT" | "PATCH", Some(_), None | Some("scale" | "status"))
        | ("DELETE", Some(_), None) => write(&st, &target, &method, &query, &headers, &body),
        _ => status(
            405,
            "MethodNotAllowed",
            &format!(
                "kubesim does not support {method} on {} yet",
                uri.path().trim_start_matches('/')
            ),
            json!({}),
        ),
    };
    // The deprecation warning the API server sends with every request to v1 Endpoints
    // (`rest.Storage` marks them deprecated in 1.33), which kubectl prints as `Warning: …`.
    if res.kind == Kind::Endpoints {
        return write::with_warnings(response, &[ENDPOINTS_DEPRECATED.to_string()]);
    }
    response
}

/// The API server's warning for a request to v1 Endpoints.
pub(super) const ENDPOINTS_DEPRECATED: &str =
    "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice";
