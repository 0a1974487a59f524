//! `batch/v1` defaults: `SetDefaults_Job` and `SetDefaults_CronJob` of
//! `pkg/apis/batch/v1/defaults.go`, with the pod template's own defaults, and the Job
//! registry strategy's `generateSelector` (`pkg/registry/batch/job/strategy.go`), which runs
//! at create before validation.

use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// `batch.kubernetes.io/job-name` and its legacy twin `job-name`.
pub const JOB_NAME_LABELS: [&str; 2] = ["job-name", "batch.kubernetes.io/job-name"];
/// `batch.kubernetes.io/controller-uid` and its legacy twin `controller-uid`.
pub const CONTROLLER_UID_LABELS: [&str; 2] =
    ["controller-uid", "batch.kubernetes.io/controller-uid"];
/// The label the generated selector matches.
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";

/// `SetDefaults_Job` plus the pod template's defaults.
pub fn job(job: &mut Job) {
    job_spec(job.spec.get_or_insert_default());
}

fn job_spec(spec: &mut JobSpec) {
    // When neither is set both default to 1; an unset parallelism alone defaults to 1.
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
        spec.parallelism = Some(1);
    }
    spec.parallelism.get_or_insert(1);
    if spec.backoff_limit.is_none() {
        spec.backoff_limit = Some(if spec.backoff_limit_per_index.is_some() {
            i32::MAX
        } else {
            6
        });
    }
    spec.completion_mode
        .get_or_insert_with(|| "NonIndexed".to_owned());
    spec.suspend.get_or_insert(false);
    if let Some(policy) = spec.pod_failure_policy.as_mut() {
        for rule in &mut policy.rules {
            for c in rule.on_pod_conditions.iter_mut().flatten() {
                if c.status.as_deref().unwrap_or("").is_empty() {
                    c.status = Some("True".to_owned());
                }
            }
        }
    }
    if spec.pod_replacement_policy.is_none() {
        spec.pod_replacement_policy = Some(
            if spec.pod_failure_policy.is_some() {
                "Failed"
            } else {
                "TerminatingOrFailed"
            }
            .to_owned(),
        );
    }
    super::defaults::pod_template(&mut spec.template);
}

/// `SetDefaults_CronJob` plus the job template's defaults (the generated defaulter visits
/// the nested `JobSpec`, so a CronJob's template gains the Job's defaults too).
pub fn cronjob(cj: &mut CronJob) {
    let spec = cj.spec.get_or_insert_default();
    spec.concurrency_policy
        .get_or_insert_with(|| "Allow".to_owned());
    spec.suspend.get_or_insert(false);
    spec.successful_jobs_history_limit.get_or_insert(3);
    spec.failed_jobs_history_limit.get_or_insert(1);
    let t: &mut JobTemplateSpec = &mut spec.job_template;
    job_spec(t.spec.get_or_insert_default());
}

/// `generateSelector`: unless `manualSelector` is true, the template gains the job-name and
/// controller-uid labels (each only where the user did not set it) and the selector matches
/// `batch.kubernetes.io/controller-uid`.
pub fn generate_selector(job: &mut Job, uid: &str) {
    let name = job.metadata.name.clone().unwrap_or_default();
    let spec = job.spec.get_or_insert_default();
    if spec.manual_selector == Some(true) {
        return;
    }
    let labels = spec
        .template
        .metadata
        .get_or_insert_default()
        .labels
        .get_or_insert_default();
    for key in JOB_NAME_LABELS {
        labels.entry(key.to_owned()).or_insert_with(|| name.clone());
    }
    for key in CONTROLLER_UID_LABELS {
        labels
            .entry(key.to_owned())
            .or_insert_with(|| uid.to_owned());
    }
    let selector: &mut LabelSelector = spec.selector.get_or_insert_default();
    selector
        .match_labels
        .get_or_insert_default()
        .entry(CONTROLLER_UID_LABEL.to_owned())
        .or_insert_with(|| uid.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(yaml: &str) -> Job {
        serde_yaml::from_str(yaml).expect("a Job")
    }

    #[test]
    fn job_defaults_follow_set_defaults_job() {
        // TestSetDefaultJob: neither completions nor parallelism → both 1.
        let mut j = decoded("metadata: {name: pi}\nspec: {template: {spec: {containers: []}}}");
        job(&mut j);
        let s = j.spec.as_ref().expect("spec");
        assert_eq!((s.completions, s.parallelism), (Some(1), Some(1)));
        assert_eq!(s.backoff_limit, Some(6));
        assert_eq!(s.completion_mode.as_deref(), Some("NonIndexed"));
        assert_eq!(s.suspend, Some(false));
        assert_eq!(
            s.pod_replacement_policy.as_deref(),
            Some("TerminatingOrFailed")
        );
        // Only parallelism set: completions stays unset (a work queue).
        let mut j = decoded("spec: {parallelism: 3, template: {spec: {containers: []}}}");
        job(&mut j);
        let s = j.spec.as_ref().expect("spec");
        assert_eq!((s.completions, s.parallelism), (None, Some(3)));
        // Only completions set: parallelism 1.
        let mut j = decoded("spec: {completions: 5, template: {spec: {containers: []}}}");
        job(&mut j);
        let s = j.spec.as_ref().expect("spec");
        assert_eq!((s.completions, s.parallelism), (Some(5), Some(1)));
        // backoffLimitPerIndex makes the global limit MaxInt32.
        let mut j = decoded("spec: {backoffLimitPerIndex: 1, template: {spec: {containers: []}}}");
        job(&mut j);
        assert_eq!(j.spec.and_then(|s| s.backoff_limit), Some(i32::MAX));
    }

    #[test]
    fn cronjob_defaults_follow_set_defaults_cronjob() {
        let mut cj: CronJob = serde_yaml::from_str(
            "spec: {schedule: '* * * * *', jobTemplate: {spec: {template: {spec: {containers: []}}}}}",
        )
        .expect("a CronJob");
        cronjob(&mut cj);
        let s = cj.spec.as_ref().expect("spec");
        assert_eq!(s.concurrency_policy.as_deref(), Some("Allow"));
        assert_eq!(s.suspend, Some(false));
        assert_eq!(s.successful_jobs_history_limit, Some(3));
        assert_eq!(s.failed_jobs_history_limit, Some(1));
        let js = s.job_template.spec.as_ref().expect("job spec");
        assert_eq!(js.backoff_limit, Some(6));
    }

    #[test]
    fn generated_selector_keeps_the_users_labels() {
        let mut j = decoded(
            "metadata: {name: pi}\nspec: {template: {metadata: {labels: {job-name: mine}}, spec: {containers: []}}}",
        );
        generate_selector(&mut j, "u-1");
        let s = j.spec.as_ref().expect("spec");
        let labels = s
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        assert_eq!(labels["job-name"], "mine");
        assert_eq!(labels["batch.kubernetes.io/job-name"], "pi");
        assert_eq!(labels["controller-uid"], "u-1");
        assert_eq!(labels["batch.kubernetes.io/controller-uid"], "u-1");
        let sel = s
            .selector
            .as_ref()
            .and_then(|s| s.match_labels.clone())
            .unwrap_or_default();
        assert_eq!(sel.len(), 1);
        assert_eq!(sel[CONTROLLER_UID_LABEL], "u-1");
        // manualSelector: true leaves labels and selector alone.
        let mut j = decoded(
            "metadata: {name: pi}\nspec: {manualSelector: true, template: {spec: {containers: []}}}",
        );
        generate_selector(&mut j, "u-1");
        assert!(j.spec.and_then(|s| s.selector).is_none());
    }
}
