//! The resource metrics API, `metrics.k8s.io/v1beta1`, as metrics-server serves it through
//! the API server's aggregation layer: `PodMetrics` and `NodeMetrics`, read only, from
//! `sim_core::metrics` (the traffic model's CPU over metrics-server's 15 s windows). This is
//! what `kubectl top pod|node` reads.

#[allow(unused_imports)]
use super::*;

/// The group.
pub(super) const GROUP: &str = "metrics.k8s.io";
/// Its one version.
pub(super) const VERSION: &str = "v1beta1";

/// metrics-server's `APIResourceList`.
pub(super) fn resource_list() -> Value {
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{GROUP}/{VERSION}"),
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ],
    })
}

fn metrics_not_found(resource: &str, name: &str) -> Response {
    status(
        404,
        "NotFound",
        &format!("{resource}.{GROUP} {name:?} not found"),
        json!({"name": name, "group": GROUP, "kind": resource}),
    )
}

/// `rest` is the path after `/apis/metrics.k8s.io/v1beta1`.
pub(super) fn serve(st: &Cluster, method: &Method, rest: &str, uri: &Uri) -> Response {
    if method != Method::GET {
        return status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            json!({}),
        );
    }
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let selector = query_pairs(uri)
        .into_iter()
        .find(|(k, _)| k == "labelSelector")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let selector = match Selector::parse(&selector) {
        Ok(s) => s,
        Err(e) => return status(400, "BadRequest", &e.to_string(), json!({})),
    };
    let sb = st.lock();
    let sim = sb.sim();
    let shift = sb.wall_shift();
    let mut v = match segs.as_slice() {
        [] => resource_list(),
        ["nodes"] => list(
            "NodeMetricsList",
            sim.store
                .nodes
                .all_names()
                .filter(|(_, _, id)| {
                    sim.store.nodes.get(*id).is_some_and(|n| {
                        selector.matches(
                            n.node
                                .metadata
                                .labels
                                .as_ref()
                                .unwrap_or(&Default::default()),
                        )
                    })
                })
                .filter_map(|(_, _, id)| sim.node_metrics_value(id))
                .collect(),
        ),
        ["nodes", name] => {
            match sim
                .store
                .nodes
                .lookup("", name)
                .and_then(|id| sim.node_metrics_value(id))
            {
                Some(v) => v,
                None => return metrics_not_found("nodemetrics", name),
            }
        }
        ["pods"] => pods(sim, None, &selector),
        ["namespaces", ns, "pods"] => pods(sim, Some(ns), &selector),
        ["namespaces", ns, "pods", name] => {
            match sim
                .store
                .pods
                .lookup(ns, name)
                .and_then(|id| sim.pod_metrics_value(id))
            {
                Some(v) => v,
                None => return metrics_not_found("podmetrics", &format!("{ns}/{name}")),
            }
        }
        _ => return not_found_plain(),
    };
    shift_times(&mut v, shift);
    json_ok(v)
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({
        "kind": kind,
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": {},
        "items": items,
    })
}

fn pods(sim: &Sim, ns: Option<&str>, selector: &Selector) -> Value {
    let items = sim
        .store
        .pods
        .all_names()
        .filter(|(n, _, _)| ns.is_none_or(|want| want == *n))
        .filter(|(_, _, id)| {
            sim.store
                .pods
                .get(*id)
                .is_some_and(|p| selector.matches(p.labels()))
        })
        .filter_map(|(_, _, id)| sim.pod_metrics_value(id))
        .collect();
    list("PodMetricsList", items)
}
