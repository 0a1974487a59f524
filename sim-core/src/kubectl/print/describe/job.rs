//! `kubectl describe job` and `kubectl describe cronjob` (`describeJob`, `describeCronJob`,
//! `describeJobTemplate`, `printActiveJobs`).

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

use super::events::describe_events;
use super::template::describe_pod_template;
use super::{PrefixWriter, print_annotations_multiline, print_labels_multiline};
use crate::kubectl::print::duration::human_duration;
use crate::kubectl::print::util::{controller_of, format_label_selector, rfc1123z, s};

/// `kubectl describe job`.
pub fn describe_job(job: &Job, events: &[Event], now: Timestamp) -> String {
    let mut w = PrefixWriter::new();
    let spec = job.spec.clone().unwrap_or_default();
    let st = job.status.clone().unwrap_or_default();
    w.write(0, &format!("Name:\t{}\n", s(&job.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&job.metadata.namespace)));
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            format_label_selector(spec.selector.as_ref())
        ),
    );
    print_labels_multiline(&mut w, "Labels", job.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", job.metadata.annotations.as_ref());
    if let Some(c) = controller_of(&job.metadata) {
        w.write(0, &format!("Controlled By:\t{}/{}\n", c.kind, c.name));
    }
    if let Some(p) = spec.parallelism {
        w.write(0, &format!("Parallelism:\t{p}\n"));
    }
    match spec.completions {
        Some(c) => w.write(0, &format!("Completions:\t{c}\n")),
        None => w.write(0, "Completions:\t<unset>\n"),
    }
    if let Some(m) = &spec.completion_mode {
        w.write(0, &format!("Completion Mode:\t{m}\n"));
    }
    if let Some(b) = spec.suspend {
        w.write(0, &format!("Suspend:\t{b}\n"));
    }
    if let Some(b) = spec.backoff_limit {
        w.write(0, &format!("Backoff Limit:\t{b}\n"));
    }
    if let Some(t) = spec.ttl_seconds_after_finished {
        w.write(0, &format!("TTL Seconds After Finished:\t{t}\n"));
    }
    if let Some(t) = &st.start_time {
        w.write(0, &format!("Start Time:\t{}\n", rfc1123z(t.0)));
    }
    if let Some(t) = &st.completion_time {
        w.write(0, &format!("Completed At:\t{}\n", rfc1123z(t.0)));
    }
    if let (Some(a), Some(b)) = (&st.start_time, &st.completion_time) {
        w.write(
            0,
            &format!("Duration:\t{}\n", human_duration(b.0.duration_since(a.0))),
        );
    }
    if let Some(d) = spec.active_deadline_seconds {
        w.write(0, &format!("Active Deadline Seconds:\t{d}s\n"));
    }
    let (active, succeeded, failed) = (
        st.active.unwrap_or(0),
        st.succeeded.unwrap_or(0),
        st.failed.unwrap_or(0),
    );
    match st.ready {
        None => w.write(
            0,
            &format!("Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n"),
        ),
        Some(r) => w.write(
            0,
            &format!(
                "Pods Statuses:\t{active} Active ({r} Ready) / {succeeded} Succeeded / {failed} Failed\n"
            ),
        ),
    }
    describe_pod_template(Some(&spec.template), &mut w);
    describe_events(events, &mut w, now);
    w.finish()
}

/// `kubectl describe cronjob`.
pub fn describe_cronjob(cj: &CronJob, events: &[Event], now: Timestamp) -> String {
    let mut w = PrefixWriter::new();
    let spec = cj.spec.clone().unwrap_or_default();
    let st = cj.status.clone().unwrap_or_default();
    w.write(0, &format!("Name:\t{}\n", s(&cj.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&cj.metadata.namespace)));
    print_labels_multiline(&mut w, "Labels", cj.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", cj.metadata.annotations.as_ref());
    w.write(0, &format!("Schedule:\t{}\n", spec.schedule));
    w.write(
        0,
        &format!(
            "Concurrency Policy:\t{}\n",
            spec.concurrency_policy.as_deref().unwrap_or("")
        ),
    );
    let suspend = match spec.suspend {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    w.write(0, &format!("Suspend:\t{suspend}\n"));
    let opt =
        |v: Option<i64>, unit: &str| v.map_or("<unset>".to_string(), |n| format!("{n}{unit}"));
    w.write(
        0,
        &format!(
            "Successful Job History Limit:\t{}\n",
            opt(spec.successful_jobs_history_limit.map(i64::from), "")
        ),
    );
    w.write(
        0,
        &format!(
            "Failed Job History Limit:\t{}\n",
            opt(spec.failed_jobs_history_limit.map(i64::from), "")
        ),
    );
    w.write(
        0,
        &format!(
            "Starting Deadline Seconds:\t{}\n",
            opt(spec.starting_deadline_seconds, "s")
        ),
    );
    // `describeJobTemplate`.
    let js = spec.job_template.spec.clone().unwrap_or_default();
    match &js.selector {
        Some(sel) => w.write(
            0,
            &format!("Selector:\t{}\n", format_label_selector(Some(sel))),
        ),
        None => w.write(0, "Selector:\t<unset>\n"),
    }
    w.write(
        0,
        &format!("Parallelism:\t{}\n", opt(js.parallelism.map(i64::from), "")),
    );
    w.write(
        0,
        &format!("Completions:\t{}\n", opt(js.completions.map(i64::from), "")),
    );
    if let Some(d) = js.active_deadline_seconds {
        w.write(0, &format!("Active Deadline Seconds:\t{d}s\n"));
    }
    describe_pod_template(Some(&js.template), &mut w);
    match &st.last_schedule_time {
        Some(t) => w.write(0, &format!("Last Schedule Time:\t{}\n", rfc1123z(t.0))),
        None => w.write(0, "Last Schedule Time:\t<unset>\n"),
    }
    let active: Vec<String> = st
        .active
        .iter()
        .flatten()
        .map(|r| r.name.clone().unwrap_or_default())
        .collect();
    if active.is_empty() {
        w.write(0, "Active Jobs:\t<none>\n");
    } else {
        w.write(0, &format!("Active Jobs:\t{}\n", active.join(", ")));
    }
    describe_events(events, &mut w, now);
    w.finish()
}
