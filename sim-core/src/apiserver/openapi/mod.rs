//! The OpenAPI v3 documents the API server publishes: the discovery document at
//! `/openapi/v3` and one document per served group-version (`/openapi/v3/apis/apps/v1`).
//!
//! They are generated, as kube-apiserver generates its own from its routes and Go types: the
//! paths and operations from the resource registry ([`crate::api::resource`]), the schemas from
//! k8s-openapi's ([`crate::api::schema`]), and the `x-kubernetes-patch-*` and `-list-*`
//! extensions from the merge strategies ([`crate::api::strategy`]).
//! `kubectl explain` reads the schemas and their descriptions; `kubectl apply` and `diff`
//! compute their strategic merge patches from the extensions, and read from the `patch`
//! operations that the server validates fields (`fieldValidation`) and takes strategic merge
//! patches.
//! Everything is built once per process and is the same in every run, hashes included.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::api::resource::{RESOURCES, Resource, Subresource, group_versions};
use crate::api::schema::{definitions, root};
use crate::api::strategy::STRATEGIES;
use crate::store::Kind;

/// One group-version's document as the server serves it.
#[derive(Debug)]
pub struct Published {
    /// Where it is served under `/openapi/v3/` (`api/v1`, `apis/apps/v1`), and its key in
    /// the discovery document.
    pub path: String,
    /// The API group (`""` for core).
    pub group: &'static str,
    /// The API version.
    pub version: &'static str,
    /// The document.
    pub document: Value,
    /// The document as served: compact JSON.
    pub json: String,
    /// A content hash of `json` (FNV-1a, 64 bits, in hex): the `?hash=` of its URL and its
    /// ETag, so a client may cache it for good.
    pub hash: String,
}

impl Published {
    /// Its URL, as the discovery document lists it (`/openapi/v3/apis/apps/v1?hash=…`).
    pub fn server_relative_url(&self) -> String {
        format!("/openapi/v3/{}?hash={}", self.path, self.hash)
    }
}

/// The discovery document of `/openapi/v3`: each served group-version's URL with its hash.
pub fn index() -> Value {
    let paths: Map<String, Value> = all()
        .iter()
        .map(|p| {
            (
                p.path.clone(),
                json!({"serverRelativeURL": p.server_relative_url()}),
            )
        })
        .collect();
    json!({ "paths": paths })
}

/// The document of a served group-version (`("apps", "v1")`, `("", "v1")` for core).
pub fn document(group: &str, version: &str) -> Option<&'static Value> {
    all()
        .iter()
        .find(|p| p.group == group && p.version == version)
        .map(|p| &p.document)
}

/// The document served at `/openapi/v3/{path}` (`path` being `api/v1` or `apis/apps/v1`).
pub fn published(path: &str) -> Option<&'static Published> {
    all().iter().find(|p| p.path == path)
}

/// Every served group-version's document, built on first use.
fn all() -> &'static [Published] {
    static ALL: OnceLock<Vec<Published>> = OnceLock::new();
    ALL.get_or_init(|| {
        group_versions()
            .into_iter()
            .map(|(group, version)| {
                let document = build(group, version);
                let json = document.to_string();
                let hash = format!("{:016X}", fnv64a(json.as_bytes()));
                Published {
                    path: Gv::new(group, version).discovery_path(),
                    group,
                    version,
                    document,
                    json,
                    hash,
                }
            })
            .collect()
    })
}

/// FNV-1a over 64 bits: a content hash stable across runs and platforms.
fn fnv64a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The names a group-version gives its paths, operations and tags.
struct Gv {
    group: &'static str,
    version: &'static str,
    /// `/api/v1`, `/apis/apps/v1`.
    prefix: String,
    /// In operation ids: `CoreV1`, `AppsV1`, `NetworkingV1` (`networking.k8s.io`).
    id: String,
    /// The operations' tag: `core_v1`, `apps_v1`, `rbacAuthorization_v1`.
    tag: String,
}

impl Gv {
    fn new(group: &'static str, version: &'static str) -> Gv {
        let words: Vec<&str> = if group.is_empty() {
            vec!["core"]
        } else {
            group.trim_end_matches(".k8s.io").split('.').collect()
        };
        let id: String = words.iter().map(|w| upper_first(w)).collect();
        let tag: String = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == 0 {
                    (*w).to_string()
                } else {
                    upper_first(w)
                }
            })
            .collect();
        Gv {
            group,
            version,
            prefix: if group.is_empty() {
                format!("/api/{version}")
            } else {
                format!("/apis/{group}/{version}")
            },
            id: format!("{id}{}", upper_first(version)),
            tag: format!("{tag}_{version}"),
        }
    }

    /// The key of the document in `/openapi/v3`: the prefix without its slash.
    fn discovery_path(&self) -> String {
        self.prefix.trim_start_matches('/').to_string()
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The article kube-apiserver puts before a kind in an operation's description (`create a
/// Pod`, `delete an Event`), none before a plural-looking one (`delete Endpoints`).
fn article(kind: &str) -> &'static str {
    if kind.ends_with('s') && !kind.ends_with("ss") {
        ""
    } else if kind.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        "an "
    } else {
        "a "
    }
}

/// Content types of an object's responses.
const OBJECT_TYPES: &[&str] = &[
    "application/cbor",
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
];

/// Content types of a list's (and a watch's) responses.
const LIST_TYPES: &[&str] = &[
    "application/cbor",
    "application/cbor-seq",
    "application/json",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/yaml",
];

/// Content types of a log.
const LOG_TYPES: &[&str] = &[
    "application/cbor",
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
    "text/plain",
];

/// What a PATCH takes. kubectl computes a client-side apply's strategic merge patch from the
/// schemas only when `application/strategic-merge-patch+json` is listed.
const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+cbor",
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

/// The methods a `connect` subresource (`services/proxy`) takes, in the document's names.
const CONNECT_METHODS: &[&str] = &["delete", "get", "head", "options", "patch", "post", "put"];

/// The query parameters of a list (and a watch).
const LIST_QUERY: &[Q] = &[
    Q::AllowWatchBookmarks,
    Q::Continue,
    Q::FieldSelector,
    Q::LabelSelector,
    Q::Limit,
    Q::ResourceVersion,
    Q::ResourceVersionMatch,
    Q::SendInitialEvents,
    Q::ShardSelector,
    Q::TimeoutSeconds,
    Q::Watch,
];

/// The query parameters of a create or a replace.
const WRITE_QUERY: &[Q] = &[Q::DryRun, Q::FieldManager, Q::FieldValidation];

/// The query parameters of a patch.
const PATCH_QUERY: &[Q] = &[
    Q::DryRun,
    Q::FieldManagerPatch,
    Q::FieldValidation,
    Q::Force,
];

/// The query parameters of a delete.
const DELETE_QUERY: &[Q] = &[
    Q::DryRun,
    Q::GracePeriodSeconds,
    Q::IgnoreStoreReadError,
    Q::OrphanDependents,
    Q::PropagationPolicy,
];

/// The query parameters of a delete of a collection.
const DELETE_COLLECTION_QUERY: &[Q] = &[
    Q::Continue,
    Q::DryRun,
    Q::FieldSelector,
    Q::GracePeriodSeconds,
    Q::IgnoreStoreReadError,
    Q::LabelSelector,
    Q::Limit,
    Q::OrphanDependents,
    Q::PropagationPolicy,
    Q::ResourceVersion,
    Q::ResourceVersionMatch,
    Q::SendInitialEvents,
    Q::ShardSelector,
    Q::TimeoutSeconds,
];

/// The query parameters of a container's log.
const LOG_QUERY: &[Q] = &[
    Q::Container,
    Q::Follow,
    Q::InsecureSkipTlsVerifyBackend,
    Q::LimitBytes,
    Q::Previous,
    Q::SinceSeconds,
    Q::Stream,
    Q::TailLines,
    Q::Timestamps,
];

/// One group-version's document.
fn build(group: &'static str, version: &'static str) -> Value {
    let gv = Gv::new(group, version);
    let mut paths = Map::new();
    let resources = Op {
        id: format!("get{}APIResources", gv.id),
        description: "get available resources".into(),
        action: None,
        gvk: None,
        params: vec![],
        body: None,
        responses: responses(
            &reference("io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"),
            OBJECT_TYPES,
            &["200"],
        ),
    };
    paths.insert(
        format!("{}/", gv.prefix),
        json!({ "get": resources.into_value(&gv) }),
    );
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        resource_paths(&gv, r, &mut paths);
    }
    let schemas = components(&paths, &gv);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// One operation of a path.
struct Op {
    /// `operationId`: `readAppsV1NamespacedDeployment`.
    id: String,
    description: String,
    /// `x-kubernetes-action`: `get`, `list`, `post`, `put`, `patch`, `delete`,
    /// `deletecollection`, `connect`.
    action: Option<&'static str>,
    /// `x-kubernetes-group-version-kind` of what the operation reads or writes.
    gvk: Option<Value>,
    params: Vec<Value>,
    /// `requestBody`.
    body: Option<Value>,
    responses: Value,
}

impl Op {
    fn into_value(self, gv: &Gv) -> Value {
        let mut o = Map::new();
        o.insert("description".into(), json!(self.description));
        o.insert("operationId".into(), json!(self.id));
        if !self.params.is_empty() {
            o.insert("parameters".into(), sorted(self.params));
        }
        if let Some(b) = self.body {
            o.insert("requestBody".into(), b);
        }
        o.insert("responses".into(), self.responses);
        o.insert("tags".into(), json!([gv.tag]));
        if let Some(a) = self.action {
            o.insert("x-kubernetes-action".into(), json!(a));
        }
        if let Some(g) = self.gvk {
            o.insert("x-kubernetes-group-version-kind".into(), g);
        }
        Value::Object(o)
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// Responses of `schema` in `types` under each of `codes`, and the API server's 401.
fn responses(schema: &Value, types: &[&str], codes: &[&str]) -> Value {
    let content: Map<String, Value> = types
        .iter()
        .map(|t| (t.to_string(), json!({ "schema": schema })))
        .collect();
    let mut out = Map::new();
    for c in codes {
        let text = match *c {
            "201" => "Created",
            "202" => "Accepted",
            _ => "OK",
        };
        out.insert(
            c.to_string(),
            json!({"content": content, "description": text}),
        );
    }
    out.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(out)
}

/// A request body of `schema`, any content type.
fn body(schema: &str, required: bool) -> Value {
    let mut b = json!({"content": {"*/*": {"schema": reference(schema)}}});
    if required {
        b["required"] = json!(true);
    }
    b
}

/// A PATCH's request body: every patch type.
fn patch_body() -> Value {
    let content: Map<String, Value> = PATCH_TYPES
        .iter()
        .map(|t| {
            (
                t.to_string(),
                json!({"schema": reference("io.k8s.apimachinery.pkg.apis.meta.v1.Patch")}),
            )
        })
        .collect();
    json!({"content": content, "required": true})
}

/// Parameters in kube-apiserver's order: by name, then location.
fn sorted(mut params: Vec<Value>) -> Value {
    params.sort_by(|a, b| {
        let key = |p: &Value| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                p["in"].as_str().unwrap_or("").to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
    Value::Array(params)
}

fn param(name: &str, within: &str, ty: &str, description: &str) -> Value {
    let mut p = json!({
        "description": description,
        "in": within,
        "name": name,
        "schema": {"type": ty, "uniqueItems": true},
    });
    if within == "path" {
        p["required"] = json!(true);
    }
    p
}

fn query(qs: &[Q]) -> Vec<Value> {
    qs.iter()
        .map(|q| {
            let (name, within, ty, description) = q.spec();
            param(name, within, ty, description)
        })
        .collect()
}

/// The `{name}` path parameter.
fn name_param(kind: &str) -> Value {
    param("name", "path", "string", &format!("name of the {kind}"))
}

/// The path parameters of a collection, an object or a subresource of `r`, and `pretty`.
fn path_params(r: &Resource, name_of: Option<&str>) -> Vec<Value> {
    let mut p = query(&[Q::Pretty]);
    if r.namespaced {
        p.extend(query(&[Q::Namespace]));
    }
    if let Some(kind) = name_of {
        p.push(name_param(kind));
    }
    p
}

/// The schema name of a kind of the served API (`io.k8s.api.autoscaling.v1.Scale`).
fn schema_of(group: &str, version: &str, kind: &str) -> String {
    if let Some(r) = RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind.as_str() == kind)
    {
        return root(r.kind).to_string();
    }
    let package = if group.is_empty() {
        "core"
    } else {
        group.split('.').next().unwrap_or(group)
    };
    format!("io.k8s.api.{package}.{version}.{kind}")
}

/// Whether deleting an object of `kind` answers with the object (its storage returns the
/// deleted object, as pods' and services' do in kube-apiserver) rather than a `Status`.
fn delete_returns_object(kind: Kind) -> bool {
    matches!(kind, Kind::Pod | Kind::Service)
}

/// The paths of one resource: its collection, its objects, the list across namespaces and
/// each subresource, with the operations its verbs allow.
fn resource_paths(gv: &Gv, r: &Resource, paths: &mut Map<String, Value>) {
    let kind = r.kind.as_str();
    let schema = root(r.kind);
    let list = format!("{schema}List");
    let me = || Some(gvk(r.group, r.version, kind));
    let can = |verb: &str| r.verbs.contains(&verb);
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let collection = if r.namespaced {
        format!("{}/namespaces/{{namespace}}/{}", gv.prefix, r.plural)
    } else {
        format!("{}/{}", gv.prefix, r.plural)
    };
    let object = format!("{collection}/{{name}}");
    let a = article(kind);

    let mut ops = Map::new();
    if can("deletecollection") {
        ops.insert(
            "delete".into(),
            Op {
                id: format!("delete{}Collection{scope}{kind}", gv.id),
                description: format!("delete collection of {kind}"),
                action: Some("deletecollection"),
                gvk: me(),
                params: query(DELETE_COLLECTION_QUERY),
                body: Some(body(
                    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
                    false,
                )),
                responses: responses(
                    &reference("io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
                    OBJECT_TYPES,
                    &["200"],
                ),
            }
            .into_value(gv),
        );
    }
    if can("list") {
        ops.insert(
            "get".into(),
            Op {
                id: format!("list{}{scope}{kind}", gv.id),
                description: format!("list or watch objects of kind {kind}"),
                action: Some("list"),
                gvk: me(),
                params: query(LIST_QUERY),
                body: None,
                responses: responses(&reference(&list), LIST_TYPES, &["200"]),
            }
            .into_value(gv),
        );
    }
    if can("create") {
        ops.insert(
            "post".into(),
            Op {
                id: format!("create{}{scope}{kind}", gv.id),
                description: format!("create {a}{kind}"),
                action: Some("post"),
                gvk: me(),
                params: query(WRITE_QUERY),
                body: Some(body(schema, true)),
                responses: responses(&reference(schema), OBJECT_TYPES, &["200", "201", "202"]),
            }
            .into_value(gv),
        );
    }
    if !ops.is_empty() {
        ops.insert("parameters".into(), sorted(path_params(r, None)));
        paths.insert(collection.clone(), Value::Object(ops));
    }

    let mut ops = Map::new();
    if can("delete") {
        let deleted = if delete_returns_object(r.kind) {
            schema
        } else {
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
        };
        ops.insert(
            "delete".into(),
            Op {
                id: format!("delete{}{scope}{kind}", gv.id),
                description: format!("delete {a}{kind}"),
                action: Some("delete"),
                gvk: me(),
                params: query(DELETE_QUERY),
                body: Some(body(
                    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
                    false,
                )),
                responses: responses(&reference(deleted), OBJECT_TYPES, &["200", "202"]),
            }
            .into_value(gv),
        );
    }
    let whole = Part {
        gvk: (r.group, r.version, kind),
        verbs: r.verbs,
        suffix: "",
        what: "the specified".into(),
    };
    object_ops(gv, r, &whole, &mut ops);
    if !ops.is_empty() {
        ops.insert("parameters".into(), sorted(path_params(r, Some(kind))));
        paths.insert(object.clone(), Value::Object(ops));
    }

    if r.namespaced && can("list") {
        let mut params = query(LIST_QUERY);
        params.extend(query(&[Q::Pretty]));
        let all = Op {
            id: format!("list{}{kind}ForAllNamespaces", gv.id),
            description: format!("list or watch objects of kind {kind}"),
            action: Some("list"),
            gvk: me(),
            params: vec![],
            body: None,
            responses: responses(&reference(&list), LIST_TYPES, &["200"]),
        };
        paths.insert(
            format!("{}/{}", gv.prefix, r.plural),
            json!({"get": all.into_value(gv), "parameters": sorted(params)}),
        );
    }

    for sub in r.subresources {
        subresource_paths(gv, r, sub, &object, paths);
    }
}

/// An object, or an object-like subresource of it (`status`, `scale`).
struct Part<'a> {
    /// The group, version and kind it reads and writes.
    gvk: (&'a str, &'a str, &'a str),
    verbs: &'a [&'a str],
    /// Its operation-id suffix (`Status`; `""` for the object).
    suffix: &'a str,
    /// The description's words before the kind (`the specified`, `status of the specified`).
    what: String,
}

/// The `get`, `put` and `patch` of an object or of an object-like subresource, and the `post`
/// of a subresource created (an eviction).
fn object_ops(gv: &Gv, r: &Resource, part: &Part<'_>, ops: &mut Map<String, Value>) {
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let parent = r.kind.as_str();
    let (group, version, kind) = part.gvk;
    let (sub, what) = (part.suffix, &part.what);
    let schema = schema_of(group, version, kind);
    let can = |verb: &str| part.verbs.contains(&verb);
    let me = || Some(gvk(group, version, kind));
    if can("get") {
        ops.insert(
            "get".into(),
            Op {
                id: format!("read{}{scope}{parent}{sub}", gv.id),
                description: format!("read {what} {parent}"),
                action: Some("get"),
                gvk: me(),
                params: vec![],
                body: None,
                responses: responses(&reference(&schema), OBJECT_TYPES, &["200"]),
            }
            .into_value(gv),
        );
    }
    if can("patch") {
        ops.insert(
            "patch".into(),
            Op {
                id: format!("patch{}{scope}{parent}{sub}", gv.id),
                description: format!("partially update {what} {parent}"),
                action: Some("patch"),
                gvk: me(),
                params: query(PATCH_QUERY),
                body: Some(patch_body()),
                responses: responses(&reference(&schema), OBJECT_TYPES, &["200", "201"]),
            }
            .into_value(gv),
        );
    }
    // A subresource one POSTs to (`pods/eviction`: `create eviction of a Pod`).
    if can("create") && !sub.is_empty() {
        ops.insert(
            "post".into(),
            Op {
                id: format!("create{}{scope}{parent}{sub}", gv.id),
                description: format!("create {} of a {parent}", sub.to_lowercase()),
                action: Some("post"),
                gvk: me(),
                params: query(WRITE_QUERY),
                body: Some(body(&schema, true)),
                responses: responses(&reference(&schema), OBJECT_TYPES, &["200", "201", "202"]),
            }
            .into_value(gv),
        );
    }
    if can("update") {
        ops.insert(
            "put".into(),
            Op {
                id: format!("replace{}{scope}{parent}{sub}", gv.id),
                description: format!("replace {what} {parent}"),
                action: Some("put"),
                gvk: me(),
                params: query(WRITE_QUERY),
                body: Some(body(&schema, true)),
                responses: responses(&reference(&schema), OBJECT_TYPES, &["200", "201"]),
            }
            .into_value(gv),
        );
    }
}

/// The paths of one subresource: `log` (a container's log, as text), `proxy` (a `connect`
/// subresource, with and without a trailing path), and object-like ones (`status`, `scale`).
fn subresource_paths(
    gv: &Gv,
    r: &Resource,
    sub: &Subresource,
    object: &str,
    paths: &mut Map<String, Value>,
) {
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let parent = r.kind.as_str();
    let path = format!("{object}/{}", sub.name);
    let me = || Some(gvk(sub.group, sub.version, sub.kind));
    match sub.name {
        "log" => {
            let mut params = path_params(r, Some(parent));
            params.extend(query(LOG_QUERY));
            let log = Op {
                id: format!("read{}{scope}{parent}Log", gv.id),
                description: format!("read log of the specified {parent}"),
                action: Some("get"),
                gvk: me(),
                params: vec![],
                body: None,
                responses: responses(&json!({"type": "string"}), LOG_TYPES, &["200"]),
            };
            paths.insert(
                path,
                json!({"get": log.into_value(gv), "parameters": sorted(params)}),
            );
        }
        "proxy" => {
            for with_path in [false, true] {
                let mut ops = Map::new();
                for method in CONNECT_METHODS {
                    let suffix = if with_path { "ProxyWithPath" } else { "Proxy" };
                    ops.insert(
                        method.to_string(),
                        Op {
                            id: format!(
                                "connect{}{}{scope}{parent}{suffix}",
                                gv.id,
                                upper_first(method)
                            ),
                            description: format!(
                                "connect {} requests to proxy of {parent}",
                                method.to_uppercase()
                            ),
                            action: Some("connect"),
                            gvk: me(),
                            params: vec![],
                            body: None,
                            responses: responses(&json!({"type": "string"}), &["*/*"], &["200"]),
                        }
                        .into_value(gv),
                    );
                }
                let mut params = vec![name_param(sub.kind), proxy_path_param(r)];
                if r.namespaced {
                    params.extend(query(&[Q::Namespace]));
                }
                let path = if with_path {
                    params.extend(query(&[Q::Path]));
                    format!("{path}/{{path}}")
                } else {
                    path.clone()
                };
                ops.insert("parameters".into(), sorted(params));
                paths.insert(path, Value::Object(ops));
            }
        }
        name => {
            let sub_kind = schema_of(sub.group, sub.version, sub.kind);
            if !definitions().contains_key(&sub_kind) {
                return;
            }
            let mut ops = Map::new();
            let suffix = upper_first(name);
            let part = Part {
                gvk: (sub.group, sub.version, sub.kind),
                verbs: sub.verbs,
                suffix: &suffix,
                what: format!("{name} of the specified"),
            };
            object_ops(gv, r, &part, &mut ops);
            if !ops.is_empty() {
                ops.insert("parameters".into(), sorted(path_params(r, Some(sub.kind))));
                paths.insert(path, Value::Object(ops));
            }
        }
    }
}

/// The `path` query parameter of a proxy subresource.
fn proxy_path_param(r: &Resource) -> Value {
    if r.kind == Kind::Service {
        return query(&[Q::ServiceProxyPath]).remove(0);
    }
    param(
        "path",
        "query",
        "string",
        &format!(
            "Path is the URL path to use for the current proxy request to {}.",
            r.singular
        ),
    )
}

/// `components.schemas`: every schema the paths reach, with the extensions Kubernetes'
/// published schemas carry.
fn components(paths: &Map<String, Value>, gv: &Gv) -> Map<String, Value> {
    let defs = definitions();
    let mut todo: Vec<String> = Vec::new();
    for p in paths.values() {
        refs(p, &mut todo);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(d) = defs.get(&name) {
            refs(d, &mut todo);
        }
    }
    let kinds = group_version_kinds(gv);
    seen.into_iter()
        .filter_map(|name| {
            let mut d = defs.get(&name)?.clone();
            if let Some(g) = kinds.get(&name) {
                d["x-kubernetes-group-version-kind"] = Value::Array(g.clone());
            }
            add_strategies(&name, &mut d);
            Some((name, d))
        })
        .collect()
}

/// Every schema name a value refers to.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                out.push(r.rsplit('/').next().unwrap_or(r).to_string());
            }
            for x in m.values() {
                refs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// `x-kubernetes-group-version-kind` by schema name: each kind and its list, the
/// subresources' kinds (`autoscaling/v1 Scale`), and the `meta/v1` kinds; `DeleteOptions`
/// and `WatchEvent` under the core group and the document's own, as kube-apiserver lists them.
fn group_version_kinds(gv: &Gv) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in RESOURCES {
        let kind = r.kind.as_str();
        out.insert(root(r.kind).into(), vec![gvk(r.group, r.version, kind)]);
        out.insert(
            format!("{}List", root(r.kind)),
            vec![gvk(r.group, r.version, &format!("{kind}List"))],
        );
        for s in r.subresources {
            if (s.group, s.kind) != (r.group, kind) {
                out.insert(
                    schema_of(s.group, s.version, s.kind),
                    vec![gvk(s.group, s.version, s.kind)],
                );
            }
        }
    }
    let meta = "io.k8s.apimachinery.pkg.apis.meta.v1";
    for kind in ["Status", "APIResourceList"] {
        out.insert(format!("{meta}.{kind}"), vec![gvk("", "v1", kind)]);
    }
    for kind in ["DeleteOptions", "WatchEvent"] {
        let mut g = vec![gvk("", "v1", kind)];
        if !gv.group.is_empty() {
            g.push(gvk(gv.group, gv.version, kind));
        }
        out.insert(format!("{meta}.{kind}"), g);
    }
    out
}

/// Puts the merge rules of [`STRATEGIES`] on the fields of schema `name`, as the
/// `x-kubernetes-*` extensions Kubernetes publishes (`x-kubernetes-patch-merge-key: name`
/// on `PodSpec.containers`).
fn add_strategies(name: &str, schema: &mut Value) {
    for s in STRATEGIES.iter().filter(|s| s.schema == name) {
        let Some(prop) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut(s.field))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        // A `$ref` takes no siblings in OpenAPI 3.0: wrap it in an `allOf` first.
        if let Some(r) = prop.remove("$ref") {
            prop.insert("allOf".into(), json!([{ "$ref": r }]));
        }
        if !s.patch_strategy.is_empty() {
            prop.insert(
                "x-kubernetes-patch-strategy".into(),
                json!(s.patch_strategy),
            );
        }
        if let Some(k) = s.merge_key {
            prop.insert("x-kubernetes-patch-merge-key".into(), json!(k));
        }
        if let Some(t) = s.list_type {
            prop.insert("x-kubernetes-list-type".into(), json!(t));
        }
        if !s.list_map_keys.is_empty() {
            prop.insert("x-kubernetes-list-map-keys".into(), json!(s.list_map_keys));
        }
    }
}

/// A query or path parameter kube-apiserver documents, with its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Q {
    AllowWatchBookmarks,
    Container,
    Continue,
    DryRun,
    FieldManager,
    FieldManagerPatch,
    FieldSelector,
    FieldValidation,
    Follow,
    Force,
    GracePeriodSeconds,
    IgnoreStoreReadError,
    InsecureSkipTlsVerifyBackend,
    LabelSelector,
    Limit,
    LimitBytes,
    Namespace,
    OrphanDependents,
    Path,
    Pretty,
    Previous,
    PropagationPolicy,
    ServiceProxyPath,
    ResourceVersion,
    ResourceVersionMatch,
    SendInitialEvents,
    ShardSelector,
    SinceSeconds,
    Stream,
    TailLines,
    TimeoutSeconds,
    Timestamps,
    Watch,
}

impl Q {
    /// Name, location, type and Kubernetes' description.
    fn spec(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Q::AllowWatchBookmarks => (
                "allowWatchBookmarks",
                "query",
                "boolean",
                "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
            ),
            Q::Container => (
                "container",
                "query",
                "string",
                "The container for which to stream logs. Defaults to only container if there is one container in the pod.",
            ),
            Q::Continue => (
                "continue",
                "query",
                "string",
                "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the \"next key\".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.",
            ),
            Q::DryRun => (
                "dryRun",
                "query",
                "string",
                "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
            ),
            Q::FieldManager => (
                "fieldManager",
                "query",
                "string",
                "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
            ),
            Q::FieldManagerPatch => (
                "fieldManager",
                "query",
                "string",
                "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).",
            ),
            Q::FieldSelector => (
                "fieldSelector",
                "query",
                "string",
                "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
            ),
            Q::FieldValidation => (
                "fieldValidation",
                "query",
                "string",
                "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
            ),
            Q::Follow => (
                "follow",
                "query",
                "boolean",
                "Follow the log stream of the pod. Defaults to false.",
            ),
            Q::Force => (
                "force",
                "query",
                "boolean",
                "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
            ),
            Q::GracePeriodSeconds => (
                "gracePeriodSeconds",
                "query",
                "integer",
                "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
            ),
            Q::IgnoreStoreReadError => (
                "ignoreStoreReadErrorWithClusterBreakingPotential",
                "query",
                "boolean",
                "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it",
            ),
            Q::InsecureSkipTlsVerifyBackend => (
                "insecureSkipTLSVerifyBackend",
                "query",
                "boolean",
                "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.  This will make the HTTPS connection between the apiserver and the backend insecure. This means the apiserver cannot verify the log data it is receiving came from the real kubelet.  If the kubelet is configured to verify the apiserver's TLS credentials, it does not mean the connection to the real kubelet is vulnerable to a man in the middle attack (e.g. an attacker could not intercept the actual log data coming from the real kubelet).",
            ),
            Q::LabelSelector => (
                "labelSelector",
                "query",
                "string",
                "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
            ),
            Q::Limit => (
                "limit",
                "query",
                "integer",
                "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.",
            ),
            Q::LimitBytes => (
                "limitBytes",
                "query",
                "integer",
                "If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.",
            ),
            Q::Namespace => (
                "namespace",
                "path",
                "string",
                "object name and auth scope, such as for teams and projects",
            ),
            Q::OrphanDependents => (
                "orphanDependents",
                "query",
                "boolean",
                "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
            ),
            Q::Path => ("path", "path", "string", "path to the resource"),
            Q::Pretty => (
                "pretty",
                "query",
                "string",
                "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
            ),
            Q::Previous => (
                "previous",
                "query",
                "boolean",
                "Return previous terminated container logs. Defaults to false.",
            ),
            Q::PropagationPolicy => (
                "propagationPolicy",
                "query",
                "string",
                "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
            ),
            Q::ServiceProxyPath => (
                "path",
                "query",
                "string",
                "Path is the part of URLs that include service endpoints, suffixes, and parameters to use for the current proxy request to service. For example, the whole request URL is http://localhost/api/v1/namespaces/kube-system/services/elasticsearch-logging/_search?q=user:kimchy. Path is _search?q=user:kimchy.",
            ),
            Q::ResourceVersion => (
                "resourceVersion",
                "query",
                "string",
                "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
            ),
            Q::ResourceVersionMatch => (
                "resourceVersionMatch",
                "query",
                "string",
                "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
            ),
            Q::SendInitialEvents => (
                "sendInitialEvents",
                "query",
                "boolean",
                "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event  will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `\"k8s.io/initial-events-end\": \"true\"` annotation. Afterwards, the watch stream will proceed as usual, sending watch events corresponding to changes (subsequent to the RV) to objects watched.\n\nWhen `sendInitialEvents` option is set, we require `resourceVersionMatch` option to also be set. The semantic of the watch request is as following: - `resourceVersionMatch` = NotOlderThan\n  is interpreted as \"data at least as new as the provided `resourceVersion`\"\n  and the bookmark event is send when the state is synced\n  to a `resourceVersion` at least as fresh as the one provided by the ListOptions.\n  If `resourceVersion` is unset, this is interpreted as \"consistent read\" and the\n  bookmark event is send when the state is synced at least to the moment\n  when request started being processed.\n- `resourceVersionMatch` set to any other value or unset\n  Invalid error is returned.\n\nDefaults to true if `resourceVersion=\"\"` or `resourceVersion=\"0\"` (for backward compatibility reasons) and to false otherwise.",
            ),
            Q::ShardSelector => (
                "shardSelector",
                "query",
                "string",
                "shardSelector restricts the list of returned objects using a CEL-based shard selector expression. The format uses the shardRange() function combined with || (logical OR) to specify one or more hash ranges:\n\n  shardRange(object.metadata.uid, '0x0', '0x8000000000000000')\n  shardRange(object.metadata.uid, '0x0', '0x8000000000000000') || shardRange(object.metadata.uid, '0x8000000000000000', '0x10000000000000000')\n\nField paths use CEL-style object-rooted syntax (e.g. \"object.metadata.uid\"), NOT the fieldSelector format (\"metadata.uid\"). Currently supported paths:\n  - object.metadata.uid\n  - object.metadata.namespace\n\nhexStart and hexEnd are single-quoted CEL string literals with a '0x' prefix, defining the inclusive lower and exclusive upper bounds over the 64-bit FNV-1a hash space. The full range is [0x0, 0x10000000000000000), where the exclusive upper bound equals 2^64.\n\nExamples:\n  2-shard split:\n    shard 0: shardRange(object.metadata.uid, '0x0000000000000000', '0x8000000000000000')\n    shard 1: shardRange(object.metadata.uid, '0x8000000000000000', '0x10000000000000000')\n  4-shard split:\n    shard 0: shardRange(object.metadata.uid, '0x0000000000000000', '0x4000000000000000')\n    shard 1: shardRange(object.metadata.uid, '0x4000000000000000', '0x8000000000000000')\n    shard 2: shardRange(object.metadata.uid, '0x8000000000000000', '0xc000000000000000')\n    shard 3: shardRange(object.metadata.uid, '0xc000000000000000', '0x10000000000000000')\n\nThis is an alpha field and requires enabling the ShardedListAndWatch feature gate.",
            ),
            Q::SinceSeconds => (
                "sinceSeconds",
                "query",
                "integer",
                "A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.",
            ),
            Q::Stream => (
                "stream",
                "query",
                "string",
                "Specify which container log stream to return to the client. Acceptable values are \"All\", \"Stdout\" and \"Stderr\". If not specified, \"All\" is used, and both stdout and stderr are returned interleaved. Note that when \"TailLines\" is specified, \"Stream\" can only be set to nil or \"All\".",
            ),
            Q::TailLines => (
                "tailLines",
                "query",
                "integer",
                "If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime. Note that when \"TailLines\" is specified, \"Stream\" can only be set to nil or \"All\".",
            ),
            Q::TimeoutSeconds => (
                "timeoutSeconds",
                "query",
                "integer",
                "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
            ),
            Q::Timestamps => (
                "timestamps",
                "query",
                "boolean",
                "If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.",
            ),
            Q::Watch => (
                "watch",
                "query",
                "boolean",
                "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
            ),
        }
    }
}

pub mod v2;

#[cfg(test)]
mod tests;
