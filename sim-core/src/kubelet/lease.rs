//! Node leases (`coordination.k8s.io/v1`, namespace `kube-node-lease`): each kubelet holds one
//! Lease named after its node and renews it every 10 s (`nodeLeaseRenewIntervalFraction` 0.25
//! of `nodeLeaseDurationSeconds` 40), and stops while the node is down. Port of the kubelet's
//! `pkg/kubelet/nodelease` as it shows through the API.
//!
//! Nothing is stored or scheduled per renewal: a Lease is derived when read from when the
//! node's kubelet last started and, while it is down, when it stopped, so 5,000 nodes cost
//! nothing per virtual second and a run stays deterministic.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};

use crate::sim::Sim;
use crate::store::{NodeState, ObjId};
use crate::time::{SimDuration, SimTime};

/// `v1.NamespaceNodeLease`.
pub const NAMESPACE: &str = "kube-node-lease";
/// The kubelet's `nodeLeaseDurationSeconds`.
pub const LEASE_DURATION_SECONDS: i32 = 40;
/// How often the kubelet renews (a quarter of the lease duration).
pub const RENEW_INTERVAL: SimDuration = SimDuration::from_secs(10);
/// Lease ids (for UIDs) sit beside their node's, outside the ids the store hands out.
const LEASE_ID_BIT: ObjId = 1 << 49;

/// The last renewal: the kubelet creates its lease when it starts and renews it every 10 s
/// until it stops.
pub fn renew_time(started: SimTime, stopped: Option<SimTime>, now: SimTime) -> SimTime {
    let end = stopped.unwrap_or(now).millis().max(started.millis());
    let period = RENEW_INTERVAL.millis();
    SimTime(started.millis() + (end - started.millis()) / period * period)
}

impl Sim {
    fn lease_of(&self, n: &NodeState) -> Lease {
        let renewed = renew_time(n.kubelet_started, n.kubelet_stopped, self.store.now);
        let micro = |t: SimTime| {
            let ms = self.store.epoch_unix_ms + t.millis() as i64;
            MicroTime(
                k8s_openapi::jiff::Timestamp::from_millisecond(ms)
                    .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
            )
        };
        Lease {
            metadata: ObjectMeta {
                name: Some(n.name.to_string()),
                namespace: Some(NAMESPACE.into()),
                uid: Some(self.store.uid(n.id | LEASE_ID_BIT)),
                resource_version: n.node.metadata.resource_version.clone(),
                creation_timestamp: n.node.metadata.creation_timestamp.clone(),
                owner_references: Some(vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "Node".into(),
                    name: n.name.to_string(),
                    uid: self.store.uid(n.id),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(n.name.to_string()),
                lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
                renew_time: Some(micro(renewed)),
                ..Default::default()
            }),
        }
    }

    /// The node's Lease as the API serves it.
    pub fn node_lease(&self, node: ObjId) -> Option<Lease> {
        self.store.nodes.get(node).map(|n| self.lease_of(n))
    }

    /// The Leases of `namespace` (only `kube-node-lease` has any), by name.
    pub fn leases_in(&self, namespace: Option<&str>) -> Vec<Lease> {
        if namespace.is_some_and(|ns| ns != NAMESPACE) {
            return Vec::new();
        }
        self.store
            .nodes
            .all_names()
            .filter_map(|(_, _, id)| self.store.nodes.get(id))
            .map(|n| self.lease_of(n))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewals_every_ten_seconds_stop_with_the_kubelet() {
        let s = |secs: u64| SimTime(secs * 1000);
        assert_eq!(renew_time(s(0), None, s(0)), s(0));
        assert_eq!(renew_time(s(0), None, s(9)), s(0));
        assert_eq!(renew_time(s(0), None, s(25)), s(20));
        assert_eq!(renew_time(s(3), None, s(25)), s(23));
        // Down at 47 s: the 40 s renewal was the last.
        assert_eq!(renew_time(s(0), Some(s(47)), s(500)), s(40));
    }
}
