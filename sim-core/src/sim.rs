//! [`Sim`]: the cluster in virtual time. It owns the store, the one random generator, the
//! timer queue and the controllers' work queue; `step` runs the next instant's timers and then
//! lets every controller settle, in a fixed order, before time moves on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, NodeSpec, NodeStatus};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::controller::{Work, WorkQueue};
use crate::rng::SimRng;
use crate::runtime::{ContainerRuntime, DeclaredImages};
use crate::store::{ChangeType, Kind, NodeState, ObjId, ObjRef, Store};
use crate::time::{EventQueue, SimDuration, SimTime};

/// Virtual time zero, as a wall-clock instant: 2026-01-05T09:00:00Z, a Monday morning class.
pub const DEFAULT_EPOCH_UNIX_MS: i64 = 1_767_603_600_000;

/// How readiness and liveness probes are simulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProbeMode {
    /// A probe whose outcome is a function of time schedules only its next change.
    #[default]
    Standing,
    /// Every probe period is an event (slow; for checking that both give the same run).
    EveryTick,
}

/// One node to create at start.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeConfig {
    /// Name.
    pub name: String,
    /// CPU, as a quantity (`"4"`, `"3500m"`).
    pub cpu: String,
    /// Memory, as a quantity (`"16Gi"`).
    pub memory: String,
    /// Pods the node accepts.
    pub pods: i64,
    /// Labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

impl NodeConfig {
    /// A node with kubesim's default size (4 CPUs, 16 GiB, 110 pods).
    pub fn named(name: &str) -> NodeConfig {
        NodeConfig {
            name: name.into(),
            cpu: "4".into(),
            memory: "16Gi".into(),
            pods: 110,
            labels: Default::default(),
        }
    }
}

/// Everything that fixes a run, with the seed.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of the one random generator.
    pub seed: u64,
    /// Nodes at start.
    pub nodes: Vec<NodeConfig>,
    /// Probe simulation.
    pub probe_mode: ProbeMode,
    /// Unix milliseconds of virtual time zero.
    pub epoch_unix_ms: i64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            nodes: (1..=3)
                .map(|i| NodeConfig::named(&format!("node-{i}")))
                .collect(),
            probe_mode: ProbeMode::Standing,
            epoch_unix_ms: DEFAULT_EPOCH_UNIX_MS,
        }
    }
}

/// What one sandbox may hold (the Kubernetes scalability envelope: 5,000 nodes, 150,000
/// pods). Beyond it, creates fail as they do in a cluster at its quota: a ReplicaSet's pods
/// give `FailedCreate` events and a `ReplicaFailure` condition, a Node or Pod create through
/// the API is 403 Forbidden. Nothing is simulated past it, so no request can make the sandbox
/// grow without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Pod objects at most (terminating ones count until they are gone).
    pub pods: usize,
    /// Nodes at most.
    pub nodes: usize,
}

impl Limits {
    /// The name the quota-style messages give the limits, as a ResourceQuota's name.
    pub const QUOTA: &'static str = "sandbox-limits";
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pods: 150_000,
            nodes: 5_000,
        }
    }
}

/// A kubelet step for one container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The image pull finished (or failed).
    PullDone,
    /// Back-off over: pull again.
    PullRetry,
    /// Start (or restart) the container.
    Start,
    /// The image is there: the runtime has created and started the container.
    Create,
    /// The readiness check flips to passing.
    Ready,
    /// The readiness check flips to failing.
    NotReady,
    /// One readiness probe period (every-tick mode).
    ReadinessProbe,
    /// The program exits by itself.
    Exit,
    /// The liveness probe reached its failure threshold.
    LivenessKill,
    /// A container stopped by the kubelet after a failed probe has exited.
    ProbeKilled,
    /// The startup probe passed: the container has started; readiness and liveness begin.
    Started,
    /// The startup probe reached its failure threshold.
    StartupKill,
    /// The pod garbage collector force-deletes a pod whose node is gone (`gcOrphaned`).
    OrphanedPodGc,
    /// One liveness probe period of a worker program (every tick: its answers are real).
    LivenessProbe,
    /// One startup probe period of a worker program.
    StartupProbe,
    /// A container's shell process wakes from a `sleep` (or goes on with a busy loop).
    Wake,
}

/// Something due at a virtual instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// A container step; stale when the container's epoch moved on.
    Container {
        /// Pod.
        pod: ObjId,
        /// Container index.
        ci: usize,
        /// Epoch when scheduled.
        epoch: u32,
        /// What to do.
        step: Step,
    },
    /// A terminating pod's containers have stopped: remove the object.
    PodStopped {
        /// Pod.
        pod: ObjId,
    },
    /// Run controller work later (minReadySeconds, progress deadline).
    Requeue(Work),
    /// A node's kubelet has been silent for the grace period.
    NodeLost {
        /// Node.
        node: ObjId,
        /// Epoch when scheduled.
        epoch: u32,
    },
    /// The node lifecycle controller's next monitor pass over a node whose health changed
    /// (`monitorNodeHealth`, every 5 s): it adds or removes the NoExecute taint.
    NodeMonitor {
        /// Node.
        node: ObjId,
        /// Epoch when scheduled.
        epoch: u32,
    },
    /// One virtual second of Service traffic is over (`traffic.rs`).
    TrafficTick,
    /// A pod's toleration of its node's NoExecute taints ran out (`controller/taint.rs`);
    /// stale unless it is still the eviction scheduled for now.
    TaintEvict {
        /// Pod.
        pod: ObjId,
    },
    /// The kubelet's periodic sync of a pod's ConfigMap and Secret volumes, or a retry of a
    /// mount that failed (`kubelet/mounts.rs`).
    VolumeSync {
        /// Pod.
        pod: ObjId,
    },
}

/// A simulated cluster.
#[derive(Debug)]
pub struct Sim {
    /// All API state.
    pub store: Store,
    pub(crate) rng: SimRng,
    pub(crate) runtime: Box<dyn ContainerRuntime>,
    pub(crate) timers: EventQueue<Timer>,
    pub(crate) work: WorkQueue,
    pub(crate) config: SimConfig,
    /// Pods the scheduler could not place, retried when the cluster changes.
    pub(crate) unschedulable: BTreeSet<ObjId>,
    /// ReplicaSets with no controller, for adoption.
    pub(crate) orphan_rss: BTreeSet<ObjId>,
    /// Pods with no controller, for adoption.
    pub(crate) orphan_pods: BTreeSet<ObjId>,
    /// Where the scheduler starts its next node search (`nextStartNodeIndex`).
    pub(crate) next_start_node: usize,
    /// The scheduler's node snapshot.
    pub(crate) sched: crate::controller::scheduler::SchedSnapshot,
    /// Events handled so far (timers plus controller syncs).
    pub events_processed: u64,
    /// Pods created so far.
    pub pods_created: u64,
    /// Load on Services and its per-second record.
    pub traffic: crate::traffic::TrafficState,
    /// How many pods and nodes this cluster may hold.
    pub limits: Limits,
    /// ReplicaSets waiting before their next create or delete pass, with their consecutive
    /// failures: after a full burst (its writes being observed) or a failed create (the
    /// rate-limited requeue). See `controller/replicaset.rs`.
    pub(crate) rs_backoff: BTreeMap<ObjId, (SimTime, u32)>,
    /// The HPA controller's memory per HPA: recommendations, scale events, next sync.
    pub(crate) hpa_state: BTreeMap<ObjId, crate::controller::podautoscaler::HpaMemory>,
    /// The ConfigMap and Secret volumes the kubelet has mounted, by pod.
    pub(crate) volumes: BTreeMap<ObjId, crate::kubelet::mounts::PodVolumes>,
    /// The taint eviction controller's queue: by pod, when its eviction was scheduled and
    /// when it is due.
    pub(crate) taint_evictions: BTreeMap<ObjId, (SimTime, SimTime)>,
    /// What the Job controller keeps per Job: counted pods, its own deletions, the back-off
    /// record (`controller/job/`).
    pub(crate) job_memory: BTreeMap<ObjId, crate::controller::job::JobMemory>,
    /// What the deployment controller keeps per Deployment between syncs: the parsed
    /// selector and the last new ReplicaSet found (`controller/deployment/mod.rs`).
    pub(crate) deployment_memory: BTreeMap<ObjId, crate::controller::deployment::DeploymentMemory>,
}

impl Sim {
    /// A cluster with the built-in images.
    pub fn new(config: SimConfig) -> Sim {
        Sim::with_runtime(config, Box::new(DeclaredImages::builtin()))
    }

    /// A cluster whose images come from `runtime`.
    pub fn with_runtime(config: SimConfig, runtime: Box<dyn ContainerRuntime>) -> Sim {
        let mut sim = Sim {
            store: Store::new(config.seed, config.epoch_unix_ms),
            rng: SimRng::new(config.seed),
            runtime,
            timers: EventQueue::default(),
            work: WorkQueue::default(),
            config: config.clone(),
            unschedulable: BTreeSet::new(),
            orphan_rss: BTreeSet::new(),
            orphan_pods: BTreeSet::new(),
            next_start_node: 0,
            sched: Default::default(),
            events_processed: 0,
            pods_created: 0,
            traffic: Default::default(),
            limits: Limits::default(),
            rs_backoff: BTreeMap::new(),
            hpa_state: BTreeMap::new(),
            volumes: BTreeMap::new(),
            taint_evictions: BTreeMap::new(),
            job_memory: BTreeMap::new(),
            deployment_memory: BTreeMap::new(),
        };
        for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            sim.create_namespace(ns);
        }
        for n in &config.nodes {
            sim.add_node(n);
        }
        sim.create_kubernetes_service();
        sim.create_default_ingress_class();
        sim.settle();
        sim
    }

    /// The sandbox's limits as admission: one more Pod or Node than [`Limits`] allows is
    /// refused as a quota refuses it (403 Forbidden).
    pub(crate) fn check_limits(&self, obj: &crate::api::Object) -> Result<(), crate::ApiError> {
        match obj {
            crate::api::Object::Pod(p) => {
                let name = p.metadata.name.as_deref().unwrap_or("");
                self.pod_quota(name).map_err(crate::ApiError::Forbidden)
            }
            crate::api::Object::Node(n) if self.store.nodes.len() >= self.limits.nodes => {
                Err(crate::ApiError::Forbidden(format!(
                    "nodes {:?} is forbidden: exceeded quota: {}, requested: nodes=1, used: nodes={}, limited: nodes={}",
                    n.metadata.name.as_deref().unwrap_or(""),
                    Limits::QUOTA,
                    self.store.nodes.len(),
                    self.limits.nodes
                )))
            }
            _ => Ok(()),
        }
    }

    /// Virtual now.
    pub fn now(&self) -> SimTime {
        self.store.now
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// Number of pending timers (stale ones included).
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }

    /// The time of the next pending timer, if any.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.timers.peek_time()
    }

    /// Runs every timer due at the next instant, then lets the controllers settle.
    /// Returns that instant, or `None` when nothing is pending.
    pub fn step(&mut self) -> Option<SimTime> {
        let t = self.timers.peek_time()?;
        self.store.now = self.store.now.max(t);
        // Everything due at this instant happens first; then the controllers see all of it at
        // once, as a work queue folds many informer events about one object into one sync.
        while let Some((_, timer)) = self.timers.pop_due(self.store.now) {
            self.events_processed += 1;
            self.fire(timer);
        }
        self.settle();
        self.store.events.expire(self.store.now);
        Some(t)
    }

    /// Moves time forward by `by`, running everything due on the way.
    pub fn advance(&mut self, by: SimDuration) {
        let until = self.store.now + by;
        self.run_until(until, |_| false);
    }

    /// Runs until `until`, or until `stop` holds after an instant; returns whether `stop` held.
    pub fn run_until(&mut self, until: SimTime, mut stop: impl FnMut(&Sim) -> bool) -> bool {
        self.settle();
        if stop(self) {
            return true;
        }
        while let Some(t) = self.timers.peek_time() {
            if t > until {
                break;
            }
            self.step();
            if stop(self) {
                return true;
            }
        }
        self.store.now = self.store.now.max(until);
        self.store.events.expire(self.store.now);
        false
    }

    /// Schedules `timer` at `at`.
    pub(crate) fn at(&mut self, at: SimTime, timer: Timer) {
        self.timers.push(at.max(self.store.now), timer);
    }

    /// Schedules `timer` after `d`.
    pub(crate) fn after(&mut self, d: SimDuration, timer: Timer) {
        let at = self.store.now + d;
        self.timers.push(at, timer);
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::Container {
                pod,
                ci,
                epoch,
                step,
            } => self.container_step(pod, ci, epoch, step),
            Timer::PodStopped { pod } => self.pod_stopped(pod),
            Timer::Requeue(w) => self.work.add(w),
            Timer::NodeLost { node, epoch } => self.node_lost(node, epoch),
            Timer::NodeMonitor { node, epoch } => self.node_monitor(node, epoch),
            Timer::TaintEvict { pod } => self.taint_evict(pod),
            Timer::TrafficTick => self.traffic_tick(),
            Timer::VolumeSync { pod } => self.volume_sync(pod),
        }
    }

    /// Runs controller work until every queue is empty (the cluster is quiet at this instant).
    pub fn settle(&mut self) {
        let mut guard = 0u64;
        loop {
            let Some(w) = self.work.pop() else {
                // The quota controller's informers: once the others are quiet, each quota of
                // a namespace where something changed is queued (its recount changes nothing
                // it watches, so this ends).
                if self.store.quota_dirty.is_empty() {
                    break;
                }
                self.queue_dirty_quotas();
                continue;
            };
            self.events_processed += 1;
            guard += 1;
            if guard > 10_000_000 {
                break; // a controller bug must not hang the sandbox
            }
            match w {
                Work::Deployment(id) => self.sync_deployment(id),
                Work::ReplicaSet(id) => self.sync_replica_set(id),
                Work::Schedule(id) => self.schedule_pod(id),
                Work::Endpoints(id) => self.sync_endpoints(id),
                Work::Ingress(id) => self.sync_ingress(id),
                Work::Hpa(id) => self.sync_hpa(id),
                Work::Disruption(id) => self.sync_pdb(id),
                Work::Job(id) => self.sync_job(id),
                Work::CronJob(id) => self.sync_cronjob(id),
                Work::ResourceQuota(id) => self.sync_quota(id),
            }
        }
    }

    // ---- notifications: what the informers' event handlers enqueue ----

    /// A pod was added, changed or removed.
    pub(crate) fn pod_changed(&mut self, pod: ObjId) {
        self.store.count_pod(pod);
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let ns = p.namespace.clone();
        if let Some(owner) = p.owner {
            if self.store.jobs.get(owner).is_some() {
                self.work.add(Work::Job(owner));
            } else {
                self.work.add(Work::ReplicaSet(owner));
            }
        }
        self.services_selecting(&ns, pod);
        self.pdbs_selecting(&ns, pod);
    }

    fn services_selecting(&mut self, ns: &str, pod: ObjId) {
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let labels = p.labels();
        let mut hits = Vec::new();
        for id in self.store.services.ids_in(ns) {
            if let Some((_, svc)) = self.store.services.get(id)
                && let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref())
                && !sel.is_empty()
                && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
            {
                hits.push(id);
            }
        }
        for id in hits {
            self.work.add(Work::Endpoints(id));
        }
    }

    /// A ReplicaSet was added, changed or removed.
    pub(crate) fn rs_changed(&mut self, rs: ObjId) {
        if let Some(owner) = self.store.replicasets.get(rs).and_then(|r| r.owner) {
            self.work.add(Work::Deployment(owner));
        }
    }

    // ---- bootstrap objects ----

    pub(crate) fn create_namespace(&mut self, name: &str) -> ObjId {
        let id = self.store.next_id();
        let name_arc: Arc<str> = name.into();
        let rv = self.store.touch(
            Kind::Namespace,
            id,
            &"".into(),
            &name_arc,
            ChangeType::Added,
        );
        let mut labels = std::collections::BTreeMap::new();
        labels.insert("kubernetes.io/metadata.name".to_string(), name.to_string());
        let ns = k8s_openapi::api::core::v1::Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(self.store.uid(id)),
                resource_version: Some(rv.to_string()),
                creation_timestamp: Some(self.store.time(self.store.now)),
                labels: Some(labels),
                ..Default::default()
            },
            spec: Some(k8s_openapi::api::core::v1::NamespaceSpec {
                finalizers: Some(vec!["kubernetes".into()]),
            }),
            status: Some(k8s_openapi::api::core::v1::NamespaceStatus {
                phase: Some("Active".into()),
                ..Default::default()
            }),
        };
        self.store.namespaces.insert(id, "".into(), name_arc, ns);
        // The root CA publisher's ConfigMap, as soon as the namespace exists.
        self.sync_root_ca(name);
        id
    }

    /// Adds a node (Ready at once).
    pub fn add_node(&mut self, cfg: &NodeConfig) -> ObjId {
        let id = self.store.next_id();
        let name: Arc<str> = cfg.name.as_str().into();
        let cpu = crate::api::quantity::cpu_millis(&Quantity(cfg.cpu.clone())).unwrap_or(4000);
        let mem =
            crate::api::quantity::memory_bytes(&Quantity(cfg.memory.clone())).unwrap_or(16 << 30);
        let index = self.store.nodes.len() as u32;
        let rv = self
            .store
            .touch(Kind::Node, id, &"".into(), &name, ChangeType::Added);
        let mut labels = cfg.labels.clone();
        labels.insert("kubernetes.io/hostname".into(), cfg.name.clone());
        labels.insert("kubernetes.io/os".into(), "linux".into());
        labels.insert("kubernetes.io/arch".into(), "amd64".into());
        labels.insert("beta.kubernetes.io/os".into(), "linux".into());
        labels.insert("beta.kubernetes.io/arch".into(), "amd64".into());
        let mut capacity = std::collections::BTreeMap::new();
        capacity.insert("cpu".to_string(), Quantity(cfg.cpu.clone()));
        capacity.insert("memory".to_string(), Quantity(cfg.memory.clone()));
        capacity.insert("pods".to_string(), Quantity(cfg.pods.to_string()));
        capacity.insert("ephemeral-storage".to_string(), Quantity("100Gi".into()));
        let node = Node {
            metadata: ObjectMeta {
                name: Some(cfg.name.clone()),
                uid: Some(self.store.uid(id)),
                resource_version: Some(rv.to_string()),
                creation_timestamp: Some(self.store.time(self.store.now)),
                labels: Some(labels),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                pod_cidr: Some(format!("10.244.{index}.0/24")),
                pod_cidrs: Some(vec![format!("10.244.{index}.0/24")]),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                capacity: Some(capacity.clone()),
                allocatable: Some(capacity),
                ..Default::default()
            }),
        };
        let ip = u32::from(std::net::Ipv4Addr::new(172, 18, 0, 2)) + index;
        self.store.nodes.insert(
            id,
            "".into(),
            name.clone(),
            NodeState {
                id,
                name: name.clone(),
                node,
                alloc_cpu: cpu,
                alloc_mem: mem,
                max_pods: cfg.pods,
                used_cpu: 0,
                used_mem: 0,
                nonzero_cpu: 0,
                nonzero_mem: 0,
                pods: BTreeSet::new(),
                terminal: BTreeSet::new(),
                images: BTreeSet::new(),
                pulls: BTreeMap::new(),
                kubelet_up: true,
                ready: true,
                ready_changed: self.store.now,
                ip,
                next_pod_ip: 2,
                cidr_index: index,
                epoch: 0,
                no_execute: false,
                kubelet_started: self.store.now,
                kubelet_stopped: None,
            },
        );
        // The node lifecycle controller sees the new node (`RecordNodeEvent`).
        let msg = format!("Node {name} event: Registered Node {name} in Controller");
        self.store.event(crate::store::NewEvent {
            object: ObjRef {
                kind: Kind::Node,
                id,
                name: name.clone(),
                namespace: "".into(),
            },
            warning: false,
            reason: "RegisteredNode",
            message: msg,
            source: "node-controller",
            host: None,
        });
        self.retry_unschedulable();
        id
    }

    fn create_kubernetes_service(&mut self) {
        use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
        let svc = Service {
            metadata: ObjectMeta {
                name: Some("kubernetes".into()),
                namespace: Some("default".into()),
                labels: Some(
                    [("component", "apiserver"), ("provider", "kubernetes")]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                cluster_ip: Some("10.96.0.1".into()),
                cluster_ips: Some(vec!["10.96.0.1".into()]),
                ports: Some(vec![ServicePort {
                    name: Some("https".into()),
                    port: 443,
                    protocol: Some("TCP".into()),
                    target_port: Some(
                        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(6443),
                    ),
                    ..Default::default()
                }]),
                session_affinity: Some("None".into()),
                ..Default::default()
            }),
            status: None,
        };
        self.create_service(svc);
    }

    /// An ObjRef for a Deployment.
    pub(crate) fn deployment_ref(&self, id: ObjId) -> Option<ObjRef> {
        let (_, d) = self.store.deployments.get(id)?;
        Some(ObjRef {
            kind: Kind::Deployment,
            id,
            name: d.metadata.name.as_deref().unwrap_or("").into(),
            namespace: d.metadata.namespace.as_deref().unwrap_or("").into(),
        })
    }

    /// An ObjRef for a ReplicaSet.
    pub(crate) fn rs_ref(&self, id: ObjId) -> Option<ObjRef> {
        let rs = self.store.replicasets.get(id)?;
        Some(ObjRef {
            kind: Kind::ReplicaSet,
            id,
            name: rs.rs.metadata.name.as_deref().unwrap_or("").into(),
            namespace: rs.rs.metadata.namespace.as_deref().unwrap_or("").into(),
        })
    }

    /// An ObjRef for a pod.
    pub(crate) fn pod_ref(&self, id: ObjId) -> Option<ObjRef> {
        let p = self.store.pods.get(id)?;
        Some(ObjRef {
            kind: Kind::Pod,
            id,
            name: p.name.clone(),
            namespace: p.namespace.clone(),
        })
    }
}
