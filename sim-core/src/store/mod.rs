//! The in-memory API store: typed tables with names, resource versions, the owner graph, the
//! event log, the controllers' reasoning and a stream of changes for watchers.

mod correlator;
pub mod events;
mod intern;
pub mod owners;
pub mod pod;
pub mod pod_counts;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, LimitRange, Namespace, Node, PodTemplateSpec, ResourceQuota, Secret,
    Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub use events::{EventLog, EventRecord, NewEvent, ObjRef};
pub use owners::OwnerGraph;
pub use pod::PodState;

use crate::time::SimTime;

/// An object's id inside one run; its UID is derived from it.
pub type ObjId = u64;

/// The kinds kubesim stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    ReplicaSet,
    Deployment,
    Service,
    Endpoints,
    Event,
    Ingress,
    IngressClass,
    HorizontalPodAutoscaler,
    ConfigMap,
    Secret,
    EndpointSlice,
    PodDisruptionBudget,
    Job,
    CronJob,
    ResourceQuota,
    LimitRange,
    Lease,
}

impl Kind {
    /// The kind as in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
            Kind::Endpoints => "Endpoints",
            Kind::Event => "Event",
            Kind::Ingress => "Ingress",
            Kind::IngressClass => "IngressClass",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::ResourceQuota => "ResourceQuota",
            Kind::LimitRange => "LimitRange",
            Kind::Lease => "Lease",
        }
    }

    /// apiVersion of the kind.
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::ReplicaSet | Kind::Deployment => "apps/v1",
            Kind::Ingress | Kind::IngressClass => "networking.k8s.io/v1",
            Kind::HorizontalPodAutoscaler => "autoscaling/v2",
            Kind::EndpointSlice => "discovery.k8s.io/v1",
            Kind::PodDisruptionBudget => "policy/v1",
            Kind::Job | Kind::CronJob => "batch/v1",
            Kind::Lease => "coordination.k8s.io/v1",
            _ => "v1",
        }
    }
}

/// A stored Job and the template its pods share (as a ReplicaSet's do).
#[derive(Debug, Clone)]
pub struct JobEntry {
    /// Object id.
    pub id: ObjId,
    /// The Job as the API shows it.
    pub job: k8s_openapi::api::batch::v1::Job,
    /// `spec.template`, shared by the pods the Job controller creates.
    pub template: Arc<k8s_openapi::api::core::v1::PodTemplateSpec>,
    /// The CronJob that created it (its controller reference).
    pub owner: Option<ObjId>,
}

/// Objects of one kind, by id and by (namespace, name).
#[derive(Debug)]
pub struct Table<T> {
    /// Boxed: a B-tree node holds eleven entries and is often half full, so a large object
    /// (a pod's state is about 300 bytes) inline would cost twice its size.
    items: BTreeMap<ObjId, Box<T>>,
    names: BTreeMap<Arc<str>, BTreeMap<Arc<str>, ObjId>>,
}

impl NodeState {
    /// Pods that count against `max_pods`: bound and not terminal.
    pub fn active_pods(&self) -> i64 {
        (self.pods.len() - self.terminal.len()) as i64
    }
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: BTreeMap::new(),
            names: BTreeMap::new(),
        }
    }
}

impl<T> Table<T> {
    /// The object with id `id`.
    pub fn get(&self, id: ObjId) -> Option<&T> {
        self.items.get(&id).map(|b| &**b)
    }
    /// The object with id `id`, to change.
    pub fn get_mut(&mut self, id: ObjId) -> Option<&mut T> {
        self.items.get_mut(&id).map(|b| &mut **b)
    }
    /// The id of `namespace/name` ("" namespace for cluster-scoped kinds).
    pub fn lookup(&self, namespace: &str, name: &str) -> Option<ObjId> {
        self.names.get(namespace)?.get(name).copied()
    }
    /// Adds an object.
    pub fn insert(&mut self, id: ObjId, namespace: Arc<str>, name: Arc<str>, item: T) {
        self.names.entry(namespace).or_default().insert(name, id);
        self.items.insert(id, Box::new(item));
    }
    /// The table's own copy of the namespace name `namespace`, if it holds objects there (so
    /// a new object can share it).
    pub fn namespace_name(&self, namespace: &str) -> Option<Arc<str>> {
        self.names.get_key_value(namespace).map(|(k, _)| k.clone())
    }
    /// Removes an object.
    pub fn remove(&mut self, id: ObjId, namespace: &str, name: &str) -> Option<T> {
        if let Some(m) = self.names.get_mut(namespace) {
            m.remove(name);
            if m.is_empty() {
                self.names.remove(namespace);
            }
        }
        self.items.remove(&id).map(|b| *b)
    }
    /// Every object, by id (creation order).
    pub fn iter(&self) -> impl Iterator<Item = (ObjId, &T)> {
        self.items.iter().map(|(k, v)| (*k, &**v))
    }
    /// Every object, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (ObjId, &mut T)> {
        self.items.iter_mut().map(|(k, v)| (*k, &mut **v))
    }
    /// Ids of the objects in `namespace`, sorted by name.
    pub fn ids_in(&self, namespace: &str) -> Vec<ObjId> {
        self.names
            .get(namespace)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }
    /// Names and ids in `namespace`, sorted by name.
    pub fn names_in(&self, namespace: &str) -> impl Iterator<Item = (&str, ObjId)> {
        self.names
            .get(namespace)
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, v)| (&**k, *v)))
    }
    /// Every (namespace, name, id), sorted by namespace then name.
    pub fn all_names(&self) -> impl Iterator<Item = (&str, &str, ObjId)> {
        self.names
            .iter()
            .flat_map(|(ns, m)| m.iter().map(move |(n, id)| (&**ns, &**n, *id)))
    }
    /// Number of objects.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A ReplicaSet and its shared pod template.
#[derive(Debug, Clone)]
pub struct RsEntry {
    /// Object id.
    pub id: ObjId,
    /// The API object.
    pub rs: ReplicaSet,
    /// `spec.template`, shared with every pod it creates.
    pub template: Arc<PodTemplateSpec>,
    /// Controlling Deployment.
    pub owner: Option<ObjId>,
}

/// A node and the scheduler's and kubelet's view of it.
#[derive(Debug, Clone)]
pub struct NodeState {
    /// Object id.
    pub id: ObjId,
    /// Name.
    pub name: Arc<str>,
    /// The API object (status conditions are filled when read).
    pub node: Node,
    /// Allocatable CPU, millicores.
    pub alloc_cpu: i64,
    /// Allocatable memory, bytes.
    pub alloc_mem: i64,
    /// Allocatable pods.
    pub max_pods: i64,
    /// CPU requested by pods bound here.
    pub used_cpu: i64,
    /// Memory requested by pods bound here.
    pub used_mem: i64,
    /// CPU as the scheduler scores it (default requests for pods that ask for none).
    pub nonzero_cpu: i64,
    /// Memory as the scheduler scores it.
    pub nonzero_mem: i64,
    /// Pods bound here.
    pub pods: BTreeSet<ObjId>,
    /// Pods bound here that reached Succeeded or Failed: still here until deleted, but no
    /// longer counted (their requests are released, as kube-scheduler's cache drops a
    /// terminal pod and the kubelet's admission counts only active pods).
    pub terminal: BTreeSet<ObjId>,
    /// Images the node has pulled.
    pub images: BTreeSet<String>,
    /// Pulls downloading layers now: image → when its layers are in. A second pull of the
    /// same image waits for the same download (containerd shares an ingest by digest).
    pub pulls: BTreeMap<String, SimTime>,
    /// Whether the kubelet runs (a fault stops it).
    pub kubelet_up: bool,
    /// The Ready condition as the node controller sees it.
    pub ready: bool,
    /// When the Ready condition last changed.
    pub ready_changed: SimTime,
    /// Node IP.
    pub ip: u32,
    /// Next pod IP offset in the node's /24.
    pub next_pod_ip: u32,
    /// Index of the node's pod CIDR.
    pub cidr_index: u32,
    /// Bumped when the node's health changes; stale node timers are ignored.
    pub epoch: u32,
    /// Whether the node lifecycle controller's NoExecute taint is on: added one monitor pass
    /// after the node went NotReady, removed one pass after it is Ready again.
    pub no_execute: bool,
    /// When the kubelet last started (it creates or renews its Lease then, and every 10 s).
    pub kubelet_started: SimTime,
    /// When the kubelet stopped, while it is down (its Lease is renewed no more).
    pub kubelet_stopped: Option<SimTime>,
}

/// What a controller decided, and the arithmetic behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// When.
    pub time: SimTime,
    /// The Deployment or ReplicaSet that decided.
    pub object: ObjRef,
    /// What was done, in one plain sentence ("Started 2 pods of revision 2: up to 12 may
    /// exist, 10 do").
    pub said: String,
    /// The controller's arithmetic behind it (what `kubesim run --why` prints).
    pub text: String,
}

/// What happened to an object, for watchers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Gone.
    Deleted,
}

/// One change in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// resourceVersion after the change.
    pub resource_version: u64,
    /// Kind.
    pub kind: Kind,
    /// Object id.
    pub id: ObjId,
    /// Namespace ("" for cluster-scoped).
    pub namespace: Arc<str>,
    /// Name.
    pub name: Arc<str>,
    /// What happened.
    pub change: ChangeType,
}

/// The last changes, for watchers.
#[derive(Debug, Clone)]
struct ChangeLog {
    entries: std::collections::VecDeque<Change>,
    capacity: usize,
    /// Every change after this resourceVersion is in `entries`.
    floor: u64,
}

/// All state of a simulated cluster.
#[derive(Debug)]
pub struct Store {
    /// Virtual now.
    pub now: SimTime,
    /// Unix milliseconds of virtual time zero (for timestamps).
    pub epoch_unix_ms: i64,
    seed: u64,
    resource_version: u64,
    next_id: ObjId,
    /// Namespaces.
    pub namespaces: Table<Namespace>,
    /// Nodes.
    pub nodes: Table<NodeState>,
    /// Deployments, with their ids.
    pub deployments: Table<(ObjId, Deployment)>,
    /// ReplicaSets.
    pub replicasets: Table<RsEntry>,
    /// Pods.
    pub pods: Table<PodState>,
    /// Services.
    pub services: Table<(ObjId, Service)>,
    /// Endpoints, one per Service.
    pub endpoints: Table<(ObjId, Endpoints)>,
    /// Events.
    pub events: EventLog,
    /// Ingresses (`networking.k8s.io/v1`), with their ids.
    pub ingresses: Table<(ObjId, Ingress)>,
    /// IngressClasses (cluster-scoped), with their ids.
    pub ingress_classes: Table<(ObjId, IngressClass)>,
    /// HorizontalPodAutoscalers, with their ids.
    pub hpas: Table<(ObjId, HorizontalPodAutoscaler)>,
    /// ConfigMaps, with their ids.
    pub configmaps: Table<(ObjId, ConfigMap)>,
    /// Secrets, with their ids.
    pub secrets: Table<(ObjId, Secret)>,
    /// EndpointSlices (`discovery.k8s.io/v1`), with their ids.
    pub endpoint_slices: Table<(ObjId, EndpointSlice)>,
    /// Each Service's EndpointSlices, by the Service's id, in creation order (the
    /// `kubernetes.io/service-name` label index the controller's informer keeps).
    pub service_slices: BTreeMap<ObjId, Vec<ObjId>>,
    /// PodDisruptionBudgets (`policy/v1`), with their ids.
    pub pdbs: Table<(ObjId, PodDisruptionBudget)>,
    /// Jobs (`batch/v1`), each with the pod template its pods share.
    pub jobs: Table<JobEntry>,
    /// CronJobs (`batch/v1`), with their ids.
    pub cronjobs: Table<(ObjId, k8s_openapi::api::batch::v1::CronJob)>,
    /// ResourceQuotas, with their ids.
    pub quotas: Table<(ObjId, ResourceQuota)>,
    /// LimitRanges, with their ids.
    pub limit_ranges: Table<(ObjId, LimitRange)>,
    /// Namespaces with a ResourceQuota where an object quota counts changed since the quota
    /// controller last looked (`controller/resourcequota.rs`).
    pub quota_dirty: BTreeSet<Arc<str>>,
    /// Ownership.
    pub owners: OwnerGraph,
    /// Each ReplicaSet's pods, counted as they change (`pod_counts.rs`).
    pod_counts: BTreeMap<ObjId, pod_counts::PodCounts>,
    /// Active bound pods per (controller family, node) (`pod_counts.rs`).
    family_nodes: BTreeMap<(ObjId, ObjId), u32>,
    /// Controller reasoning, oldest first.
    pub decisions: Vec<Decision>,
    /// Who manages which fields of the objects written through the API, by uid.
    pub managed: BTreeMap<String, crate::apiserver::managed::ManagedFields>,
    changes: Option<ChangeLog>,
    /// Set whenever a Deployment or ReplicaSet changes (the trace looks only then).
    pub workloads_dirty: bool,
    nodes_version: u64,
    request_seq: u64,
}

impl Store {
    /// Numbers requests to Services (each picks its endpoint from a hash of its number).
    pub fn next_request_seq(&mut self) -> u64 {
        self.request_seq += 1;
        self.request_seq
    }

    /// An empty store for a run with `seed`.
    pub fn new(seed: u64, epoch_unix_ms: i64) -> Store {
        Store {
            now: SimTime::ZERO,
            epoch_unix_ms,
            seed,
            resource_version: 0,
            next_id: 1,
            namespaces: Table::default(),
            nodes: Table::default(),
            deployments: Table::default(),
            replicasets: Table::default(),
            pods: Table::default(),
            services: Table::default(),
            endpoints: Table::default(),
            events: EventLog::default(),
            ingresses: Table::default(),
            ingress_classes: Table::default(),
            hpas: Table::default(),
            configmaps: Table::default(),
            secrets: Table::default(),
            endpoint_slices: Table::default(),
            service_slices: BTreeMap::new(),
            pdbs: Table::default(),
            jobs: Table::default(),
            cronjobs: Table::default(),
            quotas: Table::default(),
            limit_ranges: Table::default(),
            quota_dirty: BTreeSet::new(),
            owners: OwnerGraph::default(),
            pod_counts: BTreeMap::new(),
            family_nodes: BTreeMap::new(),
            decisions: Vec::new(),
            managed: BTreeMap::new(),
            changes: None,
            workloads_dirty: true,
            nodes_version: 0,
            request_seq: 0,
        }
    }

    /// Starts keeping the last `capacity` changes, for watchers (the API server's watches
    /// read them with [`Store::changes_since`] instead of listing their kind again).
    pub fn keep_changes(&mut self, capacity: usize) {
        let floor = self.resource_version;
        let log = self.changes.get_or_insert_with(|| ChangeLog {
            entries: std::collections::VecDeque::new(),
            capacity,
            floor,
        });
        log.capacity = capacity.max(1);
    }

    /// The changes after resourceVersion `rv`, oldest first; `None` if some of them are no
    /// longer kept (older than the log, or no log): the watcher must list again.
    pub fn changes_since(&self, rv: u64) -> Option<impl Iterator<Item = &Change>> {
        let log = self.changes.as_ref()?;
        if rv < log.floor {
            return None;
        }
        // resourceVersions in the log are increasing: skip to the first after `rv`.
        let start = log.entries.partition_point(|c| c.resource_version <= rv);
        Some(log.entries.range(start..))
    }

    /// A fresh object id.
    pub fn next_id(&mut self) -> ObjId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The id the next object will get (the Job registry generates its selector from the UID
    /// before the object is stored).
    pub fn peek_next_id(&self) -> ObjId {
        self.next_id
    }

    /// The UID of object `id`.
    pub fn uid(&self, id: ObjId) -> String {
        crate::rng::uid_for(self.seed, id)
    }

    /// Bumped on every write to a Node object.
    pub fn nodes_version(&self) -> u64 {
        self.nodes_version
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Records a write and returns the object's new resourceVersion.
    pub fn touch(
        &mut self,
        kind: Kind,
        id: ObjId,
        namespace: &Arc<str>,
        name: &Arc<str>,
        change: ChangeType,
    ) -> u64 {
        self.resource_version += 1;
        if matches!(
            kind,
            Kind::Deployment | Kind::ReplicaSet | Kind::HorizontalPodAutoscaler
        ) {
            self.workloads_dirty = true;
        }
        if kind == Kind::Node {
            self.nodes_version += 1;
        }
        // The quota controller's informers: any change of a namespace's objects while it has
        // a quota (a quota's own status writes are not a change of what it counts).
        if !(kind == Kind::Event || kind == Kind::ResourceQuota && change == ChangeType::Modified)
            && self.quotas.names_in(namespace).next().is_some()
        {
            self.quota_dirty.insert(namespace.clone());
        }
        if let Some(log) = &mut self.changes {
            while log.entries.len() >= log.capacity
                && let Some(old) = log.entries.pop_front()
            {
                log.floor = old.resource_version;
            }
            log.entries.push_back(Change {
                resource_version: self.resource_version,
                kind,
                id,
                namespace: namespace.clone(),
                name: name.clone(),
                change,
            });
        }
        self.resource_version
    }

    /// A virtual instant as an API timestamp (whole seconds, as the API server stores them).
    pub fn time(&self, t: SimTime) -> Time {
        let secs = (self.epoch_unix_ms + t.millis() as i64) / 1000;
        Time(Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH))
    }

    /// Virtual now as an API timestamp.
    pub fn now_timestamp(&self) -> Timestamp {
        self.time(self.now).0
    }

    /// Records an event at now.
    pub fn event(&mut self, ev: NewEvent) {
        self.events.record(self.now, ev);
    }

    /// Records an event at now whose message is `prefix` followed by `name` (`ev.message` is
    /// not read).
    pub fn event_named(&mut self, ev: NewEvent, prefix: &'static str, name: Arc<str>) {
        self.events.record_named(self.now, ev, prefix, name);
    }

    /// Records the scheduler's `Scheduled` event for a pod bound to `node` at now.
    pub fn event_assigned(&mut self, pod: ObjRef, node: Arc<str>) {
        self.events.record_assigned(self.now, pod, node);
    }

    /// Records a controller decision at now: what was done in a plain sentence, and the
    /// arithmetic behind it.
    pub fn decide(&mut self, object: ObjRef, said: String, text: String) {
        self.decisions.push(Decision {
            time: self.now,
            object,
            said,
            text,
        });
    }
}
