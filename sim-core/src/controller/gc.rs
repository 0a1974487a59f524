//! The garbage collector: deleting an owner deletes its dependents (background propagation)
//! or leaves them ownerless (orphan): a Deployment's ReplicaSets and their pods, a CronJob's
//! Jobs, a Job's pods. Walks the owner graph, as
//! `pkg/controller/garbagecollector` does.

use std::sync::Arc;

use crate::controller::Work;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId};

/// How deletion treats dependents (`propagationPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete the owner now, its dependents right after (kubectl's default).
    #[default]
    Background,
    /// Wait for dependents first; kubesim deletes them in the same instant.
    Foreground,
    /// Keep dependents, without their ownerReference.
    Orphan,
}

impl Sim {
    /// Deletes a Deployment and, unless orphaning, its ReplicaSets and their pods.
    pub(crate) fn delete_deployment(&mut self, id: ObjId, propagation: Propagation) {
        let Some((_, d)) = self.store.deployments.get(id) else {
            return;
        };
        let (ns, name) = (
            d.metadata.namespace.as_deref().unwrap_or("").into(),
            d.metadata.name.as_deref().unwrap_or("").into(),
        );
        let dependents = self.store.owners.dependents(id);
        self.store
            .touch(Kind::Deployment, id, &ns, &name, ChangeType::Deleted);
        self.store.deployments.remove(id, &ns, &name);
        self.deployment_memory.remove(&id);
        self.store.owners.remove(id);
        for rs in dependents {
            match propagation {
                Propagation::Orphan => {
                    if let Some(e) = self.store.replicasets.get_mut(rs) {
                        e.owner = None;
                        e.rs.metadata.owner_references = None;
                    }
                    self.orphan_rss.insert(rs);
                    self.write_rs(rs);
                }
                _ => self.delete_rs_now(rs),
            }
        }
    }

    /// Deletes a ReplicaSet; its pods start graceful termination.
    pub(crate) fn delete_rs_now(&mut self, id: ObjId) {
        self.delete_rs(id, Propagation::Background);
    }

    /// Deletes a ReplicaSet with the given propagation.
    pub(crate) fn delete_rs(&mut self, id: ObjId, propagation: Propagation) {
        let Some(e) = self.store.replicasets.get(id) else {
            return;
        };
        let (ns, name) = (
            e.rs.metadata.namespace.as_deref().unwrap_or("").into(),
            e.rs.metadata.name.as_deref().unwrap_or("").into(),
        );
        let owner = e.owner;
        let pods = self.store.owners.dependents(id);
        self.store
            .touch(Kind::ReplicaSet, id, &ns, &name, ChangeType::Deleted);
        self.store.replicasets.remove(id, &ns, &name);
        self.store.forget_pod_counts(id);
        self.store.owners.remove(id);
        self.orphan_rss.remove(&id);
        if let Some(d) = owner {
            self.work.add(Work::Deployment(d));
        }
        for p in pods {
            match propagation {
                Propagation::Orphan => {
                    if let Some(pod) = self.store.pods.get_mut(p) {
                        pod.owner = None;
                    }
                    self.orphan_pods.insert(p);
                    self.write_pod(p);
                }
                _ => {
                    if let Some(pod) = self.store.pods.get_mut(p) {
                        pod.owner = None;
                    }
                    self.delete_pod(p, None);
                }
            }
        }
    }

    /// Deletes a Job; unless orphaning, its pods start graceful termination (the garbage
    /// collector's background cascade).
    pub(crate) fn delete_job(&mut self, id: ObjId, propagation: Propagation) {
        let Some(e) = self.store.jobs.get(id) else {
            return;
        };
        let ns: Arc<str> = e.job.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = e.job.metadata.name.as_deref().unwrap_or("").into();
        let owner = e.owner;
        let pods = self.store.owners.dependents(id);
        self.store
            .touch(Kind::Job, id, &ns, &name, ChangeType::Deleted);
        self.store.jobs.remove(id, &ns, &name);
        self.store.owners.remove(id);
        self.job_memory.remove(&id);
        if let Some(cj) = owner {
            self.work.add(Work::CronJob(cj));
        }
        for p in pods {
            if let Some(pod) = self.store.pods.get_mut(p) {
                pod.owner = None;
            }
            match propagation {
                Propagation::Orphan => {
                    self.orphan_pods.insert(p);
                    self.write_pod(p);
                }
                _ => self.delete_pod(p, None),
            }
        }
    }

    /// Deletes a CronJob; unless orphaning, its Jobs and their pods go too.
    pub(crate) fn delete_cronjob(&mut self, id: ObjId, propagation: Propagation) {
        let Some((_, c)) = self.store.cronjobs.get(id) else {
            return;
        };
        let ns: Arc<str> = c.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = c.metadata.name.as_deref().unwrap_or("").into();
        let jobs = self.store.owners.dependents(id);
        self.store
            .touch(Kind::CronJob, id, &ns, &name, ChangeType::Deleted);
        self.store.cronjobs.remove(id, &ns, &name);
        self.store.owners.remove(id);
        for j in jobs {
            match propagation {
                Propagation::Orphan => {
                    if let Some(e) = self.store.jobs.get_mut(j) {
                        e.owner = None;
                        e.job.metadata.owner_references = None;
                    }
                }
                _ => self.delete_job(j, propagation),
            }
        }
    }

    /// Removes a namespace once it is Terminating and holds no pods.
    pub(crate) fn maybe_finish_namespace(&mut self, ns: &str) {
        let Some(id) = self.store.namespaces.lookup("", ns) else {
            return;
        };
        let terminating = self
            .store
            .namespaces
            .get(id)
            .is_some_and(|n| n.metadata.deletion_timestamp.is_some());
        if terminating && self.store.pods.ids_in(ns).is_empty() {
            let name = ns.into();
            self.store
                .touch(Kind::Namespace, id, &"".into(), &name, ChangeType::Deleted);
            self.store.namespaces.remove(id, "", ns);
        }
    }
}
