//! The store's objects as the API serves them: `list` (what `kubectl get` reads) and the API
//! Events of the store's aggregated event records.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::Object;
use crate::sim::Sim;
use crate::store::{EventRecord, Kind};

/// The API Event for a stored event, as seen at now.
pub fn k8s_event(sim: &Sim, e: &EventRecord<'_>) -> Option<Event> {
    let now = sim.now();
    let (count, last) = e.seen_at(now)?;
    let t = |s| sim.store.time(s);
    Some(Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{:x}",
                e.object.name,
                0x1800_0000_0000_0000u64 + e.seq * 0x1_0000_0000 + e.first.millis()
            )),
            namespace: Some(if e.object.namespace.is_empty() {
                "default".into()
            } else {
                e.object.namespace.to_string()
            }),
            uid: Some(sim.store.uid(u64::MAX / 2 + e.seq)),
            creation_timestamp: Some(t(e.first)),
            ..Default::default()
        },
        involved_object: ObjectReference {
            kind: Some(e.object.kind.as_str().into()),
            name: Some(e.object.name.to_string()),
            namespace: (!e.object.namespace.is_empty()).then(|| e.object.namespace.to_string()),
            uid: Some(sim.store.uid(e.object.id)),
            api_version: Some(e.object.kind.api_version().into()),
            ..Default::default()
        },
        reason: Some(e.reason.into()),
        message: Some(e.message().into_owned()),
        type_: Some(if e.warning { "Warning" } else { "Normal" }.into()),
        count: Some(count as i32),
        first_timestamp: Some(t(e.first)),
        last_timestamp: Some(t(last)),
        source: Some(EventSource {
            component: Some(e.source.into()),
            host: e.host.as_ref().map(|h| h.to_string()),
        }),
        reporting_component: Some(e.source.into()),
        reporting_instance: Some(
            e.host
                .as_ref()
                .map_or_else(|| e.source.to_string(), |h| h.to_string()),
        ),
        ..Default::default()
    })
}

/// Events about object `id`, oldest first by last write.
pub fn events_for(sim: &Sim, id: u64) -> Vec<Event> {
    by_last_write(sim, sim.store.events.for_object(id).into_iter())
}

/// The API Events of `events` in the order of their last write (to the write within an
/// instant, as a real cluster's microsecond timestamps order them; the API's
/// `lastTimestamp` has whole seconds, so printers that sort by it keep this order within a
/// second).
fn by_last_write<'a>(sim: &Sim, events: impl Iterator<Item = EventRecord<'a>>) -> Vec<Event> {
    let now = sim.now();
    let mut evs: Vec<_> = events
        .filter_map(|e| Some((e.written_at(now)?, k8s_event(sim, &e)?)))
        .collect();
    evs.sort_by_key(|(at, _)| *at);
    evs.into_iter().map(|(_, e)| e).collect()
}

/// The objects of `kind` in `ns` (every namespace when `None`) whose labels match
/// `selector`, in the order `kubectl get` prints them.
pub fn list(
    sim: &Sim,
    kind: Kind,
    ns: Option<&str>,
    selector: &crate::api::selector::Selector,
) -> Vec<Object> {
    let mut out = Vec::new();
    let in_ns = |o_ns: &str| ns.is_none_or(|n| n == o_ns);
    match kind {
        Kind::Lease => {
            for l in sim.leases_in(ns) {
                if selector.matches(l.metadata.labels.as_ref().unwrap_or(&Default::default())) {
                    out.push(Object::Lease(l));
                }
            }
        }
        Kind::Pod => {
            for (o_ns, _, id) in sim.store.pods.all_names() {
                if let Some(p) = sim.store.pods.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(p.labels())
                {
                    out.push(Object::Pod(sim.store.pod_object(p)));
                }
            }
        }
        Kind::Deployment => {
            for (o_ns, _, id) in sim.store.deployments.all_names() {
                if let Some((_, d)) = sim.store.deployments.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(d.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Deployment(d.clone()));
                }
            }
        }
        Kind::ReplicaSet => {
            for (o_ns, _, id) in sim.store.replicasets.all_names() {
                if let Some(e) = sim.store.replicasets.get(id).filter(|_| in_ns(o_ns))
                    && selector
                        .matches(e.rs.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::ReplicaSet(e.rs.clone()));
                }
            }
        }
        Kind::Service => {
            for (o_ns, _, id) in sim.store.services.all_names() {
                if let Some((_, s)) = sim.store.services.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(s.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Service(s.clone()));
                }
            }
        }
        Kind::HorizontalPodAutoscaler => {
            for (o_ns, _, id) in sim.store.hpas.all_names() {
                if let Some((_, h)) = sim.store.hpas.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(h.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::HorizontalPodAutoscaler(h.clone()));
                }
            }
        }
        Kind::Endpoints => {
            for (o_ns, _, id) in sim.store.endpoints.all_names() {
                if let Some((_, e)) = sim.store.endpoints.get(id).filter(|_| in_ns(o_ns)) {
                    out.push(Object::Endpoints(e.clone()));
                }
            }
        }
        Kind::PodDisruptionBudget => {
            for (o_ns, _, id) in sim.store.pdbs.all_names() {
                if let Some((_, p)) = sim.store.pdbs.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(p.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::PodDisruptionBudget(p.clone()));
                }
            }
        }
        Kind::Job => {
            for (o_ns, _, id) in sim.store.jobs.all_names() {
                if let Some(e) = sim.store.jobs.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(
                        e.job
                            .metadata
                            .labels
                            .as_ref()
                            .unwrap_or(&Default::default()),
                    )
                {
                    out.push(Object::Job(Box::new(e.job.clone())));
                }
            }
        }
        Kind::CronJob => {
            for (o_ns, _, id) in sim.store.cronjobs.all_names() {
                if let Some((_, c)) = sim.store.cronjobs.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(c.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::CronJob(Box::new(c.clone())));
                }
            }
        }
        Kind::ResourceQuota => {
            for (o_ns, _, id) in sim.store.quotas.all_names() {
                if let Some((_, q)) = sim.store.quotas.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(q.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::ResourceQuota(q.clone()));
                }
            }
        }
        Kind::LimitRange => {
            for (o_ns, _, id) in sim.store.limit_ranges.all_names() {
                if let Some((_, l)) = sim.store.limit_ranges.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(l.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::LimitRange(l.clone()));
                }
            }
        }
        Kind::EndpointSlice => {
            for (o_ns, _, id) in sim.store.endpoint_slices.all_names() {
                if let Some((_, e)) = sim.store.endpoint_slices.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(e.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::EndpointSlice(e.clone()));
                }
            }
        }
        Kind::ConfigMap => {
            for (o_ns, _, id) in sim.store.configmaps.all_names() {
                if let Some((_, c)) = sim.store.configmaps.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(c.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::ConfigMap(c.clone()));
                }
            }
        }
        Kind::Secret => {
            for (o_ns, _, id) in sim.store.secrets.all_names() {
                if let Some((_, s)) = sim.store.secrets.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(s.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Secret(s.clone()));
                }
            }
        }
        Kind::Node => {
            for (_, _, id) in sim.store.nodes.all_names() {
                if let Some(n) = sim.node_object(id)
                    && selector.matches(n.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Node(n));
                }
            }
        }
        Kind::Namespace => {
            for (_, _, id) in sim.store.namespaces.all_names() {
                if let Some(n) = sim.store.namespaces.get(id) {
                    out.push(Object::Namespace(n.clone()));
                }
            }
        }
        Kind::Event => {
            let evs = by_last_write(
                sim,
                sim.store.events.iter().filter(|e| {
                    ns.is_none_or(|n| {
                        *e.object.namespace == *n
                            || (e.object.namespace.is_empty() && n == "default")
                    })
                }),
            );
            out.extend(evs.into_iter().map(Object::Event));
        }
        Kind::Ingress => {
            for (o_ns, _, id) in sim.store.ingresses.all_names() {
                if let Some((_, i)) = sim.store.ingresses.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(i.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Ingress(i.clone()));
                }
            }
        }
        Kind::IngressClass => {
            for (_, _, id) in sim.store.ingress_classes.all_names() {
                if let Some((_, c)) = sim.store.ingress_classes.get(id)
                    && selector.matches(c.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::IngressClass(c.clone()));
                }
            }
        }
    }
    out
}
