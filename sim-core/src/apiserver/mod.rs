//! The API server's write paths: create, update (apply with a three-way merge, as
//! `kubectl apply` does), delete, and the kubectl mutations built on them (scale, set image,
//! rollout undo/pause/resume/restart). Every write is defaulted and validated first, so a bad
//! request changes nothing.

mod apply;
mod batch;
pub mod call;
mod config;
mod eviction;
mod hpa;
pub mod list;
pub mod log;
pub mod managed;
pub(crate) mod mutations;
pub mod networking;
pub mod openapi;
pub mod patch;
mod pdb;
mod quota;
mod quota_admission;
mod rest;
mod server_side;
mod status;

use std::sync::Arc;

use k8s_openapi::api::core::v1::{PodTemplateSpec, Service};

use crate::api::defaults::set_defaults;
use crate::api::validation::{validate, validate_update};
use crate::api::{Object, resource};
use crate::controller::Work;
use crate::controller::gc::Propagation;
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId, PodState, RsEntry};

pub use apply::{diff_merge_patch, merge_patch, three_way_patch};
pub use mutations::UndoOrApiError;

/// The annotation `kubectl apply` keeps its last manifest in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What an apply did, as kubectl reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// `created`
    Created,
    /// `configured`
    Configured,
    /// `unchanged`
    Unchanged,
}

impl Applied {
    /// kubectl's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Applied::Created => "created",
            Applied::Configured => "configured",
            Applied::Unchanged => "unchanged",
        }
    }
}

/// `deployment.apps/x`, `service/x`: how kubectl names an object in its output (from the
/// resource registry; `object` for a kind kubesim does not serve).
pub fn kind_prefix(kind: &str) -> &'static str {
    resource::RESOURCES
        .iter()
        .find(|r| r.kind.as_str() == kind)
        .map_or("object", |r| r.kind_prefix())
}

impl Sim {
    /// The current object `kind` `namespace/name`, as the API returns it.
    pub fn get_object(&self, kind: Kind, namespace: &str, name: &str) -> Option<Object> {
        Some(match kind {
            Kind::Namespace => Object::Namespace(
                self.store
                    .namespaces
                    .get(self.store.namespaces.lookup("", name)?)?
                    .clone(),
            ),
            Kind::Node => Object::Node(self.node_object(self.store.nodes.lookup("", name)?)?),
            Kind::Pod => Object::Pod(
                self.store.pod_object(
                    self.store
                        .pods
                        .get(self.store.pods.lookup(namespace, name)?)?,
                ),
            ),
            Kind::ReplicaSet => Object::ReplicaSet(
                self.store
                    .replicasets
                    .get(self.store.replicasets.lookup(namespace, name)?)?
                    .rs
                    .clone(),
            ),
            Kind::Deployment => Object::Deployment(
                self.store
                    .deployments
                    .get(self.store.deployments.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::Service => Object::Service(
                self.store
                    .services
                    .get(self.store.services.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::Endpoints => Object::Endpoints(
                self.store
                    .endpoints
                    .get(self.store.endpoints.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::Event => return None,
            Kind::Ingress => Object::Ingress(
                self.store
                    .ingresses
                    .get(self.store.ingresses.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::IngressClass => Object::IngressClass(
                self.store
                    .ingress_classes
                    .get(self.store.ingress_classes.lookup("", name)?)?
                    .1
                    .clone(),
            ),
            Kind::HorizontalPodAutoscaler => Object::HorizontalPodAutoscaler(
                self.store
                    .hpas
                    .get(self.store.hpas.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::ConfigMap => Object::ConfigMap(
                self.store
                    .configmaps
                    .get(self.store.configmaps.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::Secret => Object::Secret(
                self.store
                    .secrets
                    .get(self.store.secrets.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::EndpointSlice => Object::EndpointSlice(
                self.store
                    .endpoint_slices
                    .get(self.store.endpoint_slices.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::PodDisruptionBudget => Object::PodDisruptionBudget(
                self.store
                    .pdbs
                    .get(self.store.pdbs.lookup(namespace, name)?)?
                    .1
                    .clone(),
            ),
            Kind::Job => Object::Job(Box::new(
                self.store
                    .jobs
                    .get(self.store.jobs.lookup(namespace, name)?)?
                    .job
                    .clone(),
            )),
            Kind::CronJob => Object::CronJob(Box::new(
                self.store
                    .cronjobs
                    .get(self.store.cronjobs.lookup(namespace, name)?)?
                    .1
                    .clone(),
            )),
            Kind::ResourceQuota | Kind::LimitRange => {
                return self.quota_object(kind, namespace, name);
            }
            Kind::Lease if namespace == crate::kubelet::lease::NAMESPACE => {
                Object::Lease(self.node_lease(self.store.nodes.lookup("", name)?)?)
            }
            Kind::Lease => return None,
        })
    }

    /// A node as the API shows it, with current conditions.
    pub fn node_object(&self, id: ObjId) -> Option<k8s_openapi::api::core::v1::Node> {
        use k8s_openapi::api::core::v1::{NodeAddress, NodeCondition};
        let n = self.store.nodes.get(id)?;
        let mut node = n.node.clone();
        let status = node.status.get_or_insert_with(Default::default);
        let t = self.store.time(n.ready_changed);
        // A silent kubelet's last heartbeat stays (kept at the `Down` fault, see
        // node_lifecycle.rs); a live one heartbeats now.
        let frozen = (!n.kubelet_up)
            .then(|| {
                n.node
                    .status
                    .as_ref()?
                    .conditions
                    .as_ref()?
                    .first()?
                    .last_heartbeat_time
                    .clone()
            })
            .flatten();
        let now = frozen.unwrap_or_else(|| self.store.time(self.store.now));
        let (st, reason, msg) = if n.ready {
            ("True", "KubeletReady", "kubelet is posting ready status")
        } else {
            (
                "Unknown",
                "NodeStatusUnknown",
                "Kubelet stopped posting node status.",
            )
        };
        let cond = |ty: &str, st: &str, reason: &str, msg: &str| NodeCondition {
            type_: ty.into(),
            status: st.into(),
            reason: Some(reason.into()),
            message: Some(msg.into()),
            last_heartbeat_time: Some(now.clone()),
            last_transition_time: Some(t.clone()),
        };
        let other = if n.ready { "False" } else { "Unknown" };
        status.conditions = Some(vec![
            cond(
                "MemoryPressure",
                other,
                if n.ready {
                    "KubeletHasSufficientMemory"
                } else {
                    "NodeStatusUnknown"
                },
                if n.ready {
                    "kubelet has sufficient memory available"
                } else {
                    msg
                },
            ),
            cond(
                "DiskPressure",
                other,
                if n.ready {
                    "KubeletHasNoDiskPressure"
                } else {
                    "NodeStatusUnknown"
                },
                if n.ready {
                    "kubelet has no disk pressure"
                } else {
                    msg
                },
            ),
            cond(
                "PIDPressure",
                other,
                if n.ready {
                    "KubeletHasSufficientPID"
                } else {
                    "NodeStatusUnknown"
                },
                if n.ready {
                    "kubelet has sufficient PID available"
                } else {
                    msg
                },
            ),
            cond("Ready", st, reason, msg),
        ]);
        status.addresses = Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: crate::store::pod::ip_string(n.ip),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: n.name.to_string(),
            },
        ]);
        status.node_info = Some(k8s_openapi::api::core::v1::NodeSystemInfo {
            architecture: "amd64".into(),
            boot_id: self.store.uid(id + 1_000_000),
            container_runtime_version: "containerd://1.7.18".into(),
            kernel_version: "6.1.0-kubesim".into(),
            kube_proxy_version: "v1.35.0".into(),
            kubelet_version: "v1.35.0".into(),
            machine_id: self.store.uid(id + 2_000_000).replace('-', ""),
            operating_system: "linux".into(),
            os_image: "kubesim virtual node".into(),
            system_uuid: self.store.uid(id + 3_000_000),
            ..Default::default()
        });
        Some(node)
    }

    fn check_namespace(&self, obj: &Object) -> Result<(), ApiError> {
        if !obj.is_namespaced() {
            return Ok(());
        }
        let ns = obj.namespace().unwrap_or("default");
        match self
            .store
            .namespaces
            .lookup("", ns)
            .and_then(|id| self.store.namespaces.get(id))
        {
            None => Err(ApiError::not_found("namespaces", ns)),
            Some(n) if n.metadata.deletion_timestamp.is_some() => {
                Err(ApiError::Forbidden(format!(
                    "{} {:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    obj.resource(),
                    obj.name()
                )))
            }
            Some(_) => Ok(()),
        }
    }

    /// Creates an object (`kubectl create`).
    pub fn create(&mut self, obj: Object) -> Result<ObjId, ApiError> {
        let id = self.create_unsettled(obj)?;
        self.settle();
        Ok(id)
    }

    /// Creates an object without running the controllers: for a controller that creates
    /// objects inside its own sync (the CronJob controller's Jobs), whose watchers then run
    /// after it, as informers would see the write.
    pub(crate) fn create_unsettled(&mut self, mut obj: Object) -> Result<ObjId, ApiError> {
        if obj.is_namespaced() && obj.namespace().is_none() {
            obj.metadata_mut().namespace = Some("default".into());
        }
        self.check_namespace(&obj)?;
        self.check_limits(&obj)?;
        set_defaults(&mut obj);
        self.admit_ingress(&mut obj);
        self.prepare_for_create(&mut obj);
        self.admit_limits(&mut obj)?;
        validate(&obj)?;
        let charges = self.admit_quota(&obj)?;
        let kind = kind_of(&obj).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "kubesim cannot create objects of kind {}",
                obj.kind()
            ))
        })?;
        let ns = obj.namespace().unwrap_or("").to_string();
        let name = obj.name().to_string();
        if self.get_object(kind, &ns, &name).is_some() {
            return Err(ApiError::AlreadyExists {
                resource: obj.resource().into(),
                name,
            });
        }
        let now = self.store.time(self.store.now);
        let meta = obj.metadata_mut();
        meta.creation_timestamp = Some(now);
        meta.uid = None;
        meta.resource_version = None;
        self.charge_quotas(charges);
        let id = match obj {
            Object::Namespace(n) => self.create_namespace_from(n),
            Object::Node(n) => {
                let cfg = node_config(&n);
                self.add_node(&cfg)
            }
            Object::Pod(p) => {
                let id = self.store.next_id();
                let template = Arc::new(PodTemplateSpec {
                    metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                        labels: p.metadata.labels.clone(),
                        annotations: p.metadata.annotations.clone(),
                        ..Default::default()
                    }),
                    spec: p.spec.clone(),
                });
                let pod = PodState::new(
                    id,
                    name.as_str().into(),
                    ns.as_str().into(),
                    template,
                    None,
                    self.store.now,
                );
                self.insert_pod(pod);
                self.orphan_pods.insert(id);
                self.rs_adopt_wakeup(&ns);
                id
            }
            Object::ReplicaSet(rs) => {
                let id = self.store.next_id();
                let template = Arc::new(
                    rs.spec
                        .as_ref()
                        .and_then(|s| s.template.clone())
                        .unwrap_or_default(),
                );
                self.insert_rs(id, rs, template, None);
                id
            }
            Object::Deployment(mut d) => {
                let id = self.store.next_id();
                let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
                let rv = self
                    .store
                    .touch(Kind::Deployment, id, &nsa, &na, ChangeType::Added);
                d.metadata.uid = Some(self.store.uid(id));
                d.metadata.resource_version = Some(rv.to_string());
                d.metadata.generation = Some(1);
                d.status = None;
                self.store.deployments.insert(id, nsa, na, (id, d));
                self.work.add(Work::Deployment(id));
                id
            }
            Object::Service(s) => self.create_service(s),
            Object::Ingress(i) => self.create_ingress(i),
            Object::IngressClass(c) => self.create_ingress_class(c),
            Object::HorizontalPodAutoscaler(h) => self.create_hpa(h),
            Object::PodDisruptionBudget(p) => self.create_pdb(p),
            Object::Job(j) => {
                let id = self.store.next_id();
                self.create_job(id, *j)
            }
            Object::CronJob(c) => self.create_cronjob(*c),
            Object::ResourceQuota(q) => self.create_quota(q),
            Object::LimitRange(l) => self.create_limit_range(l),
            obj @ (Object::ConfigMap(_) | Object::Secret(_)) => {
                let Some(id) = self.create_config_object(obj) else {
                    return Ok(0);
                };
                id
            }
            Object::Lease(_) => return Err(read_only(kind)),
            Object::Endpoints(_) | Object::Event(_) | Object::EndpointSlice(_) => {
                return Err(ApiError::BadRequest(format!(
                    "kubesim manages {} itself",
                    obj_kind_plural(kind)
                )));
            }
        };
        Ok(id)
    }

    fn rs_adopt_wakeup(&mut self, ns: &str) {
        for id in self.store.replicasets.ids_in(ns) {
            self.work.add(Work::ReplicaSet(id));
        }
    }

    fn create_namespace_from(&mut self, n: k8s_openapi::api::core::v1::Namespace) -> ObjId {
        let name = n.metadata.name.clone().unwrap_or_default();
        let id = self.create_namespace(&name);
        if let Some(stored) = self.store.namespaces.get_mut(id) {
            let mut labels = n.metadata.labels.clone().unwrap_or_default();
            labels.insert("kubernetes.io/metadata.name".into(), name);
            stored.metadata.labels = Some(labels);
            stored.metadata.annotations = n.metadata.annotations.clone();
        }
        id
    }

    /// Creates a Service: allocates its cluster IP (and node ports) and its Endpoints.
    pub(crate) fn create_service(&mut self, mut s: Service) -> ObjId {
        let id = self.store.next_id();
        let ns: Arc<str> = s.metadata.namespace.as_deref().unwrap_or("default").into();
        let name: Arc<str> = s.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::Service, id, &ns, &name, ChangeType::Added);
        s.metadata.uid = Some(self.store.uid(id));
        s.metadata.resource_version = Some(rv.to_string());
        s.metadata.creation_timestamp = Some(self.store.time(self.store.now));
        let spec = s.spec.get_or_insert_with(Default::default);
        if spec.cluster_ip.is_none() {
            let ip = self.allocate_cluster_ip(id);
            spec.cluster_ip = Some(ip.clone());
            spec.cluster_ips = Some(vec![ip]);
        }
        spec.ip_families.get_or_insert_with(|| vec!["IPv4".into()]);
        spec.ip_family_policy
            .get_or_insert_with(|| "SingleStack".into());
        let ty = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        if ty == "NodePort" || ty == "LoadBalancer" {
            let mut used: Vec<i32> = self
                .store
                .services
                .iter()
                .flat_map(|(_, (_, s))| {
                    s.spec
                        .iter()
                        .flat_map(|sp| sp.ports.iter().flatten())
                        .filter_map(|p| p.node_port)
                })
                .collect();
            for p in spec.ports.iter_mut().flatten() {
                if p.node_port.is_none() {
                    let mut port = 30000
                        + (crate::rng::fnv32a(format!("{}{}", id, p.port).as_bytes()) % 2768)
                            as i32;
                    while used.contains(&port) {
                        port = 30000 + (port - 30000 + 1) % 2768;
                    }
                    used.push(port);
                    p.node_port = Some(port);
                }
            }
        }
        if ty == "LoadBalancer" {
            s.status = Some(k8s_openapi::api::core::v1::ServiceStatus {
                load_balancer: Some(k8s_openapi::api::core::v1::LoadBalancerStatus {
                    ingress: Some(vec![k8s_openapi::api::core::v1::LoadBalancerIngress {
                        ip: Some(format!("172.18.255.{}", 200 + (id % 50))),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            });
        }
        self.store.services.insert(id, ns, name, (id, s));
        self.work.add(Work::Endpoints(id));
        id
    }

    fn allocate_cluster_ip(&self, id: ObjId) -> String {
        let used: Vec<String> = self
            .store
            .services
            .iter()
            .filter_map(|(_, (_, s))| s.spec.as_ref()?.cluster_ip.clone())
            .collect();
        let mut h = crate::rng::fnv32a(format!("{}-{}", self.config.seed, id).as_bytes());
        loop {
            let n = 10 + h % 65_000;
            let ip = format!("10.96.{}.{}", n / 254, n % 254 + 1);
            if !used.contains(&ip) {
                return ip;
            }
            h = h.wrapping_add(1);
        }
    }

    /// Replaces an object's spec and metadata (`kubectl replace`); returns whether anything
    /// changed.
    pub fn update(&mut self, mut new: Object) -> Result<bool, ApiError> {
        let kind = kind_of(&new).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "kubesim cannot update objects of kind {}",
                new.kind()
            ))
        })?;
        let ns = new.namespace().unwrap_or("").to_string();
        let name = new.name().to_string();
        let mut old = self
            .get_object(kind, &ns, &name)
            .ok_or_else(|| ApiError::not_found(new.resource(), &name))?;
        // Pods are stored with some defaults implicit (`enableServiceLinks`): compare like
        // with like.
        set_defaults(&mut old);
        set_defaults(&mut new);
        validate_update(&old, &new)?;
        match (old, new) {
            (Object::Deployment(old), Object::Deployment(mut d)) => {
                let Some(id) = self.store.deployments.lookup(&ns, &name) else {
                    return Ok(false);
                };
                if old.spec == d.spec
                    && old.metadata.labels == d.metadata.labels
                    && old.metadata.annotations == d.metadata.annotations
                {
                    return Ok(false);
                }
                let mut generation = old.metadata.generation.unwrap_or(1);
                if old.spec != d.spec || old.metadata.annotations != d.metadata.annotations {
                    generation += 1;
                }
                d.metadata = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    labels: d.metadata.labels,
                    annotations: d.metadata.annotations,
                    generation: Some(generation),
                    ..old.metadata.clone()
                };
                d.status = old.status.clone();
                let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
                let rv = self
                    .store
                    .touch(Kind::Deployment, id, &nsa, &na, ChangeType::Modified);
                d.metadata.resource_version = Some(rv.to_string());
                if let Some(entry) = self.store.deployments.get_mut(id) {
                    entry.1 = d;
                }
                self.work.add(Work::Deployment(id));
            }
            (Object::ReplicaSet(old), Object::ReplicaSet(mut rs)) => {
                let Some(id) = self.store.replicasets.lookup(&ns, &name) else {
                    return Ok(false);
                };
                if old.spec == rs.spec
                    && old.metadata.labels == rs.metadata.labels
                    && old.metadata.annotations == rs.metadata.annotations
                {
                    return Ok(false);
                }
                let generation =
                    old.metadata.generation.unwrap_or(1) + i64::from(old.spec != rs.spec);
                rs.metadata = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    labels: rs.metadata.labels,
                    annotations: rs.metadata.annotations,
                    generation: Some(generation),
                    ..old.metadata.clone()
                };
                rs.status = old.status.clone();
                let template = Arc::new(
                    rs.spec
                        .as_ref()
                        .and_then(|s| s.template.clone())
                        .unwrap_or_default(),
                );
                if let Some(e) = self.store.replicasets.get_mut(id) {
                    let owner = e.owner;
                    *e = RsEntry {
                        id,
                        rs,
                        template: if *e.template == *template {
                            e.template.clone()
                        } else {
                            template
                        },
                        owner,
                    };
                }
                self.write_rs(id);
                self.work.add(Work::ReplicaSet(id));
            }
            (Object::Service(old), Object::Service(mut s)) => {
                let Some(id) = self.store.services.lookup(&ns, &name) else {
                    return Ok(false);
                };
                if old.spec == s.spec
                    && old.metadata.labels == s.metadata.labels
                    && old.metadata.annotations == s.metadata.annotations
                {
                    return Ok(false);
                }
                if let (Some(new_spec), Some(old_spec)) = (s.spec.as_mut(), old.spec.as_ref()) {
                    new_spec.cluster_ip = old_spec.cluster_ip.clone();
                    new_spec.cluster_ips = old_spec.cluster_ips.clone();
                }
                s.metadata = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    labels: s.metadata.labels,
                    annotations: s.metadata.annotations,
                    ..old.metadata.clone()
                };
                s.status = old.status.clone();
                let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
                let rv = self
                    .store
                    .touch(Kind::Service, id, &nsa, &na, ChangeType::Modified);
                s.metadata.resource_version = Some(rv.to_string());
                if let Some(e) = self.store.services.get_mut(id) {
                    e.1 = s;
                }
                self.work.add(Work::Endpoints(id));
            }
            (Object::Pod(old), Object::Pod(p)) => {
                let Some(id) = self.store.pods.lookup(&ns, &name) else {
                    return Ok(false);
                };
                if old.metadata.labels == p.metadata.labels
                    && old.metadata.annotations == p.metadata.annotations
                {
                    return Ok(false);
                }
                if let Some(pod) = self.store.pods.get_mut(id) {
                    let mut t = (*pod.template).clone();
                    let m = t.metadata.get_or_insert_with(Default::default);
                    m.labels = p.metadata.labels.clone();
                    m.annotations = p.metadata.annotations.clone();
                    pod.template = Arc::new(t);
                }
                self.write_pod(id);
            }
            (Object::Namespace(_), Object::Namespace(n)) => {
                let Some(id) = self.store.namespaces.lookup("", &name) else {
                    return Ok(false);
                };
                if let Some(stored) = self.store.namespaces.get_mut(id) {
                    if stored.metadata.labels == n.metadata.labels
                        && stored.metadata.annotations == n.metadata.annotations
                    {
                        return Ok(false);
                    }
                    stored.metadata.labels = n.metadata.labels;
                    stored.metadata.annotations = n.metadata.annotations;
                }
            }
            (Object::Node(_), Object::Node(n)) => {
                let Some(id) = self.store.nodes.lookup("", &name) else {
                    return Ok(false);
                };
                let unschedulable = n.spec.as_ref().and_then(|s| s.unschedulable);
                // The user's taints replace the user's taints; those the node lifecycle
                // controller owns stay as its state has them (it would put them back).
                let user_taints = n
                    .spec
                    .as_ref()
                    .and_then(|s| s.taints.as_deref())
                    .unwrap_or(&[])
                    .iter()
                    .filter(|t| !crate::controller::taint::controller_owned(t))
                    .cloned();
                if let Some(stored) = self.store.nodes.get_mut(id) {
                    stored.node.metadata.labels = n.metadata.labels.clone();
                    stored.node.metadata.annotations = n.metadata.annotations.clone();
                    let spec = stored.node.spec.get_or_insert_with(Default::default);
                    spec.unschedulable = unschedulable;
                    let mut taints: Vec<_> = spec
                        .taints
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(crate::controller::taint::controller_owned)
                        .collect();
                    taints.splice(0..0, user_taints);
                    spec.taints = (!taints.is_empty()).then_some(taints);
                }
                self.sync_controller_taints(id);
                let name: Arc<str> = name.as_str().into();
                let rv = self
                    .store
                    .touch(Kind::Node, id, &"".into(), &name, ChangeType::Modified);
                if let Some(stored) = self.store.nodes.get_mut(id) {
                    stored.node.metadata.resource_version = Some(rv.to_string());
                }
                self.taint_eviction_node(id);
                self.retry_unschedulable();
            }
            (Object::Ingress(old), Object::Ingress(i)) => {
                if !self.update_ingress(old, i) {
                    return Ok(false);
                }
            }
            (Object::IngressClass(old), Object::IngressClass(c)) => {
                if !self.update_ingress_class(old, c) {
                    return Ok(false);
                }
            }
            (Object::HorizontalPodAutoscaler(old), Object::HorizontalPodAutoscaler(h)) => {
                if !self.update_hpa(old, h) {
                    return Ok(false);
                }
            }
            (Object::PodDisruptionBudget(old), Object::PodDisruptionBudget(p)) => {
                if !self.update_pdb(old, p) {
                    return Ok(false);
                }
            }
            (Object::Job(old), Object::Job(j)) => {
                if !self.update_job(*old, *j) {
                    return Ok(false);
                }
            }
            (Object::CronJob(old), Object::CronJob(c)) => {
                if !self.update_cronjob(*old, *c) {
                    return Ok(false);
                }
            }
            (Object::ConfigMap(_), new @ Object::ConfigMap(_))
            | (Object::Secret(_), new @ Object::Secret(_)) => {
                let root_ca = matches!(&new, Object::ConfigMap(_))
                    .then(|| new.namespace().unwrap_or("default").to_string())
                    .filter(|_| new.name() == crate::api::admission::ROOT_CA_CONFIGMAP);
                if !self.update_config_object(new) {
                    return Ok(false);
                }
                // The root CA publisher puts its ConfigMap back (`controller/root_ca.rs`).
                if let Some(ns) = root_ca {
                    self.sync_root_ca(&ns);
                }
            }
            (Object::ResourceQuota(_), Object::ResourceQuota(q)) => {
                if !self.update_quota(q) {
                    return Ok(false);
                }
            }
            (Object::LimitRange(_), Object::LimitRange(l)) => {
                if !self.update_limit_range(l) {
                    return Ok(false);
                }
            }
            _ => return Ok(false),
        }
        self.settle();
        Ok(true)
    }

    /// Deletes an object (`kubectl delete`).
    pub fn delete(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
        propagation: Propagation,
    ) -> Result<(), ApiError> {
        self.delete_with_grace(kind, namespace, name, propagation, None)
    }

    /// Deletes an object; for a pod, `grace` overrides terminationGracePeriodSeconds
    /// (`--grace-period`, 0 with `--force` removes it at once).
    pub fn delete_with_grace(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
        propagation: Propagation,
        grace: Option<i64>,
    ) -> Result<(), ApiError> {
        let not_found = || ApiError::not_found(resource_of(kind), name);
        match kind {
            Kind::Deployment => {
                let id = self
                    .store
                    .deployments
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.delete_deployment(id, propagation);
            }
            Kind::ReplicaSet => {
                let id = self
                    .store
                    .replicasets
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.delete_rs(id, propagation);
            }
            Kind::Pod => {
                let id = self
                    .store
                    .pods
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.delete_pod(id, grace);
            }
            Kind::Service => {
                let id = self
                    .store
                    .services
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                let (nsa, na): (Arc<str>, Arc<str>) = (namespace.into(), name.into());
                self.store
                    .touch(Kind::Service, id, &nsa, &na, ChangeType::Deleted);
                self.store.services.remove(id, namespace, name);
                self.delete_service_slices(id);
                if let Some(eid) = self.store.endpoints.lookup(namespace, name) {
                    self.store
                        .touch(Kind::Endpoints, eid, &nsa, &na, ChangeType::Deleted);
                    self.store.endpoints.remove(eid, namespace, name);
                }
            }
            Kind::Namespace => {
                let id = self
                    .store
                    .namespaces
                    .lookup("", name)
                    .ok_or_else(not_found)?;
                if matches!(
                    name,
                    "default" | "kube-system" | "kube-public" | "kube-node-lease"
                ) {
                    return Err(ApiError::Forbidden(format!(
                        "namespaces {name:?} is forbidden: this namespace may not be deleted"
                    )));
                }
                let deadline = self.store.time(self.store.now);
                if let Some(n) = self.store.namespaces.get_mut(id) {
                    n.metadata.deletion_timestamp = Some(deadline);
                    if let Some(s) = n.status.as_mut() {
                        s.phase = Some("Terminating".into());
                    }
                }
                for d in self.store.deployments.ids_in(name) {
                    self.delete_deployment(d, Propagation::Background);
                }
                for rs in self.store.replicasets.ids_in(name) {
                    self.delete_rs(rs, Propagation::Background);
                }
                for s in self
                    .store
                    .services
                    .names_in(name)
                    .map(|(n, _)| n.to_string())
                    .collect::<Vec<_>>()
                {
                    self.delete(Kind::Service, name, &s, Propagation::Background)?;
                }
                for p in self.store.pods.ids_in(name) {
                    self.delete_pod(p, None);
                }
                self.delete_ingresses_in(name);
                let hpas: Vec<(String, ObjId)> = self
                    .store
                    .hpas
                    .names_in(name)
                    .map(|(n, id)| (n.to_string(), id))
                    .collect();
                for (h, id) in hpas {
                    self.delete_hpa(id, name, &h);
                }
                let pdbs: Vec<(String, ObjId)> = self
                    .store
                    .pdbs
                    .names_in(name)
                    .map(|(n, id)| (n.to_string(), id))
                    .collect();
                for (p, id) in pdbs {
                    self.delete_pdb(id, name, &p);
                }
                self.delete_config_objects_in(name);
                self.delete_batch_in(name);
                self.delete_quota_objects_in(name);
                self.maybe_finish_namespace(name);
            }
            Kind::Node => {
                self.node_fault(name, crate::controller::node_lifecycle::NodeFault::Remove)?;
            }
            Kind::Ingress | Kind::IngressClass => self.delete_networking(kind, namespace, name)?,
            Kind::HorizontalPodAutoscaler => {
                let id = self
                    .store
                    .hpas
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.delete_hpa(id, namespace, name);
            }
            Kind::PodDisruptionBudget => {
                let id = self
                    .store
                    .pdbs
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.delete_pdb(id, namespace, name);
            }
            Kind::Job => {
                let id = self
                    .store
                    .jobs
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.delete_job(id, propagation);
            }
            Kind::CronJob => {
                let id = self
                    .store
                    .cronjobs
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.delete_cronjob(id, propagation);
            }
            Kind::Endpoints | Kind::Event | Kind::EndpointSlice => {
                return Err(ApiError::BadRequest(format!(
                    "kubesim manages {} itself",
                    obj_kind_plural(kind)
                )));
            }
            Kind::Lease => return Err(read_only(kind)),
            Kind::ConfigMap | Kind::Secret => {
                self.delete_config_object(kind, namespace, name)?;
                if kind == Kind::ConfigMap && name == crate::api::admission::ROOT_CA_CONFIGMAP {
                    self.sync_root_ca(namespace);
                }
            }
            Kind::ResourceQuota | Kind::LimitRange => {
                self.delete_quota_object(kind, namespace, name)?;
            }
        }
        self.settle();
        Ok(())
    }
}

pub(crate) fn kind_of(obj: &Object) -> Option<Kind> {
    Some(match obj {
        Object::Namespace(_) => Kind::Namespace,
        Object::Node(_) => Kind::Node,
        Object::Pod(_) => Kind::Pod,
        Object::ReplicaSet(_) => Kind::ReplicaSet,
        Object::Deployment(_) => Kind::Deployment,
        Object::Service(_) => Kind::Service,
        Object::Endpoints(_) => Kind::Endpoints,
        Object::HorizontalPodAutoscaler(_) => Kind::HorizontalPodAutoscaler,
        Object::Event(_) => return None,
        Object::Ingress(_) => Kind::Ingress,
        Object::IngressClass(_) => Kind::IngressClass,
        Object::ConfigMap(_) => Kind::ConfigMap,
        Object::Secret(_) => Kind::Secret,
        Object::EndpointSlice(_) => Kind::EndpointSlice,
        Object::PodDisruptionBudget(_) => Kind::PodDisruptionBudget,
        Object::Job(_) => Kind::Job,
        Object::CronJob(_) => Kind::CronJob,
        Object::ResourceQuota(_) => Kind::ResourceQuota,
        Object::LimitRange(_) => Kind::LimitRange,
        Object::Lease(_) => Kind::Lease,
    })
}

/// The refusal of a write to a kind kubesim serves read only (the kubelets' Leases).
fn read_only(kind: Kind) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "kubesim's {} are its kubelets' and read only",
        obj_kind_plural(kind)
    ))
}

/// The resource name of a kind, as in API messages (`deployments.apps`, `pods`).
pub fn resource_of(kind: Kind) -> &'static str {
    resource::of(kind).qualified_name()
}

fn obj_kind_plural(kind: Kind) -> &'static str {
    resource::of(kind).plural
}

fn node_config(n: &k8s_openapi::api::core::v1::Node) -> crate::sim::NodeConfig {
    let name = n.metadata.name.clone().unwrap_or_default();
    let mut cfg = crate::sim::NodeConfig::named(&name);
    if let Some(cap) = n.status.as_ref().and_then(|s| s.capacity.as_ref()) {
        if let Some(q) = cap.get("cpu") {
            cfg.cpu = q.0.clone();
        }
        if let Some(q) = cap.get("memory") {
            cfg.memory = q.0.clone();
        }
        if let Some(q) = cap.get("pods").and_then(|q| q.0.parse().ok()) {
            cfg.pods = q;
        }
    }
    cfg.labels = n.metadata.labels.clone().unwrap_or_default();
    cfg
}
