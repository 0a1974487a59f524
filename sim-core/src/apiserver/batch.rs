//! Jobs and CronJobs in the store, as the `batch/v1` registry strategies write them: the
//! status dropped on create and kept on update, the generation moving with the spec (their
//! deletion, which cascades, is the garbage collector's: `controller/gc.rs`).

use std::sync::Arc;

use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job, JobStatus};

use crate::controller::Work;
use crate::controller::gc::Propagation;
use crate::sim::Sim;
use crate::store::{ChangeType, JobEntry, Kind, ObjId};

impl Sim {
    /// What a registry strategy's `PrepareForCreate` does before validation: a Job's
    /// generated selector, from the UID the Job will get.
    pub(crate) fn prepare_for_create(&self, obj: &mut crate::api::Object) {
        if let crate::api::Object::Job(job) = obj {
            let uid = self.store.uid(self.store.peek_next_id());
            crate::api::batch_defaults::generate_selector(job, &uid);
        }
    }

    /// Stores a new Job (its selector already generated) and queues its first sync. A
    /// controller reference to a CronJob of the namespace (by UID) makes it that CronJob's.
    pub(crate) fn create_job(&mut self, id: ObjId, mut job: Job) -> ObjId {
        let ns: Arc<str> = job
            .metadata
            .namespace
            .as_deref()
            .unwrap_or("default")
            .into();
        let name: Arc<str> = job.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::Job, id, &ns, &name, ChangeType::Added);
        job.metadata.uid = Some(self.store.uid(id));
        job.metadata.resource_version = Some(rv.to_string());
        job.metadata.generation = Some(1);
        job.status = Some(JobStatus::default());
        let owner = job
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true) && r.kind == "CronJob")
            .and_then(|r| {
                self.store.cronjobs.ids_in(&ns).into_iter().find(|c| {
                    self.store
                        .cronjobs
                        .get(*c)
                        .is_some_and(|(_, cj)| cj.metadata.uid.as_deref() == Some(&r.uid))
                })
            });
        let template = Arc::new(job.spec.clone().unwrap_or_default().template);
        self.store.jobs.insert(
            id,
            ns,
            name,
            JobEntry {
                id,
                job,
                template,
                owner,
            },
        );
        if let Some(cj) = owner {
            self.store.owners.link(cj, id);
            self.work.add(Work::CronJob(cj));
        }
        self.work.add(Work::Job(id));
        id
    }

    /// An update of a Job's spec, labels or annotations (validation refused the immutable
    /// fields' changes).
    pub(crate) fn update_job(&mut self, old: Job, new: Job) -> bool {
        let ns = old.metadata.namespace.clone().unwrap_or_default();
        let name = old.metadata.name.clone().unwrap_or_default();
        let Some(id) = self.store.jobs.lookup(&ns, &name) else {
            return false;
        };
        if old.spec == new.spec
            && old.metadata.labels == new.metadata.labels
            && old.metadata.annotations == new.metadata.annotations
        {
            return false;
        }
        let generation = old.metadata.generation.unwrap_or(1) + i64::from(old.spec != new.spec);
        let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
        let rv = self
            .store
            .touch(Kind::Job, id, &nsa, &na, ChangeType::Modified);
        if let Some(e) = self.store.jobs.get_mut(id) {
            e.job.spec = new.spec;
            e.job.metadata.labels = new.metadata.labels;
            e.job.metadata.annotations = new.metadata.annotations;
            e.job.metadata.generation = Some(generation);
            e.job.metadata.resource_version = Some(rv.to_string());
        }
        self.work.add(Work::Job(id));
        true
    }

    /// The Job controller's status write, skipped when equal; the owning CronJob is told.
    pub(crate) fn write_job_status(&mut self, id: ObjId, status: JobStatus) {
        let Some(e) = self.store.jobs.get(id) else {
            return;
        };
        if e.job.status.as_ref() == Some(&status) {
            return;
        }
        let ns: Arc<str> = e.job.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = e.job.metadata.name.as_deref().unwrap_or("").into();
        let owner = e.owner;
        let rv = self
            .store
            .touch(Kind::Job, id, &ns, &name, ChangeType::Modified);
        if let Some(e) = self.store.jobs.get_mut(id) {
            e.job.status = Some(status);
            e.job.metadata.resource_version = Some(rv.to_string());
        }
        if let Some(cj) = owner {
            self.work.add(Work::CronJob(cj));
        }
    }

    pub(crate) fn create_cronjob(&mut self, mut cj: CronJob) -> ObjId {
        let id = self.store.next_id();
        let ns: Arc<str> = cj.metadata.namespace.as_deref().unwrap_or("default").into();
        let name: Arc<str> = cj.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::CronJob, id, &ns, &name, ChangeType::Added);
        cj.metadata.uid = Some(self.store.uid(id));
        cj.metadata.resource_version = Some(rv.to_string());
        cj.metadata.generation = Some(1);
        cj.status = Some(CronJobStatus::default());
        self.store.cronjobs.insert(id, ns, name, (id, cj));
        self.work.add(Work::CronJob(id));
        id
    }

    pub(crate) fn update_cronjob(&mut self, old: CronJob, new: CronJob) -> bool {
        let ns = old.metadata.namespace.clone().unwrap_or_default();
        let name = old.metadata.name.clone().unwrap_or_default();
        let Some(id) = self.store.cronjobs.lookup(&ns, &name) else {
            return false;
        };
        if old.spec == new.spec
            && old.metadata.labels == new.metadata.labels
            && old.metadata.annotations == new.metadata.annotations
        {
            return false;
        }
        let generation = old.metadata.generation.unwrap_or(1) + i64::from(old.spec != new.spec);
        let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
        let rv = self
            .store
            .touch(Kind::CronJob, id, &nsa, &na, ChangeType::Modified);
        if let Some((_, c)) = self.store.cronjobs.get_mut(id) {
            c.spec = new.spec;
            c.metadata.labels = new.metadata.labels;
            c.metadata.annotations = new.metadata.annotations;
            c.metadata.generation = Some(generation);
            c.metadata.resource_version = Some(rv.to_string());
        }
        self.work.add(Work::CronJob(id));
        true
    }

    /// The CronJob controller's status write, skipped when equal.
    pub(crate) fn write_cronjob_status(&mut self, id: ObjId, status: CronJobStatus) {
        let Some((_, c)) = self.store.cronjobs.get(id) else {
            return;
        };
        if c.status.as_ref() == Some(&status) {
            return;
        }
        let ns: Arc<str> = c.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = c.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::CronJob, id, &ns, &name, ChangeType::Modified);
        if let Some((_, c)) = self.store.cronjobs.get_mut(id) {
            c.status = Some(status);
            c.metadata.resource_version = Some(rv.to_string());
        }
    }

    /// A namespace's deletion: its CronJobs, then its Jobs.
    pub(crate) fn delete_batch_in(&mut self, ns: &str) {
        for id in self.store.cronjobs.ids_in(ns) {
            self.delete_cronjob(id, Propagation::Background);
        }
        for id in self.store.jobs.ids_in(ns) {
            self.delete_job(id, Propagation::Background);
        }
    }
}
