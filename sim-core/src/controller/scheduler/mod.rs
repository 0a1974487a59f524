//! The scheduler: a pod that names its node skips it (`kubelet/admission.rs`); for the others,
//! filter nodes in the default profile's order (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit: pod count, CPU and memory requests against
//! allocatable, every insufficient resource a reason; PodTopologySpread; InterPodAffinity),
//! score the feasible ones with the default profile's plugins and weights (TaintToleration 3,
//! NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit's LeastAllocated
//! 1, NodeResourcesBalancedAllocation 1), bind.
//! Like kube-scheduler it examines only a share of a large cluster's nodes
//! (`numFeasibleNodesToFind`: all below 100 nodes, else 50 % less one point per 125 nodes, at
//! least 5 % and 100 nodes), starting where the previous search stopped, and picks among the
//! top scores by reservoir sampling (`selectHost`, from the seeded generator). Port of the
//! essentials of `pkg/scheduler/schedule_one.go`; one file per plugin of
//! `pkg/scheduler/framework/plugins`.

mod image_locality;
mod inter_pod_affinity;
mod node_affinity;
pub(crate) use node_affinity::RequiredNodeAffinity;
mod resources;
mod topology_spread;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::replicaset::pod_requests;
use crate::controller::Work;
use crate::sim::Sim;
use crate::store::{NewEvent, ObjId};

/// Requests assumed for scoring when a container asks for nothing (`DefaultMilliCPURequest`,
/// `DefaultMemoryRequest`).
const DEFAULT_CPU: i64 = 100;
const DEFAULT_MEM: i64 = 200 * 1024 * 1024;

/// Requests as the scheduler scores them (`GetNonzeroRequests`): a container that asks for
/// no CPU counts 100m, no memory 200Mi, so empty pods still spread across nodes.
pub(crate) fn pod_nonzero_requests(p: &crate::store::PodState) -> (i64, i64) {
    let mut cpu = 0;
    let mut mem = 0;
    for c in p.template.spec.iter().flat_map(|s| s.containers.iter()) {
        let r = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        cpu += r
            .and_then(|r| r.get("cpu"))
            .and_then(|q| crate::api::quantity::cpu_millis(q).ok())
            .unwrap_or(DEFAULT_CPU);
        mem += r
            .and_then(|r| r.get("memory"))
            .and_then(|q| crate::api::quantity::memory_bytes(q).ok())
            .unwrap_or(DEFAULT_MEM);
    }
    (cpu, mem)
}

/// The scheduler's per-node numbers, packed together (kube-scheduler's cache snapshot):
/// filtering 500 nodes per pod touches this array, not the full Node objects.
#[derive(Debug, Clone, Default)]
pub(crate) struct SchedNode {
    id: ObjId,
    unschedulable: bool,
    /// The node's taints (empty for most nodes, so no allocation).
    taints: Vec<k8s_openapi::api::core::v1::Taint>,
    /// `topology.kubernetes.io/zone`, when the node has one.
    zone: Option<Arc<str>>,
    /// Whether the node has the `kubernetes.io/hostname` label (every kubelet sets it).
    hostname: bool,
    pods: i64,
    max_pods: i64,
    used_cpu: i64,
    used_mem: i64,
    alloc_cpu: i64,
    alloc_mem: i64,
    nonzero_cpu: i64,
    nonzero_mem: i64,
}

/// The snapshot and the Node version it was built from, with the pod counts the plugins keep
/// up to date as pods are bound and removed.
#[derive(Debug, Default)]
pub(crate) struct SchedSnapshot {
    nodes: Vec<SchedNode>,
    index: BTreeMap<ObjId, usize>,
    built_from: Option<u64>,
    /// Bound pods per owner, per node and zone (PodTopologySpread's default constraints).
    counts: topology_spread::OwnerCounts,
    /// Bound pods with required pod anti-affinity (InterPodAffinity checks every pod
    /// against them).
    anti_pods: BTreeSet<ObjId>,
    /// How many nodes have each (normalised) image, for ImageLocality: counted when the
    /// snapshot is built, then as the kubelets pull.
    image_nodes: BTreeMap<String, u32>,
}

/// One feasible node's raw scores, before each plugin's normalisation.
#[derive(Debug, Clone, Copy)]
struct Raw {
    ix: usize,
    /// LeastAllocated plus BalancedAllocation (neither normalises).
    resources: i64,
    /// PreferNoSchedule taints not tolerated.
    prefer: i64,
    node_affinity: i64,
    spread: Option<i64>,
    pod_affinity: i64,
    /// ImageLocality (weight 1, no normalisation).
    image: i64,
}

/// The default profile's score weights (`pkg/scheduler/apis/config/v1/default_plugins.go`).
const WEIGHT_TAINT: i64 = 3;
const WEIGHT_NODE_AFFINITY: i64 = 2;
const WEIGHT_SPREAD: i64 = 2;
const WEIGHT_POD_AFFINITY: i64 = 2;

/// `numFeasibleNodesToFind` with the default `percentageOfNodesToScore` (adaptive).
fn num_feasible_nodes_to_find(total: usize) -> usize {
    if total < 100 {
        return total;
    }
    let pct = (50 - total as i64 / 125).max(5) as usize;
    (total * pct / 100).max(100)
}

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl Sim {
    /// Rebuilds the snapshot when any Node object changed since it was built.
    fn refresh_snapshot(&mut self) {
        let version = self.store.nodes_version();
        if self.sched.built_from == Some(version) {
            return;
        }
        self.sched.nodes.clear();
        self.sched.index.clear();
        for (id, n) in self.store.nodes.iter() {
            self.sched.index.insert(id, self.sched.nodes.len());
            self.sched.nodes.push(SchedNode {
                id,
                taints: n
                    .node
                    .spec
                    .as_ref()
                    .and_then(|s| s.taints.clone())
                    .unwrap_or_default(),
                unschedulable: n
                    .node
                    .spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false),
                zone: n
                    .node
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(topology_spread::ZONE))
                    .map(|z| Arc::from(z.as_str())),
                hostname: n
                    .node
                    .metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(topology_spread::HOSTNAME)),
                pods: n.active_pods(),
                max_pods: n.max_pods,
                used_cpu: n.used_cpu,
                used_mem: n.used_mem,
                alloc_cpu: n.alloc_cpu,
                alloc_mem: n.alloc_mem,
                nonzero_cpu: n.nonzero_cpu,
                nonzero_mem: n.nonzero_mem,
            });
        }
        self.sched.image_nodes.clear();
        for (_, n) in self.store.nodes.iter() {
            for image in &n.images {
                *self.sched.image_nodes.entry(image.clone()).or_default() += 1;
            }
        }
        // A zone label may have changed: count the owners' pods per zone again.
        let (nodes, index) = (&self.sched.nodes, &self.sched.index);
        self.sched
            .counts
            .rezone(|n| index.get(&n).and_then(|ix| nodes[*ix].zone.clone()));
        self.sched.built_from = Some(version);
    }

    /// Copies a node's pod count and requests into the snapshot after a bind or removal.
    pub(crate) fn sched_node_changed(&mut self, node: ObjId) {
        let (Some(&ix), Some(n)) = (self.sched.index.get(&node), self.store.nodes.get(node)) else {
            return;
        };
        if let Some(s) = self.sched.nodes.get_mut(ix) {
            s.pods = n.active_pods();
            s.used_cpu = n.used_cpu;
            s.used_mem = n.used_mem;
            s.nonzero_cpu = n.nonzero_cpu;
            s.nonzero_mem = n.nonzero_mem;
        }
    }

    /// A node's kubelet pulled an image it did not have (ImageLocality's count).
    pub(crate) fn sched_image_pulled(&mut self, image: &str) {
        if self.sched.built_from.is_some() {
            *self.sched.image_nodes.entry(image.to_string()).or_default() += 1;
        }
    }

    /// A pod was bound to (`placed`) or left `node`: the plugins' counts follow.
    pub(crate) fn sched_pod_placed(&mut self, pod: ObjId, node: ObjId, placed: bool) {
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let zone = self
            .sched
            .index
            .get(&node)
            .and_then(|ix| self.sched.nodes.get(*ix))
            .and_then(|n| n.zone.clone());
        if let Some(owner) = p.owner {
            self.sched.counts.add(owner, node, zone.as_ref(), placed);
        }
        if inter_pod_affinity::has_required_anti(p) {
            if placed {
                self.sched.anti_pods.insert(pod);
            } else {
                self.sched.anti_pods.remove(&pod);
            }
        }
    }

    /// Tries to place one pod.
    pub(crate) fn schedule_pod(&mut self, id: ObjId) {
        let Some(p) = self.store.pods.get(id) else {
            return;
        };
        if p.node.is_some() || p.deletion.is_some() {
            return;
        }
        let (cpu, mem) = pod_requests(p);
        let spec = p.template.clone();
        let spec = spec.spec.as_ref();
        // A pod that names its node skips the scheduler: the kubelet admits it or not.
        if let Some(name) = spec.and_then(|s| s.node_name.as_deref()) {
            self.place_on_named_node(id, name);
            return;
        }
        let affinity = node_affinity::RequiredNodeAffinity::from_spec(spec);
        let preferred = node_affinity::preferred_terms(spec);
        let (nz_cpu, nz_mem) = pod_nonzero_requests(p);
        self.refresh_snapshot();
        let mut spread = self.spread_for(id);
        let pod_affinity = self.pod_affinity_for(id);
        let images = image_locality::PodImages::new(
            spec.iter()
                .flat_map(|s| s.containers.iter())
                .map(|c| {
                    let image = c.image.as_deref().unwrap_or("");
                    let size = self
                        .runtime
                        .lookup(image)
                        .map_or(0, |b| i64::try_from(b.size_bytes).unwrap_or(i64::MAX));
                    (crate::runtime::normalize(image), size)
                })
                .collect(),
            &self.sched.image_nodes,
            self.sched.nodes.len(),
        );
        let image_everywhere = images.uniform();
        let snapshot = std::mem::take(&mut self.sched.nodes);
        let total = snapshot.len();
        if total == 0 {
            self.sched.nodes = snapshot;
            self.unschedulable_pod(
                id,
                "0/0 nodes are available: no nodes available to schedule pods.".into(),
            );
            return;
        }
        let want = num_feasible_nodes_to_find(total);
        // Reasons are static words but for a taint's; no allocation per failed node.
        let mut reasons: BTreeMap<Cow<'static, str>, usize> = BTreeMap::new();
        // Nodes where evicting lower-priority pods could help (resources) versus not at all.
        let mut preemption_could_help = 0usize;
        let mut feasible: Vec<Raw> = Vec::with_capacity(want);
        // The pod's tolerations as admitted, read only when a node has taints.
        let mut tolerations: Option<Vec<k8s_openapi::api::core::v1::Toleration>> = None;
        let start = self.next_start_node % total;
        let mut examined = 0;
        let needs_labels = !affinity.is_empty()
            || spread.has_hard()
            || pod_affinity.filters()
            || pod_affinity.scores()
            || !preferred.is_empty();
        for k in 0..total {
            if feasible.len() >= want {
                break;
            }
            examined += 1;
            let ix = (start + k) % total;
            let n = &snapshot[ix];
            let tols: &[k8s_openapi::api::core::v1::Toleration] = if n.taints.is_empty() {
                &[]
            } else {
                tolerations.get_or_insert_with(|| {
                    self.store
                        .pods
                        .get(id)
                        .map(|p| super::taint::admitted_tolerations(p.template.spec.as_ref()))
                        .unwrap_or_default()
                })
            };
            // The Node object only when a plugin reads its name or labels.
            let full = if needs_labels {
                self.store.nodes.get(n.id)
            } else {
                None
            };
            let name = full.map_or("", |f| &*f.name);
            let labels = if needs_labels {
                full.and_then(|f| f.node.metadata.labels.as_ref())
                    .unwrap_or(&NO_LABELS)
            } else {
                &NO_LABELS
            };
            // Each filter plugin in order; the first that fails decides, and only
            // NodeResourcesFit gives several reasons.
            let mut failed = 0usize;
            let mut resolvable = false;
            let mut fail = |r: Cow<'static, str>| {
                *reasons.entry(r).or_default() += 1;
                failed += 1;
            };
            if n.unschedulable
                && !tols.iter().any(|t| {
                    super::taint::tolerates(
                        t,
                        &k8s_openapi::api::core::v1::Taint {
                            key: super::taint::TAINT_UNSCHEDULABLE.into(),
                            effect: "NoSchedule".into(),
                            ..Default::default()
                        },
                    )
                })
            {
                fail("node(s) were unschedulable".into());
            } else if let Some(t) = super::taint::untolerated_for_scheduling(&n.taints, tols) {
                fail(
                    format!(
                        "node(s) had untolerated taint {{{}: {}}}",
                        t.key,
                        t.value.as_deref().unwrap_or("")
                    )
                    .into(),
                );
            } else if !affinity.is_empty() && !affinity.matches(name, labels) {
                fail(node_affinity::REASON.into());
            } else {
                // fitsRequest: every resource short is a reason.
                let mut short = false;
                for (over, reason) in [
                    (n.pods >= n.max_pods, "Too many pods"),
                    (n.used_cpu + cpu > n.alloc_cpu, "Insufficient cpu"),
                    (n.used_mem + mem > n.alloc_mem, "Insufficient memory"),
                ] {
                    if over {
                        fail(reason.into());
                        short = true;
                    }
                }
                resolvable = true;
                if !short {
                    if let Err(r) = spread.filter(labels) {
                        resolvable = r == topology_spread::REASON;
                        fail(r.into());
                    } else if let Err(r) = pod_affinity.filter(labels) {
                        resolvable = r != inter_pod_affinity::REASON_AFFINITY;
                        fail(r.into());
                    }
                }
            }
            if failed == 0 {
                // NodeResourcesFit (LeastAllocated, counting every pod with the scheduler's
                // default requests when it asks for none) and BalancedAllocation (the
                // requests as they are; skipped for a pod that requests nothing).
                let least = resources::least_allocated(
                    (n.nonzero_cpu + nz_cpu, n.nonzero_mem + nz_mem),
                    (n.alloc_cpu, n.alloc_mem),
                );
                let balanced = if cpu == 0 && mem == 0 {
                    0
                } else {
                    resources::balanced_allocation(
                        (n.used_cpu + cpu, n.used_mem + mem),
                        (n.alloc_cpu, n.alloc_mem),
                    )
                };
                feasible.push(Raw {
                    ix,
                    resources: least + balanced,
                    prefer: super::taint::intolerable_prefer_no_schedule(&n.taints, tols),
                    node_affinity: node_affinity::preferred_score(&preferred, name, labels),
                    spread: None,
                    pod_affinity: if pod_affinity.scores() {
                        pod_affinity.score(labels)
                    } else {
                        0
                    },
                    image: match (images.any(), image_everywhere) {
                        (false, _) => 0,
                        (true, Some(score)) => score,
                        (true, None) => self
                            .store
                            .nodes
                            .get(n.id)
                            .map_or(0, |f| images.score(|i| f.images.contains(i))),
                    },
                });
            } else if resolvable {
                preemption_could_help += 1;
            }
        }
        self.next_start_node = (start + examined) % total;
        if feasible.is_empty() {
            self.sched.nodes = snapshot;
            let msg = failed_scheduling_message(total, examined, &reasons, preemption_could_help);
            self.unschedulable_pod(id, msg);
            return;
        }
        // PodTopologySpread's PreScore and Score over the feasible nodes.
        if let Some(owner) = spread.default_owner() {
            // The system defaults counted by owner: the snapshot's hostname and zone and the
            // owner's counts, without reading the Node objects.
            let weights = spread.default_weights(feasible.iter().map(|r| &snapshot[r.ix]));
            let by_node = self.sched.counts.owner_nodes(owner);
            let by_zone = self.sched.counts.owner_zones(owner);
            for r in feasible.iter_mut() {
                let n = &snapshot[r.ix];
                r.spread = Some(topology_spread::default_score(n, by_node, by_zone, weights));
            }
        } else if spread.has_soft() {
            let labels_of = |r: &Raw| {
                self.store
                    .nodes
                    .get(snapshot[r.ix].id)
                    .and_then(|f| f.node.metadata.labels.as_ref())
                    .unwrap_or(&NO_LABELS)
            };
            spread.prepare_score(feasible.iter().map(labels_of));
            for r in feasible.iter_mut() {
                let node = snapshot[r.ix].id;
                let labels = self
                    .store
                    .nodes
                    .get(node)
                    .and_then(|f| f.node.metadata.labels.as_ref())
                    .unwrap_or(&NO_LABELS);
                r.spread = spread.score(self, node, labels);
            }
        }
        // Each plugin's NormalizeScore, then the weighted sum.
        let taint = resources::default_normalize(feasible.iter().map(|r| r.prefer), true);
        let node_aff =
            resources::default_normalize(feasible.iter().map(|r| r.node_affinity), false);
        let spreads: Vec<Option<i64>> = if spread.has_soft() {
            feasible.iter().map(|r| r.spread).collect()
        } else {
            Vec::new()
        };
        let spread_norm = topology_spread::normalize(&spreads);
        let pod_aff_raw: Vec<i64> = if pod_affinity.scores() {
            feasible.iter().map(|r| r.pod_affinity).collect()
        } else {
            Vec::new()
        };
        let pod_aff = inter_pod_affinity::normalize(&pod_aff_raw);
        let totals: Vec<i64> = feasible
            .iter()
            .map(|r| {
                let mut s = r.resources + r.image + WEIGHT_TAINT * taint.apply(r.prefer);
                if !preferred.is_empty() {
                    s += WEIGHT_NODE_AFFINITY * node_aff.apply(r.node_affinity);
                }
                if spread.has_soft() {
                    s += WEIGHT_SPREAD * spread_norm(r.spread);
                }
                if pod_affinity.scores() {
                    s += WEIGHT_POD_AFFINITY * pod_aff(r.pod_affinity);
                }
                s
            })
            .collect();
        // selectHost: the highest total, ties by reservoir sampling.
        let best = totals.iter().copied().max().unwrap_or(0);
        let mut chosen = None;
        let mut seen = 0u64;
        for (r, s) in feasible.iter().zip(&totals) {
            if *s == best {
                seen += 1;
                if self.rng.below(seen) == 0 {
                    chosen = Some(snapshot[r.ix].id);
                }
            }
        }
        self.sched.nodes = snapshot;
        if let Some(nid) = chosen {
            self.bind(id, nid, cpu, mem, true);
        }
    }

    fn unschedulable_pod(&mut self, id: ObjId, msg: String) {
        let changed = self
            .store
            .pods
            .get(id)
            .is_some_and(|p| p.unschedulable.as_deref() != Some(msg.as_str()));
        if let Some(p) = self.store.pods.get_mut(id) {
            p.unschedulable = Some(msg.clone().into_boxed_str());
        }
        self.unschedulable.insert(id);
        if let Some(r) = self.pod_ref(id) {
            self.store.event(NewEvent {
                object: r,
                warning: true,
                reason: "FailedScheduling",
                message: msg,
                source: "default-scheduler",
                host: None,
            });
        }
        if changed {
            self.write_pod(id);
        }
    }

    /// Binds the pod to the node (with the scheduler's `Scheduled` event when it chose it)
    /// and hands it to the kubelet.
    pub(crate) fn bind(&mut self, id: ObjId, node: ObjId, cpu: i64, mem: i64, scheduled: bool) {
        let now = self.store.now;
        let (nz_cpu, nz_mem) = self.store.pods.get(id).map_or((0, 0), pod_nonzero_requests);
        let Some(n) = self.store.nodes.get_mut(node) else {
            return;
        };
        n.pods.insert(id);
        n.used_cpu += cpu;
        n.used_mem += mem;
        n.nonzero_cpu += nz_cpu;
        n.nonzero_mem += nz_mem;
        let node_name = n.name.clone();
        self.sched_node_changed(node);
        if let Some(p) = self.store.pods.get_mut(id) {
            p.node = Some(node);
            p.scheduled_at = Some(now);
            p.unschedulable = None;
        }
        self.sched_pod_placed(id, node, true);
        self.unschedulable.remove(&id);
        if let Some(r) = self.pod_ref(id).filter(|_| scheduled) {
            self.store.event_assigned(r, node_name);
        }
        self.write_pod(id);
        self.kubelet_admit(id);
        // The taint eviction controller sees the pod on its node.
        self.taint_eviction_pod(id);
    }

    /// Something freed capacity or added a node: queue every waiting pod again.
    pub(crate) fn retry_unschedulable(&mut self) {
        let waiting: Vec<ObjId> = self.unschedulable.iter().copied().collect();
        for id in waiting {
            self.work.add(Work::Schedule(id));
        }
    }
}

/// The FailedScheduling message: each reason with its node count, then preemption's verdict.
fn failed_scheduling_message(
    total: usize,
    examined: usize,
    reasons: &BTreeMap<Cow<'static, str>, usize>,
    preemption_could_help: usize,
) -> String {
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    let mut pre: Vec<String> = Vec::new();
    if preemption_could_help > 0 {
        pre.push(format!(
            "{preemption_could_help} No preemption victims found for incoming pod"
        ));
    }
    let not_helpful = examined - preemption_could_help;
    if not_helpful > 0 {
        pre.push(format!(
            "{not_helpful} Preemption is not helpful for scheduling"
        ));
    }
    pre.sort();
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
        parts.join(", "),
        pre.join(", ")
    )
}
