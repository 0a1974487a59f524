//! Discovery (`/api`, `/apis`, aggregated or legacy, as the client asks) and `/version`.

#[allow(unused_imports)]
use super::*;

pub(super) async fn version() -> Response {
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

pub(super) async fn api_versions(headers: HeaderMap) -> Response {
    if let Some(v) = aggregated_version(&headers) {
        return aggregated(v, &[""]);
    }
    json_ok(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }))
}

/// The named groups the registry serves, in its order, each with its one version.
fn named_groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.iter().any(|(g, _)| *g == r.group) {
            out.push((r.group, r.version));
        }
    }
    out
}

pub(super) async fn api_groups(headers: HeaderMap) -> Response {
    let mut names: Vec<&str> = named_groups().iter().map(|(g, _)| *g).collect();
    names.push(super::metrics::GROUP);
    if let Some(v) = aggregated_version(&headers) {
        return aggregated(v, &names);
    }
    let mut groups: Vec<Value> = named_groups()
        .iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv], "preferredVersion": gv})
        })
        .collect();
    let gv = json!({
        "groupVersion": format!("{}/{}", super::metrics::GROUP, super::metrics::VERSION),
        "version": super::metrics::VERSION,
    });
    groups.push(json!({"name": super::metrics::GROUP, "versions": [gv], "preferredVersion": gv}));
    json_ok(json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": groups,
    }))
}

/// The version of a served group (`v1` for core and apps, `v2` for autoscaling).
pub(super) fn group_version(group: &str) -> &'static str {
    if group == super::metrics::GROUP {
        return super::metrics::VERSION;
    }
    RESOURCES
        .iter()
        .find(|r| r.group == group)
        .map_or("v1", |r| r.version)
}

/// The aggregated discovery version the client asks for first (`v2`, `v2beta1`), if any: the
/// response's Content-Type must then name it exactly (kubectl-surface §2.2), else kubectl
/// reads the body as legacy discovery.
pub(super) fn aggregated_version(headers: &HeaderMap) -> Option<&'static str> {
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
pub(super) fn aggregated(version: &str, groups: &[&str]) -> Response {
    let items: Vec<Value> = groups
        .iter()
        .map(|group| {
            let list = resource_list(group);
            let version = group_version(group);
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
                    "responseKind": {"group": group, "version": version, "kind": e["kind"]},
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
                "versions": [{"version": version, "resources": resources, "freshness": "Current"}],
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
pub(super) fn resource_list(group: &str) -> Value {
    if group == super::metrics::GROUP {
        return super::metrics::resource_list();
    }
    let mut resources = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
        let mut e = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind.as_str(),
            "verbs": r.verbs,
            "shortNames": r.short_names,
        });
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        resources.push(e);
        for sub in r.subresources {
            let mut e = json!({
                "name": format!("{}/{}", r.plural, sub.name), "singularName": "",
                "namespaced": r.namespaced, "kind": sub.kind, "verbs": sub.verbs,
            });
            if sub.group != r.group {
                e["group"] = json!(sub.group);
                e["version"] = json!(sub.version);
            }
            resources.push(e);
        }
    }
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/{}", group_version(group))
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}
