//! `kubectl describe`: one object, every object of a kind, or the names with a prefix.

use crate::apiserver::resource_of;
use crate::controller::deployment::util;
use crate::kubectl::args::{Args, parse_kind, target};
use crate::kubectl::list::events_for;
use crate::kubectl::print;
use crate::kubectl::{Output, unknown_kind};
use crate::sim::Sim;
use crate::store::Kind;

pub(in crate::kubectl) fn describe(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    // `kubectl describe pods` (a type alone) describes every object of that type in the
    // namespace; `describe pods NAME` with no exact match describes those NAME prefixes.
    if let [kw] = args.positional.as_slice()
        && !kw.contains('/')
    {
        let Some(kind) = parse_kind(kw) else {
            return unknown_kind(kw);
        };
        let names = names_of(sim, kind, ns);
        if names.is_empty() {
            return Output::err(format!("No resources found in {ns} namespace."));
        }
        return describe_each(sim, args, ns, kw, &names);
    }
    if let [kw, prefix] = args.positional.as_slice()
        && let Some(kind) = parse_kind(kw)
    {
        let names = names_of(sim, kind, ns);
        if !names.contains(prefix) {
            let matching: Vec<String> = names
                .into_iter()
                .filter(|n| n.starts_with(prefix.as_str()))
                .collect();
            if !matching.is_empty() {
                return describe_each(sim, args, ns, kw, &matching);
            }
        }
    }
    describe_one(sim, args, ns)
}

/// Names of every object of `kind` in `ns`, sorted.
fn names_of(sim: &Sim, kind: Kind, ns: &str) -> Vec<String> {
    let mut v: Vec<String> = match kind {
        Kind::Deployment => sim
            .store
            .deployments
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::ReplicaSet => sim
            .store
            .replicasets
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Pod => sim
            .store
            .pods
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Service => sim
            .store
            .services
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Node => sim
            .store
            .nodes
            .all_names()
            .map(|(_, n, _)| n.to_string())
            .collect(),
        Kind::Ingress => sim
            .store
            .ingresses
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::IngressClass => sim
            .store
            .ingress_classes
            .all_names()
            .map(|(_, n, _)| n.to_string())
            .collect(),
        Kind::HorizontalPodAutoscaler => sim
            .store
            .hpas
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::ConfigMap => sim
            .store
            .configmaps
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Secret => sim
            .store
            .secrets
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Job => sim
            .store
            .jobs
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::CronJob => sim
            .store
            .cronjobs
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::ResourceQuota => sim
            .store
            .quotas
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::LimitRange => sim
            .store
            .limit_ranges
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        _ => Vec::new(),
    };
    v.sort();
    v
}

/// `kubectl describe pod NAME -n NS` as kubectl prints it, or the API server's NotFound.
pub fn describe_pod(sim: &Sim, ns: &str, name: &str) -> Result<String, crate::error::ApiError> {
    let id = sim
        .store
        .pods
        .lookup(ns, name)
        .ok_or_else(|| crate::error::ApiError::not_found("pods", name))?;
    let p = sim
        .store
        .pods
        .get(id)
        .ok_or_else(|| crate::error::ApiError::not_found("pods", name))?;
    Ok(print::describe_pod(
        &sim.store.pod_object(p),
        &events_for(sim, id),
        sim.store.now_timestamp(),
    ))
}

/// Describes each named object, separated as kubectl separates them.
fn describe_each(sim: &mut Sim, args: &Args, ns: &str, kw: &str, names: &[String]) -> Output {
    let mut out = Output::default();
    for (i, name) in names.iter().enumerate() {
        let one = Args {
            positional: vec![kw.to_string(), name.clone()],
            flags: args.flags.clone(),
            rest: Vec::new(),
        };
        let o = describe_one(sim, &one, ns);
        if i > 0 {
            out.stdout.push_str("\n\n");
        }
        out.push(o);
    }
    out
}

fn describe_one(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (kind, name) = match target(args) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let now = sim.store.now_timestamp();
    let nf = || {
        Output::err(format!(
            "Error from server (NotFound): {} {name:?} not found",
            resource_of(kind)
        ))
    };
    match kind {
        Kind::Deployment => {
            let Some(id) = sim.store.deployments.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, d)) = sim.store.deployments.get(id) else {
                return nf();
            };
            let cx_rs = sim.revisions(id);
            let template = d.spec.as_ref().map(|s| s.template.clone());
            let mut new_rs = None;
            let mut old = Vec::new();
            let mut by_age: Vec<_> = cx_rs.iter().map(|(_, id)| *id).collect();
            sim.sort_by_creation(&mut by_age);
            for rid in by_age {
                let Some(e) = sim.store.replicasets.get(rid) else {
                    continue;
                };
                if new_rs.is_none()
                    && template
                        .as_ref()
                        .is_some_and(|t| util::equal_ignore_hash(&e.template, t))
                {
                    new_rs = Some(e.rs.clone());
                } else {
                    old.push(e.rs.clone());
                }
            }
            Output::ok(print::describe_deployment(
                d,
                &old,
                new_rs.as_ref(),
                &events_for(sim, id),
                now,
            ))
        }
        Kind::Pod => match describe_pod(sim, ns, &name) {
            Ok(text) => Output::ok(text),
            Err(_) => nf(),
        },
        Kind::ReplicaSet => {
            let Some(id) = sim.store.replicasets.lookup(ns, &name) else {
                return nf();
            };
            let Some(e) = sim.store.replicasets.get(id) else {
                return nf();
            };
            let pods: Vec<_> = sim
                .store
                .owners
                .dependents(id)
                .into_iter()
                .filter_map(|p| sim.store.pods.get(p))
                .map(|p| sim.store.pod_object(p))
                .collect();
            Output::ok(print::describe_replicaset(
                &e.rs,
                &pods,
                &events_for(sim, id),
                now,
            ))
        }
        Kind::Job => {
            let Some(id) = sim.store.jobs.lookup(ns, &name) else {
                return nf();
            };
            let Some(e) = sim.store.jobs.get(id) else {
                return nf();
            };
            Output::ok(print::describe_job(&e.job, &events_for(sim, id), now))
        }
        Kind::CronJob => {
            let Some(id) = sim.store.cronjobs.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, c)) = sim.store.cronjobs.get(id) else {
                return nf();
            };
            Output::ok(print::describe_cronjob(c, &events_for(sim, id), now))
        }
        Kind::HorizontalPodAutoscaler => {
            let Some(id) = sim.store.hpas.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, h)) = sim.store.hpas.get(id) else {
                return nf();
            };
            Output::ok(print::describe_hpa(h, &events_for(sim, id), now))
        }
        Kind::Service => {
            let Some(id) = sim.store.services.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, s)) = sim.store.services.get(id) else {
                return nf();
            };
            // kubectl lists the slices labelled with the Service's name.
            let mut slices: Vec<_> = sim
                .store
                .service_slices
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|e| sim.store.endpoint_slices.get(*e))
                .map(|(_, e)| e.clone())
                .collect();
            slices.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
            Output::ok(print::describe_service_at(
                s,
                &slices,
                &events_for(sim, id),
                now,
            ))
        }
        Kind::Node => {
            let Some(id) = sim.store.nodes.lookup("", &name) else {
                return nf();
            };
            let Some(n) = sim.node_object(id) else {
                return nf();
            };
            let pods: Vec<_> = sim
                .store
                .nodes
                .get(id)
                .map(|n| {
                    n.pods
                        .iter()
                        .filter_map(|p| sim.store.pods.get(*p))
                        .map(|p| sim.store.pod_object(p))
                        .collect()
                })
                .unwrap_or_default();
            let lease = sim.node_lease(id);
            Output::ok(print::describe_node(
                &n,
                lease.as_ref(),
                &pods,
                &events_for(sim, id),
                now,
            ))
        }
        Kind::Ingress => {
            let Some(id) = sim.store.ingresses.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, ing)) = sim.store.ingresses.get(id) else {
                return nf();
            };
            let lookup = |svc: &str| {
                let (_, s) = sim
                    .store
                    .services
                    .get(sim.store.services.lookup(ns, svc)?)?;
                let ep = sim
                    .store
                    .endpoints
                    .lookup(ns, svc)
                    .and_then(|e| sim.store.endpoints.get(e))
                    .map(|(_, e)| e.clone());
                Some((s.clone(), ep))
            };
            Output::ok(print::describe_ingress(
                ing,
                &lookup,
                &events_for(sim, id),
                now,
            ))
        }
        Kind::IngressClass => {
            let Some(id) = sim.store.ingress_classes.lookup("", &name) else {
                return nf();
            };
            let Some((_, c)) = sim.store.ingress_classes.get(id) else {
                return nf();
            };
            Output::ok(print::describe_ingress_class(c, &events_for(sim, id), now))
        }
        Kind::ConfigMap => {
            let Some(id) = sim.store.configmaps.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, cm)) = sim.store.configmaps.get(id) else {
                return nf();
            };
            Output::ok(print::describe_configmap(cm, &events_for(sim, id), now))
        }
        Kind::Secret => {
            let Some(id) = sim.store.secrets.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, secret)) = sim.store.secrets.get(id) else {
                return nf();
            };
            Output::ok(print::describe_secret(secret))
        }
        Kind::ResourceQuota | Kind::LimitRange => match sim.get_object(kind, ns, &name) {
            Some(crate::api::Object::ResourceQuota(q)) => Output::ok(print::describe_quota(&q)),
            Some(crate::api::Object::LimitRange(l)) => Output::ok(print::describe_limit_range(&l)),
            _ => nf(),
        },
        _ => Output::err(format!(
            "error: kubesim cannot describe {} yet",
            resource_of(kind)
        )),
    }
}
