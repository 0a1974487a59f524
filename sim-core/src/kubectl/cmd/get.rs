//! `kubectl get`: tables, `-o yaml|json|name`, several kinds at once.

use crate::api::Object;
use crate::apiserver::{kind_prefix, resource_of};
use crate::kubectl::args::{Args, parse_kind};
use crate::kubectl::list::list;
use crate::kubectl::print::{self, GetOptions};
use crate::kubectl::{Output, unknown_kind};
use crate::sim::Sim;
use crate::store::Kind;

fn opts(args: &Args, with_kind: bool, all_ns: bool) -> GetOptions {
    let o = args.get(&["-o", "--output"]).unwrap_or("");
    GetOptions {
        wide: o == "wide",
        with_kind,
        with_namespace: all_ns,
        no_headers: args.has(&["--no-headers"]),
        show_labels: args.has(&["--show-labels"]),
        cells: false,
    }
}

/// `kubectl get`'s table of `objs` (all of kind `kind`); with `o.cells`, the server-side
/// Table's columns and cells as JSON.
pub fn render(
    kind: Kind,
    objs: &[Object],
    o: &GetOptions,
    now: k8s_openapi::jiff::Timestamp,
) -> String {
    macro_rules! pick {
        ($variant:ident, $f:path) => {{
            let v: Vec<_> = objs
                .iter()
                .filter_map(|x| {
                    if let Object::$variant(y) = x {
                        Some(y.clone())
                    } else {
                        None
                    }
                })
                .collect();
            $f(&v, o, now)
        }};
    }
    // The boxed variants (`Object::Job`, `Object::CronJob`).
    macro_rules! pick_boxed {
        ($variant:ident, $f:path) => {{
            let v: Vec<_> = objs
                .iter()
                .filter_map(|x| match x {
                    Object::$variant(y) => Some((**y).clone()),
                    _ => None,
                })
                .collect();
            $f(&v, o, now)
        }};
    }
    match kind {
        Kind::Pod => pick!(Pod, print::get_pods),
        Kind::Deployment => pick!(Deployment, print::get_deployments),
        Kind::ReplicaSet => pick!(ReplicaSet, print::get_replicasets),
        Kind::Service => pick!(Service, print::get_services),
        Kind::Endpoints => pick!(Endpoints, print::get_endpoints),
        Kind::Node => pick!(Node, print::get_nodes),
        Kind::Namespace => pick!(Namespace, print::get_namespaces),
        Kind::Event => pick!(Event, print::get_events),
        Kind::Ingress => pick!(Ingress, print::get_ingresses),
        Kind::IngressClass => pick!(IngressClass, print::get_ingress_classes),
        Kind::HorizontalPodAutoscaler => pick!(HorizontalPodAutoscaler, print::get_hpas),
        Kind::ConfigMap => pick!(ConfigMap, print::get_configmaps),
        Kind::Secret => pick!(Secret, print::get_secrets),
        Kind::EndpointSlice => pick!(EndpointSlice, print::get_endpoint_slices),
        Kind::PodDisruptionBudget => pick!(PodDisruptionBudget, print::get_pdbs),
        Kind::Job => pick_boxed!(Job, print::get_jobs),
        Kind::CronJob => pick_boxed!(CronJob, print::get_cronjobs),
        Kind::ResourceQuota => pick!(ResourceQuota, print::get_quotas),
        Kind::LimitRange => pick!(LimitRange, print::get_limit_ranges),
        Kind::Lease => pick!(Lease, print::get_leases),
    }
}

pub(in crate::kubectl) fn get(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(first) = args.positional.first() else {
        return Output::err(
            "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.",
        );
    };
    let all_ns = args.has(&["-A", "--all-namespaces"]);
    let selector = match args
        .get(&["-l", "--selector"])
        .map(crate::api::selector::Selector::parse)
    {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Output::err(format!("error: {e}")),
        None => crate::api::selector::Selector::everything(),
    };
    let output = args.get(&["-o", "--output"]).unwrap_or("");
    let (kinds_word, names): (String, Vec<String>) = match first.split_once('/') {
        Some((k, n)) => (k.to_string(), vec![n.to_string()]),
        None => (first.clone(), args.positional[1..].to_vec()),
    };
    let mut kinds = Vec::new();
    for w in kinds_word.split(',') {
        match parse_kind(w) {
            Some(k) => kinds.push(k),
            None => return unknown_kind(w),
        }
    }
    let multi = kinds.len() > 1;
    let now = sim.store.now_timestamp();
    let mut blocks = Vec::new();
    let mut out = Output::default();
    let mut found_any = false;
    for kind in kinds {
        let scope = if !crate::api::resource::of(kind).namespaced || all_ns {
            None
        } else {
            Some(ns)
        };
        let mut objs = list(sim, kind, scope, &selector);
        if !names.is_empty() {
            let mut picked = Vec::new();
            for n in &names {
                match objs.iter().find(|o| o.name() == n) {
                    Some(o) => picked.push(o.clone()),
                    None => out.push(Output::err(format!(
                        "Error from server (NotFound): {} {n:?} not found",
                        resource_of(kind)
                    ))),
                }
            }
            objs = picked;
        }
        if objs.is_empty() {
            continue;
        }
        found_any = true;
        match output {
            "yaml" | "json" => {
                let items: Vec<serde_json::Value> = objs.iter().map(Object::to_value).collect();
                let value = if items.len() == 1 && !names.is_empty() {
                    items.into_iter().next().unwrap_or_default()
                } else {
                    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
                };
                blocks.push(if output == "yaml" {
                    print::to_yaml(&value)
                } else {
                    print::to_json(&value)
                });
            }
            "name" => blocks.push(
                objs.iter()
                    .map(|o| format!("{}/{}\n", kind_prefix(o.kind()), o.name()))
                    .collect(),
            ),
            "" | "wide" => blocks.push(render(kind, &objs, &opts(args, multi, all_ns), now)),
            other => {
                return Output::err(format!(
                    "error: unable to match a printer suitable for the output format {other:?}, allowed formats are: json,name,wide,yaml"
                ));
            }
        }
    }
    if !found_any && out.code == 0 {
        let msg = if all_ns {
            "No resources found\n".to_string()
        } else {
            format!("No resources found in {ns} namespace.\n")
        };
        out.stderr.push_str(&msg);
        return out;
    }
    // get.go separates resource groups with a blank line only in the human-readable
    // path; `-o name` goes through printGeneric, one name per line.
    out.stdout = if output == "name" {
        blocks.concat()
    } else {
        print::join_get_blocks(&blocks)
    };
    out
}
