//! The deployment controller. Port of kubernetes `pkg/controller/deployment`:
//! `deployment_controller.go` (dispatch, here), `sync.go`, `rolling.go`, `recreate.go`,
//! `progress.go`, `rollback.go` and `util/deployment_util.go`, one file each.

pub mod progress;
pub mod recreate;
pub mod rollback;
pub mod rolling;
pub mod sync;
pub mod util;

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use crate::api::selector::Selector;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, NewEvent, ObjId};

/// The working state of one sync: the Deployment's spec as the few numbers and flags the
/// controller reads (the spec does not change during a sync), and the ReplicaSets it owns.
///
/// The Deployment itself stays in the store and is read there: its status and annotations
/// are changed in place in the stored object and written with
/// [`Sim::write_deployment_status`], so a sync copies no Deployment.
pub(crate) struct SyncCtx {
    pub(crate) id: ObjId,
    pub(crate) rs_list: Vec<ObjId>,
    /// `metadata.generation`.
    pub(crate) generation: Option<i64>,
    /// `spec.replicas` (defaulted to 1).
    pub(crate) replicas: i32,
    /// `MaxSurge(d)`: 0 unless RollingUpdate.
    pub(crate) max_surge: i32,
    /// `MaxUnavailable(d)`: 0 unless RollingUpdate with replicas > 0.
    pub(crate) max_unavailable: i32,
    /// The strategy is RollingUpdate.
    pub(crate) rolling: bool,
    /// The strategy is Recreate (neither is possible: an unknown type rolls, but with no
    /// surge and no unavailability).
    pub(crate) recreate: bool,
    /// `spec.paused`.
    pub(crate) paused: bool,
    /// `spec.progressDeadlineSeconds`.
    pub(crate) progress_deadline: Option<i32>,
    /// `spec.minReadySeconds`.
    pub(crate) min_ready_seconds: Option<i32>,
    /// `spec.revisionHistoryLimit`.
    pub(crate) revision_history_limit: Option<i32>,
}

impl SyncCtx {
    /// The context of a sync of `d` (stored as `id`) over the ReplicaSets `rs_list`.
    pub(crate) fn new(id: ObjId, d: &Deployment, rs_list: Vec<ObjId>) -> SyncCtx {
        let spec = d.spec.as_ref();
        SyncCtx {
            id,
            rs_list,
            generation: d.metadata.generation,
            replicas: util::replicas(d),
            max_surge: util::max_surge(d),
            max_unavailable: util::max_unavailable(d),
            rolling: util::is_rolling(d),
            recreate: util::strategy_type(d) == "Recreate",
            paused: spec.and_then(|s| s.paused).unwrap_or(false),
            progress_deadline: spec.and_then(|s| s.progress_deadline_seconds),
            min_ready_seconds: spec.and_then(|s| s.min_ready_seconds),
            revision_history_limit: spec.and_then(|s| s.revision_history_limit),
        }
    }

    /// `HasProgressDeadline`.
    pub(crate) fn has_progress_deadline(&self) -> bool {
        self.progress_deadline.is_some_and(|s| s != i32::MAX)
    }

    /// `spec.progressDeadlineSeconds` as the messages and the deadline use it.
    pub(crate) fn deadline_secs(&self) -> i32 {
        self.progress_deadline.unwrap_or(600)
    }

    /// `DeploymentComplete`.
    pub(crate) fn complete(&self, status: &DeploymentStatus) -> bool {
        let r = self.replicas;
        status.updated_replicas.unwrap_or(0) == r
            && status.replicas.unwrap_or(0) == r
            && status.available_replicas.unwrap_or(0) == r
            && status.observed_generation.unwrap_or(0) >= self.generation.unwrap_or(0)
    }
}

/// What the controller keeps about one Deployment between syncs, so that a sync where
/// nothing about the Deployment's spec or its ReplicaSets' templates changed does not parse
/// the selector or compare whole templates again. Everything here is derived from the store
/// and checked against it before use; it never decides anything the store would not.
#[derive(Debug, Default)]
pub(crate) struct DeploymentMemory {
    /// `spec.selector` parsed, for `metadata.generation` (the API server bumps the
    /// generation on every spec change); `None` inside when it does not parse (it then
    /// selects nothing, as `label_selector_matches` says).
    selector: Option<(Option<i64>, Option<Selector>)>,
    /// The last `FindNewReplicaSet`.
    pub(crate) new_rs: Option<NewRsMemo>,
}

/// `FindNewReplicaSet`'s answer for one generation of the Deployment's template and one set
/// of ReplicaSets, each with the template it had (a ReplicaSet's template is an `Arc` that
/// the API server replaces only when the template changes, so the same `Arc` is the same
/// template).
#[derive(Debug)]
pub(crate) struct NewRsMemo {
    pub(crate) generation: Option<i64>,
    pub(crate) rs: Vec<(ObjId, Option<Arc<PodTemplateSpec>>)>,
    pub(crate) new: Option<ObjId>,
}

impl Sim {
    /// `syncDeployment`: one pass of the deployment controller over one Deployment.
    pub(crate) fn sync_deployment(&mut self, id: ObjId) {
        let Some((_, d)) = self.store.deployments.get(id) else {
            self.deployment_memory.remove(&id);
            return;
        };
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
        let deleting = d.metadata.deletion_timestamp.is_some();
        let mut cx = SyncCtx::new(id, d, Vec::new());
        cx.rs_list = self.replica_sets_for_deployment(&cx);
        if deleting {
            self.sync_status_only(&mut cx);
            return;
        }
        self.check_paused_conditions(&mut cx);
        if cx.paused {
            self.sync_scale(&mut cx);
            return;
        }
        if self.is_scaling_event(&mut cx) {
            self.sync_scale(&mut cx);
            return;
        }
        if cx.recreate {
            self.rollout_recreate(&mut cx);
        } else {
            self.rollout_rolling(&mut cx);
        }
    }

    /// The stored Deployment `id`.
    pub(crate) fn deployment(&self, id: ObjId) -> Option<&Deployment> {
        self.store.deployments.get(id).map(|(_, d)| d)
    }

    /// The stored status of Deployment `id` (`None` if it has none).
    pub(crate) fn deployment_status(&self, id: ObjId) -> Option<&DeploymentStatus> {
        self.deployment(id)?.status.as_ref()
    }

    /// The Deployment's parsed selector, parsed again only when its generation moved.
    fn deployment_selector(&mut self, cx: &SyncCtx) -> Option<&Selector> {
        let mem = self.deployment_memory.entry(cx.id).or_default();
        if mem
            .selector
            .as_ref()
            .is_none_or(|(g, _)| *g != cx.generation)
        {
            let parsed = self
                .store
                .deployments
                .get(cx.id)
                .and_then(|(_, d)| d.spec.as_ref())
                .and_then(|s| Selector::from_label_selector(&s.selector).ok());
            mem.selector = Some((cx.generation, parsed));
        }
        mem.selector.as_ref().and_then(|(_, s)| s.as_ref())
    }

    /// `getReplicaSetsForDeployment`: the owned ReplicaSets, adopting matching orphans and
    /// releasing owned ones that stopped matching. Sorted by id (creation order).
    fn replica_sets_for_deployment(&mut self, cx: &SyncCtx) -> Vec<ObjId> {
        let id = cx.id;
        if self.deployment(id).and_then(|d| d.spec.as_ref()).is_none() {
            return Vec::new();
        }
        // The selector lives in `deployment_memory`; take it out for the walk (the store is
        // changed on the way) and put it back after.
        self.deployment_selector(cx);
        let memo = self
            .deployment_memory
            .get_mut(&id)
            .and_then(|m| m.selector.take());
        let selector = memo.as_ref().and_then(|(_, s)| s.as_ref());
        let empty = BTreeMap::new();
        let matches = |labels: Option<&BTreeMap<String, String>>| {
            selector.is_some_and(|s| s.matches(labels.unwrap_or(&empty)))
        };
        let mut owned = self.store.owners.dependents(id);
        owned.retain(|c| self.store.replicasets.get(*c).is_some());
        // Release owned ReplicaSets whose labels no longer match.
        let released: Vec<ObjId> = owned
            .iter()
            .copied()
            .filter(|&rs| {
                self.store
                    .replicasets
                    .get(rs)
                    .is_some_and(|e| !matches(e.rs.metadata.labels.as_ref()))
            })
            .collect();
        if !released.is_empty() {
            owned.retain(|rs| !released.contains(rs));
            for rs in released {
                self.store.owners.unlink(id, rs);
                if let Some(e) = self.store.replicasets.get_mut(rs) {
                    e.owner = None;
                    e.rs.metadata.owner_references = None;
                }
                self.orphan_rss.insert(rs);
            }
        }
        // Adopt matching orphans.
        if !self.orphan_rss.is_empty() {
            let ns = self
                .deployment(id)
                .and_then(|d| d.metadata.namespace.clone())
                .unwrap_or_default();
            let orphans: Vec<ObjId> = self.orphan_rss.iter().copied().collect();
            for rs in orphans {
                let Some(e) = self.store.replicasets.get(rs) else {
                    self.orphan_rss.remove(&rs);
                    continue;
                };
                if e.rs.metadata.namespace.as_deref() != Some(ns.as_str())
                    || e.rs.metadata.deletion_timestamp.is_some()
                    || !matches(e.rs.metadata.labels.as_ref())
                {
                    continue;
                }
                let uid = self.store.uid(id);
                let name = self
                    .deployment(id)
                    .and_then(|d| d.metadata.name.clone())
                    .unwrap_or_default();
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
        }
        if let Some(m) = self.deployment_memory.get_mut(&id) {
            m.selector = memo;
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

    /// Writes a Deployment whose status (and annotations) the sync changed in the stored
    /// object: a new resourceVersion, the change, and the Deployment queued again.
    pub(crate) fn write_deployment_status(&mut self, cx: &SyncCtx) {
        let Some((_, stored)) = self.store.deployments.get(cx.id) else {
            return;
        };
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
