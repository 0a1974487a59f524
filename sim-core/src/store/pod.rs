//! Pods as kubesim keeps them: a compact state that shares its template with every pod of the
//! same ReplicaSet revision, turned into a full API `Pod` only when someone looks.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, Pod, PodCondition, PodIP, PodStatus, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::{ObjId, Store};
use crate::runtime::ImageBehavior;
use crate::time::SimTime;

/// Pod phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Not all containers have started yet.
    Pending,
    /// Bound and every container has started at least once.
    Running,
    /// Every container exited 0 and will not restart.
    Succeeded,
    /// Every container stopped and at least one failed, with no restart.
    Failed,
    /// The node stopped reporting.
    Unknown,
}

impl Phase {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }
}

/// Why a container is waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// Image pull or creation in progress.
    ContainerCreating,
    /// The last pull failed.
    ErrImagePull,
    /// Waiting before the next pull attempt.
    ImagePullBackOff,
    /// Waiting before the next restart.
    CrashLoopBackOff,
    /// The container's config (a ConfigMap or Secret it reads) is missing.
    CreateContainerConfigError,
}

impl WaitReason {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::ContainerCreating => "ContainerCreating",
            WaitReason::ErrImagePull => "ErrImagePull",
            WaitReason::ImagePullBackOff => "ImagePullBackOff",
            WaitReason::CrashLoopBackOff => "CrashLoopBackOff",
            WaitReason::CreateContainerConfigError => "CreateContainerConfigError",
        }
    }
}

/// A finished run of a container.
#[derive(Clone, Debug, PartialEq)]
pub struct Terminated {
    /// Exit code.
    pub exit_code: i32,
    /// `Error`, `Completed` or `OOMKilled`.
    pub reason: &'static str,
    /// When it started.
    pub started: SimTime,
    /// When it exited.
    pub finished: SimTime,
}

/// Where a container is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum CState {
    /// Not running; `message` is what the kubelet reports.
    Waiting {
        /// Why.
        reason: WaitReason,
        /// Detail (back-off message, pull error).
        message: Option<Box<str>>,
    },
    /// Running since `started`.
    Running {
        /// Start time.
        started: SimTime,
    },
    /// Exited and not (yet) restarted.
    Terminated(Terminated),
}

/// The kubelet's per-container back-off entry (client-go `flowcontrol.Backoff`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Current delay.
    pub delay_ms: u64,
    /// When the entry was last updated.
    pub last_update: SimTime,
}

/// One container of a pod.
#[derive(Clone, Debug)]
pub struct ContainerRun {
    /// Current state.
    pub state: CState,
    /// The previous run, if any.
    pub last: Option<Terminated>,
    /// Restarts so far.
    pub restarts: u32,
    /// Whether its readiness check passes (as the kubelet last decided).
    pub ready: bool,
    /// Restart back-off.
    pub backoff: Option<Backoff>,
    /// Image pull back-off.
    pub pull_backoff: Option<Backoff>,
    /// When the pull under way began (the Pulled event says how long it took).
    pub pull_began: Option<SimTime>,
    /// What the image does, once pulled.
    pub behavior: Option<Arc<ImageBehavior>>,
    /// Bumped on every state change; queued kubelet events carrying an older value are stale.
    pub epoch: u32,
    /// Lines written by the current run, with their time.
    pub logs: Vec<(SimTime, Box<str>)>,
    /// Lines written by the previous run (`kubectl logs --previous`).
    pub previous_logs: Vec<(SimTime, Box<str>)>,
    /// Consecutive readiness probe results (successes, failures) on the every-tick path.
    pub probe_counts: (u32, u32),
    /// Open `Unhealthy` event series of the current run (sequence numbers).
    pub series: Vec<u64>,
    /// Exit code of a kubelet kill in progress.
    pub kill_code: Option<i32>,
    /// `ContainerStatus.started`: running and past its startup probe (if it has one).
    pub started: bool,
    /// The open `BackOff` event series while the container waits in CrashLoopBackOff, and
    /// how many back-off events earlier waits recorded.
    pub backoff_event: Option<(u64, u32)>,
    /// The running program, when the image runs a worker module.
    pub worker: Option<Box<WorkerRun>>,
    /// The shell process between two of its slices (`kubelet/process.rs`).
    pub process: Option<Box<crate::shell::process::Process>>,
    /// How the shell process ended (code, reason), until the container's exit is reported.
    pub process_exit: Option<(i32, &'static str)>,
}

/// A container's running worker program (`kubelet/worker.rs`).
#[derive(Clone, Debug)]
pub struct WorkerRun {
    /// Environment computed at container start (the kubelet computes it per start, so the
    /// Service variables are those of Services that existed then).
    pub env: Arc<[(String, String)]>,
    /// Requests served by this run.
    pub served: u64,
    /// When the program answers requests (`None`: it never will, e.g. hung at start).
    pub listening: Option<SimTime>,
    /// The exit of a start that failed: code and reason, with the time it happens.
    pub exit: Option<(i32, &'static str)>,
    /// Invocations so far (seeds each one's random source).
    pub invocations: u64,
    /// Consecutive (successes, failures) of the readiness, liveness and startup probes.
    pub probe_counts: [(u32, u32); 3],
    /// What the program keeps between requests (the ABI's `Kubesim-State`, e.g. the Redis
    /// stand-in's key space): in memory, so lost when the container restarts.
    pub data: Option<Arc<Vec<u8>>>,
    /// The program's process serving this run's requests, if it keeps one
    /// (`program::ProcessSlot`): a restart is a new run, so a new process.
    pub process: crate::program::ProcessSlot,
}

impl Default for ContainerRun {
    fn default() -> Self {
        ContainerRun::new()
    }
}

impl ContainerRun {
    /// A container not created yet (`ContainerCreating`).
    pub fn new() -> ContainerRun {
        ContainerRun {
            state: CState::Waiting {
                reason: WaitReason::ContainerCreating,
                message: None,
            },
            last: None,
            restarts: 0,
            ready: false,
            backoff: None,
            pull_backoff: None,
            pull_began: None,
            behavior: None,
            epoch: 0,
            logs: Vec::new(),
            previous_logs: Vec::new(),
            probe_counts: (0, 0),
            series: Vec::new(),
            kill_code: None,
            started: false,
            backoff_event: None,
            worker: None,
            process: None,
            process_exit: None,
        }
    }

    /// Whether the container has been started at least once.
    pub fn has_started(&self) -> bool {
        matches!(self.state, CState::Running { .. } | CState::Terminated(_)) || self.last.is_some()
    }
}

/// A graceful deletion in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deletion {
    /// When the pod may be removed at the latest (`deletionTimestamp`).
    pub deadline: SimTime,
    /// `deletionGracePeriodSeconds`.
    pub grace_seconds: i64,
}

/// A pod.
#[derive(Clone, Debug)]
pub struct PodState {
    /// Object id.
    pub id: ObjId,
    /// Name.
    pub name: Arc<str>,
    /// Namespace.
    pub namespace: Arc<str>,
    /// resourceVersion of the last write.
    pub resource_version: u64,
    /// creationTimestamp.
    pub created: SimTime,
    /// Set once deletion started.
    pub deletion: Option<Deletion>,
    /// Controlling ReplicaSet or Job.
    pub owner: Option<ObjId>,
    /// Labels, annotations and spec, shared with the ReplicaSet revision that made it.
    pub template: Arc<PodTemplateSpec>,
    /// Bound node.
    pub node: Option<ObjId>,
    /// When the scheduler bound it.
    pub scheduled_at: Option<SimTime>,
    /// Last scheduling failure message.
    pub unschedulable: Option<Box<str>>,
    /// Phase.
    pub phase: Phase,
    /// Pod Ready condition.
    pub ready: bool,
    /// Last transition of the Ready condition.
    pub ready_changed: SimTime,
    /// Set when the node controller marked the pod not ready because its node is lost.
    pub node_lost: bool,
    /// Last transition of the ContainersReady condition (all containers ready, as the
    /// kubelet last reported; the node controller does not touch it).
    pub containers_ready_changed: SimTime,
    /// The `DisruptionTarget` condition: when, reason and message.
    pub disruption: Option<(SimTime, &'static str, &'static str)>,
    /// The name of the bound node after the Node object was deleted (the pod lingers until
    /// the pod garbage collector removes it).
    pub lost_node_name: Option<Arc<str>>,
    /// Pod IP (0 = none yet).
    pub ip: u32,
    /// When the kubelet first saw it (`status.startTime`).
    pub start_time: Option<SimTime>,
    /// Containers, in spec order.
    pub containers: Vec<ContainerRun>,
    /// The kubelet refused the pod at admission (a pod created with `spec.nodeName`): the
    /// reason (`OutOfcpu`) and message. The pod is Failed and holds nothing on its node.
    pub rejected: Option<(&'static str, Box<str>)>,
    /// What the pod last added to its ReplicaSet's counts (`pod_counts.rs`).
    pub counted: Option<super::pod_counts::Counted>,
}

impl PodState {
    /// A new, unscheduled pod.
    pub fn new(
        id: ObjId,
        name: Arc<str>,
        namespace: Arc<str>,
        template: Arc<PodTemplateSpec>,
        owner: Option<ObjId>,
        now: SimTime,
    ) -> PodState {
        let n = template.spec.as_ref().map_or(0, |s| s.containers.len());
        PodState {
            id,
            name,
            namespace,
            resource_version: 0,
            created: now,
            deletion: None,
            owner,
            template,
            node: None,
            scheduled_at: None,
            unschedulable: None,
            phase: Phase::Pending,
            ready: false,
            ready_changed: now,
            node_lost: false,
            containers_ready_changed: now,
            disruption: None,
            lost_node_name: None,
            ip: 0,
            start_time: None,
            containers: (0..n).map(|_| ContainerRun::new()).collect(),
            rejected: None,
            counted: None,
        }
    }

    /// Labels (from the template).
    pub fn labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.as_ref())
            .unwrap_or(&EMPTY)
    }

    /// Active: not terminal and not being deleted (what a ReplicaSet counts).
    pub fn is_active(&self) -> bool {
        self.deletion.is_none() && !matches!(self.phase, Phase::Succeeded | Phase::Failed)
    }

    /// Available at `now` for a controller with `min_ready_seconds`.
    pub fn is_available(&self, min_ready_seconds: i32, now: SimTime) -> bool {
        if !self.ready {
            return false;
        }
        if min_ready_seconds <= 0 {
            return true;
        }
        // Strictly before: lastTransitionTime + minReadySeconds < now.
        self.ready_changed + crate::time::SimDuration::from_secs(min_ready_seconds as u64) < now
    }

    /// Total restarts over containers (the ranking uses the maximum).
    pub fn max_restarts(&self) -> u32 {
        self.containers
            .iter()
            .map(|c| c.restarts)
            .max()
            .unwrap_or(0)
    }

    /// The pod's container images, in spec order.
    pub fn images(&self) -> Vec<&str> {
        self.template
            .spec
            .as_ref()
            .map(|s| {
                s.containers
                    .iter()
                    .map(|c| c.image.as_deref().unwrap_or(""))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Recomputes the phase from the containers: the kubelet's `getPhase`
    /// (`pkg/kubelet/kubelet_pods.go`, regular containers). A terminal phase stays.
    pub fn recompute_phase(&mut self) {
        if self.rejected.is_some() {
            self.phase = Phase::Failed;
            return;
        }
        if self.node_lost || matches!(self.phase, Phase::Succeeded | Phase::Failed) {
            return;
        }
        if self.node.is_none() {
            self.phase = Phase::Pending;
            return;
        }
        let policy = self
            .template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .unwrap_or("Always");
        self.phase = get_phase(&self.containers, policy);
    }
}

/// `getPhase` over a pod's containers under its restart policy.
pub fn get_phase(containers: &[ContainerRun], policy: &str) -> Phase {
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in containers {
        match &c.state {
            CState::Running { .. } => running += 1,
            CState::Terminated(t) => {
                stopped += 1;
                if t.exit_code == 0 {
                    succeeded += 1;
                }
            }
            // A container waiting after a run (CrashLoopBackOff) has stopped.
            CState::Waiting { .. } if c.last.is_some() => stopped += 1,
            CState::Waiting { .. } => waiting += 1,
        }
    }
    if containers.is_empty() || waiting > 0 {
        Phase::Pending
    } else if running > 0 {
        Phase::Running
    } else if stopped > 0 {
        if policy == "Always" {
            // All containers are in the process of restarting.
            Phase::Running
        } else if stopped == succeeded {
            Phase::Succeeded
        } else if policy == "Never" {
            Phase::Failed
        } else {
            // OnFailure with a failure: it is restarting.
            Phase::Running
        }
    } else {
        Phase::Pending
    }
}

/// Renders an IPv4 address kept as a number.
pub fn ip_string(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

impl Store {
    /// The full API object for a pod, as `kubectl get pod -o yaml` shows it.
    pub fn pod_object(&self, p: &PodState) -> Pod {
        let t = |s: SimTime| self.time(s);
        let node = p.node.and_then(|n| self.nodes.get(n));
        let owner_ref = |api_version: &str, kind: &str, name: &Option<String>, id: ObjId| {
            vec![OwnerReference {
                api_version: api_version.into(),
                kind: kind.into(),
                name: name.clone().unwrap_or_default(),
                uid: self.uid(id),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]
        };
        let owner_refs = p.owner.and_then(|o| match self.replicasets.get(o) {
            Some(rs) => Some(owner_ref(
                "apps/v1",
                "ReplicaSet",
                &rs.rs.metadata.name,
                rs.id,
            )),
            None => self
                .jobs
                .get(o)
                .map(|j| owner_ref("batch/v1", "Job", &j.job.metadata.name, j.id)),
        });
        let tm = p.template.metadata.clone().unwrap_or_default();
        let metadata = ObjectMeta {
            name: Some(p.name.to_string()),
            generate_name: owner_refs.as_ref().map(|o| format!("{}-", o[0].name)),
            namespace: Some(p.namespace.to_string()),
            uid: Some(self.uid(p.id)),
            resource_version: Some(p.resource_version.to_string()),
            creation_timestamp: Some(t(p.created)),
            deletion_timestamp: p.deletion.map(|d| t(d.deadline)),
            deletion_grace_period_seconds: p.deletion.map(|d| d.grace_seconds),
            labels: tm.labels.clone(),
            annotations: tm.annotations.clone(),
            owner_references: owner_refs,
            ..Default::default()
        };
        let mut spec = p.template.spec.clone().unwrap_or_default();
        crate::api::admission::admit_pod(&mut spec, &p.name);
        spec.node_name = node
            .map(|n| n.name.to_string())
            .or_else(|| p.lost_node_name.as_ref().map(|n| n.to_string()));

        let mut conditions = Vec::new();
        let cond = |ty: &str, ok: bool, at: SimTime, reason: Option<&str>, msg: Option<String>| {
            PodCondition {
                type_: ty.into(),
                status: if ok { "True" } else { "False" }.into(),
                last_transition_time: Some(t(at)),
                reason: reason.map(Into::into),
                message: msg,
                ..Default::default()
            }
        };
        if let Some(at) = p.scheduled_at {
            let init = p.start_time.unwrap_or(at);
            // ContainersReady is the kubelet's view of the containers alone; Ready also falls
            // when the node controller marks the pod not ready (`MarkPodsNotReady` flips only
            // Ready's status and keeps its empty reason and message).
            let containers_ready = !p.containers.is_empty() && p.containers.iter().all(|c| c.ready);
            let not_ready_reason = if containers_ready {
                None
            } else {
                Some("ContainersNotReady")
            };
            let not_ready_msg = if containers_ready {
                None
            } else {
                let names: Vec<_> = spec
                    .containers
                    .iter()
                    .zip(&p.containers)
                    .filter(|(_, c)| !c.ready)
                    .map(|(s, _)| s.name.clone())
                    .collect();
                Some(format!(
                    "containers with unready status: [{}]",
                    names.join(" ")
                ))
            };
            conditions.push(cond(
                "PodReadyToStartContainers",
                p.ip != 0,
                init,
                None,
                None,
            ));
            conditions.push(cond("Initialized", true, init, None, None));
            conditions.push(cond(
                "Ready",
                p.ready,
                p.ready_changed,
                not_ready_reason,
                not_ready_msg.clone(),
            ));
            conditions.push(cond(
                "ContainersReady",
                containers_ready,
                p.containers_ready_changed,
                not_ready_reason,
                not_ready_msg,
            ));
            conditions.push(cond("PodScheduled", true, at, None, None));
            // Added last by `UpdatePodCondition` (taint eviction), as the API keeps the order.
            if let Some((at, reason, message)) = p.disruption {
                conditions.push(PodCondition {
                    type_: "DisruptionTarget".into(),
                    status: "True".into(),
                    last_transition_time: Some(t(at)),
                    reason: Some(reason.into()),
                    message: Some(message.into()),
                    ..Default::default()
                });
            }
        } else if let Some(msg) = &p.unschedulable {
            conditions.push(cond(
                "PodScheduled",
                false,
                p.created,
                Some("Unschedulable"),
                Some(msg.to_string()),
            ));
        }

        let container_statuses: Vec<ContainerStatus> = spec
            .containers
            .iter()
            .zip(&p.containers)
            .map(|(c, run)| ContainerStatus {
                name: c.name.clone(),
                // Once the runtime has the image, containerd reports the fully qualified
                // reference, and the image ID as repository@digest (no tag).
                image: if run.behavior.is_some() {
                    qualified_image(c.image.as_deref().unwrap_or(""))
                } else {
                    c.image.clone().unwrap_or_default()
                },
                image_id: if run.behavior.is_some() {
                    let full = qualified_image(c.image.as_deref().unwrap_or(""));
                    format!("{}@sha256:{}", image_repository(&full), hex_digest(&full))
                } else {
                    String::new()
                },
                container_id: run.has_started().then(|| {
                    format!(
                        "containerd://{}",
                        hex_digest(&format!("{}{}", p.id, run.restarts))
                    )
                }),
                ready: run.ready,
                started: Some(matches!(run.state, CState::Running { .. }) && run.started),
                restart_count: run.restarts as i32,
                state: Some(container_state(&run.state, &t)),
                last_state: run.last.as_ref().map(|l| ContainerState {
                    terminated: Some(terminated(l, &t)),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        let status = PodStatus {
            phase: Some(p.phase.as_str().into()),
            conditions: (!conditions.is_empty()).then_some(conditions),
            host_ip: node.map(|n| ip_string(n.ip)),
            host_ips: node.map(|n| {
                vec![k8s_openapi::api::core::v1::HostIP {
                    ip: ip_string(n.ip),
                }]
            }),
            pod_ip: (p.ip != 0).then(|| ip_string(p.ip)),
            pod_ips: (p.ip != 0).then(|| {
                vec![PodIP {
                    ip: ip_string(p.ip),
                }]
            }),
            start_time: p.start_time.map(t),
            container_statuses: p.scheduled_at.map(|_| container_statuses),
            qos_class: Some(qos_class(&spec)),
            reason: p.rejected.as_ref().map(|(r, _)| r.to_string()),
            message: p
                .rejected
                .as_ref()
                .map(|(_, m)| format!("Pod was rejected: {m}")),
            ..Default::default()
        };
        Pod {
            metadata,
            spec: Some(spec),
            status: Some(status),
        }
    }
}

fn container_state(
    s: &CState,
    t: &dyn Fn(SimTime) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> ContainerState {
    match s {
        CState::Waiting { reason, message } => ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.as_str().into()),
                message: message.as_ref().map(|m| m.to_string()),
            }),
            ..Default::default()
        },
        CState::Running { started } => ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(t(*started)),
            }),
            ..Default::default()
        },
        CState::Terminated(x) => ContainerState {
            terminated: Some(terminated(x, t)),
            ..Default::default()
        },
    }
}

fn terminated(
    x: &Terminated,
    t: &dyn Fn(SimTime) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> ContainerStateTerminated {
    ContainerStateTerminated {
        exit_code: x.exit_code,
        reason: Some(x.reason.into()),
        started_at: Some(t(x.started)),
        finished_at: Some(t(x.finished)),
        ..Default::default()
    }
}

fn qos_class(spec: &k8s_openapi::api::core::v1::PodSpec) -> String {
    let mut any = false;
    let mut guaranteed = true;
    for c in &spec.containers {
        let r = c.resources.as_ref();
        let req = r.and_then(|r| r.requests.as_ref());
        let lim = r.and_then(|r| r.limits.as_ref());
        if req.is_some_and(|m| !m.is_empty()) || lim.is_some_and(|m| !m.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let l = lim.and_then(|m| m.get(res));
            let q = req.and_then(|m| m.get(res)).or(l);
            if l.is_none() || q != l {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort".into()
    } else if guaranteed {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}

/// An image reference as containerd reports it: `nginx:1.25` is
/// `docker.io/library/nginx:1.25`, `bitnami/redis` is `docker.io/bitnami/redis:latest`; a
/// first component with a dot or a port, or `localhost`, names the registry
/// (docker/distribution `reference.ParseNormalizedNamed`).
pub fn qualified_image(image: &str) -> String {
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let named = if !first.is_empty()
        && (first.contains('.') || first.contains(':') || first == "localhost")
    {
        image.to_string()
    } else if first.is_empty() {
        format!("docker.io/library/{rest}")
    } else {
        format!("docker.io/{image}")
    };
    let last = named.rsplit('/').next().unwrap_or(&named);
    if last.contains(':') || last.contains('@') {
        named
    } else {
        format!("{named}:latest")
    }
}

/// The repository part of a qualified reference (without tag or digest).
fn image_repository(full: &str) -> &str {
    let cut = full.rfind('/').map_or(0, |i| i + 1);
    let last = &full[cut..];
    match last.find(['@', ':']) {
        Some(i) => &full[..cut + i],
        None => full,
    }
}

/// A stable 64-hex-digit digest standing in for a content hash.
fn hex_digest(s: &str) -> String {
    let mut out = String::with_capacity(64);
    let mut h = crate::rng::fnv32a(s.as_bytes());
    for _ in 0..8 {
        out.push_str(&format!("{h:08x}"));
        h = h.wrapping_mul(0x0100_0193) ^ 0x9e37_79b9;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_reported_fully_qualified() {
        // containerd's CRI status: `image` qualified with its tag, `imageID` repo@digest.
        assert_eq!(
            qualified_image("nginx:1.25"),
            "docker.io/library/nginx:1.25"
        );
        assert_eq!(
            qualified_image("busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            qualified_image("bitnami/redis"),
            "docker.io/bitnami/redis:latest"
        );
        assert_eq!(
            qualified_image("registry.local/api:v2"),
            "registry.local/api:v2"
        );
        assert_eq!(
            qualified_image("localhost:5000/api"),
            "localhost:5000/api:latest"
        );
        assert_eq!(
            image_repository("docker.io/library/nginx:1.25"),
            "docker.io/library/nginx"
        );
        assert_eq!(
            image_repository("localhost:5000/api:latest"),
            "localhost:5000/api"
        );
    }
}
