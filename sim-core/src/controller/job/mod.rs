//! The Job controller: `syncJob` of `pkg/controller/job/job_controller.go` for NonIndexed
//! Jobs. Pods are counted once as they finish (what `uncountedTerminatedPods` and the
//! `batch.kubernetes.io/job-tracking` finalizer guarantee; kubesim keeps the counted set in
//! memory instead of a finalizer), replaced after the pod failure back-off, and the Job ends
//! with the interim condition (`SuccessCriteriaMet`, `FailureTarget`) first and the terminal
//! one (`Complete`, `Failed`) once no pod is terminating.
//!
//! Files: `manage.rs` (`manageJob`), `backoff.rs` (`backoff_utils.go`),
//! `pod_failure_policy.rs`, `ttl.rs` (the TTL-after-finished controller).

pub mod backoff;
pub mod manage;
pub mod pod_failure_policy;
mod ttl;

use std::collections::BTreeSet;

use k8s_openapi::api::batch::v1::{JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use self::backoff::BackoffRecord;
use self::manage::Plan;
use self::pod_failure_policy::Verdict;
use crate::sim::Sim;
use crate::store::pod::{CState, Phase};
use crate::store::{Kind, ObjId, ObjRef, PodState};
use crate::time::{SimDuration, SimTime};

/// What the controller remembers of a Job between syncs.
#[derive(Clone, Debug, Default)]
pub struct JobMemory {
    /// Pods already counted in `succeeded` or `failed` (or ignored by the failure policy).
    counted: BTreeSet<ObjId>,
    /// Pods the controller deleted itself (excess, suspension): not failures.
    own_deletions: BTreeSet<ObjId>,
    /// The pod failure back-off.
    backoff: BackoffRecord,
    /// When the terminal condition was set (the TTL counts from it).
    finished_at: Option<SimTime>,
}

/// A finished condition: type, reason, message.
type Finish = (&'static str, String, String);

/// Whether the Job has a `Complete` or `Failed` condition that is true (`IsJobFinished`).
pub fn finished_type(status: Option<&JobStatus>) -> Option<&'static str> {
    let conds = status.and_then(|s| s.conditions.as_ref())?;
    for c in conds {
        if c.status == "True" {
            match c.type_.as_str() {
                "Complete" => return Some("Complete"),
                "Failed" => return Some("Failed"),
                _ => {}
            }
        }
    }
    None
}

fn condition<'a>(status: &'a JobStatus, type_: &str) -> Option<&'a JobCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_ && c.status == "True")
}

/// When a pod finished: the latest container exit, else now.
fn finish_time(p: &PodState, now: SimTime) -> SimTime {
    p.containers
        .iter()
        .filter_map(|c| match &c.state {
            CState::Terminated(t) => Some(t.finished),
            _ => c.last.as_ref().map(|l| l.finished),
        })
        .max()
        .unwrap_or(now)
}

/// `pastBackoffLimitOnFailure`: with restartPolicy OnFailure the container restarts of the
/// running and pending pods count against `backoffLimit`.
fn past_backoff_limit_on_failure(restart_policy: &str, limit: i32, pods: &[&PodState]) -> bool {
    if restart_policy != "OnFailure" {
        return false;
    }
    let restarts: i64 = pods
        .iter()
        .filter(|p| matches!(p.phase, Phase::Running | Phase::Pending))
        .flat_map(|p| p.containers.iter())
        .map(|c| i64::from(c.restarts))
        .sum();
    if limit == 0 {
        restarts > 0
    } else {
        restarts >= i64::from(limit)
    }
}

impl Sim {
    fn job_ref(&self, id: ObjId) -> Option<ObjRef> {
        let e = self.store.jobs.get(id)?;
        Some(ObjRef {
            kind: Kind::Job,
            id,
            name: e.job.metadata.name.as_deref().unwrap_or("").into(),
            namespace: e.job.metadata.namespace.as_deref().unwrap_or("").into(),
        })
    }

    /// `syncJob`.
    pub(crate) fn sync_job(&mut self, id: ObjId) {
        let (Some(e), Some(jref)) = (self.store.jobs.get(id), self.job_ref(id)) else {
            self.job_memory.remove(&id);
            return;
        };
        let spec = e.job.spec.clone().unwrap_or_default();
        let mut status = e.job.status.clone().unwrap_or_default();
        let now = self.store.now;
        let now_t = self.store.time(now);
        if finished_type(Some(&status)).is_some() {
            self.ttl_after_finished(id);
            return;
        }
        let mut mem = self.job_memory.remove(&id).unwrap_or_default();
        let suspended = spec.suspend == Some(true);
        let restart_policy = spec
            .template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.clone())
            .unwrap_or_default();
        let backoff_limit = spec.backoff_limit.unwrap_or(6);
        if status.start_time.is_none() && !suspended {
            status.start_time = Some(now_t.clone());
        }

        // Count the pods that finished since the last sync.
        let pod_ids: Vec<ObjId> = self
            .store
            .owners
            .dependents(id)
            .into_iter()
            .filter(|p| self.store.pods.get(*p).is_some())
            .collect();
        let mut active: Vec<ObjId> = Vec::new();
        let mut terminating = 0;
        let mut ready = 0;
        let (mut new_succeeded, mut new_failed) = (Vec::new(), Vec::new());
        let mut fail_job: Option<String> = None;
        for &pid in &pod_ids {
            let Some(p) = self.store.pods.get(pid) else {
                continue;
            };
            let terminal = matches!(p.phase, Phase::Succeeded | Phase::Failed);
            match (terminal, p.deletion.is_some()) {
                (false, false) => {
                    active.push(pid);
                    ready += i32::from(p.ready);
                }
                (false, true) => terminating += 1,
                _ => {}
            }
            if mem.counted.contains(&pid) {
                continue;
            }
            if p.phase == Phase::Succeeded {
                new_succeeded.push(finish_time(p, now));
                mem.counted.insert(pid);
            } else if p.phase == Phase::Failed {
                let verdict = spec
                    .pod_failure_policy
                    .as_ref()
                    .map_or(Verdict::Count, |pol| {
                        pod_failure_policy::match_policy(pol, p)
                    });
                mem.counted.insert(pid);
                match verdict {
                    Verdict::Ignore => {}
                    Verdict::Count => new_failed.push(finish_time(p, now)),
                    Verdict::FailJob(msg) => {
                        new_failed.push(finish_time(p, now));
                        fail_job.get_or_insert(msg);
                    }
                }
            } else if p.deletion.is_some() && !mem.own_deletions.contains(&pid) {
                // `isPodFailed`: a pod deleted before it succeeded is a failure.
                new_failed.push(now);
                mem.counted.insert(pid);
            }
        }
        let succeeded = status.succeeded.unwrap_or(0) + new_succeeded.len() as i32;
        let mut failed = status.failed.unwrap_or(0) + new_failed.len() as i32;
        mem.backoff = mem.backoff.updated(new_succeeded, new_failed);

        // The finished condition: kept from an interim one, else the failure checks.
        let mut finish: Option<Finish> = None;
        if let Some(c) = condition(&status, "FailureTarget") {
            finish = Some((
                "Failed",
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
            ));
        } else if let Some(c) = condition(&status, "SuccessCriteriaMet") {
            finish = Some((
                "Complete",
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
            ));
        }
        if finish.is_none() {
            let pods: Vec<&PodState> = active
                .iter()
                .filter_map(|p| self.store.pods.get(*p))
                .collect();
            let started = status.start_time.as_ref().map(|t| self.sim_time_of(t));
            let deadline = spec
                .active_deadline_seconds
                .zip(started)
                .filter(|_| !suspended)
                .map(|(s, t)| t + SimDuration::from_secs(s.max(0) as u64));
            if let Some(msg) = fail_job {
                finish = Some(("FailureTarget", "PodFailurePolicy".into(), msg));
            } else if failed > backoff_limit
                || past_backoff_limit_on_failure(&restart_policy, backoff_limit, &pods)
            {
                finish = Some((
                    "FailureTarget",
                    "BackoffLimitExceeded".into(),
                    "Job has reached the specified backoff limit".into(),
                ));
            } else if deadline.is_some_and(|d| now >= d) {
                finish = Some((
                    "FailureTarget",
                    "DeadlineExceeded".into(),
                    "Job was active longer than specified deadline".into(),
                ));
            } else if let Some(d) = deadline {
                self.requeue_job_at(id, d);
            }
        }

        let failing = finish.as_ref().is_some_and(|f| f.0 != "Complete");
        if failing {
            // Remove active pods if the Job failed: each one a failure.
            for pid in std::mem::take(&mut active) {
                self.delete_job_pod(&jref, pid);
                mem.counted.insert(pid);
                failed += 1;
                terminating += 1;
            }
            ready = 0;
        } else if finish.is_none() {
            let n_active = active.len() as i32;
            let mut created = 0;
            if suspended {
                for pid in std::mem::take(&mut active) {
                    mem.own_deletions.insert(pid);
                    self.delete_job_pod(&jref, pid);
                    terminating += 1;
                }
                ready = 0;
            } else {
                let want = manage::want_active(
                    spec.completions,
                    spec.parallelism.unwrap_or(1),
                    n_active,
                    succeeded,
                );
                let replace_terminating = spec.pod_replacement_policy.as_deref() == Some("Failed");
                match manage::plan(
                    want,
                    n_active,
                    if replace_terminating { terminating } else { 0 },
                ) {
                    Plan::Keep => {}
                    Plan::Delete(n) => {
                        for pid in self.job_pods_for_removal(&active, n as usize) {
                            mem.own_deletions.insert(pid);
                            if self.store.pods.get(pid).is_some_and(|p| p.ready) {
                                ready -= 1;
                            }
                            self.delete_job_pod(&jref, pid);
                            active.retain(|a| *a != pid);
                            terminating += 1;
                        }
                    }
                    Plan::Create(n) => {
                        let wait = mem.backoff.remaining(now);
                        if wait.millis() > 0 {
                            self.requeue_job_at(id, now + wait);
                        } else {
                            created = self.create_job_pods(id, &jref, n);
                        }
                    }
                }
            }
            let n_active = active.len() as i32 + created;
            let complete = match spec.completions {
                None => succeeded > 0 && n_active == 0,
                Some(c) => succeeded >= c && n_active == 0,
            };
            if complete {
                finish = Some((
                    "SuccessCriteriaMet",
                    "CompletionsReached".into(),
                    "Reached expected number of succeeded pods".into(),
                ));
            } else if suspended {
                if ensure_condition(
                    &mut status,
                    "Suspended",
                    "True",
                    "JobSuspended",
                    "Job suspended",
                    &now_t,
                ) {
                    self.job_event(&jref, false, "Suspended", "Job suspended".into());
                }
            } else if ensure_condition(
                &mut status,
                "Suspended",
                "False",
                "JobResumed",
                "Job resumed",
                &now_t,
            ) {
                self.job_event(&jref, false, "Resumed", "Job resumed".into());
                status.start_time = Some(now_t.clone());
            }
        }

        // The interim condition, then the terminal one once nothing terminates.
        if let Some((ty, reason, message)) = finish {
            let (interim, terminal) = match ty {
                "FailureTarget" | "Failed" => ("FailureTarget", "Failed"),
                _ => ("SuccessCriteriaMet", "Complete"),
            };
            if condition(&status, interim).is_none() {
                push_condition(&mut status, interim, &reason, &message, &now_t);
            }
            if terminating == 0 {
                push_condition(&mut status, terminal, &reason, &message, &now_t);
                mem.finished_at = Some(now);
                if terminal == "Complete" {
                    status.completion_time = Some(now_t.clone());
                    self.job_event(&jref, false, "Completed", "Job completed".into());
                } else {
                    let reason: &'static str = match reason.as_str() {
                        "BackoffLimitExceeded" => "BackoffLimitExceeded",
                        "DeadlineExceeded" => "DeadlineExceeded",
                        "PodFailurePolicy" => "PodFailurePolicy",
                        _ => "Failed",
                    };
                    self.job_event(&jref, true, reason, message);
                }
            }
        }
        let n_active = self
            .store
            .owners
            .dependents(id)
            .into_iter()
            .filter(|p| self.store.pods.get(*p).is_some_and(PodState::is_active))
            .count() as i32;
        status.active = positive(n_active);
        status.succeeded = positive(succeeded);
        status.failed = positive(failed);
        status.ready = Some(ready.max(0));
        status.terminating = Some(terminating);
        status.uncounted_terminated_pods = Some(UncountedTerminatedPods::default());
        self.job_memory.insert(id, mem);
        self.write_job_status(id, status);
        if finished_type(self.store.jobs.get(id).and_then(|e| e.job.status.as_ref())).is_some() {
            self.ttl_after_finished(id);
        }
    }
}

/// `omitempty` counts: absent when zero.
fn positive(n: i32) -> Option<i32> {
    (n > 0).then_some(n)
}

fn push_condition(status: &mut JobStatus, type_: &str, reason: &str, message: &str, now: &Time) {
    status
        .conditions
        .get_or_insert_default()
        .push(JobCondition {
            type_: type_.into(),
            status: "True".into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_probe_time: Some(now.clone()),
            last_transition_time: Some(now.clone()),
        });
}

/// `ensureJobConditionStatus`: updates a condition of `type_` whose status differs, adds it
/// when absent and true. Returns whether anything changed.
fn ensure_condition(
    status: &mut JobStatus,
    type_: &str,
    want: &str,
    reason: &str,
    message: &str,
    now: &Time,
) -> bool {
    let conds = status.conditions.get_or_insert_default();
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == type_) {
        if c.status == want {
            return false;
        }
        c.status = want.into();
        c.reason = Some(reason.into());
        c.message = Some(message.into());
        c.last_probe_time = Some(now.clone());
        c.last_transition_time = Some(now.clone());
        return true;
    }
    if want == "True" {
        push_condition(status, type_, reason, message, now);
        return true;
    }
    if status.conditions.as_ref().is_some_and(Vec::is_empty) {
        status.conditions = None;
    }
    false
}
