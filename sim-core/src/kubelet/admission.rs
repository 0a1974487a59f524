//! A pod created with `spec.nodeName` set: the scheduler never sees it (no Scheduled event);
//! the node's kubelet admits it or rejects it. Port of the kubelet's predicate admission
//! (`pkg/kubelet/lifecycle/predicate.go`: `generalFilter` over `scheduler.AdmissionCheck`,
//! only the first failure reported, `OutOfcpu` for insufficient CPU) and `rejectPod` (phase
//! Failed, the reason, "Pod was rejected: " and the message, a Warning event).

use crate::controller::scheduler::RequiredNodeAffinity;
use crate::sim::Sim;
use crate::store::{NewEvent, ObjId};

/// Why the kubelet refuses a pod, as `predicateAdmitHandler.Admit` words it.
fn admission_failure(
    (pods, max_pods): (i64, i64),
    (cpu, used_cpu, alloc_cpu): (i64, i64, i64),
    (mem, used_mem, alloc_mem): (i64, i64, i64),
    affinity_ok: bool,
) -> Option<(&'static str, String)> {
    let insufficient = |name: &str, requested: i64, used: i64, capacity: i64| {
        format!(
            "Node didn't have enough resource: {name}, requested: {requested}, used: {used}, capacity: {capacity}"
        )
    };
    // noderesources.Fits: the pod count, then each requested resource.
    if pods + 1 > max_pods {
        return Some(("OutOfpods", insufficient("pods", 1, pods, max_pods)));
    }
    if cpu > 0 && used_cpu + cpu > alloc_cpu {
        return Some(("OutOfcpu", insufficient("cpu", cpu, used_cpu, alloc_cpu)));
    }
    if mem > 0 && used_mem + mem > alloc_mem {
        return Some((
            "OutOfmemory",
            insufficient("memory", mem, used_mem, alloc_mem),
        ));
    }
    if !affinity_ok {
        return Some((
            "NodeAffinity",
            "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"
                .into(),
        ));
    }
    None
}

impl Sim {
    /// The pod names its node: no scheduling. A node that does not exist leaves it Pending
    /// (no kubelet will ever look at it).
    pub(crate) fn place_on_named_node(&mut self, id: ObjId, node_name: &str) {
        let Some(node) = self.store.nodes.lookup("", node_name) else {
            return;
        };
        let (Some(p), Some(n)) = (self.store.pods.get(id), self.store.nodes.get(node)) else {
            return;
        };
        let (cpu, mem) = crate::controller::replicaset::pod_requests(p);
        let labels = n.node.metadata.labels.clone().unwrap_or_default();
        let affinity_ok =
            RequiredNodeAffinity::from_spec(p.template.spec.as_ref()).matches(&n.name, &labels);
        let failure = admission_failure(
            (n.active_pods(), n.max_pods),
            (cpu, n.used_cpu, n.alloc_cpu),
            (mem, n.used_mem, n.alloc_mem),
            affinity_ok,
        );
        let Some((reason, message)) = failure else {
            self.bind(id, node, cpu, mem, false);
            return;
        };
        let host = n.name.clone();
        if let Some(p) = self.store.pods.get_mut(id) {
            p.node = Some(node);
            p.rejected = Some((reason, message.clone().into_boxed_str()));
            p.recompute_phase();
        }
        if let Some(r) = self.pod_ref(id) {
            self.store.event(NewEvent {
                object: r,
                warning: true,
                reason,
                message,
                source: "kubelet",
                host: Some(host),
            });
        }
        self.write_pod(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // predicate_test.go's TestGeneralPredicates, as the kubelet reports them.
    #[test]
    fn the_first_failure_is_the_reason() {
        assert_eq!(
            admission_failure((0, 110), (100, 0, 1000), (0, 0, 1 << 30), true),
            None
        );
        let (reason, msg) =
            admission_failure((0, 110), (2000, 500, 2000), (0, 0, 1 << 30), true).unwrap();
        assert_eq!(reason, "OutOfcpu");
        assert_eq!(
            msg,
            "Node didn't have enough resource: cpu, requested: 2000, used: 500, capacity: 2000"
        );
        assert_eq!(
            admission_failure((110, 110), (2000, 500, 2000), (0, 0, 1), false)
                .unwrap()
                .0,
            "OutOfpods"
        );
        assert_eq!(
            admission_failure((0, 110), (0, 0, 1000), (20, 10, 20), true)
                .unwrap()
                .0,
            "OutOfmemory"
        );
        assert_eq!(
            admission_failure((0, 110), (0, 0, 1000), (0, 0, 20), false)
                .unwrap()
                .0,
            "NodeAffinity"
        );
    }
}
