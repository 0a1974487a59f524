//! `kubectl get jobs` and `kubectl get cronjobs`: `printJob` and `printCronJob` of
//! `pkg/printers/internalversion/printers.go`.

use k8s_openapi::api::batch::v1::{CronJob, Job, JobStatus};
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::duration::{age, human_duration};
use super::get::{Column, Row, container_cells, print_table};
use super::util::{format_label_selector, s};

fn has_condition(status: Option<&JobStatus>, type_: &str) -> bool {
    status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// The STATUS column: Complete, Failed, Terminating, Suspended, FailureTarget or Running.
pub(super) fn job_status_word(j: &Job) -> &'static str {
    let st = j.status.as_ref();
    if has_condition(st, "Complete") {
        "Complete"
    } else if has_condition(st, "Failed") {
        "Failed"
    } else if j.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has_condition(st, "Suspended") {
        "Suspended"
    } else if has_condition(st, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

/// The COMPLETIONS column: `succeeded/completions`, or for a work queue `n/1` (`n/1 of P`
/// with parallelism above 1).
pub(super) fn job_completions(j: &Job) -> String {
    let succeeded = j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0);
    let spec = j.spec.as_ref();
    match spec.and_then(|s| s.completions) {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let p = spec.and_then(|s| s.parallelism).unwrap_or(0);
            if p > 1 {
                format!("{succeeded}/1 of {p}")
            } else {
                format!("{succeeded}/1")
            }
        }
    }
}

/// The DURATION column: from the start to completion, or to now while running.
pub(super) fn job_duration(j: &Job, now: Timestamp) -> String {
    let st = j.status.as_ref();
    let Some(start) = st.and_then(|s| s.start_time.as_ref()) else {
        return String::new();
    };
    let end = st
        .and_then(|s| s.completion_time.as_ref())
        .map_or(now, |t| t.0);
    human_duration(end.duration_since(start.0))
}

/// `kubectl get jobs`: NAME, STATUS, COMPLETIONS, DURATION, AGE; wide adds CONTAINERS,
/// IMAGES, SELECTOR.
pub fn get_jobs(jobs: &[Job], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Status", false),
        ("Completions", false),
        ("Duration", false),
        ("Age", false),
        ("Containers", true),
        ("Images", true),
        ("Selector", true),
    ];
    let rows = jobs
        .iter()
        .map(|j| {
            let spec = j.spec.as_ref();
            let containers = spec
                .and_then(|s| s.template.spec.as_ref())
                .map(|p| p.containers.as_slice())
                .unwrap_or(&[]);
            let (names, images) = container_cells(containers);
            Row {
                meta: &j.metadata,
                cells: vec![
                    s(&j.metadata.name).to_string(),
                    job_status_word(j).to_string(),
                    job_completions(j),
                    job_duration(j, now),
                    age(j.metadata.creation_timestamp.as_ref(), now),
                    names,
                    images,
                    format_label_selector(spec.and_then(|s| s.selector.as_ref())),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "job.batch", opts)
}

/// `kubectl get cronjobs`: NAME, SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE, AGE;
/// wide adds CONTAINERS, IMAGES, SELECTOR.
pub fn get_cronjobs(cjs: &[CronJob], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Schedule", false),
        ("Timezone", false),
        ("Suspend", false),
        ("Active", false),
        ("Last Schedule", false),
        ("Age", false),
        ("Containers", true),
        ("Images", true),
        ("Selector", true),
    ];
    let rows = cjs
        .iter()
        .map(|c| {
            let spec = c.spec.as_ref();
            let st = c.status.as_ref();
            let job_spec = spec.and_then(|s| s.job_template.spec.as_ref());
            let containers = job_spec
                .and_then(|s| s.template.spec.as_ref())
                .map(|p| p.containers.as_slice())
                .unwrap_or(&[]);
            let (names, images) = container_cells(containers);
            let last = st
                .and_then(|s| s.last_schedule_time.as_ref())
                .map_or_else(|| "<none>".to_string(), |t| age(Some(t), now));
            Row {
                meta: &c.metadata,
                cells: vec![
                    s(&c.metadata.name).to_string(),
                    spec.map(|s| s.schedule.clone()).unwrap_or_default(),
                    spec.and_then(|s| s.time_zone.clone())
                        .unwrap_or_else(|| "<none>".into()),
                    // `printBoolPtr`: True, False, or `<unset>` for nil.
                    spec.and_then(|s| s.suspend).map_or_else(
                        || "<unset>".into(),
                        |b| if b { "True" } else { "False" }.to_string(),
                    ),
                    st.and_then(|s| s.active.as_ref())
                        .map_or(0, Vec::len)
                        .to_string(),
                    last,
                    age(c.metadata.creation_timestamp.as_ref(), now),
                    names,
                    images,
                    format_label_selector(job_spec.and_then(|s| s.selector.as_ref())),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "cronjob.batch", opts)
}
