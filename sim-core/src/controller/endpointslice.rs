//! The EndpointSlice controller: a selecting Service's endpoints as `discovery.k8s.io/v1`
//! EndpointSlices of at most 100 endpoints, one set of slices per distinct port mapping, each
//! endpoint with its `ready`/`serving`/`terminating` conditions; a placeholder slice (no ports,
//! no endpoints) while nothing is selected.
//! Port of `pkg/controller/endpointslice/endpointslice_controller.go` and of the reconciler in
//! `staging/src/k8s.io/endpointslice/{reconciler.go,utils.go}`.
//!
//! It runs in the same pass as the endpoints controller (`controller/endpoints.rs`), over the
//! same walk of the namespace's pods, so a Service costs one walk and the slices are written
//! only where they change (the reconciler's "update only what differs").
//! Not modelled: the `endpoints.kubernetes.io/last-change-trigger-time` annotation, topology
//! hints, `zone` (nodes carry no zone label here), dual-stack (every address is IPv4), and
//! the reconciler's random pick among wanted endpoints (here: pod-IP order); slices written
//! through the API are refused, as Endpoints are.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ObjectReference, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId};

/// `maxEndpointsPerSlice`: kube-controller-manager's `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The controller's name in `LABEL_MANAGED_BY`.
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// `v1.IsHeadlessService`'s label on the slices of a headless Service.
const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";

/// The ports of one port mapping, as (name, port, protocol, appProtocol).
pub(crate) type PortsKey = Vec<(String, i32, String, Option<String>)>;

/// What the controller wants: endpoints by port mapping, each list in pod-IP order.
pub(crate) type Desired = BTreeMap<PortsKey, Vec<Endpoint>>;

/// `podToEndpoint`: a pod's endpoint with its conditions. `serving` is the pod's Ready
/// condition, `terminating` its deletion timestamp, and `ready` the first without the second
/// (`publishNotReadyAddresses` makes every endpoint ready).
pub(crate) fn pod_to_endpoint(
    ip: String,
    pod_ready: bool,
    terminating: bool,
    publish_not_ready: bool,
    node: Option<String>,
    target: ObjectReference,
) -> Endpoint {
    Endpoint {
        addresses: vec![ip],
        conditions: Some(EndpointConditions {
            ready: Some(publish_not_ready || (pod_ready && !terminating)),
            serving: Some(pod_ready),
            terminating: Some(terminating),
        }),
        node_name: node,
        target_ref: Some(target),
        ..Default::default()
    }
}

/// The slice ports of a mapping key (`getEndpointPorts`: name, port, protocol, appProtocol).
fn slice_ports(key: &PortsKey) -> Option<Vec<EndpointPort>> {
    Some(
        key.iter()
            .map(|(name, port, protocol, app)| EndpointPort {
                name: Some(name.clone()),
                port: Some(*port),
                protocol: Some(protocol.clone()),
                app_protocol: app.clone(),
            })
            .collect(),
    )
}

/// The mapping key of a stored slice's ports.
fn key_of(slice: &EndpointSlice) -> PortsKey {
    slice
        .ports
        .iter()
        .flatten()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.port.unwrap_or(0),
                p.protocol.clone().unwrap_or_default(),
                p.app_protocol.clone(),
            )
        })
        .collect()
}

/// `setEndpointSliceLabels`: the Service's labels (but the two the controller owns), the
/// headless label, then `kubernetes.io/service-name` and the manager.
fn slice_labels(svc: &Service, svc_name: &str) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = svc
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != LABEL_SERVICE_NAME && k.as_str() != LABEL_MANAGED_BY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    }
    labels.insert(LABEL_SERVICE_NAME.into(), svc_name.into());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    labels
}

/// An endpoint's identity across syncs: its pod (or, without one, its address).
fn endpoint_key(e: &Endpoint) -> String {
    e.target_ref
        .as_ref()
        .and_then(|t| t.uid.clone())
        .unwrap_or_else(|| e.addresses.first().cloned().unwrap_or_default())
}

/// One slice as the reconciler leaves it: kept unchanged, rewritten, created or deleted.
enum Plan {
    Update(ObjId, Box<EndpointSlice>),
    Create(PortsKey, Vec<Endpoint>),
    Delete(ObjId),
}

/// `reconcileByPortMapping`: 1. keeps each wanted endpoint in the slice that has it (updated
/// when its conditions changed), drops the unwanted and deletes slices left empty; 2. puts
/// new endpoints in the slices being updated while they have room; 3. the rest in one
/// unchanged slice they fit in, else in new slices of at most [`MAX_ENDPOINTS_PER_SLICE`].
fn reconcile_by_port_mapping(
    key: PortsKey,
    wanted: Vec<Endpoint>,
    slices: Vec<(ObjId, EndpointSlice)>,
    plans: &mut Vec<Plan>,
) {
    let mut remaining: BTreeMap<String, Endpoint> = wanted
        .iter()
        .map(|e| (endpoint_key(e), e.clone()))
        .collect();
    let mut order: Vec<String> = wanted.iter().map(endpoint_key).collect();
    let mut to_update: Vec<(ObjId, EndpointSlice)> = Vec::new();
    let mut unchanged: Vec<(ObjId, EndpointSlice)> = Vec::new();
    for (id, mut slice) in slices {
        let mut changed = false;
        let mut kept = Vec::with_capacity(slice.endpoints.len());
        for e in std::mem::take(&mut slice.endpoints) {
            match remaining.remove(&endpoint_key(&e)) {
                Some(new) => {
                    changed |= new != e;
                    kept.push(new);
                }
                None => changed = true,
            }
        }
        slice.endpoints = kept;
        if slice.endpoints.is_empty() {
            plans.push(Plan::Delete(id));
        } else if changed {
            to_update.push((id, slice));
        } else {
            unchanged.push((id, slice));
        }
    }
    order.retain(|k| remaining.contains_key(k));
    let mut fresh: std::collections::VecDeque<Endpoint> = order
        .into_iter()
        .filter_map(|k| remaining.remove(&k))
        .collect();
    // 2. The slices being updated are filled first, the fullest first.
    to_update.sort_by_key(|(_, s)| std::cmp::Reverse(s.endpoints.len()));
    for (_, slice) in &mut to_update {
        while slice.endpoints.len() < MAX_ENDPOINTS_PER_SLICE {
            let Some(e) = fresh.pop_front() else { break };
            slice.endpoints.push(e);
        }
    }
    // 3. What is left goes into the unchanged slice it fills closest to full when it fits in
    // one (`getSliceToFill`), else into new slices.
    while !fresh.is_empty() {
        let n = fresh.len();
        let fill = (n < MAX_ENDPOINTS_PER_SLICE)
            .then(|| slice_to_fill(&unchanged, n))
            .flatten();
        let (target, mut endpoints) = match fill {
            Some(i) => {
                let (id, slice) = unchanged.remove(i);
                (Some((id, slice.clone())), slice.endpoints)
            }
            None => (None, Vec::new()),
        };
        while endpoints.len() < MAX_ENDPOINTS_PER_SLICE {
            let Some(e) = fresh.pop_front() else { break };
            endpoints.push(e);
        }
        match target {
            Some((id, mut slice)) => {
                slice.endpoints = endpoints;
                to_update.push((id, slice));
            }
            None => plans.push(Plan::Create(key.clone(), endpoints)),
        }
    }
    plans.extend(
        to_update
            .into_iter()
            .map(|(id, s)| Plan::Update(id, Box::new(s))),
    );
}

/// `getSliceToFill`: the slice that `n` more endpoints bring closest to full without
/// passing it.
fn slice_to_fill(slices: &[(ObjId, EndpointSlice)], n: usize) -> Option<usize> {
    let mut closest: Option<(usize, usize)> = None;
    for (i, (_, s)) in slices.iter().enumerate() {
        let Some(diff) = MAX_ENDPOINTS_PER_SLICE.checked_sub(n + s.endpoints.len()) else {
            continue;
        };
        if closest.is_none_or(|(_, d)| diff < d) {
            closest = Some((i, diff));
            if diff == 0 {
                break;
            }
        }
    }
    closest.map(|(i, _)| i)
}

impl Sim {
    /// `reconciler.reconcile` for one Service: brings its slices to `desired`.
    pub(crate) fn reconcile_endpoint_slices(&mut self, svc_id: ObjId, desired: Desired) {
        let Some((_, svc)) = self.store.services.get(svc_id) else {
            return;
        };
        let svc = svc.clone();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let labels = slice_labels(&svc, &name);
        let existing: Vec<(ObjId, EndpointSlice)> = self
            .store
            .service_slices
            .get(&svc_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.store.endpoint_slices.get(*id))
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        let mut plans: Vec<Plan> = Vec::new();
        let mut by_key: BTreeMap<PortsKey, Vec<(ObjId, EndpointSlice)>> = BTreeMap::new();
        for (id, s) in existing.iter().cloned() {
            by_key.entry(key_of(&s)).or_default().push((id, s));
        }
        let total_desired: usize = desired.values().map(Vec::len).sum();
        // Slices of a port mapping nobody wants any more go (`reconcile`'s first loop).
        for (key, slices) in &by_key {
            if !desired.contains_key(key) {
                plans.extend(slices.iter().map(|(id, _)| Plan::Delete(*id)));
            }
        }
        for (key, wanted) in desired {
            let slices = by_key.remove(&key).unwrap_or_default();
            reconcile_by_port_mapping(key, wanted, slices, &mut plans);
        }
        // `reconcile`: with no endpoints at all a placeholder slice stays (or is created),
        // so that a Service always has one.
        let deleting = plans
            .iter()
            .filter(|p| matches!(p, Plan::Delete(_)))
            .count();
        let creating = plans.iter().any(|p| matches!(p, Plan::Create(..)));
        if total_desired == 0 && existing.len() == deleting && !creating {
            let placeholder = existing
                .iter()
                .find(|(_, s)| s.ports.is_none() && s.endpoints.is_empty());
            match placeholder {
                Some((keep, _)) if deleting == 1 => {
                    plans.retain(|p| !matches!(p, Plan::Delete(id) if id == keep));
                }
                _ => plans.push(Plan::Create(Vec::new(), Vec::new())),
            }
        }
        let ns: Arc<str> = svc.metadata.namespace.as_deref().unwrap_or("").into();
        for plan in plans {
            match plan {
                Plan::Delete(id) => self.delete_endpoint_slice(svc_id, id),
                Plan::Update(id, slice) => self.update_endpoint_slice(id, *slice, &labels),
                Plan::Create(key, endpoints) => {
                    self.create_endpoint_slice(svc_id, &svc, &ns, &key, endpoints, &labels)
                }
            }
        }
        // Labels follow the Service's on slices nothing else changed.
        let ids: Vec<ObjId> = self
            .store
            .service_slices
            .get(&svc_id)
            .cloned()
            .unwrap_or_default();
        for id in ids {
            if let Some((_, s)) = self.store.endpoint_slices.get(id)
                && s.metadata.labels.as_ref() != Some(&labels)
            {
                let s = s.clone();
                self.update_endpoint_slice(id, s, &labels);
            }
        }
    }

    fn create_endpoint_slice(
        &mut self,
        svc_id: ObjId,
        svc: &Service,
        ns: &Arc<str>,
        key: &PortsKey,
        endpoints: Vec<Endpoint>,
        labels: &BTreeMap<String, String>,
    ) {
        let svc_name = svc.metadata.name.clone().unwrap_or_default();
        // `getEndpointSlicePrefix`, then the API server's generateName: the prefix cut to 58
        // characters and five random ones, drawn again on a clash.
        let prefix = format!("{svc_name}-");
        let base: String = prefix.chars().take(58).collect();
        let name: Arc<str> = loop {
            let candidate = format!("{base}{}", self.rng.name_suffix());
            if self.store.endpoint_slices.lookup(ns, &candidate).is_none() {
                break candidate.into();
            }
        };
        let id = self.store.next_id();
        let rv = self
            .store
            .touch(Kind::EndpointSlice, id, ns, &name, ChangeType::Added);
        let slice = EndpointSlice {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                generate_name: Some(prefix),
                namespace: Some(ns.to_string()),
                uid: Some(self.store.uid(id)),
                resource_version: Some(rv.to_string()),
                generation: Some(1),
                creation_timestamp: Some(self.store.time(self.store.now)),
                labels: Some(labels.clone()),
                owner_references: Some(vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "Service".into(),
                    name: svc_name,
                    uid: svc.metadata.uid.clone().unwrap_or_default(),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }]),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            endpoints,
            ports: if key.is_empty() {
                None
            } else {
                slice_ports(key)
            },
        };
        self.store
            .endpoint_slices
            .insert(id, ns.clone(), name, (id, slice));
        self.store
            .service_slices
            .entry(svc_id)
            .or_default()
            .push(id);
    }

    fn update_endpoint_slice(
        &mut self,
        id: ObjId,
        mut slice: EndpointSlice,
        labels: &BTreeMap<String, String>,
    ) {
        let ns: Arc<str> = slice.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = slice.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::EndpointSlice, id, &ns, &name, ChangeType::Modified);
        slice.metadata.labels = Some(labels.clone());
        slice.metadata.resource_version = Some(rv.to_string());
        // The registry's PrepareForUpdate bumps the generation of a changed slice.
        slice.metadata.generation = Some(slice.metadata.generation.unwrap_or(0) + 1);
        if let Some(entry) = self.store.endpoint_slices.get_mut(id) {
            entry.1 = slice;
        }
    }

    /// Removes one of a Service's slices.
    pub(crate) fn delete_endpoint_slice(&mut self, svc_id: ObjId, id: ObjId) {
        let Some((_, s)) = self.store.endpoint_slices.get(id) else {
            return;
        };
        let ns: Arc<str> = s.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = s.metadata.name.as_deref().unwrap_or("").into();
        self.store
            .touch(Kind::EndpointSlice, id, &ns, &name, ChangeType::Deleted);
        self.store.endpoint_slices.remove(id, &ns, &name);
        if let Some(ids) = self.store.service_slices.get_mut(&svc_id) {
            ids.retain(|x| *x != id);
            if ids.is_empty() {
                self.store.service_slices.remove(&svc_id);
            }
        }
    }

    /// A deleted Service's slices go with it (the garbage collector follows their owner
    /// reference).
    pub(crate) fn delete_service_slices(&mut self, svc_id: ObjId) {
        let ids = self
            .store
            .service_slices
            .get(&svc_id)
            .cloned()
            .unwrap_or_default();
        for id in ids {
            self.delete_endpoint_slice(svc_id, id);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The reconciler's rules after `reconciler_test.go`: placeholder, 100 per slice,
    //! conditions of terminating endpoints, labels and owner, deletion with the Service.

    use super::*;
    use crate::sim::SimConfig;
    use crate::time::SimDuration;

    const SVC: &str = "
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, labels: {tier: front}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
";

    fn deployment(replicas: u32) -> String {
        format!(
            "
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 30
      containers: [{{name: web, image: nginx:1.27}}]
"
        )
    }

    fn apply(sim: &mut Sim, yaml: &str) {
        let out = crate::kubectl::apply_text(sim, yaml, "STDIN", "default", false);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }

    /// The Service's slices, sorted by name.
    fn slices(sim: &Sim) -> Vec<EndpointSlice> {
        let mut v: Vec<EndpointSlice> = sim
            .store
            .endpoint_slices
            .iter()
            .map(|(_, (_, s))| s.clone())
            .collect();
        v.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        v
    }

    fn conditions(e: &Endpoint) -> (bool, bool, bool) {
        let c = e.conditions.clone().unwrap_or_default();
        (
            c.ready.unwrap_or(false),
            c.serving.unwrap_or(false),
            c.terminating.unwrap_or(false),
        )
    }

    #[test]
    fn a_placeholder_until_pods_then_their_endpoints_with_the_service_labels_and_owner() {
        let mut sim = Sim::new(SimConfig::default());
        apply(&mut sim, SVC);
        let s = slices(&sim);
        assert_eq!(s.len(), 1, "one placeholder");
        let p = &s[0];
        assert!(p.endpoints.is_empty() && p.ports.is_none());
        assert_eq!(p.address_type, "IPv4");
        let name = p.metadata.name.clone().unwrap_or_default();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        assert_eq!(p.metadata.generate_name.as_deref(), Some("web-"));
        let labels = p.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(LABEL_SERVICE_NAME).map(String::as_str),
            Some("web")
        );
        assert_eq!(
            labels.get(LABEL_MANAGED_BY).map(String::as_str),
            Some(CONTROLLER_NAME)
        );
        assert_eq!(labels.get("tier").map(String::as_str), Some("front"));
        let owner = &p.metadata.owner_references.clone().unwrap_or_default()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Service", "web")
        );
        assert_eq!(owner.controller, Some(true));

        apply(&mut sim, &deployment(3));
        sim.advance(SimDuration(60_000));
        let s = slices(&sim);
        assert_eq!(s.len(), 1, "the placeholder gave way to one slice");
        assert_ne!(s[0].metadata.name, p.metadata.name);
        let ports = s[0].ports.clone().unwrap_or_default();
        assert_eq!(ports.len(), 1);
        assert_eq!(
            (
                ports[0].name.as_deref(),
                ports[0].port,
                ports[0].protocol.as_deref()
            ),
            (Some(""), Some(8080), Some("TCP"))
        );
        assert_eq!(s[0].endpoints.len(), 3);
        for e in &s[0].endpoints {
            assert_eq!(conditions(e), (true, true, false));
            assert!(e.node_name.is_some());
            assert_eq!(
                e.target_ref.as_ref().and_then(|t| t.kind.as_deref()),
                Some("Pod")
            );
        }
        // The same ready pods as the Endpoints object.
        let (_, ep) = sim
            .store
            .endpoints
            .get(sim.store.endpoints.lookup("default", "web").unwrap_or(0))
            .cloned()
            .unwrap_or_default();
        let mut ready: Vec<String> = ep
            .subsets
            .iter()
            .flatten()
            .flat_map(|s| s.addresses.iter().flatten())
            .map(|a| a.ip.clone())
            .collect();
        let mut from_slice: Vec<String> = s[0]
            .endpoints
            .iter()
            .map(|e| e.addresses[0].clone())
            .collect();
        ready.sort();
        from_slice.sort();
        assert_eq!(ready, from_slice);
    }

    #[test]
    fn at_most_a_hundred_endpoints_a_slice() {
        let mut sim = Sim::new(SimConfig::default());
        apply(&mut sim, SVC);
        apply(&mut sim, &deployment(250));
        sim.advance(SimDuration(120_000));
        let s = slices(&sim);
        let mut sizes: Vec<usize> = s.iter().map(|s| s.endpoints.len()).collect();
        sizes.sort();
        assert_eq!(sizes, [50, 100, 100]);
        let mut ips: Vec<&String> = s
            .iter()
            .flat_map(|s| s.endpoints.iter().map(|e| &e.addresses[0]))
            .collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), 250, "each pod once");
    }

    #[test]
    fn terminating_endpoints_serve_but_are_not_ready_then_the_placeholder_returns() {
        let mut sim = Sim::new(SimConfig::default());
        apply(&mut sim, SVC);
        apply(&mut sim, &deployment(2));
        sim.advance(SimDuration(60_000));
        let before = slices(&sim);
        let generation = before[0].metadata.generation;
        apply(&mut sim, &deployment(0));
        let s = slices(&sim);
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].metadata.name, before[0].metadata.name,
            "updated in place"
        );
        assert!(s[0].metadata.generation > generation);
        assert_eq!(s[0].endpoints.len(), 2);
        for e in &s[0].endpoints {
            assert_eq!(conditions(e), (false, true, true));
        }
        sim.advance(SimDuration(60_000));
        let s = slices(&sim);
        assert_eq!(s.len(), 1);
        assert!(
            s[0].endpoints.is_empty() && s[0].ports.is_none(),
            "placeholder"
        );

        let out = crate::kubectl::run(
            &mut sim,
            "kubectl delete service web",
            &crate::kubectl::NoFiles,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(slices(&sim).is_empty());
        assert!(sim.store.service_slices.is_empty());
    }
}
