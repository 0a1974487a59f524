//! Node faults and the node lifecycle controller: a node whose kubelet stops reporting turns
//! NotReady (Unknown) after the grace period, its pods are marked not ready, and after the
//! default NoExecute toleration (300 s) they are evicted so their controllers replace them.
//! Port of the essentials of `pkg/controller/nodelifecycle` and the taint-based eviction
//! defaults (`DefaultTolerationSeconds` admission).

use crate::sim::{Sim, Timer};
use crate::store::{ChangeType, Kind, NewEvent, ObjId, ObjRef};
use crate::time::SimDuration;

/// `--node-monitor-grace-period` (50 s since Kubernetes 1.32, PR #126287).
pub const NODE_MONITOR_GRACE: SimDuration = SimDuration::from_secs(50);
/// `node.kubernetes.io/unreachable:NoExecute` toleration added to every pod.
pub const DEFAULT_TOLERATION: SimDuration = SimDuration::from_secs(300);

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
                if let Some(n) = self.store.nodes.get_mut(id) {
                    if !n.kubelet_up {
                        return Ok(());
                    }
                    n.kubelet_up = false;
                    n.epoch += 1;
                    let epoch = n.epoch;
                    self.after(NODE_MONITOR_GRACE, Timer::NodeLost { node: id, epoch });
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
        self.after(DEFAULT_TOLERATION, Timer::NodeEvict { node: id, epoch });
    }

    /// The pods' toleration of the unreachable taint ran out: evict them.
    pub(crate) fn node_evict(&mut self, id: ObjId, epoch: u32) {
        let Some(n) = self.store.nodes.get(id) else {
            return;
        };
        if n.epoch != epoch || n.ready {
            return;
        }
        let pods: Vec<ObjId> = n.pods.iter().copied().collect();
        for p in pods {
            if let Some(r) = self.pod_ref(p) {
                let msg = format!("Marking for deletion Pod {}/{}", r.namespace, r.name);
                self.store.event(NewEvent {
                    object: r,
                    warning: false,
                    reason: "TaintManagerEviction",
                    message: msg,
                    source: "taint-eviction-controller",
                    host: None,
                });
            }
            self.delete_pod(p, None);
        }
    }

    fn node_up(&mut self, id: ObjId) {
        let Some(n) = self.store.nodes.get_mut(id) else {
            return;
        };
        if n.kubelet_up && n.ready {
            return;
        }
        n.kubelet_up = true;
        n.epoch += 1;
        let was_ready = n.ready;
        n.ready = true;
        if !was_ready {
            n.ready_changed = self.store.now;
        }
        let pods: Vec<ObjId> = n.pods.iter().copied().collect();
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
        self.retry_unschedulable();
    }

    fn remove_node(&mut self, id: ObjId) {
        let Some(n) = self.store.nodes.get(id) else {
            return;
        };
        let name = n.name.clone();
        let pods: Vec<ObjId> = n.pods.iter().copied().collect();
        for p in pods {
            // The pod garbage collector force-deletes pods bound to a node that is gone.
            self.remove_pod(p);
        }
        self.store
            .touch(Kind::Node, id, &"".into(), &name, ChangeType::Deleted);
        self.store.nodes.remove(id, "", &name);
    }
}
