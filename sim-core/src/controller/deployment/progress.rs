//! Progress: the Progressing condition, the progress deadline and the paused conditions.
//! Port of `progress.go` and `checkPausedConditions` in `sync.go`.

use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus, ReplicaSetCondition};

use super::SyncCtx;
use super::sync::StatusCounts;
use super::util::{self, reason};
use crate::controller::Work;
use crate::sim::{Sim, Timer};
use crate::store::ObjId;
use crate::time::{SimDuration, SimTime};

impl Sim {
    /// `syncRolloutStatus`.
    pub(crate) fn sync_rollout_status(
        &mut self,
        cx: &mut SyncCtx,
        all: &[ObjId],
        new: Option<ObjId>,
    ) {
        let counts = self.status_counts(all, new);
        if self.rollout_status_unchanged(cx, all, new, &counts) {
            // The status would be built only to be found equal: the quiet sync after our
            // own write, or a ReplicaSet change that moved no count.
            #[cfg(test)]
            {
                let (status, newly_timed_out) = self.rollout_status(cx, all, new, &counts);
                assert!(!newly_timed_out);
                assert_eq!(self.deployment_status(cx.id), Some(&status));
            }
            let due = self
                .deployment_status(cx.id)
                .and_then(|status| self.stuck_deployment_due(cx, status));
            self.requeue_at(cx, due);
            return;
        }
        let (status, newly_timed_out) = self.rollout_status(cx, all, new, &counts);
        if newly_timed_out && let Some(dref) = self.deployment_ref(cx.id) {
            let deadline = cx.deadline_secs();
            self.store.decide(
                dref,
                format!("The rollout made no progress for {deadline} s, so it is marked as failed; nothing is rolled back, and it keeps trying."),
                format!("no progress for more than progressDeadlineSeconds {deadline}: Progressing=False ProgressDeadlineExceeded (nothing is rolled back; the rollout keeps trying)"),
            );
        }
        if self.deployment_status(cx.id) == Some(&status) {
            self.requeue_stuck_deployment(cx, &status);
            return;
        }
        if let Some((_, d)) = self.store.deployments.get_mut(cx.id) {
            d.status = Some(status);
        }
        self.write_deployment_status(cx);
    }

    /// The status `syncRolloutStatus` computes, and whether it newly marks the rollout as
    /// timed out.
    fn rollout_status(
        &self,
        cx: &SyncCtx,
        all: &[ObjId],
        new: Option<ObjId>,
        counts: &StatusCounts,
    ) -> (DeploymentStatus, bool) {
        let mut status = self.status_from_counts(cx, counts);
        let has_deadline = cx.has_progress_deadline();
        if !has_deadline {
            util::remove_condition(&mut status, "Progressing");
        }
        let default = DeploymentStatus::default();
        let prev = self.deployment_status(cx.id).unwrap_or(&default);
        let current = util::get_condition(prev, "Progressing");
        let complete_already = status.replicas == status.updated_replicas
            && current.is_some_and(|c| c.reason.as_deref() == Some(reason::NEW_RS_AVAILABLE));
        let now = self.store.time(self.store.now);
        let subject = || match new
            .and_then(|n| self.rs_obj(n))
            .and_then(|r| r.metadata.name.as_deref())
        {
            Some(n) => format!("ReplicaSet {n:?}"),
            None => {
                let d_name = self
                    .deployment(cx.id)
                    .and_then(|d| d.metadata.name.as_deref())
                    .unwrap_or_default();
                format!("Deployment {d_name:?}")
            }
        };
        let mut newly_timed_out = false;
        if has_deadline && !complete_already {
            if cx.complete(&status) {
                let c = util::new_condition(
                    "Progressing",
                    "True",
                    reason::NEW_RS_AVAILABLE,
                    format!("{} has successfully progressed.", subject()),
                    &now,
                );
                util::set_condition(&mut status, c);
            } else if util::deployment_progressing(prev, &status) {
                let mut c = util::new_condition(
                    "Progressing",
                    "True",
                    reason::RS_UPDATED,
                    format!("{} is progressing.", subject()),
                    &now,
                );
                if let Some(cur) = current {
                    if cur.status == "True" {
                        c.last_transition_time = cur.last_transition_time.clone();
                    }
                    util::remove_condition(&mut status, "Progressing");
                }
                util::set_condition(&mut status, c);
            } else if self.timed_out(cx, &status) {
                let c = util::new_condition(
                    "Progressing",
                    "False",
                    reason::TIMED_OUT,
                    format!("{} has timed out progressing.", subject()),
                    &now,
                );
                newly_timed_out = util::get_condition(&status, "Progressing")
                    .and_then(|c| c.reason.as_deref())
                    != Some(reason::TIMED_OUT);
                util::set_condition(&mut status, c);
            }
        }
        // Move failure conditions of the ReplicaSets into the Deployment's: the new one's
        // first, else the first old one's.
        match self.replica_failure(all, new) {
            Some(c) => util::set_condition(
                &mut status,
                DeploymentCondition {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                    last_update_time: c.last_transition_time.clone(),
                    last_transition_time: c.last_transition_time.clone(),
                },
            ),
            None => util::remove_condition(&mut status, "ReplicaFailure"),
        }
        if status.conditions.as_ref().is_some_and(|c| c.is_empty()) {
            status.conditions = None;
        }
        (status, newly_timed_out)
    }

    /// Whether [`Sim::rollout_status`] would give the stored status back unchanged, decided
    /// without building it: the same counts and Available condition
    /// ([`StatusCounts::unchanged`]), and every step on the Progressing and ReplicaFailure
    /// conditions one that `SetDeploymentCondition` / `RemoveDeploymentCondition` would leave
    /// alone. (With the same counts the rollout is not progressing: `DeploymentProgressing`
    /// compares the counts only.)
    fn rollout_status_unchanged(
        &self,
        cx: &SyncCtx,
        all: &[ObjId],
        new: Option<ObjId>,
        counts: &StatusCounts,
    ) -> bool {
        let Some(prev) = self.deployment_status(cx.id) else {
            return false;
        };
        if !counts.unchanged(cx, prev) {
            return false;
        }
        let is = |c: Option<&DeploymentCondition>, status: &str, why: &str| {
            c.is_some_and(|c| c.status == status && c.reason.as_deref() == Some(why))
        };
        let current = util::get_condition(prev, "Progressing");
        let has_deadline = cx.has_progress_deadline();
        if !has_deadline && current.is_some() {
            return false;
        }
        let complete_already = prev.replicas == prev.updated_replicas
            && current.is_some_and(|c| c.reason.as_deref() == Some(reason::NEW_RS_AVAILABLE));
        if has_deadline && !complete_already {
            if cx.complete(prev) {
                if !is(current, "True", reason::NEW_RS_AVAILABLE) {
                    return false;
                }
            } else if self.timed_out(cx, prev) && !is(current, "False", reason::TIMED_OUT) {
                return false;
            }
        }
        let failure = util::get_condition(prev, "ReplicaFailure");
        match self.replica_failure(all, new) {
            Some(c) => failure.is_some_and(|f| f.status == c.status && f.reason == c.reason),
            None => failure.is_none(),
        }
    }

    /// `getReplicaFailures` (its first condition), to go through
    /// `ReplicaSetToDeploymentCondition`: a ReplicaSet's `ReplicaFailure` (pods it cannot
    /// create), the new ReplicaSet's first.
    fn replica_failure(&self, all: &[ObjId], new: Option<ObjId>) -> Option<&ReplicaSetCondition> {
        new.into_iter()
            .chain(all.iter().copied())
            .filter_map(|id| self.rs_obj(id)?.status.as_ref()?.conditions.as_ref())
            .flatten()
            .find(|c| c.type_ == "ReplicaFailure")
    }

    /// `DeploymentTimedOut`.
    pub(super) fn timed_out(&self, cx: &SyncCtx, status: &DeploymentStatus) -> bool {
        if !cx.has_progress_deadline() {
            return false;
        }
        let Some(c) = util::get_condition(status, "Progressing") else {
            return false;
        };
        match c.reason.as_deref() {
            Some(reason::NEW_RS_AVAILABLE) => false,
            Some(reason::TIMED_OUT) => true,
            _ => {
                let Some(from) = c.last_update_time.as_ref().map(|t| self.sim_time_of(t)) else {
                    return false;
                };
                let deadline = cx.deadline_secs();
                from + SimDuration::from_secs(deadline as u64) < self.store.now
            }
        }
    }

    /// `requeueStuckDeployment`: look again just after the deadline would pass.
    pub(super) fn requeue_stuck_deployment(&mut self, cx: &SyncCtx, new_status: &DeploymentStatus) {
        let due = self.stuck_deployment_due(cx, new_status);
        self.requeue_at(cx, due);
    }

    /// When `requeueStuckDeployment` wants to look again: the stored Progressing condition's
    /// last update plus the deadline, unless there is no deadline, `new_status` is complete or
    /// the rollout already timed out.
    fn stuck_deployment_due(&self, cx: &SyncCtx, new_status: &DeploymentStatus) -> Option<SimTime> {
        let cur = util::get_condition(self.deployment_status(cx.id)?, "Progressing")?;
        if !cx.has_progress_deadline()
            || cx.complete(new_status)
            || cur.reason.as_deref() == Some(reason::TIMED_OUT)
        {
            return None;
        }
        let last = cur.last_update_time.as_ref().map(|t| self.sim_time_of(t))?;
        Some(last + SimDuration::from_secs(cx.deadline_secs() as u64))
    }

    /// Queues the Deployment again just after `due`.
    fn requeue_at(&mut self, cx: &SyncCtx, due: Option<SimTime>) {
        let Some(due) = due else {
            return;
        };
        let now = self.store.now;
        if due.millis() < now.millis() + 1000 {
            // Less than a second left: requeue at once (rate limited: 5 ms).
            self.after(SimDuration(5), Timer::Requeue(Work::Deployment(cx.id)));
        } else {
            self.at(
                due + SimDuration::from_secs(1),
                Timer::Requeue(Work::Deployment(cx.id)),
            );
        }
    }

    /// `checkPausedConditions`.
    pub(crate) fn check_paused_conditions(&mut self, cx: &mut SyncCtx) {
        if !cx.has_progress_deadline() {
            return;
        }
        let cur = self
            .deployment_status(cx.id)
            .and_then(|s| util::get_condition(s, "Progressing"));
        if cur.is_some_and(|c| c.reason.as_deref() == Some(reason::TIMED_OUT)) {
            return;
        }
        let paused_exists = cur.is_some_and(|c| c.reason.as_deref() == Some(reason::PAUSED));
        let paused = cx.paused;
        let now = self.store.time(self.store.now);
        let cond = if paused && !paused_exists {
            util::new_condition(
                "Progressing",
                "Unknown",
                reason::PAUSED,
                "Deployment is paused".into(),
                &now,
            )
        } else if !paused && paused_exists {
            util::new_condition(
                "Progressing",
                "Unknown",
                reason::RESUMED,
                "Deployment is resumed".into(),
                &now,
            )
        } else {
            return;
        };
        let Some((_, d)) = self.store.deployments.get_mut(cx.id) else {
            return;
        };
        util::set_condition(d.status.get_or_insert_with(Default::default), cond);
        self.write_deployment_status(cx);
    }

    /// The virtual instant of an API timestamp (timestamps have whole seconds).
    pub(crate) fn sim_time_of(
        &self,
        t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    ) -> SimTime {
        let ms = t.0.as_millisecond() - self.store.epoch_unix_ms;
        SimTime(ms.max(0) as u64)
    }
}
