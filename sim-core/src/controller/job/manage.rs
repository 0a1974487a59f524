//! `manageJob` for NonIndexed Jobs: how many pods should run, and the creates and deletes
//! that get there, in slow-start batches of at most 500 per sync, as the ReplicaSet
//! controller makes them (`pkg/controller/job/job_controller.go`).

use std::sync::Arc;

use crate::controller::Work;
use crate::sim::{Sim, Timer};
use crate::store::{NewEvent, ObjId, ObjRef, PodState};

/// `MaxPodCreateDeletePerSync`.
pub const MAX_POD_CREATE_DELETE_PER_SYNC: i32 = 500;

/// `manageJob`'s `wantActive`: parallelism, but never more than the completions still
/// missing; a work queue (no completions) keeps what runs once one pod succeeded.
pub fn want_active(completions: Option<i32>, parallelism: i32, active: i32, succeeded: i32) -> i32 {
    match completions {
        None if succeeded > 0 => active,
        None => parallelism,
        Some(c) => (c - succeeded).min(parallelism).max(0),
    }
}

/// What one `manageJob` pass should do: delete this many active pods, or create this many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to do.
    Keep,
    /// Delete this many active pods.
    Delete(i32),
    /// Create this many pods.
    Create(i32),
}

/// The pass for `active` pods when `want` should run and `terminating` are still going
/// (counted only when `podReplacementPolicy` is `Failed`), capped per sync.
pub fn plan(want: i32, active: i32, terminating: i32) -> Plan {
    if active > want {
        return Plan::Delete((active - want).min(MAX_POD_CREATE_DELETE_PER_SYNC));
    }
    let diff = want - terminating - active;
    if diff > 0 {
        Plan::Create(diff.min(MAX_POD_CREATE_DELETE_PER_SYNC))
    } else {
        Plan::Keep
    }
}

impl Sim {
    /// Creates `count` pods for Job `id` in slow-start batches (1, 2, 4, ...); a failed
    /// create ends the pass. Returns how many were created.
    pub(super) fn create_job_pods(&mut self, id: ObjId, jref: &ObjRef, count: i32) -> i32 {
        let mut created = 0;
        let mut batch = count.min(1);
        let mut remaining = count;
        while batch > 0 {
            for _ in 0..batch {
                if !self.create_job_pod(id, jref) {
                    return created;
                }
                created += 1;
            }
            remaining -= batch;
            batch = remaining.min(2 * batch);
        }
        created
    }

    fn create_job_pod(&mut self, id: ObjId, jref: &ObjRef) -> bool {
        let Some(e) = self.store.jobs.get(id) else {
            return false;
        };
        let template = e.template.clone();
        let ns: Arc<str> = jref.namespace.clone();
        // generateName: the Job's name and a dash, cut to 58 characters, then 5 random ones.
        let base: String = format!("{}-", jref.name).chars().take(58).collect();
        // The API server's admission, as for a ReplicaSet's pods: the sandbox's pod limit,
        // LimitRanger, ResourceQuota; a refusal is the FailedCreate event.
        let (template, charges) = match self.admit_template_pod(&ns, &base, &template) {
            Ok(ok) => ok,
            Err(err) => {
                self.job_event(jref, true, "FailedCreate", format!("Error creating: {err}"));
                return false;
            }
        };
        self.charge_quotas(charges);
        let name: Arc<str> = loop {
            let candidate = format!("{base}{}", self.rng.name_suffix());
            if self.store.pods.lookup(&ns, &candidate).is_none() {
                break candidate.into();
            }
        };
        let pod_id = self.store.next_id();
        let pod = PodState::new(pod_id, name.clone(), ns, template, Some(id), self.store.now);
        self.insert_pod(pod);
        self.store.owners.link(id, pod_id);
        self.job_event(
            jref,
            false,
            "SuccessfulCreate",
            format!("Created pod: {name}"),
        );
        true
    }

    /// Deletes a Job's pod (`deleteJobPods`), with the pod control's event.
    pub(super) fn delete_job_pod(&mut self, jref: &ObjRef, pod: ObjId) {
        let Some(name) = self.store.pods.get(pod).map(|p| p.name.clone()) else {
            return;
        };
        self.delete_pod(pod, None);
        self.job_event(
            jref,
            false,
            "SuccessfulDelete",
            format!("Deleted pod: {name}"),
        );
    }

    /// `activePodsForRemoval`: the `n` active pods to delete first, as the ReplicaSet
    /// controller ranks them (unscheduled, then pending, then not ready, then the newest).
    pub(super) fn job_pods_for_removal(&self, active: &[ObjId], n: usize) -> Vec<ObjId> {
        let mut ranked: Vec<&PodState> = active
            .iter()
            .filter_map(|p| self.store.pods.get(*p))
            .collect();
        ranked.sort_by_key(|p| {
            (
                p.node.is_some(),
                p.phase != crate::store::pod::Phase::Pending,
                p.ready,
                std::cmp::Reverse(p.created),
                p.id,
            )
        });
        ranked.into_iter().take(n).map(|p| p.id).collect()
    }

    /// Syncs Job `id` again at `at` (the back-off's end, the active deadline, the TTL).
    pub(super) fn requeue_job_at(&mut self, id: ObjId, at: crate::time::SimTime) {
        self.at(at, Timer::Requeue(Work::Job(id)));
    }

    pub(super) fn job_event(
        &mut self,
        jref: &ObjRef,
        warning: bool,
        reason: &'static str,
        message: String,
    ) {
        self.store.event(NewEvent {
            object: jref.clone(),
            warning,
            reason,
            message,
            source: "job-controller",
            host: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `TestControllerSyncJob`'s counting rows: (parallelism, completions, active,
    /// succeeded) → the pass.
    #[test]
    fn manage_job_counts_follow_the_sync_job_table() {
        // (name, parallelism, completions, active, succeeded, the pass)
        type Row = (&'static str, i32, Option<i32>, i32, i32, Plan);
        let cases: &[Row] = &[
            ("job start", 2, Some(5), 0, 0, Plan::Create(2)),
            ("WQ job start", 2, None, 0, 0, Plan::Create(2)),
            ("correct # of pods", 2, Some(5), 2, 0, Plan::Keep),
            ("too few active pods", 2, Some(5), 1, 1, Plan::Create(1)),
            ("too many active pods", 2, Some(5), 3, 0, Plan::Delete(1)),
            ("new failed pod", 2, Some(5), 1, 0, Plan::Create(1)),
            ("job finish", 2, Some(5), 0, 5, Plan::Keep),
            ("WQ job finishing", 2, None, 1, 1, Plan::Keep),
            ("WQ job all finished", 2, None, 0, 2, Plan::Keep),
            (
                "more active pods than parallelism",
                2,
                Some(5),
                10,
                0,
                Plan::Delete(8),
            ),
            (
                "more active pods than remaining completions",
                3,
                Some(4),
                3,
                2,
                Plan::Delete(1),
            ),
            ("status change", 2, Some(5), 2, 2, Plan::Keep),
            ("zero completions", 2, Some(0), 0, 0, Plan::Keep),
            ("limited pods", 1000, Some(2000), 0, 0, Plan::Create(500)),
        ];
        for &(name, parallelism, completions, active, succeeded, want) in cases {
            let w = want_active(completions, parallelism, active, succeeded);
            assert_eq!(plan(w, active, 0), want, "{name}");
        }
        // With podReplacementPolicy Failed, terminating pods are not replaced yet.
        assert_eq!(plan(2, 0, 2), Plan::Keep);
        assert_eq!(plan(2, 0, 1), Plan::Create(1));
    }
}
