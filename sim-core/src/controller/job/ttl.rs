//! The TTL-after-finished controller (`pkg/controller/ttlafterfinished`): a finished Job with
//! `ttlSecondsAfterFinished` is deleted that long after it finished, its pods with it
//! (foreground propagation, which kubesim completes in the same instant).

use crate::controller::gc::Propagation;
use crate::sim::Sim;
use crate::store::ObjId;
use crate::time::SimDuration;

impl Sim {
    /// `processJob`: delete the Job when its TTL has run out, else look again then.
    pub(super) fn ttl_after_finished(&mut self, id: ObjId) {
        let Some(e) = self.store.jobs.get(id) else {
            return;
        };
        let Some(ttl) = e
            .job
            .spec
            .as_ref()
            .and_then(|s| s.ttl_seconds_after_finished)
        else {
            return;
        };
        // The finish time: completionTime, else the terminal condition's transition.
        let finished = e
            .job
            .status
            .as_ref()
            .and_then(|s| {
                s.completion_time.clone().or_else(|| {
                    s.conditions
                        .iter()
                        .flatten()
                        .find(|c| c.type_ == "Failed" && c.status == "True")
                        .and_then(|c| c.last_transition_time.clone())
                })
            })
            .map(|t| self.sim_time_of(&t));
        let finished = self
            .job_memory
            .get(&id)
            .and_then(|m| m.finished_at)
            .or(finished)
            .unwrap_or(self.store.now);
        let expire = finished + SimDuration::from_secs(ttl.max(0) as u64);
        if self.store.now >= expire {
            self.delete_job(id, Propagation::Foreground);
        } else {
            self.requeue_job_at(id, expire);
        }
    }
}
