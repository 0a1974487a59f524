//! The scheduler: filter nodes (Ready and schedulable, nodeSelector, taints, pod count, CPU
//! and memory requests against allocatable), score the feasible ones (least allocated), bind.
//! Like kube-scheduler it examines only a share of a large cluster's nodes
//! (`percentageOfNodesToScore`), starting where the previous search stopped, and breaks score
//! ties at random (from the seeded generator). Port of the essentials of
//! `pkg/scheduler/schedule_one.go` and the NodeResourcesFit plugin.

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

impl Sim {
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
        if self.node_order.len() != self.store.nodes.len() {
            self.node_order = self.store.nodes.iter().map(|(id, _)| id).collect();
        }
        let nodes = std::mem::take(&mut self.node_order);
        let total = nodes.len();
        if total == 0 {
            self.node_order = nodes;
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
        let (nz_cpu, nz_mem) = pod_nonzero_requests(p);
        let mut reasons: BTreeMap<&'static str, usize> = BTreeMap::new();
        // Nodes where evicting lower-priority pods could help (resources) versus not at all.
        let mut preemption_could_help = 0usize;
        let mut feasible: Vec<(ObjId, i64)> = Vec::new();
        let start = self.next_start_node % total;
        let mut examined = 0;
        for k in 0..total {
            if feasible.len() >= want {
                break;
            }
            examined += 1;
            let nid = nodes[(start + k) % total];
            let Some(n) = self.store.nodes.get(nid) else {
                continue;
            };
            let unschedulable = n
                .node
                .spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false);
            let reason = if node_name.as_deref().is_some_and(|want| want != &*n.name) {
                Some("node(s) didn't match Pod's node affinity/selector")
            } else if !n.ready {
                Some("node(s) had untolerated taint {node.kubernetes.io/unreachable: }")
            } else if unschedulable {
                Some("node(s) were unschedulable")
            } else if !selector
                .iter()
                .all(|(k, v)| n.node.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
            {
                Some("node(s) didn't match Pod's node affinity/selector")
            } else if n.pods.len() as i64 >= n.max_pods {
                Some("Too many pods")
            } else if n.used_cpu + cpu > n.alloc_cpu {
                Some("Insufficient cpu")
            } else if n.used_mem + mem > n.alloc_mem {
                Some("Insufficient memory")
            } else {
                None
            };
            match reason {
                Some(r) => {
                    *reasons.entry(r).or_default() += 1;
                    if matches!(
                        r,
                        "Too many pods" | "Insufficient cpu" | "Insufficient memory"
                    ) {
                        preemption_could_help += 1;
                    }
                }
                None => {
                    // LeastAllocated over CPU and memory, counting every pod (this one and those
                    // already there) with the scheduler's default requests when it asks for none.
                    let c = n.nonzero_cpu + nz_cpu;
                    let m = n.nonzero_mem + nz_mem;
                    let free_c = ((n.alloc_cpu - c).max(0) * 100) / n.alloc_cpu.max(1);
                    let free_m = ((n.alloc_mem - m).max(0) * 100) / n.alloc_mem.max(1);
                    feasible.push((nid, (free_c + free_m) / 2));
                }
            }
        }
        self.next_start_node = (start + examined) % total;
        self.node_order = nodes;
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
        let Some(n) = self.store.nodes.get_mut(node) else {
            return;
        };
        n.pods.insert(id);
        n.used_cpu += cpu;
        n.used_mem += mem;
        let node_name = n.name.clone();
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
    }

    /// Something freed capacity or added a node: queue every waiting pod again.
    pub(crate) fn retry_unschedulable(&mut self) {
        let waiting: Vec<ObjId> = self.unschedulable.iter().copied().collect();
        for id in waiting {
            self.work.add(Work::Schedule(id));
        }
    }
}
