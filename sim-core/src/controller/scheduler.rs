//! The scheduler: filter nodes in the default profile's order (NodeUnschedulable, NodeName,
//! TaintToleration, NodeAffinity's nodeSelector, NodeResourcesFit: pod count, CPU and memory
//! requests against allocatable, every insufficient resource a reason), score the feasible ones
//! (least allocated, TaintToleration's PreferNoSchedule count), bind.
//! Like kube-scheduler it examines only a share of a large cluster's nodes
//! (`percentageOfNodesToScore`), starting where the previous search stopped, and breaks score
//! ties at random (from the seeded generator). Port of the essentials of
//! `pkg/scheduler/schedule_one.go` and the NodeResourcesFit plugin.

use std::borrow::Cow;
use std::collections::BTreeMap;

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
    pods: i64,
    max_pods: i64,
    used_cpu: i64,
    used_mem: i64,
    alloc_cpu: i64,
    alloc_mem: i64,
    nonzero_cpu: i64,
    nonzero_mem: i64,
}

/// The snapshot and the Node version it was built from.
#[derive(Debug, Default)]
pub(crate) struct SchedSnapshot {
    nodes: Vec<SchedNode>,
    index: BTreeMap<ObjId, usize>,
    built_from: Option<u64>,
}

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
                pods: n.pods.len() as i64,
                max_pods: n.max_pods,
                used_cpu: n.used_cpu,
                used_mem: n.used_mem,
                alloc_cpu: n.alloc_cpu,
                alloc_mem: n.alloc_mem,
                nonzero_cpu: n.nonzero_cpu,
                nonzero_mem: n.nonzero_mem,
            });
        }
        self.sched.built_from = Some(version);
    }

    /// Copies a node's pod count and requests into the snapshot after a bind or removal.
    pub(crate) fn sched_node_changed(&mut self, node: ObjId) {
        let (Some(&ix), Some(n)) = (self.sched.index.get(&node), self.store.nodes.get(node)) else {
            return;
        };
        if let Some(s) = self.sched.nodes.get_mut(ix) {
            s.pods = n.pods.len() as i64;
            s.used_cpu = n.used_cpu;
            s.used_mem = n.used_mem;
            s.nonzero_cpu = n.nonzero_cpu;
            s.nonzero_mem = n.nonzero_mem;
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
        let selector = p
            .template
            .spec
            .as_ref()
            .and_then(|s| s.node_selector.clone())
            .unwrap_or_default();
        let node_name = p.template.spec.as_ref().and_then(|s| s.node_name.clone());
        let (nz_cpu, nz_mem) = pod_nonzero_requests(p);
        self.refresh_snapshot();
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
        // numFeasibleNodesToFind: all below 100 nodes; else an adaptive percentage, at least 100.
        let want = if total < 100 {
            total
        } else {
            let pct = (50 - total as i64 / 125).max(5) as usize;
            (total * pct / 100).max(100)
        };
        // Reasons are static words but for a taint's; no allocation per failed node.
        let mut reasons: BTreeMap<Cow<'static, str>, usize> = BTreeMap::new();
        // Nodes where evicting lower-priority pods could help (resources) versus not at all.
        let mut preemption_could_help = 0usize;
        // (snapshot index, LeastAllocated score, PreferNoSchedule taints not tolerated)
        let mut feasible: Vec<(usize, i64, i64)> = Vec::new();
        // The pod's tolerations as admitted, read only when a node has taints.
        let mut tolerations: Option<Vec<k8s_openapi::api::core::v1::Toleration>> = None;
        let start = self.next_start_node % total;
        let mut examined = 0;
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
            let full = || self.store.nodes.get(n.id);
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
            } else if node_name
                .as_deref()
                .is_some_and(|want| full().is_none_or(|f| want != &*f.name))
            {
                fail("node(s) didn't match the requested node name".into());
            } else if let Some(t) = super::taint::untolerated_for_scheduling(&n.taints, tols) {
                fail(
                    format!(
                        "node(s) had untolerated taint {{{}: {}}}",
                        t.key,
                        t.value.as_deref().unwrap_or("")
                    )
                    .into(),
                );
            } else if !selector.is_empty()
                && full().is_none_or(|f| {
                    !selector.iter().all(|(k, v)| {
                        f.node.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v)
                    })
                })
            {
                fail("node(s) didn't match Pod's node affinity/selector".into());
            } else {
                // fitsRequest: every resource short is a reason.
                if n.pods >= n.max_pods {
                    fail("Too many pods".into());
                }
                if n.used_cpu + cpu > n.alloc_cpu {
                    fail("Insufficient cpu".into());
                }
                if n.used_mem + mem > n.alloc_mem {
                    fail("Insufficient memory".into());
                }
                resolvable = true;
            }
            if failed == 0 {
                // LeastAllocated over CPU and memory, counting every pod (this one and those
                // already there) with the scheduler's default requests when it asks for none.
                let c = n.nonzero_cpu + nz_cpu;
                let m = n.nonzero_mem + nz_mem;
                let free_c = ((n.alloc_cpu - c).max(0) * 100) / n.alloc_cpu.max(1);
                let free_m = ((n.alloc_mem - m).max(0) * 100) / n.alloc_mem.max(1);
                let prefer = super::taint::intolerable_prefer_no_schedule(&n.taints, tols);
                feasible.push((ix, (free_c + free_m) / 2, prefer));
            } else if resolvable {
                preemption_could_help += 1;
            }
        }
        // TaintToleration's score: DefaultNormalizeScore reversed (no untolerated
        // PreferNoSchedule taint scores 100, the most scores 0), weight 3 in the default
        // profile.
        let max_prefer = feasible.iter().map(|f| f.2).max().unwrap_or(0);
        let feasible: Vec<(usize, i64)> = feasible
            .into_iter()
            .map(|(ix, s, prefer)| {
                let taint_score = if max_prefer == 0 {
                    100
                } else {
                    100 - prefer * 100 / max_prefer
                };
                (ix, s + 3 * taint_score)
            })
            .collect();
        let ids: Vec<(ObjId, i64)> = feasible
            .iter()
            .map(|(ix, s)| (snapshot[*ix].id, *s))
            .collect();
        self.sched.nodes = snapshot;
        let feasible = ids;
        self.next_start_node = (start + examined) % total;
        if feasible.is_empty() {
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
            let msg = format!(
                "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
                parts.join(", "),
                pre.join(", ")
            );
            self.unschedulable_pod(id, msg);
            return;
        }
        // selectHost: highest score, ties by reservoir sampling.
        let best = feasible.iter().map(|(_, s)| *s).max().unwrap_or(0);
        let mut chosen = None;
        let mut seen = 0u64;
        for (nid, s) in &feasible {
            if *s == best {
                seen += 1;
                if self.rng.below(seen) == 0 {
                    chosen = Some(*nid);
                }
            }
        }
        if let Some(nid) = chosen {
            self.bind(id, nid, cpu, mem);
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

    fn bind(&mut self, id: ObjId, node: ObjId, cpu: i64, mem: i64) {
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
        self.unschedulable.remove(&id);
        if let Some(r) = self.pod_ref(id) {
            let msg = format!(
                "Successfully assigned {}/{} to {node_name}",
                r.namespace, r.name
            );
            self.store.event(NewEvent {
                object: r,
                warning: false,
                reason: "Scheduled",
                message: msg,
                source: "default-scheduler",
                host: None,
            });
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
