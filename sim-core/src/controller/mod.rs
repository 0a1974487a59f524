//! Controllers: the deployment and ReplicaSet controllers, the scheduler, the endpoints
//! controller, the garbage collector and the node lifecycle controller. Each one is a set of
//! functions over [`crate::Sim`], run from the work queue when an object it watches changes.

pub mod cronjob;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod gc;
pub mod ingress;
pub mod job;
pub mod node_lifecycle;
pub mod podautoscaler;
pub mod replicaset;
pub mod resourcequota;
pub mod root_ca;
pub mod scheduler;
pub mod taint;

use std::collections::{BTreeSet, VecDeque};

use crate::store::ObjId;

/// One unit of controller work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Work {
    /// Sync a Deployment.
    Deployment(ObjId),
    /// Sync a ReplicaSet.
    ReplicaSet(ObjId),
    /// Try to schedule a pod.
    Schedule(ObjId),
    /// Recompute a Service's endpoints.
    Endpoints(ObjId),
    /// Sync an Ingress's status (the ingress controller, `controller/ingress.rs`).
    Ingress(ObjId),
    /// Sync a HorizontalPodAutoscaler.
    Hpa(ObjId),
    /// Recompute a PodDisruptionBudget's status (`controller/disruption.rs`).
    Disruption(ObjId),
    /// Sync a Job (`controller/job/`).
    Job(ObjId),
    /// Sync a CronJob (`controller/cronjob/`).
    CronJob(ObjId),
    /// Recount a ResourceQuota's usage (`controller/resourcequota.rs`).
    ResourceQuota(ObjId),
}

/// A de-duplicating FIFO, like client-go's work queue: an item queued twice runs once.
#[derive(Debug, Default)]
pub struct WorkQueue {
    order: VecDeque<Work>,
    queued: BTreeSet<Work>,
}

impl WorkQueue {
    /// Queues `w` unless it is already waiting.
    pub fn add(&mut self, w: Work) {
        if self.queued.insert(w) {
            self.order.push_back(w);
        }
    }

    /// Takes the next item.
    pub fn pop(&mut self) -> Option<Work> {
        let w = self.order.pop_front()?;
        self.queued.remove(&w);
        Some(w)
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
