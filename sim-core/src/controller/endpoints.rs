//! The endpoints controller: a Service's Endpoints list exactly the ready pods its selector
//! matches (not-ready ones under `notReadyAddresses`; terminating ones not at all).
//! Port of the essentials of `pkg/controller/endpoint/endpoints_controller.go`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::sim::Sim;
use crate::store::pod::ip_string;
use crate::store::{ChangeType, Kind, ObjId};

impl Sim {
    /// Recomputes one Service's Endpoints.
    pub(crate) fn sync_endpoints(&mut self, svc_id: ObjId) {
        let Some((_, svc)) = self.store.services.get(svc_id) else {
            return;
        };
        let Some(spec) = svc.spec.clone() else { return };
        let Some(selector) = spec.selector.clone().filter(|s| !s.is_empty()) else {
            return;
        };
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let mut ready = Vec::new();
        let mut not_ready = Vec::new();
        let mut ports_by_pod: Option<Vec<EndpointPort>> = None;
        for pid in self.store.pods.ids_in(&ns) {
            let Some(p) = self.store.pods.get(pid) else {
                continue;
            };
            if p.deletion.is_some()
                || p.ip == 0
                || !selector.iter().all(|(k, v)| p.labels().get(k) == Some(v))
            {
                continue;
            }
            let addr = EndpointAddress {
                ip: ip_string(p.ip),
                node_name: p
                    .node
                    .and_then(|n| self.store.nodes.get(n))
                    .map(|n| n.name.to_string()),
                target_ref: Some(ObjectReference {
                    kind: Some("Pod".into()),
                    name: Some(p.name.to_string()),
                    namespace: Some(ns.clone()),
                    uid: Some(self.store.uid(pid)),
                    ..Default::default()
                }),
                hostname: None,
            };
            if ports_by_pod.is_none() {
                ports_by_pod = Some(
                    spec.ports
                        .iter()
                        .flatten()
                        .map(|sp| EndpointPort {
                            name: sp.name.clone(),
                            port: resolve_target_port(sp.target_port.as_ref(), sp.port, p),
                            protocol: sp.protocol.clone(),
                            app_protocol: sp.app_protocol.clone(),
                        })
                        .collect(),
                );
            }
            if p.ready {
                ready.push(addr)
            } else {
                not_ready.push(addr)
            }
        }
        ready.sort_by(|a, b| a.ip.cmp(&b.ip));
        not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
        let subsets = if ready.is_empty() && not_ready.is_empty() {
            None
        } else {
            Some(vec![EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: ports_by_pod,
            }])
        };
        let existing = self.store.endpoints.lookup(&ns, &name);
        let ns_arc: std::sync::Arc<str> = ns.as_str().into();
        let name_arc: std::sync::Arc<str> = name.as_str().into();
        match existing {
            Some(eid) => {
                let Some((_, ep)) = self.store.endpoints.get(eid) else {
                    return;
                };
                if ep.subsets == subsets {
                    return;
                }
                let rv = self.store.touch(
                    Kind::Endpoints,
                    eid,
                    &ns_arc,
                    &name_arc,
                    ChangeType::Modified,
                );
                if let Some((_, ep)) = self.store.endpoints.get_mut(eid) {
                    ep.subsets = subsets;
                    ep.metadata.resource_version = Some(rv.to_string());
                }
            }
            None => {
                let eid = self.store.next_id();
                let rv =
                    self.store
                        .touch(Kind::Endpoints, eid, &ns_arc, &name_arc, ChangeType::Added);
                let labels: BTreeMap<String, String> = svc_labels(self, svc_id);
                let ep = Endpoints {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some(ns.clone()),
                        uid: Some(self.store.uid(eid)),
                        resource_version: Some(rv.to_string()),
                        creation_timestamp: Some(self.store.time(self.store.now)),
                        labels: (!labels.is_empty()).then_some(labels),
                        ..Default::default()
                    },
                    subsets,
                };
                self.store
                    .endpoints
                    .insert(eid, ns_arc, name_arc, (eid, ep));
            }
        }
    }
}

fn svc_labels(sim: &Sim, svc: ObjId) -> BTreeMap<String, String> {
    sim.store
        .services
        .get(svc)
        .and_then(|(_, s)| s.metadata.labels.clone())
        .unwrap_or_default()
}

/// A Service targetPort: a number, or a container port name looked up in the pod.
fn resolve_target_port(target: Option<&IntOrString>, port: i32, p: &crate::store::PodState) -> i32 {
    match target {
        None => port,
        Some(IntOrString::Int(i)) => *i,
        Some(IntOrString::String(name)) => p
            .template
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .find(|cp| cp.name.as_deref() == Some(name.as_str()))
            .map_or(port, |cp| cp.container_port),
    }
}
