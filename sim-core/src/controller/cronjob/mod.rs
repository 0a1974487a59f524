//! The CronJob controller: `syncCronJob` and `cleanupFinishedJobs` of
//! `pkg/controller/cronjob/cronjob_controllerv2.go`. A CronJob is synced when it or one of
//! its Jobs changes, and at its next schedule time (a timer; no per-second ticking).
//!
//! Files: `schedule.rs` (robfig/cron's parser and `Next`), `utils.rs` (`utils.go`).

pub mod schedule;
pub mod utils;

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job, JobTemplateSpec};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use self::utils::Times;
use crate::api::Object;
use crate::controller::Work;
use crate::controller::gc::Propagation;
use crate::controller::job::finished_type;
use crate::sim::{Sim, Timer};
use crate::store::{Kind, NewEvent, ObjId, ObjRef};
use crate::time::{SimDuration, SimTime};

/// `batch.kubernetes.io/cronjob-scheduled-timestamp`.
pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

impl Sim {
    fn unix_ms(&self, t: SimTime) -> i64 {
        self.store.epoch_unix_ms + t.millis() as i64
    }

    fn cronjob_event(
        &mut self,
        cref: &ObjRef,
        warning: bool,
        reason: &'static str,
        message: String,
    ) {
        self.store.event(NewEvent {
            object: cref.clone(),
            warning,
            reason,
            message,
            source: "cronjob-controller",
            host: None,
        });
    }

    /// `sync`: reconcile the active list, maybe start a Job, clean up history, write the
    /// status, and look again at the next schedule time.
    pub(crate) fn sync_cronjob(&mut self, id: ObjId) {
        let Some((_, cj)) = self.store.cronjobs.get(id) else {
            return;
        };
        let cj = cj.clone();
        let cref = ObjRef {
            kind: Kind::CronJob,
            id,
            name: cj.metadata.name.as_deref().unwrap_or("").into(),
            namespace: cj.metadata.namespace.as_deref().unwrap_or("").into(),
        };
        let spec = cj.spec.clone().unwrap_or_default();
        let mut status = cj.status.clone().unwrap_or_default();
        let jobs: Vec<(ObjId, Job)> = self
            .store
            .owners
            .dependents(id)
            .into_iter()
            .filter_map(|j| self.store.jobs.get(j).map(|e| (j, e.job.clone())))
            .collect();

        // The active list against the Jobs that exist.
        let active_uids = |s: &CronJobStatus| -> Vec<String> {
            s.active
                .iter()
                .flatten()
                .filter_map(|r| r.uid.clone())
                .collect()
        };
        for (_, j) in &jobs {
            let uid = j.metadata.uid.clone().unwrap_or_default();
            let name = j.metadata.name.clone().unwrap_or_default();
            let found = active_uids(&status).contains(&uid);
            let finished = finished_type(j.status.as_ref());
            match (found, finished) {
                (false, None) => self.cronjob_event(
                    &cref,
                    true,
                    "UnexpectedJob",
                    format!("Saw a job that the controller did not create or forgot: {name}"),
                ),
                (true, Some(cond)) => {
                    delete_from_active(&mut status, &uid);
                    self.cronjob_event(
                        &cref,
                        false,
                        "SawCompletedJob",
                        format!("Saw completed job: {name}, condition: {cond}"),
                    );
                }
                _ => {}
            }
            if finished == Some("Complete")
                && let Some(done) = j.status.as_ref().and_then(|s| s.completion_time.clone())
                && status
                    .last_successful_time
                    .as_ref()
                    .is_none_or(|last| done.0 > last.0)
            {
                status.last_successful_time = Some(done);
            }
        }
        let children: Vec<String> = jobs
            .iter()
            .filter_map(|(_, j)| j.metadata.uid.clone())
            .collect();
        for r in status.active.clone().unwrap_or_default() {
            let uid = r.uid.clone().unwrap_or_default();
            if !children.contains(&uid) {
                self.cronjob_event(
                    &cref,
                    false,
                    "MissingJob",
                    format!("Active job went missing: {}", r.name.unwrap_or_default()),
                );
                delete_from_active(&mut status, &uid);
            }
        }

        let requeue = self.sync_cronjob_schedule(id, &cj, &cref, &mut status, &jobs);
        self.cleanup_finished_jobs(&cref, &spec, &mut status, &jobs);
        if status.active.as_ref().is_some_and(Vec::is_empty) {
            status.active = None;
        }
        self.write_cronjob_status(id, status);
        if let Some(after) = requeue {
            self.at(self.store.now + after, Timer::Requeue(Work::CronJob(id)));
        }
    }

    /// The schedule half of `syncCronJob`: returns when to look again.
    fn sync_cronjob_schedule(
        &mut self,
        id: ObjId,
        cj: &CronJob,
        cref: &ObjRef,
        status: &mut CronJobStatus,
        jobs: &[(ObjId, Job)],
    ) -> Option<SimDuration> {
        let spec = cj.spec.clone().unwrap_or_default();
        if let Some(tz) = spec.time_zone.as_deref()
            && let Err(err) = schedule::location(tz)
        {
            self.cronjob_event(
                cref,
                true,
                "UnknownTimeZone",
                format!("invalid timeZone: {tz:?}: {err}"),
            );
            return None;
        }
        if spec.suspend == Some(true) {
            return None;
        }
        // `formatSchedule`: the time zone as a TZ= prefix.
        let text = match spec.time_zone.as_deref() {
            Some(tz) if !spec.schedule.contains("TZ") => format!("TZ={tz} {}", spec.schedule),
            _ => spec.schedule.clone(),
        };
        let sched = match schedule::parse_standard(&text) {
            Ok(s) => s,
            Err(err) => {
                self.cronjob_event(
                    cref,
                    true,
                    "UnparseableSchedule",
                    format!("unparseable schedule: {:?} : {err}", spec.schedule),
                );
                return None;
            }
        };
        let now = self.unix_ms(self.store.now);
        let times = Times {
            created: cj
                .metadata
                .creation_timestamp
                .as_ref()
                .map_or(now, |t| t.0.as_millisecond()),
            last_schedule: status
                .last_schedule_time
                .as_ref()
                .map(|t| t.0.as_millisecond()),
            starting_deadline_seconds: spec.starting_deadline_seconds,
        };
        let wait = |times: Times| {
            utils::next_schedule_time_duration(times, now, &sched)
                .map(|ms| SimDuration(u64::try_from(ms.max(0)).unwrap_or(0)))
        };
        let scheduled = match utils::next_schedule_time(times, now, &sched) {
            Ok((t, too_many)) => {
                if too_many {
                    self.cronjob_event(
                        cref,
                        true,
                        "TooManyMissedTimes",
                        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew".into(),
                    );
                }
                t
            }
            Err(err) => {
                self.cronjob_event(
                    cref,
                    true,
                    "InvalidSchedule",
                    format!("invalid schedule: {} : {err}", spec.schedule),
                );
                return None;
            }
        };
        let Some(scheduled) = scheduled else {
            return wait(times);
        };
        if let Some(d) = spec.starting_deadline_seconds
            && scheduled + d * 1000 < now
        {
            let at = jiff_time(scheduled);
            self.cronjob_event(
                cref,
                true,
                "MissSchedule",
                format!(
                    "Missed scheduled time to start a job: {}",
                    at.strftime("%a, %d %b %Y %H:%M:%S %z")
                ),
            );
            return wait(times);
        }
        let cj_name = cj.metadata.name.clone().unwrap_or_default();
        let name = utils::job_name(&cj_name, scheduled);
        let already = status
            .active
            .iter()
            .flatten()
            .any(|r| r.name.as_deref() == Some(&name))
            || times.last_schedule == Some(scheduled);
        if already {
            return wait(times);
        }
        let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
        if policy == "Forbid" && status.active.as_ref().is_some_and(|a| !a.is_empty()) {
            self.cronjob_event(
                cref,
                false,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid".into(),
            );
            return wait(times);
        }
        if policy == "Replace" {
            for r in status.active.clone().unwrap_or_default() {
                let uid = r.uid.clone().unwrap_or_default();
                if let Some((jid, j)) = jobs
                    .iter()
                    .find(|(_, j)| j.metadata.uid.as_deref() == Some(&uid))
                {
                    let jname = j.metadata.name.clone().unwrap_or_default();
                    self.delete_job(*jid, Propagation::Background);
                    delete_from_active(status, &uid);
                    self.cronjob_event(
                        cref,
                        false,
                        "SuccessfulDelete",
                        format!("Deleted job {jname}"),
                    );
                }
            }
        }
        let job = job_from_template(cj, id_uid(cj), &name, scheduled, &spec.job_template);
        match self.create_unsettled(Object::Job(Box::new(job))) {
            Ok(jid) => {
                self.cronjob_event(
                    cref,
                    false,
                    "SuccessfulCreate",
                    format!("Created job {name}"),
                );
                let rv = self
                    .store
                    .jobs
                    .get(jid)
                    .and_then(|e| e.job.metadata.resource_version.clone());
                status.active.get_or_insert_default().push(ObjectReference {
                    api_version: Some("batch/v1".into()),
                    kind: Some("Job".into()),
                    name: Some(name),
                    namespace: Some(cref.namespace.to_string()),
                    uid: Some(self.store.uid(jid)),
                    resource_version: rv,
                    ..Default::default()
                });
                status.last_schedule_time = Some(Time(jiff_time(scheduled)));
            }
            Err(crate::error::ApiError::AlreadyExists { .. }) => {}
            Err(err) => {
                self.cronjob_event(
                    cref,
                    true,
                    "FailedCreate",
                    format!("Error creating job: {err}"),
                );
            }
        }
        let times = Times {
            last_schedule: status
                .last_schedule_time
                .as_ref()
                .map(|t| t.0.as_millisecond()),
            ..times
        };
        let _ = id;
        wait(times)
    }

    /// `cleanupFinishedJobs`: keep the newest `successfulJobsHistoryLimit` succeeded and
    /// `failedJobsHistoryLimit` failed Jobs, deleting the oldest (by start time) beyond them.
    fn cleanup_finished_jobs(
        &mut self,
        cref: &ObjRef,
        spec: &k8s_openapi::api::batch::v1::CronJobSpec,
        status: &mut CronJobStatus,
        jobs: &[(ObjId, Job)],
    ) {
        let limits = [
            ("Complete", spec.successful_jobs_history_limit),
            ("Failed", spec.failed_jobs_history_limit),
        ];
        for (cond, limit) in limits {
            let Some(limit) = limit else {
                continue;
            };
            let mut done: Vec<&(ObjId, Job)> = jobs
                .iter()
                .filter(|(jid, j)| {
                    self.store.jobs.get(*jid).is_some()
                        && finished_type(j.status.as_ref()) == Some(cond)
                })
                .collect();
            if done.len() <= limit.max(0) as usize {
                continue;
            }
            // `byJobStartTime`: jobs without a start time last, ties by name.
            done.sort_by_key(|(_, j)| {
                let start = j
                    .status
                    .as_ref()
                    .and_then(|s| s.start_time.as_ref())
                    .map(|t| t.0);
                (start.is_none(), start, j.metadata.name.clone())
            });
            let excess = done.len() - limit.max(0) as usize;
            for (jid, j) in done.into_iter().take(excess) {
                let name = j.metadata.name.clone().unwrap_or_default();
                let uid = j.metadata.uid.clone().unwrap_or_default();
                self.delete_job(*jid, Propagation::Background);
                delete_from_active(status, &uid);
                self.cronjob_event(
                    cref,
                    false,
                    "SuccessfulDelete",
                    format!("Deleted job {name}"),
                );
            }
        }
    }
}

fn id_uid(cj: &CronJob) -> String {
    cj.metadata.uid.clone().unwrap_or_default()
}

fn delete_from_active(status: &mut CronJobStatus, uid: &str) {
    if let Some(a) = status.active.as_mut() {
        a.retain(|r| r.uid.as_deref() != Some(uid));
    }
}

fn jiff_time(unix_ms: i64) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::from_millisecond(unix_ms).unwrap_or_default()
}

/// `getJobFromTemplate2`: the Job for one scheduled time: the template's labels, annotations
/// and spec, the scheduled-timestamp annotation, a controller reference to the CronJob.
pub fn job_from_template(
    cj: &CronJob,
    uid: String,
    name: &str,
    scheduled_ms: i64,
    template: &JobTemplateSpec,
) -> Job {
    let tm = template.metadata.clone().unwrap_or_default();
    let mut annotations: BTreeMap<String, String> = tm.annotations.unwrap_or_default();
    let offset = cj
        .spec
        .as_ref()
        .and_then(|s| s.time_zone.as_deref())
        .and_then(|tz| schedule::location(tz).ok())
        .unwrap_or(0);
    annotations.insert(
        SCHEDULED_TIMESTAMP_ANNOTATION.into(),
        rfc3339_in(scheduled_ms, offset),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: cj.metadata.namespace.clone(),
            labels: tm.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "CronJob".into(),
                name: cj.metadata.name.clone().unwrap_or_default(),
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// Go's `time.RFC3339` of a time in a zone `offset` seconds east of UTC.
fn rfc3339_in(unix_ms: i64, offset: i64) -> String {
    let t = jiff_time(unix_ms + offset * 1000);
    let local = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if offset == 0 {
        return format!("{local}Z");
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.abs();
    format!("{local}{sign}{:02}:{:02}", o / 3600, (o % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_timestamps_are_rfc3339_in_the_zone() {
        assert_eq!(rfc3339_in(1_463_652_000_000, 0), "2016-05-19T10:00:00Z");
        assert_eq!(
            rfc3339_in(1_463_652_000_000, 7200),
            "2016-05-19T12:00:00+02:00"
        );
        assert_eq!(
            rfc3339_in(1_463_652_000_000, -18000),
            "2016-05-19T05:00:00-05:00"
        );
    }
}
