//! RollingUpdate: grow the new ReplicaSet within maxSurge, shrink old ones within
//! maxUnavailable. Port of `rolling.go`.

use super::SyncCtx;
use super::util;
use crate::sim::Sim;
use crate::store::ObjId;

impl Sim {
    /// `rolloutRolling`: at most one kind of scaling per sync, then status.
    pub(crate) fn rollout_rolling(&mut self, cx: &mut SyncCtx) {
        let (new, old) = self.get_all_rs_and_sync_revision(cx, true);
        let mut all = old.clone();
        all.extend(new);
        let Some(new) = new else {
            self.sync_rollout_status(cx, &all, None);
            return;
        };
        if self.reconcile_new_replica_set(cx, &all, new) {
            self.sync_rollout_status(cx, &all, Some(new));
            return;
        }
        let active_old: Vec<ObjId> = old
            .iter()
            .copied()
            .filter(|&id| self.rs_obj(id).is_some_and(|r| util::rs_replicas(r) > 0))
            .collect();
        if self.reconcile_old_replica_sets(cx, &all, active_old, new) {
            self.sync_rollout_status(cx, &all, Some(new));
            return;
        }
        if self.deployment_complete(cx) {
            self.cleanup_deployment(cx, &old);
        }
        self.sync_rollout_status(cx, &all, Some(new));
    }

    /// `reconcileNewReplicaSet`.
    pub(super) fn reconcile_new_replica_set(
        &mut self,
        cx: &SyncCtx,
        all: &[ObjId],
        new: ObjId,
    ) -> bool {
        let replicas = cx.replicas;
        let new_spec = self.rs_obj(new).map_or(0, util::rs_replicas);
        if new_spec == replicas {
            return false;
        }
        if new_spec > replicas {
            let why = format!("the new ReplicaSet has more than replicas {replicas}");
            return self.scale_rs_and_record(
                cx,
                new,
                replicas,
                &why,
                &format!("the new ReplicaSet had more than the {replicas} replicas wanted"),
            );
        }
        let total: i32 = all
            .iter()
            .filter_map(|&id| self.rs_obj(id))
            .map(util::rs_replicas)
            .sum();
        let count = cx.new_rs_new_replicas(total, new_spec);
        if count == new_spec {
            // Nothing to scale (maxSurge reached): `scaleReplicaSetAndRecordEvent` would
            // return at once, so its explanation is not written.
            return false;
        }
        let surge = cx.max_surge;
        let why = format!(
            "maxSurge {surge}: at most {} pods in total, {total} now, so +min({} − {total}, {replicas} − {new_spec}) = {}",
            replicas + surge,
            replicas + surge,
            count - new_spec
        );
        let said = format!(
            "up to {} pods may exist (maxSurge {surge}), {total} do",
            replicas + surge
        );
        self.scale_rs_and_record(cx, new, count, &why, &said)
    }

    /// `reconcileOldReplicaSets`.
    pub(super) fn reconcile_old_replica_sets(
        &mut self,
        cx: &SyncCtx,
        all: &[ObjId],
        mut old: Vec<ObjId>,
        new: ObjId,
    ) -> bool {
        let spec = |s: &Sim, id: ObjId| s.rs_obj(id).map_or(0, util::rs_replicas);
        let old_pods: i32 = old.iter().map(|&id| spec(self, id)).sum();
        if old_pods == 0 {
            return false;
        }
        let all_pods: i32 = all.iter().map(|&id| spec(self, id)).sum();
        let max_unavailable = cx.max_unavailable;
        let min_available = cx.replicas - max_unavailable;
        let new_rs = self.rs_obj(new);
        let new_unavailable = new_rs.map_or(0, |r| util::rs_replicas(r) - util::rs_status(r).2);
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        // Kubernetes returns the error and the sync stops here (it is retried later).
        let Ok(cleaned) = self.cleanup_unhealthy_replicas(cx, &mut old, max_scaled_down) else {
            return false;
        };
        let mut all2 = old.clone();
        all2.push(new);
        let scaled = self.scale_down_old_for_rolling_update(
            cx,
            &all2,
            &old,
            &format!(
                "maxScaledDown = {all_pods} total − {min_available} min available − {new_unavailable} new unavailable = {max_scaled_down}"
            ),
        );
        cleaned + scaled > 0
    }

    /// `cleanupUnhealthyReplicas`: drop old replicas that are not available anyway, oldest
    /// ReplicaSet first, within `max_cleanup`. When status lags a scale-down (available >
    /// spec) the step would grow the ReplicaSet; Kubernetes refuses it with an error and
    /// scales nothing further, and so do we.
    pub(super) fn cleanup_unhealthy_replicas(
        &mut self,
        cx: &SyncCtx,
        old: &mut [ObjId],
        max_cleanup: i32,
    ) -> Result<i32, i32> {
        self.sort_by_creation(old);
        let mut total = 0;
        for &id in old.iter() {
            if total >= max_cleanup {
                break;
            }
            let Some(rs) = self.rs_obj(id) else { continue };
            let spec = util::rs_replicas(rs);
            let available = util::rs_status(rs).2;
            if spec == 0 || spec == available {
                continue;
            }
            let n = (max_cleanup - total).min(spec - available);
            if n < 0 {
                // "when cleaning up unhealthy replicas, got invalid request to scale down".
                return Err(total);
            }
            let why = format!(
                "{} of its {spec} pods are unavailable; removing them costs no availability (budget {max_cleanup})",
                spec - available
            );
            self.scale_rs_and_record(
                cx,
                id,
                spec - n,
                &why,
                "they were not available anyway, so removing them costs no capacity",
            );
            total += n;
        }
        Ok(total)
    }

    /// `scaleDownOldReplicaSetsForRollingUpdate`: remove as many old replicas as keeps
    /// `available ≥ replicas − maxUnavailable`.
    pub(super) fn scale_down_old_for_rolling_update(
        &mut self,
        cx: &SyncCtx,
        all: &[ObjId],
        old: &[ObjId],
        context: &str,
    ) -> i32 {
        let max_unavailable = cx.max_unavailable;
        let replicas = cx.replicas;
        let min_available = replicas - max_unavailable;
        let available: i32 = all
            .iter()
            .filter_map(|&id| self.rs_obj(id))
            .map(|r| util::rs_status(r).2)
            .sum();
        if available <= min_available {
            return 0;
        }
        let mut sorted = old.to_vec();
        self.sort_by_creation(&mut sorted);
        let budget = available - min_available;
        let mut total = 0;
        for id in sorted {
            if total >= budget {
                break;
            }
            let spec = self.rs_obj(id).map_or(0, util::rs_replicas);
            if spec == 0 {
                continue;
            }
            let n = spec.min(budget - total);
            let why = format!(
                "{available} available − ({replicas} replicas − maxUnavailable {max_unavailable}) = {budget} may go ({context})"
            );
            let said = format!(
                "at least {min_available} pods must stay available (maxUnavailable {max_unavailable}), {available} are"
            );
            self.scale_rs_and_record(cx, id, spec - n, &why, &said);
            total += n;
        }
        total
    }
}
