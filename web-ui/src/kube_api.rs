//! The Kubernetes REST API on `kubesim serve`'s port, so the real `kubectl` works against the
//! sandbox (issue 7; what kubectl sends is measured in `shared/kubectl-surface.md`).
//!
//! This layer only translates HTTP to sim-core: reads go straight to the store, and every
//! write becomes the sandbox [`Action`] a student could have typed (`Action::Apply` of the
//! manifest, or a text `kubectl` command), so a run driven by the real kubectl is recorded and
//! replays exactly like one driven from the web console.
//!
//! Served: discovery (aggregated or legacy, as the client asks), `/version`, an
//! OpenAPI v3 stub (enough for `apply`'s validation), GET/LIST of every stored kind as JSON or
//! as a server-side `Table`, POST (create), DELETE, the `scale` subresource, and the PATCHes
//! kubectl sends for client-side `apply`, `set image`, `scale`, `rollout
//! undo|pause|resume|restart`, and watches (see [`watch`]).
//!
//! The patches kubectl's own commands send are recognised and recorded as the command
//! (client-side apply carries the new manifest in its last-applied annotation; `set image`
//! carries the images; `rollout undo` carries the old ReplicaSet's template, which names the
//! revision). Any other patch (merge, JSON, strategic merge), a PUT and server-side apply are
//! merged here into the live object and recorded as a `replace` of the whole result. Every
//! response moves its timestamps so that kubectl's wall-clock ages are virtual ages
//! ([`wall_shift`]).

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
use sim_core::api::decode::{decode_value, to_yaml};
use sim_core::api::defaults::set_defaults;
use sim_core::api::selector::Selector;
use sim_core::api::validation::{Invalid, validate, validate_update};
use sim_core::apiserver::{LAST_APPLIED, resource_of};
use sim_core::error::ApiError;
use sim_core::kubectl::{self, print::GetOptions};
use sim_core::store::Kind;

use crate::AppState;
use crate::cluster::Cluster;
use crate::sandbox::Action;
pub(crate) use patches::merge_key;

/// The Kubernetes version kubesim reports (the kubectl the course pins).
const VERSION: (&str, &str) = ("1", "37");

/// One served resource type.
struct Res {
    /// Plural, as in URLs.
    name: &'static str,
    singular: &'static str,
    kind: Kind,
    short: &'static [&'static str],
    /// `""` for core.
    group: &'static str,
    namespaced: bool,
    /// In the `all` category (`kubectl get all`).
    all: bool,
}

/// Every served type, in discovery order (`get all` lists pods, services, deployments,
/// replicasets in this order).
const RESOURCES: &[Res] = &[
    Res {
        name: "pods",
        singular: "pod",
        kind: Kind::Pod,
        short: &["po"],
        group: "",
        namespaced: true,
        all: true,
    },
    Res {
        name: "services",
        singular: "service",
        kind: Kind::Service,
        short: &["svc"],
        group: "",
        namespaced: true,
        all: true,
    },
    Res {
        name: "endpoints",
        singular: "endpoints",
        kind: Kind::Endpoints,
        short: &["ep"],
        group: "",
        namespaced: true,
        all: false,
    },
    Res {
        name: "events",
        singular: "event",
        kind: Kind::Event,
        short: &["ev"],
        group: "",
        namespaced: true,
        all: false,
    },
    Res {
        name: "namespaces",
        singular: "namespace",
        kind: Kind::Namespace,
        short: &["ns"],
        group: "",
        namespaced: false,
        all: false,
    },
    Res {
        name: "nodes",
        singular: "node",
        kind: Kind::Node,
        short: &["no"],
        group: "",
        namespaced: false,
        all: false,
    },
    Res {
        name: "deployments",
        singular: "deployment",
        kind: Kind::Deployment,
        short: &["deploy"],
        group: "apps",
        namespaced: true,
        all: true,
    },
    Res {
        name: "replicasets",
        singular: "replicaset",
        kind: Kind::ReplicaSet,
        short: &["rs"],
        group: "apps",
        namespaced: true,
        all: true,
    },
];

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

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
async fn with_kubectl_command(
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

/// A kubeconfig for the real kubectl: one cluster at `server` (plain HTTP on loopback, no
/// user). For the sandbox: context `kubesim`, default namespace `live-coding` (the demo's).
/// For a scenario's run: the server URL gains `/scenarios/{id}/k8s`, the context is
/// `kubesim-{id}` and the namespace `default`, as in the scenario page's own console.
pub fn kubeconfig(server: &str, scenario: Option<&str>) -> String {
    let server = server.trim_end_matches('/');
    let (server, context, namespace) = match scenario {
        None => (server.to_string(), "kubesim".to_string(), "live-coding"),
        Some(id) => (
            format!("{server}/scenarios/{id}/k8s"),
            format!("kubesim-{id}"),
            "default",
        ),
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: {server}
contexts:
- name: {context}
  context:
    cluster: {context}
    namespace: {namespace}
current-context: {context}
"
    )
}

// ---- discovery ----

async fn version() -> Response {
    json_ok(json!({
        "major": VERSION.0,
        "minor": VERSION.1,
        "gitVersion": format!("v{}.{}.0-kubesim", VERSION.0, VERSION.1),
        "gitCommit": "kubesim",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "kubesim",
        "compiler": "rustc",
        "platform": "linux/amd64",
    }))
}

async fn api_versions(headers: HeaderMap) -> Response {
    if let Some(v) = aggregated_version(&headers) {
        return aggregated(v, &[""]);
    }
    json_ok(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }))
}

async fn api_groups(headers: HeaderMap) -> Response {
    if let Some(v) = aggregated_version(&headers) {
        return aggregated(v, &["apps"]);
    }
    let gv = json!({"groupVersion": "apps/v1", "version": "v1"});
    json_ok(json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{"name": "apps", "versions": [gv], "preferredVersion": gv}],
    }))
}

/// The aggregated discovery version the client asks for first (`v2`, `v2beta1`), if any: the
/// response's Content-Type must then name it exactly (kubectl-surface §2.2), else kubectl
/// reads the body as legacy discovery.
fn aggregated_version(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(header::ACCEPT)?.to_str().ok()?;
    accept.split(',').find_map(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        if params.first() != Some(&"application/json")
            || !params.contains(&"g=apidiscovery.k8s.io")
            || !params.contains(&"as=APIGroupDiscoveryList")
        {
            return None;
        }
        if params.contains(&"v=v2") {
            Some("v2")
        } else if params.contains(&"v=v2beta1") {
            Some("v2beta1")
        } else {
            None
        }
    })
}

/// Aggregated discovery: every resource of `groups` in one `APIGroupDiscoveryList`, built
/// from the same lists legacy discovery serves.
fn aggregated(version: &str, groups: &[&str]) -> Response {
    let items: Vec<Value> = groups
        .iter()
        .map(|group| {
            let list = resource_list(group);
            let entries = list["resources"].as_array().cloned().unwrap_or_default();
            let mut resources: Vec<Value> = Vec::new();
            for e in &entries {
                let name = e["name"].as_str().unwrap_or("");
                if let Some((parent, sub)) = name.split_once('/') {
                    let kind_group = e["group"].as_str().unwrap_or(group);
                    let kind_version = e["version"].as_str().unwrap_or("v1");
                    if let Some(r) = resources.iter_mut().find(|r| r["resource"] == parent) {
                        let subs = r
                            .as_object_mut()
                            .map(|o| o.entry("subresources").or_insert_with(|| json!([])));
                        if let Some(Value::Array(subs)) = subs {
                            subs.push(json!({
                                "subresource": sub,
                                "responseKind": {"group": kind_group, "version": kind_version, "kind": e["kind"]},
                                "verbs": e["verbs"],
                            }));
                        }
                    }
                    continue;
                }
                let mut r = json!({
                    "resource": name,
                    "responseKind": {"group": group, "version": "v1", "kind": e["kind"]},
                    "scope": if e["namespaced"].as_bool().unwrap_or(false) { "Namespaced" } else { "Cluster" },
                    "singularResource": e["singularName"],
                    "verbs": e["verbs"],
                    "shortNames": e["shortNames"],
                });
                if let Some(c) = e.get("categories") {
                    r["categories"] = c.clone();
                }
                resources.push(r);
            }
            let metadata = if group.is_empty() {
                json!({})
            } else {
                json!({"name": group})
            };
            json!({
                "metadata": metadata,
                "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}],
            })
        })
        .collect();
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    });
    (
        [(
            header::CONTENT_TYPE,
            format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// `APIResourceList` of one group (`""` for core).
fn resource_list(group: &str) -> Value {
    let mut resources = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
        let mut e = json!({
            "name": r.name,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind.as_str(),
            "verbs": VERBS,
            "shortNames": r.short,
        });
        if r.all {
            e["categories"] = json!(["all"]);
        }
        resources.push(e);
        match r.kind {
            Kind::Deployment | Kind::ReplicaSet => resources.push(json!({
                "name": format!("{}/scale", r.name), "singularName": "", "namespaced": true,
                "group": "autoscaling", "version": "v1", "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            })),
            Kind::Pod => resources.push(json!({
                "name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod",
                "verbs": ["get"],
            })),
            _ => {}
        }
    }
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

// ---- OpenAPI v3 stub (kubectl-surface §3) ----

async fn openapi_index() -> Response {
    json_ok(json!({"paths": {
        "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=kubesim1"},
        "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=kubesim1"},
    }}))
}

/// One group-version document: a PATCH operation per kind carrying the `fieldValidation`
/// parameter and no `requestBody`, so kubectl validates on the server and patches with its
/// compiled-in types.
async fn openapi_group(uri: Uri) -> Response {
    let group = match uri.path() {
        "/openapi/v3/api/v1" => "",
        "/openapi/v3/apis/apps/v1" => "apps",
        _ => return not_found_plain(),
    };
    let mut paths = serde_json::Map::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
        let prefix = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/v1")
        };
        let path = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.name)
        } else {
            format!("{prefix}/{}/{{name}}", r.name)
        };
        paths.insert(
            path,
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": group, "version": "v1", "kind": r.kind.as_str()},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            }}),
        );
    }
    json_ok(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (kubesim stub)", "version": "v1.37.0"},
        "paths": paths,
    }))
}

// ---- requests on resources ----

/// What a resource URL names.
struct Target<'a> {
    res: &'static Res,
    /// Namespace from the URL (`None` for cluster-scoped or all-namespace requests).
    ns: Option<&'a str>,
    name: Option<&'a str>,
    sub: Option<&'a str>,
    /// The field manager of a write: `?fieldManager=`, else the User-Agent's product
    /// (`kubectl`, `OpenAPI-Generator`), as the API server defaults it.
    manager: String,
}

/// Parses `/api/v1/...` or `/apis/apps/v1/...`; `None` for anything else.
fn parse_target(path: &str) -> Option<Result<Target<'_>, Response>> {
    let (group, rest) = if let Some(rest) = path.strip_prefix("/api/v1") {
        ("", rest)
    } else if let Some(rest) = path.strip_prefix("/apis/apps/v1") {
        ("apps", rest)
    } else {
        return None;
    };
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let find = |name: &str| {
        RESOURCES
            .iter()
            .find(|r| r.group == group && r.name == name)
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

async fn handle(
    st: Cluster,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
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
    match (method.as_str(), target.name, target.sub) {
        ("GET", None, _) => {
            if is_on(&query, "watch") {
                return watch(&st, &target, &query, &headers);
            }
            list(&st, &target, &query, &headers)
        }
        ("GET", Some(name), None) => get_one(&st, &target, name, &headers),
        ("GET", Some(name), Some("scale")) => scale_get(&st, &target, name),
        ("GET", Some(name), Some("log")) if res.kind == Kind::Pod => {
            pod_log(&st, &target, name, &query)
        }
        ("POST", None, None) => create(&st, &target, &body),
        ("DELETE", Some(name), None) => {
            let uid = snapshot(&st, &target, name).map(|s| s.0);
            let r = delete(&st, &target, name);
            if let Some(uid) = uid.filter(|_| r.status().is_success()) {
                st.managed().forget(&uid);
            }
            r
        }
        ("PATCH" | "PUT", Some(name), Some("scale")) => {
            recorded(&st, &target, name, || scale_set(&st, &target, name, &body))
        }
        ("PATCH", Some(name), None) if is_apply(&headers) => {
            server_side_apply(&st, &target, name, &query, &body)
        }
        ("PATCH", Some(name), None) => recorded(&st, &target, name, || {
            patch(&st, &target, name, &query, &headers, &body)
        }),
        ("PUT", Some(name), None) => {
            recorded(&st, &target, name, || put(&st, &target, name, &body))
        }
        _ => status(
            405,
            "MethodNotAllowed",
            &format!(
                "kubesim does not support {method} on {} yet",
                uri.path().trim_start_matches('/')
            ),
            json!({}),
        ),
    }
}

/// `services/{name}/proxy/{path}` (also `{name}:{port}` and `{scheme}:{name}:{port}`, as
/// `kubectl proxy` and `kubectl get --raw` send them): the request goes to the Service as a
/// `request` action, so it is recorded and replays, and the program's answer comes back as
/// it is. A Service that cannot answer gets the API server's 503 `error trying to reach
/// service`.
fn service_proxy(
    st: &Cluster,
    ns: &str,
    name_port: &str,
    method: &Method,
    uri: &Uri,
    body: Bytes,
) -> Response {
    let parts: Vec<&str> = name_port.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, None),
        [name, port] => (*name, Some(*port)),
        [_scheme, name, port] => (*name, Some(*port)),
        _ => {
            return status(
                400,
                "BadRequest",
                &format!("invalid service name {name_port:?}"),
                json!({}),
            );
        }
    };
    // Everything after `.../services/{name}/proxy`, with the query.
    let marker = format!("/services/{name_port}/proxy");
    let path = uri.path().split_once(&marker).map_or("", |(_, rest)| rest);
    let path = match (path.is_empty(), uri.query()) {
        (true, None) => "/".to_string(),
        (true, Some(q)) => format!("/?{q}"),
        (false, None) => path.to_string(),
        (false, Some(q)) => format!("{path}?{q}"),
    };
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return status(
            400,
            "BadRequest",
            "kubesim records proxied requests as text: the body must be UTF-8",
            json!({}),
        );
    };
    let not_found = || {
        status(
            404,
            "NotFound",
            &format!("services \"{name}\" not found"),
            json!({"name": name, "kind": "services"}),
        )
    };
    {
        let sb = st.lock();
        let sim = sb.sim();
        let Some((_, svc)) = sim
            .store
            .services
            .lookup(ns, name)
            .and_then(|id| sim.store.services.get(id))
        else {
            return not_found();
        };
        // A port (by number or by name) the Service does not have: nothing listens there.
        if let Some(p) = port {
            let ports: Vec<_> = svc
                .spec
                .iter()
                .flat_map(|s| s.ports.iter().flatten())
                .collect();
            if !ports
                .iter()
                .any(|sp| sp.port.to_string() == p || sp.name.as_deref() == Some(p))
            {
                return status(
                    503,
                    "ServiceUnavailable",
                    &format!("no endpoints available for service \"{name_port}\""),
                    json!({"name": name_port, "kind": "services"}),
                );
            }
        }
    }
    let reply = st.request(crate::sandbox::Request {
        namespace: ns.to_string(),
        service: name.to_string(),
        method: method.as_str().to_string(),
        path,
        body,
    });
    match crate::node_ports::reply_response(reply) {
        Ok(res) => res,
        Err(why) => status(
            503,
            "ServiceUnavailable",
            &format!("error trying to reach service: {why}"),
            json!({}),
        ),
    }
}

/// `pods/{name}/log` (`kubectl logs`): the container's lines as text/plain; `container`,
/// `previous` and `tailLines` as kubectl sends them. Reading changes nothing, so it is not
/// recorded in the run.
fn pod_log(st: &Cluster, t: &Target<'_>, name: &str, q: &BTreeMap<String, String>) -> Response {
    let ns = t.ns.unwrap_or("default");
    let mut cmd = format!("logs {name} -n {ns}");
    if let Some(c) = q.get("container") {
        cmd.push_str(&format!(" -c {c}"));
    }
    if is_on(q, "previous") {
        cmd.push_str(" --previous");
    }
    if let Some(n) = q.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        cmd.push_str(&format!(" --tail {n}"));
    }
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    if !valid(name) || !valid(ns) || q.get("container").is_some_and(|c| !valid(c)) {
        return status(
            400,
            "BadRequest",
            "invalid pod or container name",
            json!({}),
        );
    }
    let out = {
        let mut sb = st.lock();
        sim_core::kubectl::run(sb.sim_mut(), &cmd, &sim_core::kubectl::NoFiles)
    };
    if out.code == 0 {
        return ([(header::CONTENT_TYPE, "text/plain")], out.stdout).into_response();
    }
    let text = out.stderr.trim_end();
    let message = text
        .split_once("): ")
        .map_or(text.trim_start_matches("error: "), |(_, m)| m);
    if text.contains("(NotFound)") {
        status(
            404,
            "NotFound",
            message,
            json!({"name": name, "kind": "pods"}),
        )
    } else {
        status(400, "BadRequest", message, json!({}))
    }
}

fn is_on(q: &BTreeMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

/// How many changes each cluster keeps for its watchers once one watches.
const CHANGE_LOG: usize = 50_000;

/// `?watch=1`: a stream of `{"type", "object"}` lines. A watch-list
/// (`sendInitialEvents=true`) is refused with the 422 a server without the WatchList feature
/// gives, so kubectl falls back to LIST + WATCH instead of waiting forever for a bookmark
/// (kubectl-surface §4.7).
///
/// After every change of the cluster (its `changed` signal, at most 20 times a second) the
/// watcher reads the store's change log from the resourceVersion it last saw, looks up only
/// the objects of its kind that changed, and sends them as `ADDED`/`MODIFIED`, or `DELETED`
/// with the last state it sent when an object is gone or no longer selected. So a watch
/// costs what changed, not the size of its kind, and many watchers cost nothing while the
/// cluster is still. It lists its kind instead (and diffs with what it sent) at the start,
/// when it fell more than [`CHANGE_LOG`] changes behind, after the cluster was rebuilt
/// (scrubber, reset step) and for events. Objects changed after the requested
/// resourceVersion are sent as `MODIFIED` first; deletions from before the watch started
/// cannot be replayed. A watcher that went away is noticed at its next write.
fn watch(
    st: &Cluster,
    t: &Target<'_>,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    if is_on(q, "sendInitialEvents") {
        return status(
            422,
            "Invalid",
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
            json!({}),
        );
    }
    let (selector, fields) = match selectors(q) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let since: u64 = q
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1800u64)
        .min(3600);
    let as_table = wants_table(headers);
    let kind = t.res.kind;
    let ns = t.ns.map(str::to_string);
    let st = st.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);
    tokio::spawn(async move {
        let mut changes = st.subscribe();
        let mut shutdown = st.shutdown();
        let deadline = tokio::time::sleep(std::time::Duration::from_secs(timeout));
        tokio::pin!(deadline);
        // What this watcher has sent: (namespace, name) -> (resourceVersion, object).
        let mut sent: BTreeMap<(String, String), (u64, Object)> = BTreeMap::new();
        // The store's resourceVersion this watcher has caught up with (None: list first).
        let mut seen: Option<u64> = None;
        loop {
            let lines = {
                let mut sb = st.lock();
                let current = sb.sim().store.resource_version();
                // The (namespace, name) of this kind changed since `seen`, from the store's
                // change log; `None` when the watcher must list its kind again: the first
                // time, after the log forgot changes it had not read, when the cluster was
                // rebuilt (the scrubber, a reset step: resourceVersions went back), or for
                // events, which the log does not carry.
                let changed: Option<std::collections::BTreeSet<(String, String)>> = seen
                    .filter(|s| *s <= current && kind != Kind::Event)
                    .and_then(|s| sb.sim().store.changes_since(s))
                    .map(|changes| {
                        changes
                            .filter(|c| {
                                c.kind == kind && ns.as_deref().is_none_or(|n| *n == *c.namespace)
                            })
                            .map(|c| (c.namespace.to_string(), c.name.to_string()))
                            .collect()
                    });
                if changed.is_none() && kind != Kind::Event {
                    // Keep a change log from now on (a no-op once kept).
                    sb.sim_mut().store.keep_changes(CHANGE_LOG);
                }
                let sim = sb.sim();
                let wanted = |o: &Object| {
                    let labels = o.metadata().labels.clone().unwrap_or_default();
                    selector.matches(&labels)
                        && (fields.is_empty() || {
                            let v = o.to_value();
                            fields.iter().all(|f| f.matches(&v))
                        })
                };
                let entry = |o: Object| {
                    let rv = o
                        .metadata()
                        .resource_version
                        .as_deref()
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(0);
                    let key = (
                        o.namespace().unwrap_or("").to_string(),
                        o.name().to_string(),
                    );
                    (key, (rv, o))
                };
                // The matching objects now, among those that may have changed.
                let (now, keys): (BTreeMap<_, _>, Option<_>) = match &changed {
                    None => (
                        kubectl::list(sim, kind, ns.as_deref(), &selector)
                            .into_iter()
                            .filter(|o| fields.is_empty() || wanted(o))
                            .map(entry)
                            .collect(),
                        None,
                    ),
                    Some(keys) => (
                        keys.iter()
                            .filter_map(|(o_ns, name)| sim.get_object(kind, o_ns, name))
                            .filter(|o| wanted(o))
                            .map(entry)
                            .collect(),
                        Some(keys),
                    ),
                };
                let rv = current.to_string();
                let mut lines = String::new();
                let shift = wall_shift(sim);
                let mut line = |ty: &str, o: &Object| {
                    let mut object = if as_table {
                        table(sim, kind, std::slice::from_ref(o), &rv, None)
                    } else {
                        o.to_value()
                    };
                    shift_times(&mut object, shift);
                    lines.push_str(&json!({"type": ty, "object": object}).to_string());
                    lines.push('\n');
                };
                let first = seen.is_none();
                for (key, (rv, o)) in &now {
                    match sent.get(key) {
                        // No resourceVersion: the current state first, as ADDED.
                        None if first && since == 0 => line("ADDED", o),
                        None if first && *rv <= since => {}
                        None if first => line("MODIFIED", o),
                        None => line("ADDED", o),
                        Some((old, _)) if old != rv => line("MODIFIED", o),
                        Some(_) => {}
                    }
                }
                // Gone, or no longer selected: DELETED with the last state sent.
                let gone: Vec<(String, String)> = sent
                    .keys()
                    .filter(|k| keys.is_none_or(|ks| ks.contains(*k)) && !now.contains_key(*k))
                    .cloned()
                    .collect();
                for k in gone {
                    if let Some((_, o)) = sent.remove(&k) {
                        line("DELETED", &o);
                    }
                }
                if keys.is_none() {
                    sent.clear();
                }
                sent.extend(now);
                seen = Some(current);
                lines
            };
            if !lines.is_empty() && tx.send(Ok(Bytes::from(lines))).await.is_err() {
                return; // the client went away
            }
            tokio::select! {
                r = changes.changed() => if r.is_err() { return },
                _ = tx.closed() => return,
                _ = shutdown.changed() => return,
                _ = &mut deadline => return,
            }
            // At most 20 updates a second per watcher.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response()
}

/// How far to move the API's timestamps so that kubectl, which computes ages against the
/// wall clock (`describe`, `get events`), sees the virtual ages: virtual time `t` is shown as
/// `wall_now - (virtual_now - t)`. One shift per response, so its ages agree with each other;
/// sim-core's own timestamps stay deterministic (virtual time from the run's epoch).
fn wall_shift(sim: &Sim) -> i64 {
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let virtual_ms = sim.store.epoch_unix_ms + i64::try_from(sim.now().millis()).unwrap_or(0);
    // Whole seconds, so the fractional part of a MicroTime stays as it is.
    (wall_ms - virtual_ms).div_euclid(1000)
}

/// Moves every timestamp in `v` (RFC 3339 strings in UTC, outside labels and annotations)
/// by `shift_secs`.
fn shift_times(v: &mut Value, shift_secs: i64) {
    if shift_secs == 0 {
        return;
    }
    match v {
        Value::String(s) => {
            // `2026-01-01T00:00:00Z` or `2026-01-01T00:00:00.000000Z`.
            let b = s.as_bytes();
            if b.len() >= 20
                && b[4] == b'-'
                && b[10] == b'T'
                && b[19..]
                    .iter()
                    .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'Z')
                && s.ends_with('Z')
                && let Ok(t) = s[..19].parse::<k8s_openapi::jiff::civil::DateTime>()
                && let Ok(ts) = t.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC)
                && let Ok(moved) = ts
                    .timestamp()
                    .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(shift_secs))
            {
                let rest = s[19..].to_string();
                *s = format!("{}{rest}", moved.strftime("%Y-%m-%dT%H:%M:%S"));
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k != "annotations" && k != "labels" {
                    shift_times(x, shift_secs);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift_times(x, shift_secs)),
        _ => {}
    }
}

/// The resource name in messages: `deployments.apps`, `pods`.
fn qualified(res: &Res) -> String {
    resource_of(res.kind).to_string()
}

fn not_found(res: &Res, name: &str) -> Response {
    api_error(&ApiError::not_found(&qualified(res), name), res, name)
}

fn wants_table(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("as=Table"))
}

/// The request's `labelSelector` and `fieldSelector` (as list and watch read them), or the
/// BadRequest Status the API server gives for a bad one.
fn selectors(q: &BTreeMap<String, String>) -> Result<(Selector, Vec<FieldTerm>), Box<Response>> {
    let bad = |msg: String| Box::new(status(400, "BadRequest", &msg, json!({})));
    let selector = match q.get("labelSelector").map(|s| Selector::parse(s)) {
        None => Selector::everything(),
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(bad(format!("unable to parse requirement: {e}"))),
    };
    let fields = match q.get("fieldSelector").map(|s| parse_fields(s)) {
        None => Vec::new(),
        Some(Ok(f)) => f,
        Some(Err(e)) => return Err(bad(e)),
    };
    Ok((selector, fields))
}

fn list(
    st: &Cluster,
    t: &Target<'_>,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let (selector, fields) = match selectors(q) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let sb = st.lock();
    let objs: Vec<Object> = kubectl::list(sb.sim(), t.res.kind, t.ns, &selector)
        .into_iter()
        .filter(|o| {
            let v = o.to_value();
            fields.iter().all(|f| f.matches(&v))
        })
        .collect();
    let rv = sb.sim().store.resource_version().to_string();
    if wants_table(headers) {
        let mut v = table(
            sb.sim(),
            t.res.kind,
            &objs,
            &rv,
            q.get("includeObject").map(String::as_str),
        );
        shift_times(&mut v, wall_shift(sb.sim()));
        return json_ok(v);
    }
    let shift = wall_shift(sb.sim());
    let items: Vec<Value> = objs
        .iter()
        .map(|o| {
            let mut v = with_managed_fields(st, o);
            shift_times(&mut v, shift);
            v
        })
        .collect();
    json_ok(json!({
        "kind": format!("{}List", t.res.kind.as_str()),
        "apiVersion": t.res.kind.api_version(),
        "metadata": {"resourceVersion": rv},
        "items": items,
    }))
}

/// One term of a field selector (`metadata.name=x`, `involvedObject.kind!=Pod`).
struct FieldTerm {
    path: Vec<String>,
    value: String,
    equal: bool,
}

impl FieldTerm {
    fn matches(&self, obj: &Value) -> bool {
        let mut v = obj;
        for p in &self.path {
            match v.get(p) {
                Some(x) => v = x,
                None => return (self.value.is_empty()) == self.equal,
            }
        }
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        (s == self.value) == self.equal
    }
}

/// Parses a field selector; the terms may come in any order (kubectl-surface §4.6).
fn parse_fields(s: &str) -> Result<Vec<FieldTerm>, String> {
    s.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (k, v, equal) = if let Some((k, v)) = t.split_once("!=") {
                (k, v, false)
            } else if let Some((k, v)) = t.split_once("==") {
                (k, v, true)
            } else if let Some((k, v)) = t.split_once('=') {
                (k, v, true)
            } else {
                return Err(format!("invalid selector: '{s}'; can't understand '{t}'"));
            };
            Ok(FieldTerm {
                path: k.split('.').map(str::to_string).collect(),
                value: v.to_string(),
                equal,
            })
        })
        .collect()
}

/// A `meta.k8s.io/v1` Table of `objs` with the columns `kubectl get` shows for the kind, the
/// cells computed from the simulated now.
fn table(sim: &Sim, kind: Kind, objs: &[Object], rv: &str, include: Option<&str>) -> Value {
    let opts = GetOptions {
        cells: true,
        ..GetOptions::default()
    };
    let now = sim.store.now_timestamp();
    let cells: Value =
        serde_json::from_str(&kubectl::render(kind, objs, &opts, now)).unwrap_or(Value::Null);
    let columns: Vec<Value> = cells["columns"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c[0].as_str().unwrap_or(""),
                "type": "string",
                "format": if i == 0 { "name" } else { "" },
                "description": "",
                "priority": if c[1].as_bool().unwrap_or(false) { 1 } else { 0 },
            })
        })
        .collect();
    let rows: Vec<Value> = cells["rows"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .zip(objs)
        .map(|(cells, o)| {
            let object = match include {
                Some("Object") => o.to_value(),
                Some("None") => Value::Null,
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.to_value().get("metadata").cloned().unwrap_or(Value::Null),
                }),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn lookup(sim: &Sim, res: &Res, ns: &str, name: &str) -> Option<Object> {
    if res.kind == Kind::Event {
        return kubectl::list(sim, Kind::Event, Some(ns), &Selector::everything())
            .into_iter()
            .find(|o| o.name() == name);
    }
    sim.get_object(res.kind, ns, name)
}

fn get_one(st: &Cluster, t: &Target<'_>, name: &str, headers: &HeaderMap) -> Response {
    let sb = st.lock();
    let Some(obj) = lookup(sb.sim(), t.res, t.ns.unwrap_or(""), name) else {
        return not_found(t.res, name);
    };
    let shift = wall_shift(sb.sim());
    let mut v = if wants_table(headers) {
        let rv = sb.sim().store.resource_version().to_string();
        table(sb.sim(), t.res.kind, &[obj], &rv, None)
    } else {
        with_managed_fields(st, &obj)
    };
    shift_times(&mut v, shift);
    json_ok(v)
}

/// The manager of a write: `fieldManager`, else the User-Agent up to its first `/`.
fn field_manager(q: &BTreeMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.chars().take(128).collect();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|p| !p.is_empty())
        .map_or_else(|| "unknown".to_string(), |p| p.chars().take(128).collect())
}

/// The object's uid, its JSON, the cluster's resourceVersion and now (as an API timestamp).
fn snapshot(st: &Cluster, t: &Target<'_>, name: &str) -> Option<(String, Value, u64, String)> {
    let sb = st.lock();
    let sim = sb.sim();
    let o = lookup(sim, t.res, t.ns.unwrap_or(""), name)?;
    let now = serde_json::to_value(sim.store.time(sim.now()))
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Some((
        o.metadata().uid.clone().unwrap_or_default(),
        o.to_value(),
        sim.store.resource_version(),
        now,
    ))
}

/// A server-side apply (`application/apply-patch+yaml`).
fn is_apply(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.split(';').next().unwrap_or("").trim() == "application/apply-patch+yaml")
}

/// Runs a write on an existing object and, if it succeeded, gives its manager the fields it
/// changed.
fn recorded(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    write: impl FnOnce() -> Response,
) -> Response {
    let before = snapshot(st, t, name).map(|s| s.1);
    let r = write();
    if r.status().is_success() {
        record_update(st, t, name, before.as_ref());
    }
    r
}

/// After a write other than an apply: the fields it changed are now its manager's.
fn record_update(st: &Cluster, t: &Target<'_>, name: &str, before: Option<&Value>) {
    if let Some((uid, after, rv, now)) = snapshot(st, t, name) {
        let mut m = st.managed();
        m.follow(rv);
        m.update(&uid, &t.manager, t.sub, before, &after, &now);
    }
}

/// The object's JSON with its `managedFields`, as a GET shows it (kubectl hides them unless
/// `--show-managed-fields`).
fn with_managed_fields(st: &Cluster, o: &Object) -> Value {
    let mut v = o.to_value();
    if let Some(uid) = o.metadata().uid.as_deref()
        && let Some(mf) = st.managed().to_json(uid, o.api_version())
        && let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
    {
        meta.insert("managedFields".into(), mf);
    }
    v
}

/// A server-side apply's conflicts as the API server words them (`NewConflictError`).
fn conflict_status(res: &Res, name: &str, conflicts: &[crate::managed::Conflict]) -> Response {
    let path = |c: &crate::managed::Conflict| crate::managed::display(&c.path);
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager,
            path(one)
        ),
        many => {
            let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for c in many {
                by_manager.entry(&c.manager).or_default().push(path(c));
            }
            let lines: Vec<String> = by_manager
                .iter()
                .flat_map(|(m, paths)| {
                    std::iter::once(format!("conflicts with {m}:"))
                        .chain(paths.iter().map(|p| format!("- {p}")))
                })
                .collect();
            format!(
                "Apply failed with {} conflicts: {}",
                many.len(),
                lines.join("\n")
            )
        }
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager),
                "field": path(c),
            })
        })
        .collect();
    let mut d = details(res, name);
    d["causes"] = Value::Array(causes);
    status(409, "Conflict", &message, d)
}

/// Decodes a request body's object, which must be of the URL's resource kind.
fn decode_for(t: &Target<'_>, value: Value) -> Result<Object, Box<Response>> {
    let bad = |msg: &str| Box::new(status(400, "BadRequest", msg, json!({})));
    let obj = decode_value(value).map_err(|e| bad(&e.to_string()))?;
    if obj.kind() != t.res.kind.as_str() {
        return Err(bad(&format!(
            "the kind {} does not match the resource {}",
            obj.kind(),
            t.res.name
        )));
    }
    Ok(obj)
}

/// The kubectl word for a kind in the text commands the writes are recorded as.
fn word(res: &Res) -> &'static str {
    res.singular
}

/// ` -n NS` for namespaced targets.
fn ns_flag(t: &Target<'_>) -> String {
    t.ns.map(|n| format!(" -n {n}")).unwrap_or_default()
}

/// Runs `action` on the sandbox, labelled with the kubectl command that sent it, tells the
/// tabs, and returns kubectl's text output.
fn act(st: &Cluster, action: Action) -> kubectl::Output {
    let typed = KUBECTL_COMMAND.try_with(Clone::clone).ok().flatten();
    st.act(action, typed)
}

/// A failed recorded action as a Status, from kubectl's `Error from server (Reason): msg`.
fn failed(out: &kubectl::Output, res: &Res, name: &str) -> Response {
    let text = out.stderr.trim();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    if let Some(rest) = text.strip_prefix("Error from server (")
        && let Some((reason, msg)) = rest.split_once("): ")
    {
        let code = match reason {
            "NotFound" => 404,
            "AlreadyExists" | "Conflict" => 409,
            "Invalid" => 422,
            "Forbidden" => 403,
            _ => 400,
        };
        return status(code, reason, msg, details(res, name));
    }
    status(400, "BadRequest", text, details(res, name))
}

fn parse_body(body: &Bytes) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(body)
}

/// 400 for a body that is not JSON (kubectl always sends JSON).
fn bad_json(e: &serde_json::Error) -> Response {
    status(
        400,
        "BadRequest",
        &format!("the request body is not valid JSON: {e}"),
        json!({}),
    )
}

/// POST: create. Pre-checked here (exists, namespace, validation) so errors carry the Status
/// kubectl expects; then recorded as an apply of the posted manifest.
/// POST: creates the object, whose fields are then its creator's.
fn create(st: &Cluster, t: &Target<'_>, body: &Bytes) -> Response {
    let (r, name) = create_object(st, t, body);
    if let Some(name) = name.filter(|_| r.status().is_success()) {
        record_update(st, t, &name, None);
    }
    r
}

/// Creates the object of a POST body; its name, once known.
fn create_object(st: &Cluster, t: &Target<'_>, body: &Bytes) -> (Response, Option<String>) {
    let r = create_inner(st, t, body);
    let name = parse_body(body).ok().and_then(|v| {
        v.pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    (r, name)
}

fn create_inner(st: &Cluster, t: &Target<'_>, body: &Bytes) -> Response {
    let mut value = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    if let (Some(ns), Some(meta)) = (
        t.ns,
        value.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), Value::String(ns.into()));
            }
            Some(n) if n != ns => {
                return status(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                    json!({}),
                );
            }
            Some(_) => {}
        }
    }
    let mut obj = match decode_for(t, value.clone()) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let name = obj.name().to_string();
    let ns = t.ns.unwrap_or("");
    {
        let sb = st.lock();
        if lookup(sb.sim(), t.res, ns, &name).is_some() {
            let e = ApiError::AlreadyExists {
                resource: qualified(t.res),
                name: name.clone(),
            };
            return api_error(&e, t.res, &name);
        }
        if !ns.is_empty() && sb.sim().get_object(Kind::Namespace, "", ns).is_none() {
            let e = ApiError::not_found("namespaces", ns);
            return api_error(&e, t.res, ns);
        }
    }
    set_defaults(&mut obj);
    if let Err(inv) = validate(&obj) {
        return invalid(&inv);
    }
    // Created as sent: kubectl's `create` sends no last-applied annotation, a client-side
    // `apply` of a new object sends its own.
    let out = act(st, Action::Create(to_yaml(&value)));
    if out.code != 0 {
        return failed(&out, t.res, &name);
    }
    match lookup(st.lock().sim(), t.res, ns, &name) {
        Some(o) => (StatusCode::CREATED, json_body(&o.to_value())).into_response(),
        None => failed(&out, t.res, &name),
    }
}

/// DELETE: recorded as `kubectl delete KIND NAME --wait=false` (the owned objects go as the
/// garbage collector removes them); answers a Success Status.
fn delete(st: &Cluster, t: &Target<'_>, name: &str) -> Response {
    if lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name).is_none() {
        return not_found(t.res, name);
    }
    let cmd = format!("delete {} {name}{} --wait=false", word(t.res), ns_flag(t));
    let out = act(st, Action::Kubectl(cmd));
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    json_ok(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": details(t.res, name),
    }))
}

/// The `autoscaling/v1` Scale of a Deployment or ReplicaSet.
fn scale_of(sim: &Sim, t: &Target<'_>, name: &str) -> Option<Value> {
    let v = lookup(sim, t.res, t.ns.unwrap_or(""), name)?.to_value();
    let selector = v
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let meta = &v["metadata"];
    Some(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": v.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": v.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    }))
}

fn scale_get(st: &Cluster, t: &Target<'_>, name: &str) -> Response {
    if !matches!(t.res.kind, Kind::Deployment | Kind::ReplicaSet) {
        return not_found_plain();
    }
    match scale_of(st.lock().sim(), t, name) {
        Some(s) => json_ok(s),
        None => not_found(t.res, name),
    }
}

/// PATCH (merge patch) or PUT (whole Scale, possibly without Content-Type) on `/scale`:
/// recorded as `kubectl scale`.
fn scale_set(st: &Cluster, t: &Target<'_>, name: &str, body: &Bytes) -> Response {
    if !matches!(t.res.kind, Kind::Deployment | Kind::ReplicaSet) {
        return not_found_plain();
    }
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let Some(replicas) = v.pointer("/spec/replicas").and_then(Value::as_i64) else {
        return status(
            422,
            "Invalid",
            "spec.replicas: Required value",
            details(t.res, name),
        );
    };
    if scale_of(st.lock().sim(), t, name).is_none() {
        return not_found(t.res, name);
    }
    let cmd = format!(
        "scale {}/{name} --replicas={replicas}{}",
        word(t.res),
        ns_flag(t)
    );
    let out = act(st, Action::Kubectl(cmd));
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    match scale_of(st.lock().sim(), t, name) {
        Some(s) => json_ok(s),
        None => not_found(t.res, name),
    }
}

/// PATCH. The patches kubectl's own commands send (client-side `apply`, `scale`, `set image`,
/// `rollout ...`) are recorded as those commands; any other patch is applied here to the live
/// object (strategic merge, JSON merge or JSON patch) and the result is recorded as a
/// `replace` of the whole object. `application/apply-patch+yaml` is server-side apply.
fn patch(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let ctype = ctype.split(';').next().unwrap_or("").trim();
    if ctype == "application/apply-patch+yaml" {
        return server_side_apply(st, t, name, q, body);
    }
    let p = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let ns = t.ns.unwrap_or("");
    let Some(live) = lookup(st.lock().sim(), t.res, ns, name) else {
        return not_found(t.res, name);
    };
    let target = format!("{}/{name}{}", word(t.res), ns_flag(t));
    let known = match ctype {
        "application/strategic-merge-patch+json" => strategic_action(t, &target, &p, true),
        "application/merge-patch+json" => strategic_action(t, &target, &p, false),
        "application/json-patch+json" => undo_action(st, t, &target, &live, &p),
        other => {
            return status(
                415,
                "UnsupportedMediaType",
                &format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (not {other:?})"
                ),
                details(t.res, name),
            );
        }
    };
    let Some(action) = known else {
        // Any other patch: merged here, recorded as the whole object it leaves.
        let mut merged = live.to_value();
        match ctype {
            "application/json-patch+json" => {
                if !p.is_array() {
                    return status(
                        400,
                        "BadRequest",
                        "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                        json!({}),
                    );
                }
                if let Err(e) = patches::json_patch(&mut merged, &p) {
                    // As the API server's patch handler answers: a generic 422 whose one
                    // cause is the patch library's error.
                    return status(
                        422,
                        "Invalid",
                        &e,
                        json!({"causes": [{"reason": "UnexpectedServerResponse", "message": e}]}),
                    );
                }
            }
            "application/merge-patch+json" => sim_core::apiserver::merge_patch(&mut merged, &p),
            _ => patches::strategic_merge(&mut merged, &p),
        }
        return replace_with(st, t, name, &live, merged);
    };
    if let Action::Apply(y) = &action {
        // Validate the new manifest first so an invalid apply answers 422 with its causes.
        if let Ok(mut o) = sim_core::api::decode::parse_manifests(y)
            .map_err(|_| ())
            .and_then(|m| m.into_iter().next().ok_or(()))
            .map(|m| m.object)
        {
            set_defaults(&mut o);
            if let Err(inv) = validate(&o) {
                return invalid(&inv);
            }
        }
    }
    let out = act(st, action);
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    match lookup(st.lock().sim(), t.res, ns, name) {
        Some(o) => json_ok(o.to_value()),
        None => not_found(t.res, name),
    }
}

/// PUT (`kubectl replace`): the whole object replaces the live one.
fn put(st: &Cluster, t: &Target<'_>, name: &str, body: &Bytes) -> Response {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let Some(live) = lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name) else {
        return not_found(t.res, name);
    };
    if let Some(rv) = v
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && !rv.is_empty()
        && Some(rv) != live.metadata().resource_version.as_deref()
    {
        return status(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(t.res)
            ),
            details(t.res, name),
        );
    }
    replace_with(st, t, name, &live, v)
}

/// The new whole object `v` for the live `live`: checked (name, namespace, kind, validation
/// of the update) so errors are the API server's Statuses, then recorded as a `replace`
/// action of its spec, labels and annotations.
fn replace_with(st: &Cluster, t: &Target<'_>, name: &str, live: &Object, mut v: Value) -> Response {
    if matches!(t.res.kind, Kind::Endpoints | Kind::Event) {
        return status(
            405,
            "MethodNotAllowed",
            &format!(
                "kubesim manages {} itself: they cannot be updated",
                t.res.name
            ),
            details(t.res, name),
        );
    }
    let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
        return status(400, "BadRequest", "the object has no metadata", json!({}));
    };
    match meta.get("name").and_then(Value::as_str) {
        None | Some("") => {
            meta.insert("name".into(), name.into());
        }
        Some(n) if n != name => {
            return status(
                400,
                "BadRequest",
                &format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                ),
                json!({}),
            );
        }
        Some(_) => {}
    }
    if let Some(ns) = t.ns {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), ns.into());
            }
            Some(n) if n != ns => {
                return status(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                    json!({}),
                );
            }
            Some(_) => {}
        }
    }
    // What the API server keeps from the live object whatever the body says.
    for k in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "managedFields",
        "ownerReferences",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        meta.remove(k);
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    let mut obj = match decode_for(t, v.clone()) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    set_defaults(&mut obj);
    // The stored object as the API server would hold it (kubesim's pods leave some defaults
    // implicit), so that only real changes count.
    let mut old = live.clone();
    set_defaults(&mut old);
    if let Err(inv) = validate_update(&old, &obj) {
        return invalid(&inv);
    }
    let out = act(st, Action::Replace(to_yaml(&v)));
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    match lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name) {
        Some(o) => json_ok(o.to_value()),
        None => not_found(t.res, name),
    }
}

/// Server-side apply (`kubectl apply --server-side`): the applied configuration is merged
/// into the live object as a strategic merge patch (or creates it). Field managers are not
/// tracked, so there are no conflicts and fields a manager stops applying stay.
fn server_side_apply(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    q: &BTreeMap<String, String>,
    body: &Bytes,
) -> Response {
    if q.get("fieldManager").is_none_or(String::is_empty) {
        return status(
            400,
            "BadRequest",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            json!({}),
        );
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return status(400, "BadRequest", "the body is not UTF-8", json!({}));
    };
    let applied: Value = match serde_yaml::from_str(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return status(
                400,
                "BadRequest",
                "the applied configuration is not an object",
                json!({}),
            );
        }
        Err(e) => {
            return status(
                400,
                "BadRequest",
                &format!("error decoding YAML: {e}"),
                json!({}),
            );
        }
    };
    let force = is_on(q, "force");
    let live = lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name);
    match live {
        Some(live) => {
            let Some((uid, live_v, rv, now)) = snapshot(st, t, name) else {
                return not_found(t.res, name);
            };
            let mut merged = live_v.clone();
            patches::strategic_merge(&mut merged, &applied);
            // Conflicts with other managers, and the fields this manager stopped applying.
            let planned = {
                let mut m = st.managed();
                m.follow(rv);
                m.apply(
                    &uid,
                    &t.manager,
                    live.api_version(),
                    &applied,
                    Some(&live_v),
                    &mut merged,
                    force,
                    &now,
                )
            };
            let entries = match planned {
                Ok(e) => e,
                Err(conflicts) => return conflict_status(t.res, name, &conflicts),
            };
            let r = replace_with(st, t, name, &live, merged);
            if r.status().is_success() {
                st.managed().commit(&uid, entries);
            }
            r
        }
        None => {
            let mut v = applied.clone();
            if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
                && meta.get("name").is_none()
            {
                meta.insert("name".into(), name.into());
            }
            let (r, _) = create_object(st, t, &Bytes::from(v.to_string()));
            if r.status().is_success()
                && let Some((uid, mut created, rv, now)) = snapshot(st, t, name)
            {
                let mut m = st.managed();
                m.follow(rv);
                let version = created["apiVersion"].as_str().unwrap_or("v1").to_string();
                if let Ok(entries) = m.apply(
                    &uid,
                    &t.manager,
                    &version,
                    &applied,
                    None,
                    &mut created,
                    force,
                    &now,
                ) {
                    m.commit(&uid, entries);
                }
            }
            r
        }
    }
}

/// A strategic merge (or merge) patch, as the action it stands for.
/// `None` when it is not one of the patches kubectl's own commands send. `strategic` tells a
/// strategic merge patch (containers merge by name) from a JSON merge patch.
fn strategic_action(t: &Target<'_>, target: &str, p: &Value, strategic: bool) -> Option<Action> {
    // Client-side apply: the new manifest is the patch's last-applied annotation.
    if let Some(last) = p
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
    {
        let mut manifest: Value = serde_json::from_str(last).ok()?;
        // Keep kubectl's own last-applied text with the manifest, so that the next apply of
        // the same file finds nothing to change.
        if let Some(meta) = manifest.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(LAST_APPLIED.into(), Value::String(last.to_string()));
            }
        }
        return Some(Action::Apply(to_yaml(&manifest)));
    }
    if !matches!(t.res.kind, Kind::Deployment | Kind::ReplicaSet) {
        return None;
    }
    if let Some(n) = only_at(p, &["spec", "replicas"]).and_then(Value::as_i64) {
        return Some(Action::Kubectl(format!("scale {target} --replicas={n}")));
    }
    if t.res.kind != Kind::Deployment {
        return None;
    }
    if let Some(Value::Bool(paused)) = only_at(p, &["spec", "paused"]) {
        let verb = if *paused { "pause" } else { "resume" };
        return Some(Action::Kubectl(format!("rollout {verb} {target}")));
    }
    if only_at(
        p,
        &[
            "spec",
            "template",
            "metadata",
            "annotations",
            "kubectl.kubernetes.io/restartedAt",
        ],
    )
    .is_some()
    {
        return Some(Action::Kubectl(format!("rollout restart {target}")));
    }
    // `kubectl set image`: containers (merged by name, so only in a strategic merge patch)
    // with only name and image.
    let cs = only_at(p, &["spec", "template", "spec", "containers"])
        .and_then(Value::as_array)
        .filter(|_| strategic)?;
    let pairs: Vec<String> = cs
        .iter()
        .map(|c| {
            let o = c.as_object()?;
            if o.keys().any(|k| k != "name" && k != "image") {
                return None;
            }
            Some(format!(
                "{}={}",
                o.get("name")?.as_str()?,
                o.get("image")?.as_str()?
            ))
        })
        .collect::<Option<_>>()?;
    (!pairs.is_empty()).then(|| Action::Kubectl(format!("set image {target} {}", pairs.join(" "))))
}

/// The value at `path` when the patch holds nothing else (one key at every level).
fn only_at<'v>(p: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut v = p;
    for k in path {
        let m = v.as_object().filter(|m| m.len() == 1)?;
        v = m.get(*k)?;
    }
    Some(v)
}

/// `kubectl rollout undo`'s JSON patch: `replace /spec/template` with an old ReplicaSet's
/// template (and `/metadata/annotations`); recorded as `rollout undo --to-revision=R` for
/// that ReplicaSet's revision. `None` for any other JSON patch.
fn undo_action(
    st: &Cluster,
    t: &Target<'_>,
    target: &str,
    live: &Object,
    p: &Value,
) -> Option<Action> {
    if t.res.kind != Kind::Deployment {
        return None;
    }
    let ops = p.as_array()?;
    if !ops.iter().all(|op| {
        op["op"] == "replace"
            && (op["path"] == "/spec/template" || op["path"] == "/metadata/annotations")
    }) {
        return None;
    }
    let template = ops
        .iter()
        .find(|op| op["path"] == "/spec/template")
        .map(|op| comparable_template(&op["value"]))?;
    let uid = live.metadata().uid.clone().unwrap_or_default();
    let sb = st.lock();
    let rss = kubectl::list(sb.sim(), Kind::ReplicaSet, t.ns, &Selector::everything());
    let revision = rss
        .iter()
        .filter(|rs| {
            rs.metadata()
                .owner_references
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .any(|o| o.uid == uid)
        })
        .find_map(|rs| {
            let v = rs.to_value();
            (comparable_template(&v["spec"]["template"]) == template)
                .then(|| {
                    rs.metadata()
                        .annotations
                        .as_ref()?
                        .get("deployment.kubernetes.io/revision")
                        .cloned()
                })
                .flatten()
        })?;
    Some(Action::Kubectl(format!(
        "rollout undo {target} --to-revision={revision}"
    )))
}

/// A pod template without what differs between a ReplicaSet's copy and kubectl's rollback
/// body: the hash label, and the empty objects and nulls Go's encoder adds
/// (`resources: {}`, `creationTimestamp: null`).
fn comparable_template(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(l) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove("pod-template-hash");
    }
    prune(&mut v);
    v
}

/// Removes nulls and empty objects, recursively.
fn prune(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                prune(x);
            }
            m.retain(|_, x| !x.is_null() && x.as_object().is_none_or(|o| !o.is_empty()));
        }
        Value::Array(a) => a.iter_mut().for_each(prune),
        _ => {}
    }
}

// ---- responses ----

fn json_body(v: &Value) -> impl IntoResponse + use<> {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string())
}

fn json_ok(v: Value) -> Response {
    json_body(&v).into_response()
}

/// What a real API server answers for a URL it does not serve.
fn not_found_plain() -> Response {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource",
        json!({}),
    )
}

fn details(res: &Res, name: &str) -> Value {
    json!({"name": name, "group": res.group, "kind": res.name})
}

/// A `Status` object with `code` as the HTTP status too.
fn status(code: u16, reason: &str, message: &str, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code,
    });
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        json_body(&body),
    )
        .into_response()
}

fn api_error(e: &ApiError, res: &Res, name: &str) -> Response {
    if let ApiError::Invalid(inv) = e {
        return invalid(inv);
    }
    status(e.code(), e.reason(), &e.to_string(), details(res, name))
}

/// 422 Invalid with one cause per field error (kubectl prints the causes, not the message).
fn invalid(inv: &Invalid) -> Response {
    let causes: Vec<Value> = inv
        .causes
        .iter()
        .map(
            |c| json!({"reason": c.error_type.cause_type(), "message": c.body(), "field": c.field}),
        )
        .collect();
    status(
        422,
        "Invalid",
        &inv.status_message(),
        json!({"name": inv.name, "kind": inv.kind, "causes": causes}),
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::sandbox::Sandbox;

    async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String, String) {
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, ct, String::from_utf8_lossy(&body).into_owned())
    }

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn an_oversized_body_is_a_status_and_the_sandbox_keeps_serving() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let app = crate::router(st.clone());
        let big = format!(
            "{{\"metadata\":{{\"name\":\"x\"}},\"pad\":\"{}\"}}",
            "a".repeat(3 << 20)
        );
        let req = Request::post("/api/v1/namespaces/live-coding/pods")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(big))
            .unwrap();
        let (status, ct, body) = call(&app, req).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(ct.starts_with("application/json"), "{ct}");
        assert!(body.contains("\"kind\":\"Status\""), "{body}");
        let (status, _, _) = call(&app, get("/api/v1/namespaces/live-coding/pods")).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_change_is_labelled_on_the_timeline_with_what_the_student_typed() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let app = crate::router(st.clone());
        let req =
            Request::patch("/apis/apps/v1/namespaces/live-coding/deployments/credit-scoring-api")
                .header(header::CONTENT_TYPE, "application/merge-patch+json")
                .header("Kubectl-Command", "kubectl patch")
                .body(Body::from(r#"{"metadata":{"labels":{"team":"ml"}}}"#))
                .unwrap();
        let (status, _, body) = call(&app, req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let last = st.sb().actions.last().cloned().expect("recorded");
        assert_eq!(last.typed.as_deref(), Some("kubectl patch"));
        let svg = crate::timeline::render(&st.sb());
        assert!(svg.contains("kubectl patch"), "{svg}");
    }

    #[tokio::test]
    async fn a_watch_sends_what_changed_and_what_left_its_selector() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(30);
        st.sb().run_to(t);
        let app = crate::router(st.clone());
        let res = app
            .clone()
            .oneshot(get(
                "/api/v1/namespaces/live-coding/pods?watch=1&labelSelector=app%3Drest-api&timeoutSeconds=3",
            ))
            .await
            .unwrap();
        let mut body = res.into_body().into_data_stream();
        use tokio_stream::StreamExt;
        let mut text = String::new();
        let mut read_until = async |text: &mut String, what: &str| {
            while !text.contains(what) {
                match body.next().await {
                    Some(Ok(b)) => text.push_str(&String::from_utf8_lossy(&b)),
                    _ => panic!("the watch ended before {what:?}: {text}"),
                }
            }
        };
        read_until(&mut text, "\n").await;
        let added = text.matches("\"type\":\"ADDED\"").count();
        assert_eq!(added, 10, "the ten pods first: {text}");
        // Two more pods: ADDED, then MODIFIED as they start.
        st.sb().act(Action::Kubectl(
            "scale deployment credit-scoring-api --replicas=12 -n live-coding".into(),
        ));
        st.notify();
        text.clear();
        read_until(&mut text, "ADDED").await;
        let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(5);
        st.sb().run_to(t);
        st.notify();
        read_until(&mut text, "MODIFIED").await;
        // A pod relabelled out of the selector is DELETED for this watcher.
        let pod = kubectl::list(
            &st.sb().sim,
            Kind::Pod,
            Some("live-coding"),
            &Selector::everything(),
        )[0]
        .name()
        .to_string();
        let req = Request::patch(format!("/api/v1/namespaces/live-coding/pods/{pod}"))
            .header(header::CONTENT_TYPE, "application/merge-patch+json")
            .body(Body::from(r#"{"metadata":{"labels":{"app":"elsewhere"}}}"#))
            .unwrap();
        let (status, _, out) = call(&app, req).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        read_until(&mut text, "DELETED").await;
        assert!(text.contains(&pod), "{text}");
    }

    #[tokio::test]
    async fn discovery_is_aggregated_when_asked_exactly_else_legacy() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let app = crate::router(st);
        let ask = |path: &str, accept: &str| {
            Request::get(path)
                .header(header::ACCEPT, accept)
                .body(Body::empty())
                .unwrap()
        };
        let v2 =
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        let (_, ct, body) = call(&app, ask("/apis", v2)).await;
        assert_eq!(
            ct,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        let deps = &v["items"][0]["versions"][0]["resources"][0];
        assert_eq!(v["items"][0]["metadata"]["name"], "apps");
        assert_eq!(deps["resource"], "deployments");
        assert_eq!(deps["scope"], "Namespaced");
        assert_eq!(deps["shortNames"], json!(["deploy"]));
        assert_eq!(deps["subresources"][0]["subresource"], "scale");
        assert_eq!(deps["subresources"][0]["responseKind"]["kind"], "Scale");
        let (_, ct, body) = call(&app, ask("/api", &v2.replace("v=v2;", "v=v2beta1;"))).await;
        assert!(ct.contains("v=v2beta1"), "{ct}");
        assert!(body.contains("\"resource\":\"pods\""), "{body}");
        // A client that asks for nothing aggregated gets legacy discovery.
        let (_, ct, body) = call(&app, ask("/apis", "application/json")).await;
        assert_eq!(ct, "application/json");
        assert!(body.contains("APIGroupList"), "{body}");
    }

    #[tokio::test]
    async fn the_services_proxy_reaches_the_real_program() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let app = crate::router(st.clone());
        let base = "/api/v1/namespaces/live-coding/services";
        for (name, path, want) in [
            ("credit-scoring-api", "/proxy/healthz", r#"{"status":"ok"}"#),
            (
                "credit-scoring-api:80",
                "/proxy/healthz",
                r#"{"status":"ok"}"#,
            ),
            (
                "http:credit-scoring-api:80",
                "/proxy/",
                r#"{"status":"ok","model_version":"v1"}"#,
            ),
            (
                "credit-scoring-api",
                "/proxy",
                r#"{"status":"ok","model_version":"v1"}"#,
            ),
        ] {
            let (status, ct, body) = call(&app, get(&format!("{base}/{name}{path}"))).await;
            assert_eq!(
                (status, body.as_str()),
                (StatusCode::OK, want),
                "{name}{path}"
            );
            assert_eq!(ct, "application/json");
        }
        let predict = Request::post(format!("{base}/credit-scoring-api:80/proxy/predict"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#))
            .unwrap();
        let (status, _, body) = call(&app, predict).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            r#"{"probability_of_default":0.139101,"decision":"approve"}"#
        );
        // The program's own errors come back as they are.
        let (status, _, body) =
            call(&app, get(&format!("{base}/credit-scoring-api/proxy/nope"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        // Every proxied request is in the run.
        let file = st.sb().export();
        assert_eq!(file.matches("- request:").count(), 6, "{file}");
        assert!(file.contains("path: /healthz"), "{file}");

        // What the API server answers when there is nothing to reach.
        let (status, _, body) = call(&app, get(&format!("{base}/nope/proxy/"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            body.contains(r#""message":"services \"nope\" not found""#),
            "{body}"
        );
        let (status, _, body) =
            call(&app, get(&format!("{base}/credit-scoring-api:81/proxy/"))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("no endpoints available for service"),
            "{body}"
        );
        st.sb().act(Action::Kubectl(
            "scale deployment/credit-scoring-api --replicas=0 -n live-coding".into(),
        ));
        {
            let mut sb = st.sb();
            let t = sb.sim.now() + sim_core::SimDuration::from_secs(60);
            sb.run_to(t);
        }
        let (status, _, body) = call(
            &app,
            get(&format!("{base}/credit-scoring-api/proxy/healthz")),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("error trying to reach service: Failed to connect to credit-scoring-api.live-coding port 80: Connection refused"),
            "{body}"
        );
    }
}

/// The three patch types of the API server over JSON values: JSON patch (RFC 6902), and
/// strategic merge patch for the lists Kubernetes merges by key (JSON merge patch, RFC 7386,
/// is `sim_core::apiserver::merge_patch`).
mod patches {
    use serde_json::Value;

    /// Applies an RFC 6902 JSON patch; the error says which operation failed and why.
    pub(super) fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
        let ops = ops
            .as_array()
            .ok_or("json patch must be a list of operations")?;
        for (i, op) in ops.iter().enumerate() {
            let field = |k: &str| op.get(k).and_then(Value::as_str);
            let kind = field("op").ok_or(format!("operation {i} has no \"op\""))?;
            let path = field("path").ok_or(format!("operation {i} has no \"path\""))?;
            let value = || {
                op.get("value")
                    .cloned()
                    .ok_or(format!("operation {i} ({kind}) has no \"value\""))
            };
            let from = || field("from").ok_or(format!("operation {i} ({kind}) has no \"from\""));
            match kind {
                "add" => add(doc, path, value()?)?,
                "remove" => {
                    remove(doc, path)?;
                }
                "replace" => {
                    let v = value()?;
                    *doc.pointer_mut(path).ok_or(format!(
                        "replace operation does not apply: doc is missing key: {path}"
                    ))? = v;
                }
                "move" => {
                    let v = remove(doc, from()?)?;
                    add(doc, path, v)?;
                }
                "copy" => {
                    let from = from()?;
                    let v = doc.pointer(from).cloned().ok_or(format!(
                        "copy operation does not apply: doc is missing from path: {from}"
                    ))?;
                    add(doc, path, v)?;
                }
                "test" => {
                    if doc.pointer(path) != Some(&value()?) {
                        return Err(format!("testing value {path} failed: test failed"));
                    }
                }
                other => return Err(format!("Unexpected kind: {other}")),
            }
        }
        Ok(())
    }

    /// The parent of a JSON pointer and its last token, unescaped (`~1` is `/`, `~0` is `~`).
    fn split(path: &str) -> Result<(&str, String), String> {
        let (parent, last) = path
            .rsplit_once('/')
            .ok_or(format!("invalid JSON pointer {path:?}"))?;
        Ok((parent, last.replace("~1", "/").replace("~0", "~")))
    }

    fn add(doc: &mut Value, path: &str, v: Value) -> Result<(), String> {
        if path.is_empty() {
            *doc = v;
            return Ok(());
        }
        let (parent, key) = split(path)?;
        let missing = || format!("add operation does not apply: doc is missing path: {path:?}");
        match doc.pointer_mut(parent).ok_or_else(missing)? {
            Value::Object(m) => {
                m.insert(key, v);
            }
            Value::Array(a) => {
                let i = if key == "-" {
                    a.len()
                } else {
                    key.parse::<usize>()
                        .ok()
                        .filter(|i| *i <= a.len())
                        .ok_or_else(missing)?
                };
                a.insert(i, v);
            }
            _ => return Err(missing()),
        }
        Ok(())
    }

    fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
        let (parent, key) = split(path)?;
        let missing = || format!("remove operation does not apply: doc is missing path: {path:?}");
        match doc.pointer_mut(parent).ok_or_else(missing)? {
            Value::Object(m) => m.remove(&key).ok_or_else(missing),
            Value::Array(a) => {
                let i = key
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < a.len())
                    .ok_or_else(missing)?;
                Ok(a.remove(i))
            }
            _ => Err(missing()),
        }
    }

    /// The merge key of a list Kubernetes merges by key (`patchMergeKey` in the API types), by
    /// the list's field name; other lists are replaced whole.
    /// The merge key of a list field (`None`: an atomic list), as Kubernetes' types declare
    /// it; server-side apply's field sets key list items the same way.
    pub(crate) fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
        Some(match field {
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "volumes"
            | "env"
            | "imagePullSecrets" => "name",
            "volumeMounts" | "volumeDevices" => "mountPath",
            "conditions" => "type",
            "ownerReferences" => "uid",
            "hostAliases" => "ip",
            "topologySpreadConstraints" => "topologyKey",
            // Container ports merge by containerPort, a Service's by port.
            "ports" if items.iter().any(|p| p.get("containerPort").is_some()) => "containerPort",
            "ports" => "port",
            _ => return None,
        })
    }

    /// Applies a strategic merge patch: maps merge as in a JSON merge patch (null deletes),
    /// lists with a merge key merge item by item (`$patch: delete` removes one), other lists
    /// are replaced; `$patch: replace` replaces a map; other `$` directives
    /// (`$setElementOrder`, `$retainKeys`) are dropped.
    pub(super) fn strategic_merge(target: &mut Value, patch: &Value) {
        let Value::Object(p) = patch else {
            *target = patch.clone();
            return;
        };
        if p.get("$patch").and_then(Value::as_str) == Some("replace") {
            let mut p = p.clone();
            p.remove("$patch");
            *target = Value::Object(p);
            strip_directives(target);
            return;
        }
        if !target.is_object() {
            *target = Value::Object(Default::default());
        }
        let Value::Object(t) = target else { return };
        for (k, v) in p {
            if k.starts_with('$') {
                continue;
            }
            match v {
                Value::Null => {
                    t.remove(k);
                }
                Value::Array(items) => {
                    let key = merge_key(k, items).filter(|key| {
                        items.iter().all(|i| i.get(*key).is_some())
                            && t.get(k).and_then(Value::as_array).is_some()
                    });
                    match key {
                        Some(key) => {
                            let Some(Value::Array(list)) = t.get_mut(k) else {
                                continue;
                            };
                            merge_list(list, items, key);
                        }
                        None => {
                            let mut v = v.clone();
                            strip_directives(&mut v);
                            t.insert(k.clone(), v);
                        }
                    }
                }
                _ => strategic_merge(t.entry(k.clone()).or_insert(Value::Null), v),
            }
        }
    }

    fn merge_list(list: &mut Vec<Value>, items: &[Value], key: &str) {
        for item in items {
            let k = &item[key];
            let at = list.iter().position(|x| &x[key] == k);
            let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
            match (at, delete) {
                (Some(i), true) => {
                    list.remove(i);
                }
                (None, true) => {}
                (Some(i), false) => strategic_merge(&mut list[i], item),
                (None, false) => {
                    let mut v = item.clone();
                    strip_directives(&mut v);
                    list.push(v);
                }
            }
        }
    }

    /// Removes `$` keys and nulls from a value that is inserted whole.
    fn strip_directives(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, x| !k.starts_with('$') && !x.is_null());
                m.values_mut().for_each(strip_directives);
            }
            Value::Array(a) => a.iter_mut().for_each(strip_directives),
            _ => {}
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::json;

        #[test]
        fn json_patch_ops() {
            let mut d = json!({"a": {"b": [1, 2]}, "c": "x"});
            json_patch(
                &mut d,
                &json!([
                    {"op": "add", "path": "/a/b/-", "value": 3},
                    {"op": "add", "path": "/a/b/0", "value": 0},
                    {"op": "remove", "path": "/c"},
                    {"op": "replace", "path": "/a/b/1", "value": 9},
                    {"op": "copy", "from": "/a/b", "path": "/d"},
                    {"op": "move", "from": "/d", "path": "/a~1e"},
                    {"op": "test", "path": "/a/b/3", "value": 3},
                ]),
            )
            .unwrap();
            assert_eq!(d, json!({"a": {"b": [0, 9, 2, 3]}, "a/e": [0, 9, 2, 3]}));
            let e = json_patch(&mut d, &json!([{"op": "remove", "path": "/nope"}])).unwrap_err();
            assert!(e.contains("missing path"), "{e}");
            let e = json_patch(
                &mut d,
                &json!([{"op": "test", "path": "/a/b/0", "value": 1}]),
            )
            .unwrap_err();
            assert!(e.contains("test failed"), "{e}");
        }

        #[test]
        fn strategic_merge_merges_containers_by_name() {
            let mut d = json!({"spec": {"containers": [
                {"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "b:1"},
            ], "tolerations": [{"key": "x"}]}});
            strategic_merge(
                &mut d,
                &json!({"spec": {
                    "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                    "containers": [
                        {"name": "a", "image": "a:2", "env": [{"name": "E", "value": "1"}]},
                        {"name": "b", "$patch": "delete"},
                        {"name": "c", "image": "c:1"},
                    ],
                    "tolerations": [{"key": "y"}],
                }}),
            );
            assert_eq!(
                d,
                json!({"spec": {"containers": [
                    {"name": "a", "image": "a:2", "ports": [{"containerPort": 80}],
                     "env": [{"name": "E", "value": "1"}]},
                    {"name": "c", "image": "c:1"},
                ], "tolerations": [{"key": "y"}]}})
            );
        }
    }
}
