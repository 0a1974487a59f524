//! Job and CronJob: `ValidateJob`, `ValidateCronJobCreate` and their specs
//! (`pkg/apis/batch/validation/validation.go`), for the fields kubesim runs.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec};

use super::Errs;
use super::core::validate_pod_template_spec;
use super::go_fmt::{go_quote, json_map};
use super::meta::{NameRule, validate_label_selector, validate_object_meta};
use crate::api::selector::Selector;
use crate::controller::cronjob::schedule;

/// `ValidateJob`: metadata, the generated selector's labels, the spec.
pub(super) fn validate_job(job: &Job, e: &mut Errs) {
    validate_object_meta(&job.metadata, true, NameRule::Subdomain, e);
    let spec = job.spec.clone().unwrap_or_default();
    validate_job_spec(&spec, "spec", true, e);
}

/// `ValidateJobUpdate`: the spec's rules, then the fields that may not change: the selector,
/// completions and the pod template (kubesim does not model the mutable scheduling
/// directives of a suspended Job).
pub(super) fn validate_job_update(new: &Job, old: &Job, e: &mut Errs) {
    let spec = new.spec.clone().unwrap_or_default();
    validate_job_spec(&spec, "spec", true, e);
    let old_spec = old.spec.clone().unwrap_or_default();
    if spec.selector != old_spec.selector {
        e.invalid("spec.selector", "{}".into(), super::IMMUTABLE);
    }
    if spec.completions != old_spec.completions {
        e.invalid(
            "spec.completions",
            spec.completions.map_or("null".into(), |c| c.to_string()),
            super::IMMUTABLE,
        );
    }
    if spec.template != old_spec.template {
        e.invalid("spec.template", "{}".into(), super::IMMUTABLE);
    }
}

/// `validateJobSpec` (with `ValidateJobSpec`'s required selector when `selector_required`).
fn validate_job_spec(spec: &JobSpec, path: &str, selector_required: bool, e: &mut Errs) {
    if let Some(p) = spec.parallelism {
        e.nonnegative(&format!("{path}.parallelism"), i64::from(p));
    }
    if let Some(c) = spec.completions {
        e.nonnegative(&format!("{path}.completions"), i64::from(c));
    }
    if let Some(a) = spec.active_deadline_seconds {
        e.nonnegative(&format!("{path}.activeDeadlineSeconds"), a);
    }
    if let Some(b) = spec.backoff_limit {
        e.nonnegative(&format!("{path}.backoffLimit"), i64::from(b));
    }
    if let Some(t) = spec.ttl_seconds_after_finished {
        e.nonnegative(&format!("{path}.ttlSecondsAfterFinished"), i64::from(t));
    }
    let mode = spec.completion_mode.as_deref().unwrap_or("NonIndexed");
    if mode != "NonIndexed" && mode != "Indexed" {
        e.not_supported(
            &format!("{path}.completionMode"),
            go_quote(mode),
            &["NonIndexed", "Indexed"],
        );
    }
    if mode == "Indexed" && spec.completions.is_none() {
        e.required(
            &format!("{path}.completions"),
            "when completion mode is Indexed",
        );
    }
    if let Some(policy) = spec.pod_replacement_policy.as_deref()
        && policy != "TerminatingOrFailed"
        && policy != "Failed"
    {
        e.not_supported(
            &format!("{path}.podReplacementPolicy"),
            go_quote(policy),
            &["Failed", "TerminatingOrFailed"],
        );
    }
    validate_pod_failure_policy(spec, path, e);
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref());
    match &spec.selector {
        None if selector_required => e.required(&format!("{path}.selector"), ""),
        None => {}
        Some(sel) => {
            validate_label_selector(sel, &format!("{path}.selector"), e);
            if let Ok(s) = Selector::from_label_selector(sel) {
                let empty = BTreeMap::new();
                if !s.is_empty() && !s.matches(labels.unwrap_or(&empty)) {
                    e.invalid(
                        &format!("{path}.template.metadata.labels"),
                        json_map(labels),
                        "`selector` does not match template `labels`",
                    );
                }
            }
        }
    }
    let template_path = format!("{path}.template");
    validate_pod_template_spec(&spec.template, &template_path, e);
    let policy = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("");
    if policy != "OnFailure" && policy != "Never" {
        e.not_supported(
            &format!("{template_path}.spec.restartPolicy"),
            go_quote(policy),
            &["OnFailure", "Never"],
        );
    }
}

/// `validatePodFailurePolicy`: the actions, operators and the Never restart policy it needs.
fn validate_pod_failure_policy(spec: &JobSpec, path: &str, e: &mut Errs) {
    let Some(policy) = &spec.pod_failure_policy else {
        return;
    };
    let restart = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("");
    if restart != "Never" {
        e.invalid(
            &format!("{path}.template.spec.restartPolicy"),
            go_quote(restart),
            "only \"Never\" is supported when podFailurePolicy is specified",
        );
    }
    for (i, rule) in policy.rules.iter().enumerate() {
        let rp = format!("{path}.podFailurePolicy.rules[{i}]");
        if !["FailJob", "FailIndex", "Ignore", "Count"].contains(&rule.action.as_str()) {
            e.not_supported(
                &format!("{rp}.action"),
                go_quote(&rule.action),
                &["Count", "FailIndex", "FailJob", "Ignore"],
            );
        }
        let conditions = rule
            .on_pod_conditions
            .as_ref()
            .is_some_and(|c| !c.is_empty());
        match (&rule.on_exit_codes, conditions) {
            (Some(_), true) => e.invalid(
                &rp,
                "field.Path{}".into(),
                "specifying both OnExitCodes and OnPodConditions is not supported",
            ),
            (None, false) => e.invalid(
                &rp,
                "field.Path{}".into(),
                "specifying one of OnExitCodes and OnPodConditions is required",
            ),
            _ => {}
        }
        if let Some(codes) = &rule.on_exit_codes
            && codes.operator != "In"
            && codes.operator != "NotIn"
        {
            e.not_supported(
                &format!("{rp}.onExitCodes.operator"),
                go_quote(&codes.operator),
                &["In", "NotIn"],
            );
        }
    }
}

/// `ValidateCronJobCreate`: metadata (names of at most 52 characters, so a Job's name and its
/// 11-character suffix fit a label), then the spec.
pub(super) fn validate_cronjob(cj: &CronJob, e: &mut Errs) {
    validate_object_meta(&cj.metadata, true, NameRule::Subdomain, e);
    let name = cj.metadata.name.as_deref().unwrap_or("");
    if name.len() > 52 {
        e.invalid_str("metadata.name", name, "must be no more than 52 characters");
    }
    let spec = cj.spec.clone().unwrap_or_default();
    if spec.schedule.is_empty() {
        e.required("spec.schedule", "");
    } else {
        if let Err(err) = schedule::parse_standard(&spec.schedule) {
            e.invalid_str("spec.schedule", &spec.schedule, &err);
        }
        if spec.schedule.contains("TZ") {
            e.invalid_str(
                "spec.schedule",
                &spec.schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            );
        }
    }
    if let Some(tz) = spec.time_zone.as_deref() {
        if tz.is_empty() {
            e.invalid_str(
                "spec.timeZone",
                tz,
                "timeZone must be nil or non-empty string",
            );
        } else if tz.eq_ignore_ascii_case("Local") {
            e.invalid_str(
                "spec.timeZone",
                tz,
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            );
        } else if let Err(err) = schedule::location(tz) {
            e.invalid_str("spec.timeZone", tz, &err);
        }
    }
    let policy = spec.concurrency_policy.as_deref().unwrap_or("");
    if !["Allow", "Forbid", "Replace"].contains(&policy) {
        if policy.is_empty() {
            e.required("spec.concurrencyPolicy", "");
        } else {
            e.not_supported(
                "spec.concurrencyPolicy",
                go_quote(policy),
                &["Allow", "Forbid", "Replace"],
            );
        }
    }
    if let Some(s) = spec.starting_deadline_seconds {
        e.nonnegative("spec.startingDeadlineSeconds", s);
    }
    if let Some(n) = spec.successful_jobs_history_limit {
        e.nonnegative("spec.successfulJobsHistoryLimit", i64::from(n));
    }
    if let Some(n) = spec.failed_jobs_history_limit {
        e.nonnegative("spec.failedJobsHistoryLimit", i64::from(n));
    }
    // `ValidateJobTemplateSpec`: the Job's spec without a selector, which is generated.
    let job_spec = spec.job_template.spec.clone().unwrap_or_default();
    validate_job_spec(&job_spec, "spec.jobTemplate.spec", false, e);
    if job_spec.selector.is_some() && job_spec.manual_selector != Some(true) {
        e.invalid(
            "spec.jobTemplate.spec.selector",
            "{}".into(),
            "`selector` will be auto-generated",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;

    const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi, namespace: default}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      restartPolicy: Never\n      containers: [{name: pi, image: perl}]\n";

    #[test]
    fn a_job_needs_on_failure_or_never() {
        assert!(check(JOB).is_empty(), "{:?}", check(JOB));
        let always = JOB.replace("restartPolicy: Never", "restartPolicy: Always");
        assert_eq!(
            check(&always),
            [
                "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            ]
        );
        // Unset, the pod template's default (Always) is refused the same way.
        let unset = JOB.replace("      restartPolicy: Never\n", "");
        assert_eq!(check(&unset).len(), 1);
    }

    #[test]
    fn job_counts_may_not_be_negative() {
        let bad = JOB.replace(
            "spec:\n  selector",
            "spec:\n  parallelism: -1\n  completions: -2\n  backoffLimit: -1\n  activeDeadlineSeconds: -5\n  selector",
        );
        assert_eq!(
            check(&bad),
            [
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.completions: Invalid value: -2: must be greater than or equal to 0",
                "spec.activeDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
                "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
        let mismatch = JOB.replace("matchLabels: {a: b}", "matchLabels: {a: c}");
        assert_eq!(
            check(&mismatch),
            [
                "spec.template.metadata.labels: Invalid value: {\"a\":\"b\"}: `selector` does not match template `labels`"
            ]
        );
    }

    const CJ: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: hello, namespace: default}\nspec:\n  schedule: '*/1 * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: c, image: busybox}]\n";

    #[test]
    fn cronjob_schedules_and_zones_are_checked() {
        assert!(check(CJ).is_empty(), "{:?}", check(CJ));
        let bad = CJ.replace("'*/1 * * * *'", "'61 * * * *'");
        assert_eq!(
            check(&bad),
            [
                "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
            ]
        );
        let tz = CJ.replace("'*/1 * * * *'", "'TZ=UTC */1 * * * *'");
        assert_eq!(
            check(&tz),
            [
                "spec.schedule: Invalid value: \"TZ=UTC */1 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            ]
        );
        let zone = CJ.replace(
            "spec:\n  schedule",
            "spec:\n  timeZone: Mars/Olympus\n  schedule",
        );
        assert_eq!(
            check(&zone),
            ["spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus"]
        );
        let policy = CJ.replace(
            "spec:\n  schedule",
            "spec:\n  concurrencyPolicy: Sometimes\n  schedule",
        );
        assert_eq!(
            check(&policy),
            [
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""
            ]
        );
        let long = CJ.replace("name: hello", &format!("name: {}", "a".repeat(53)));
        assert_eq!(check(&long).len(), 1);
    }
}
