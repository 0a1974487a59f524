//! The endpoints controller: a Service's Endpoints list exactly the ready pods its selector
//! matches (not-ready ones under `notReadyAddresses`; terminating ones not at all). The same
//! walk of the pods gives the EndpointSlice controller its wants (`endpointslice.rs`).
//! Port of the essentials of `pkg/controller/endpoint/endpoints_controller.go`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::endpointslice;
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
        // Addresses grouped by the ports they resolve to: the controller adds one subset per
        // pod and service port and `RepackSubsets` merges those with the same ports.
        type PortsKey = Vec<(Option<String>, i32, Option<String>)>;
        type Group = (Vec<EndpointAddress>, Vec<EndpointAddress>);
        let mut groups: BTreeMap<PortsKey, Group> = BTreeMap::new();
        let mut port_specs: BTreeMap<PortsKey, Vec<EndpointPort>> = BTreeMap::new();
        let publish_not_ready = spec.publish_not_ready_addresses == Some(true);
        // The EndpointSlice controller's wants, gathered in the same walk.
        let mut slice_desired = endpointslice::Desired::new();
        for pid in self.store.pods.ids_in(&ns) {
            let Some(p) = self.store.pods.get(pid) else {
                continue;
            };
            // `ShouldPodBeInEndpoints(pod, true)` for slices keeps terminating pods.
            if !should_be_in_slices(p)
                || !selector.iter().all(|(k, v)| p.labels().get(k) == Some(v))
            {
                continue;
            }
            // Ports are resolved per pod (`podutil.FindPort`); a pod without a named port is
            // left out for that port.
            let ports: Vec<EndpointPort> = spec
                .ports
                .iter()
                .flatten()
                .filter_map(|sp| {
                    let port = resolve_target_port(sp.target_port.as_ref(), sp.port, p)?;
                    Some(EndpointPort {
                        name: sp.name.clone(),
                        port,
                        protocol: sp.protocol.clone(),
                        app_protocol: sp.app_protocol.clone(),
                    })
                })
                .collect();
            let node_name = p
                .node
                .and_then(|n| self.store.nodes.get(n))
                .map(|n| n.name.to_string());
            let target_ref = ObjectReference {
                kind: Some("Pod".into()),
                name: Some(p.name.to_string()),
                namespace: Some(ns.clone()),
                uid: Some(self.store.uid(pid)),
                ..Default::default()
            };
            let slice_key: endpointslice::PortsKey = ports
                .iter()
                .map(|e| {
                    (
                        e.name.clone().unwrap_or_default(),
                        e.port,
                        e.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        e.app_protocol.clone(),
                    )
                })
                .collect();
            slice_desired
                .entry(slice_key)
                .or_default()
                .push(endpointslice::pod_to_endpoint(
                    ip_string(p.ip),
                    p.ready,
                    p.deletion.is_some(),
                    publish_not_ready,
                    node_name.clone(),
                    target_ref.clone(),
                ));
            if p.deletion.is_some() {
                continue;
            }
            if ports.is_empty() && spec.ports.as_ref().is_some_and(|v| !v.is_empty()) {
                continue;
            }
            let key: Vec<_> = ports
                .iter()
                .map(|e| (e.name.clone(), e.port, e.protocol.clone()))
                .collect();
            let addr = EndpointAddress {
                ip: ip_string(p.ip),
                node_name,
                target_ref: Some(target_ref),
                hostname: None,
            };
            port_specs.entry(key.clone()).or_insert(ports);
            let group = groups.entry(key).or_default();
            if p.ready {
                group.0.push(addr)
            } else {
                group.1.push(addr)
            }
        }
        // New endpoints go into slices in pod-IP order.
        for endpoints in slice_desired.values_mut() {
            endpoints.sort_by_key(|e| {
                e.addresses
                    .first()
                    .and_then(|a| a.parse::<std::net::Ipv4Addr>().ok())
            });
        }
        self.reconcile_endpoint_slices(svc_id, slice_desired);
        let subsets: Vec<EndpointSubset> = groups
            .into_iter()
            .map(|(key, (mut ready, mut not_ready))| {
                ready.sort_by(|a, b| a.ip.cmp(&b.ip));
                not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
                let ports = port_specs.remove(&key).unwrap_or_default();
                EndpointSubset {
                    addresses: (!ready.is_empty()).then_some(ready),
                    not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                    ports: (!ports.is_empty()).then_some(ports),
                }
            })
            .collect();
        let subsets = (!subsets.is_empty()).then_some(subsets);
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

/// `endpointsliceutil.ShouldPodBeInEndpoints(pod, true)`: the pod has an IP and is not
/// finished for good under its restart policy; terminating pods are kept (the Endpoints
/// controller then leaves them out).
fn should_be_in_slices(p: &crate::store::PodState) -> bool {
    use crate::store::pod::Phase;
    if p.ip == 0 {
        return false;
    }
    match p
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
    {
        Some("Never") => !matches!(p.phase, Phase::Succeeded | Phase::Failed),
        Some("OnFailure") => p.phase != Phase::Succeeded,
        _ => true,
    }
}

/// A Service targetPort: a number, or a container port name looked up in the pod
/// (`podutil.FindPort`); `None` when the pod has no port of that name.
fn resolve_target_port(
    target: Option<&IntOrString>,
    port: i32,
    p: &crate::store::PodState,
) -> Option<i32> {
    match target {
        None => Some(port),
        Some(IntOrString::Int(i)) => Some(*i),
        Some(IntOrString::String(name)) => p
            .template
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .find(|cp| cp.name.as_deref() == Some(name.as_str()))
            .map(|cp| cp.container_port),
    }
}
