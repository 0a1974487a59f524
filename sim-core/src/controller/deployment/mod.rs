//! The deployment controller. Port of kubernetes `pkg/controller/deployment`:
//! `deployment_controller.go` (dispatch, here), `sync.go`, `rolling.go`, `recreate.go`,
//! `progress.go`, `rollback.go` and `util/deployment_util.go`, one file each.

pub mod progress;
pub mod recreate;
pub mod rollback;
pub mod rolling;
pub mod sync;
pub mod util;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use crate::api::selector::label_selector_matches;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, NewEvent, ObjId};

/// The working state of one sync: the Deployment as this sync sees it (kept in step with the
/// store after every write) and the ReplicaSets it owns.
pub(crate) struct SyncCtx {
    pub(crate) id: ObjId,
    pub(crate) d: Deployment,
    pub(crate) rs_list: Vec<ObjId>,
}

impl Sim {
    /// `syncDeployment`: one pass of the deployment controller over one Deployment.
    pub(crate) fn sync_deployment(&mut self, id: ObjId) {
        let Some((_, d)) = self.store.deployments.get(id) else {
            return;
        };
        let d = d.clone();
        let selector_empty = d
            .spec
            .as_ref()
            .map(|s| {
                s.selector
                    .match_labels
                    .as_ref()
                    .is_none_or(|m| m.is_empty())
                    && s.selector
                        .match_expressions
                        .as_ref()
                        .is_none_or(|m| m.is_empty())
            })
            .unwrap_or(true);
        if selector_empty {
            if let Some(r) = self.deployment_ref(id) {
                self.store.event(NewEvent {
                    object: r,
                    warning: true,
                    reason: "SelectingAll",
                    message:
                        "This deployment is selecting all pods. A non-empty selector is required."
                            .into(),
                    source: "deployment-controller",
                    host: None,
                });
            }
            return;
        }
        let rs_list = self.replica_sets_for_deployment(id, &d);
        let mut cx = SyncCtx { id, d, rs_list };
        if cx.d.metadata.deletion_timestamp.is_some() {
            self.sync_status_only(&mut cx);
            return;
        }
        self.check_paused_conditions(&mut cx);
        if cx.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
            self.sync_scale(&mut cx);
            return;
        }
        if self.is_scaling_event(&mut cx) {
            self.sync_scale(&mut cx);
            return;
        }
        if util::strategy_type(&cx.d) == "Recreate" {
            self.rollout_recreate(&mut cx);
        } else {
            self.rollout_rolling(&mut cx);
        }
    }

    /// `getReplicaSetsForDeployment`: the owned ReplicaSets, adopting matching orphans and
    /// releasing owned ones that stopped matching. Sorted by id (creation order).
    fn replica_sets_for_deployment(&mut self, id: ObjId, d: &Deployment) -> Vec<ObjId> {
        let Some(selector) = d.spec.as_ref().map(|s| s.selector.clone()) else {
            return Vec::new();
        };
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let mut owned: Vec<ObjId> = self
            .store
            .owners
            .dependents(id)
            .into_iter()
            .filter(|c| self.store.replicasets.get(*c).is_some())
            .collect();
        // Release owned ReplicaSets whose labels no longer match.
        owned.retain(|&rs| {
            let Some(e) = self.store.replicasets.get(rs) else {
                return false;
            };
            let labels = e.rs.metadata.labels.clone().unwrap_or_default();
            if label_selector_matches(&selector, &labels) {
                return true;
            }
            self.store.owners.unlink(id, rs);
            if let Some(e) = self.store.replicasets.get_mut(rs) {
                e.owner = None;
                e.rs.metadata.owner_references = None;
            }
            self.orphan_rss.insert(rs);
            false
        });
        // Adopt matching orphans.
        let orphans: Vec<ObjId> = self.orphan_rss.iter().copied().collect();
        for rs in orphans {
            let Some(e) = self.store.replicasets.get(rs) else {
                self.orphan_rss.remove(&rs);
                continue;
            };
            if e.rs.metadata.namespace.as_deref() != Some(ns.as_str())
                || e.rs.metadata.deletion_timestamp.is_some()
                || !label_selector_matches(
                    &selector,
                    e.rs.metadata.labels.as_ref().unwrap_or(&Default::default()),
                )
            {
                continue;
            }
            let uid = self.store.uid(id);
            let name = d.metadata.name.clone().unwrap_or_default();
            if let Some(e) = self.store.replicasets.get_mut(rs) {
                e.owner = Some(id);
                e.rs.metadata.owner_references =
                    Some(vec![controller_ref("Deployment", &name, uid)]);
            }
            self.store.owners.link(id, rs);
            self.orphan_rss.remove(&rs);
            self.write_rs(rs);
            owned.push(rs);
        }
        owned.sort_unstable();
        owned
    }

    /// Writes a ReplicaSet's current object back: new resourceVersion, change event, wake-ups.
    pub(crate) fn write_rs(&mut self, rs: ObjId) {
        let Some(e) = self.store.replicasets.get(rs) else {
            return;
        };
        let (ns, name) = (
            e.rs.metadata.namespace.as_deref().unwrap_or("").into(),
            e.rs.metadata.name.as_deref().unwrap_or("").into(),
        );
        let rv = self
            .store
            .touch(Kind::ReplicaSet, rs, &ns, &name, ChangeType::Modified);
        if let Some(e) = self.store.replicasets.get_mut(rs) {
            e.rs.metadata.resource_version = Some(rv.to_string());
        }
        self.rs_changed(rs);
    }

    /// Writes a Deployment's status (and annotations) from the sync's working copy.
    pub(crate) fn write_deployment_status(&mut self, cx: &SyncCtx) {
        let Some((_, stored)) = self.store.deployments.get_mut(cx.id) else {
            return;
        };
        stored.status = cx.d.status.clone();
        stored.metadata.annotations = cx.d.metadata.annotations.clone();
        let ns = stored.metadata.namespace.as_deref().unwrap_or("").into();
        let name = stored.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::Deployment, cx.id, &ns, &name, ChangeType::Modified);
        if let Some((_, stored)) = self.store.deployments.get_mut(cx.id) {
            stored.metadata.resource_version = Some(rv.to_string());
        }
        // The informer sees our own write and queues the Deployment again; that next, quiet
        // sync is the one that schedules the progress-deadline check.
        self.work.add(crate::controller::Work::Deployment(cx.id));
    }
}

/// A controller ownerReference to `kind/name`.
pub(crate) fn controller_ref(kind: &str, name: &str, uid: String) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid,
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

#[cfg(test)]
mod tests;
