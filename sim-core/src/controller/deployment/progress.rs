//! Progress: the Progressing condition, the progress deadline and the paused conditions.
//! Port of `progress.go` and `checkPausedConditions` in `sync.go`.

use super::SyncCtx;
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
        let mut status = self.calculate_status(cx, all, new);
        let has_deadline = util::has_progress_deadline(&cx.d);
        if !has_deadline {
            util::remove_condition(&mut status, "Progressing");
        }
        let prev = cx.d.status.clone().unwrap_or_default();
        let current = util::get_condition(&prev, "Progressing").cloned();
        let complete_already = status.replicas == status.updated_replicas
            && current
                .as_ref()
                .is_some_and(|c| c.reason.as_deref() == Some(reason::NEW_RS_AVAILABLE));
        let now = self.store.time(self.store.now);
        let d_name = cx.d.metadata.name.clone().unwrap_or_default();
        let rs_name = new
            .and_then(|n| self.rs_obj(n))
            .and_then(|r| r.metadata.name.clone());
        let subject = match &rs_name {
            Some(n) => format!("ReplicaSet {n:?}"),
            None => format!("Deployment {d_name:?}"),
        };
        if has_deadline && !complete_already {
            if util::deployment_complete(&cx.d, &status) {
                let c = util::new_condition(
                    "Progressing",
                    "True",
                    reason::NEW_RS_AVAILABLE,
                    format!("{subject} has successfully progressed."),
                    &now,
                );
                util::set_condition(&mut status, c);
            } else if util::deployment_progressing(&prev, &status) {
                let mut c = util::new_condition(
                    "Progressing",
                    "True",
                    reason::RS_UPDATED,
                    format!("{subject} is progressing."),
                    &now,
                );
                if let Some(cur) = &current {
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
                    format!("{subject} has timed out progressing."),
                    &now,
                );
                let newly = util::get_condition(&status, "Progressing")
                    .and_then(|c| c.reason.clone())
                    .as_deref()
                    != Some(reason::TIMED_OUT);
                util::set_condition(&mut status, c);
                if newly && let Some(dref) = self.deployment_ref(cx.id) {
                    let deadline =
                        cx.d.spec
                            .as_ref()
                            .and_then(|s| s.progress_deadline_seconds)
                            .unwrap_or(600);
                    self.store.decide(
                        dref,
                        format!("The rollout made no progress for {deadline} s, so it is marked as failed; nothing is rolled back, and it keeps trying."),
                        format!("no progress for more than progressDeadlineSeconds {deadline}: Progressing=False ProgressDeadlineExceeded (nothing is rolled back; the rollout keeps trying)"),
                    );
                }
            }
        }
        // Move failure conditions of the ReplicaSets into the Deployment's: the new one's
        // first, else the first old one's.
        match self.replica_failure(all, new) {
            Some(c) => util::set_condition(&mut status, c),
            None => util::remove_condition(&mut status, "ReplicaFailure"),
        }
        if status.conditions.as_ref().is_some_and(|c| c.is_empty()) {
            status.conditions = None;
        }
        if cx.d.status.as_ref() == Some(&status) {
            self.requeue_stuck_deployment(cx, &status);
            return;
        }
        cx.d.status = Some(status);
        self.write_deployment_status(cx);
    }

    /// `getReplicaFailures` (its first condition) with `ReplicaSetToDeploymentCondition`: a
    /// ReplicaSet's `ReplicaFailure` (pods it cannot create), the new ReplicaSet's first.
    fn replica_failure(
        &self,
        all: &[ObjId],
        new: Option<ObjId>,
    ) -> Option<k8s_openapi::api::apps::v1::DeploymentCondition> {
        new.into_iter()
            .chain(all.iter().copied())
            .filter_map(|id| self.rs_obj(id)?.status.as_ref()?.conditions.as_ref())
            .flatten()
            .find(|c| c.type_ == "ReplicaFailure")
            .map(|c| k8s_openapi::api::apps::v1::DeploymentCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_update_time: c.last_transition_time.clone(),
                last_transition_time: c.last_transition_time.clone(),
            })
    }

    /// `DeploymentTimedOut`.
    pub(super) fn timed_out(
        &self,
        cx: &SyncCtx,
        status: &k8s_openapi::api::apps::v1::DeploymentStatus,
    ) -> bool {
        if !util::has_progress_deadline(&cx.d) {
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
                let deadline =
                    cx.d.spec
                        .as_ref()
                        .and_then(|s| s.progress_deadline_seconds)
                        .unwrap_or(600);
                from + SimDuration::from_secs(deadline as u64) < self.store.now
            }
        }
    }

    /// `requeueStuckDeployment`: look again just after the deadline would pass.
    pub(super) fn requeue_stuck_deployment(
        &mut self,
        cx: &SyncCtx,
        new_status: &k8s_openapi::api::apps::v1::DeploymentStatus,
    ) {
        let prev = cx.d.status.clone().unwrap_or_default();
        let Some(cur) = util::get_condition(&prev, "Progressing") else {
            return;
        };
        if !util::has_progress_deadline(&cx.d)
            || util::deployment_complete(&cx.d, new_status)
            || cur.reason.as_deref() == Some(reason::TIMED_OUT)
        {
            return;
        }
        let Some(last) = cur.last_update_time.as_ref().map(|t| self.sim_time_of(t)) else {
            return;
        };
        let deadline =
            cx.d.spec
                .as_ref()
                .and_then(|s| s.progress_deadline_seconds)
                .unwrap_or(600) as u64;
        let due = last + SimDuration::from_secs(deadline);
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
        if !util::has_progress_deadline(&cx.d) {
            return;
        }
        let status = cx.d.status.get_or_insert_with(Default::default);
        let cur = util::get_condition(status, "Progressing");
        if cur.is_some_and(|c| c.reason.as_deref() == Some(reason::TIMED_OUT)) {
            return;
        }
        let paused_exists = cur.is_some_and(|c| c.reason.as_deref() == Some(reason::PAUSED));
        let paused = cx.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
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
        let status = cx.d.status.get_or_insert_with(Default::default);
        util::set_condition(status, cond);
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
