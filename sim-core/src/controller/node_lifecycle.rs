//! Node faults and the node lifecycle controller: a node whose kubelet stops reporting turns
//! NotReady (Unknown) after the grace period and gets the unreachable NoSchedule taint, its
//! pods are marked not ready; the NoExecute taint follows at the next monitor pass (5 s), and
//! after the pods' toleration of it (300 s by default, `controller/taint.rs`) they are evicted
//! so their controllers replace them. On recovery the NoSchedule taint goes with the Ready
//! status and the NoExecute one at the next pass.
//! Port of the essentials of `pkg/controller/nodelifecycle` and the taint-based eviction
//! defaults (`DefaultTolerationSeconds` admission).

use crate::sim::{Sim, Timer};
use crate::store::{ChangeType, Kind, NewEvent, ObjId, ObjRef};
use crate::time::SimDuration;

/// `--node-monitor-grace-period` (50 s since Kubernetes 1.32, PR #126287), counted from the
/// node Lease's last renewal.
pub const NODE_MONITOR_GRACE: SimDuration = SimDuration::from_secs(50);
/// `--node-monitor-period`: how often the node lifecycle controller's `monitorNodeHealth`
/// runs. The pass that finds the grace period over marks the node Unknown (and the
/// NoSchedule taint follows that status update at once); the NoExecute taint waits for the
/// next pass, which sees the Unknown condition it observed (`processTaintBaseEviction`).
pub const NODE_MONITOR_PERIOD: SimDuration = SimDuration::from_secs(5);
/// The pod garbage collector's loop period (`gcCheckPeriod`).
pub const POD_GC_CHECK_PERIOD: SimDuration = SimDuration::from_secs(20);
/// How long the pod garbage collector waits before it believes a node is gone
/// (`quarantineTime`).
pub const POD_GC_QUARANTINE: SimDuration = SimDuration::from_secs(40);

/// What can be done to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeFault {
    /// The kubelet stops (power loss, network partition).
    Down,
    /// The kubelet is back.
    Up,
    /// The Node object is removed; its pods are force-deleted.
    Remove,
}

impl Sim {
    /// Applies a node fault by node name.
    pub fn node_fault(&mut self, name: &str, fault: NodeFault) -> Result<(), crate::ApiError> {
        let id = self
            .store
            .nodes
            .lookup("", name)
            .ok_or_else(|| crate::ApiError::not_found("nodes", name))?;
        match fault {
            NodeFault::Down => {
                let heartbeat = self.store.time(self.store.now);
                if let Some(n) = self.store.nodes.get_mut(id) {
                    if !n.kubelet_up {
                        return Ok(());
                    }
                    n.kubelet_up = false;
                    n.kubelet_stopped = Some(self.store.now);
                    n.epoch += 1;
                    let epoch = n.epoch;
                    // The last status the kubelet posted keeps its heartbeat; the node
                    // controller changes only status, reason, message and transition time.
                    n.node
                        .status
                        .get_or_insert_with(Default::default)
                        .conditions = Some(vec![k8s_openapi::api::core::v1::NodeCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_heartbeat_time: Some(heartbeat),
                        ..Default::default()
                    }]);
                    // The controller reads the node's Lease: the grace period runs from the
                    // kubelet's last renewal (at most 10 s before it stopped).
                    let now = self.store.now;
                    let renewed =
                        crate::kubelet::lease::renew_time(n.kubelet_started, Some(now), now);
                    self.at(
                        renewed + NODE_MONITOR_GRACE,
                        Timer::NodeLost { node: id, epoch },
                    );
                }
            }
            NodeFault::Up => self.node_up(id),
            NodeFault::Remove => self.remove_node(id),
        }
        self.settle();
        Ok(())
    }

    fn node_ref(&self, id: ObjId) -> Option<ObjRef> {
        let n = self.store.nodes.get(id)?;
        Some(ObjRef {
            kind: Kind::Node,
            id,
            name: n.name.clone(),
            namespace: "".into(),
        })
    }

    fn touch_node(&mut self, id: ObjId) {
        let Some(n) = self.store.nodes.get(id) else {
            return;
        };
        let name = n.name.clone();
        let rv = self
            .store
            .touch(Kind::Node, id, &"".into(), &name, ChangeType::Modified);
        if let Some(n) = self.store.nodes.get_mut(id) {
            n.node.metadata.resource_version = Some(rv.to_string());
        }
    }

    /// The grace period passed without a heartbeat.
    pub(crate) fn node_lost(&mut self, id: ObjId, epoch: u32) {
        let Some(n) = self.store.nodes.get_mut(id) else {
            return;
        };
        if n.epoch != epoch || n.kubelet_up {
            return;
        }
        n.ready = false;
        n.ready_changed = self.store.now;
        let pods: Vec<ObjId> = n.pods.iter().copied().collect();
        self.sync_controller_taints(id);
        self.touch_node(id);
        if let Some(r) = self.node_ref(id) {
            let msg = format!("Node {} status is now: NodeNotReady", r.name);
            self.store.event(NewEvent {
                object: r,
                warning: false,
                reason: "NodeNotReady",
                message: msg,
                source: "node-controller",
                host: None,
            });
        }
        for p in pods {
            let changed = self.store.pods.get_mut(p).map(|pod| {
                pod.node_lost = true;
                let was = pod.ready;
                if was {
                    pod.ready = false;
                    pod.ready_changed = self.store.now;
                }
                was
            });
            if changed.is_some() {
                self.write_pod(p);
            }
            if let Some(r) = self.pod_ref(p) {
                self.store.event(NewEvent {
                    object: r,
                    warning: true,
                    reason: "NodeNotReady",
                    message: "Node is not ready".into(),
                    source: "node-controller",
                    host: None,
                });
            }
        }
        // The NoExecute taint comes with the next monitor pass.
        self.after(NODE_MONITOR_PERIOD, Timer::NodeMonitor { node: id, epoch });
    }

    /// A monitor pass after the node's health changed: the NoExecute taint follows the Ready
    /// condition the pass observes (`markNodeForTainting`, `markNodeAsReachable`); adding it
    /// starts each pod's toleration (300 s by default).
    pub(crate) fn node_monitor(&mut self, id: ObjId, epoch: u32) {
        let Some(n) = self.store.nodes.get_mut(id) else {
            return;
        };
        if n.epoch != epoch || n.no_execute != n.ready {
            return;
        }
        n.no_execute = !n.ready;
        if self.sync_controller_taints(id) {
            self.touch_node(id);
        }
        self.taint_eviction_node(id);
    }

    fn node_up(&mut self, id: ObjId) {
        let Some(n) = self.store.nodes.get_mut(id) else {
            return;
        };
        if n.kubelet_up && n.ready {
            return;
        }
        if !n.kubelet_up {
            n.kubelet_started = self.store.now;
            n.kubelet_stopped = None;
        }
        n.kubelet_up = true;
        n.epoch += 1;
        let was_ready = n.ready;
        n.ready = true;
        let lost_at = n.ready_changed;
        if !was_ready {
            n.ready_changed = self.store.now;
        }
        // The NoSchedule taint goes with the kubelet's Ready status; the NoExecute one at the
        // controller's next monitor pass (passes every 5 s, in the phase of the one that
        // marked the node lost).
        let monitor = n.no_execute.then(|| {
            let period = NODE_MONITOR_PERIOD.millis();
            let since = self.store.now.millis().saturating_sub(lost_at.millis());
            let next = crate::time::SimTime(lost_at.millis() + (since / period + 1) * period);
            (next, n.epoch)
        });
        let pods: Vec<ObjId> = n.pods.iter().copied().collect();
        if let Some((next, epoch)) = monitor {
            self.at(next, Timer::NodeMonitor { node: id, epoch });
        }
        self.sync_controller_taints(id);
        self.touch_node(id);
        if let Some(r) = self.node_ref(id) {
            let msg = format!("Node {} status is now: NodeReady", r.name);
            self.store.event(NewEvent {
                object: r,
                warning: false,
                reason: "NodeReady",
                message: msg,
                source: "kubelet",
                host: None,
            });
        }
        for p in pods {
            let deleting = self.store.pods.get(p).is_some_and(|p| p.deletion.is_some());
            if deleting {
                // The kubelet finds pods deleted while it was away and finishes them.
                self.remove_pod(p);
                continue;
            }
            if let Some(pod) = self.store.pods.get_mut(p) {
                pod.node_lost = false;
                let ready = !pod.containers.is_empty() && pod.containers.iter().all(|c| c.ready);
                if ready != pod.ready {
                    pod.ready = ready;
                    pod.ready_changed = self.store.now;
                }
                pod.recompute_phase();
            }
            self.write_pod(p);
        }
        self.taint_eviction_node(id);
        self.retry_unschedulable();
    }

    fn remove_node(&mut self, id: ObjId) {
        let Some(n) = self.store.nodes.get(id) else {
            return;
        };
        let name = n.name.clone();
        let pods: Vec<ObjId> = n.pods.iter().copied().collect();
        self.store
            .touch(Kind::Node, id, &"".into(), &name, ChangeType::Deleted);
        self.store.nodes.remove(id, "", &name);
        // The pod garbage collector (`gcOrphaned`) force-deletes pods bound to a node that is
        // gone, but only after quarantine: its loop runs every 20 s, puts the missing node in
        // a queue for 40 s, and deletes the pods at the first run after that, so pods linger
        // 40-60 s. The loop's phase is taken from virtual time zero.
        let period = POD_GC_CHECK_PERIOD.millis();
        let first_run = (self.store.now.millis() / period + 1) * period;
        let at = crate::time::SimTime(first_run) + POD_GC_QUARANTINE;
        for p in pods {
            if let Some(pod) = self.store.pods.get_mut(p) {
                pod.lost_node_name = Some(name.clone());
            }
            self.at(
                at,
                Timer::Container {
                    pod: p,
                    ci: 0,
                    epoch: 0,
                    step: crate::sim::Step::OrphanedPodGc,
                },
            );
        }
    }

    /// `gcOrphaned`: the pod's node is still missing after quarantine; force-delete the pod.
    pub(crate) fn orphaned_pod_gc(&mut self, pod: ObjId) {
        let orphaned = self.store.pods.get(pod).is_some_and(|p| {
            p.lost_node_name.is_some() && p.node.is_none_or(|n| self.store.nodes.get(n).is_none())
        });
        if orphaned {
            self.remove_pod(pod);
        }
    }
}
