//! Recreate: scale every old ReplicaSet to zero, wait until no old pod is left, then create
//! the new ReplicaSet at full size. Port of `recreate.go`.

use super::SyncCtx;
use super::util;
use crate::sim::Sim;
use crate::store::ObjId;
use crate::store::pod::Phase;

impl Sim {
    /// `rolloutRecreate`.
    pub(crate) fn rollout_recreate(&mut self, cx: &mut SyncCtx) {
        let (new, old) = self.get_all_rs_and_sync_revision(cx, false);
        let mut all = old.clone();
        all.extend(new);
        let active_old: Vec<ObjId> = old
            .iter()
            .copied()
            .filter(|&id| self.rs_obj(id).is_some_and(|r| util::rs_replicas(r) > 0))
            .collect();
        let mut scaled = false;
        for id in active_old {
            if self.scale_rs_and_record(
                cx,
                id,
                0,
                "Recreate stops every old pod before starting new ones",
                "Recreate stops every old pod before it starts a new one (downtime)",
            ) {
                scaled = true;
            }
        }
        if scaled {
            self.sync_rollout_status(cx, &all, new);
            return;
        }
        if self.old_pods_running(new, &old) {
            self.sync_rollout_status(cx, &all, new);
            return;
        }
        let (new, old) = match new {
            Some(n) => (Some(n), old),
            None => self.get_all_rs_and_sync_revision(cx, true),
        };
        let mut all = old.clone();
        all.extend(new);
        if let Some(n) = new {
            let replicas = cx.replicas;
            self.scale_rs_and_record(
                cx,
                n,
                replicas,
                "Recreate: every old pod is gone, start all new pods at once",
                "every old pod is gone, so Recreate starts all the new ones at once",
            );
        }
        if self.deployment_complete(cx) {
            self.cleanup_deployment(cx, &old);
        }
        self.sync_rollout_status(cx, &all, new);
    }

    /// `oldPodsRunning`: any old ReplicaSet still counts pods, or any pod object of an old
    /// ReplicaSet (terminating ones included) is not Failed or Succeeded.
    pub(super) fn old_pods_running(&self, new: Option<ObjId>, old: &[ObjId]) -> bool {
        if old
            .iter()
            .filter_map(|&id| self.rs_obj(id))
            .map(|r| util::rs_status(r).0)
            .sum::<i32>()
            > 0
        {
            return true;
        }
        old.iter().filter(|&&id| Some(id) != new).any(|&rs| {
            self.store.owners.dependents(rs).into_iter().any(|p| {
                self.store
                    .pods
                    .get(p)
                    .is_some_and(|p| !matches!(p.phase, Phase::Failed | Phase::Succeeded))
            })
        })
    }
}
