//! Deployment and ReplicaSet: kubernetes `pkg/apis/apps/validation/validation.go`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Errs;
use super::core::validate_pod_template_spec;
use super::go_fmt::{go_quote, json_intstr, json_label_selector, json_map, json_str};
use super::meta::{NameRule, validate_label_selector, validate_object_meta};
use super::names::is_valid_percent;
use crate::api::selector::Selector;

pub(super) fn validate_deployment(d: &Deployment, e: &mut Errs) {
    validate_object_meta(&d.metadata, true, NameRule::Subdomain, e);
    validate_deployment_spec(&d.spec.clone().unwrap_or_default(), "spec", e);
}

/// `ValidateDeploymentSpec`.
pub(super) fn validate_deployment_spec(spec: &DeploymentSpec, path: &str, e: &mut Errs) {
    e.nonnegative(
        &format!("{path}.replicas"),
        i64::from(spec.replicas.unwrap_or(1)),
    );
    let selector = validate_workload_selector(&spec.selector, path, e);
    if let Some(selector) = selector {
        validate_pod_template_for_replica_set(
            &spec.template,
            selector.as_ref(),
            &format!("{path}.template"),
            e,
        );
    }
    validate_deployment_strategy(
        &spec.strategy.clone().unwrap_or_default(),
        &format!("{path}.strategy"),
        e,
    );
    let min_ready = i64::from(spec.min_ready_seconds.unwrap_or(0));
    e.nonnegative(&format!("{path}.minReadySeconds"), min_ready);
    if let Some(r) = spec.revision_history_limit {
        e.nonnegative(&format!("{path}.revisionHistoryLimit"), i64::from(r));
    }
    if let Some(p) = spec.progress_deadline_seconds {
        let field = format!("{path}.progressDeadlineSeconds");
        e.nonnegative(&field, i64::from(p));
        if i64::from(p) <= min_ready {
            e.invalid(
                &field,
                p.to_string(),
                "must be greater than minReadySeconds",
            );
        }
    }
}

/// The selector checks shared by Deployment and ReplicaSet. Returns what to match the template
/// against: `None` when the selector cannot be built (template matching is skipped, as in Go),
/// `Some(None)` for Go's nil selector (`labels.Nothing()`, which matches no template), else the
/// selector. k8s-openapi's selector is not optional, so a selector with neither matchLabels nor
/// matchExpressions stands for the nil one (`Required value`).
fn validate_workload_selector(
    sel: &LabelSelector,
    path: &str,
    e: &mut Errs,
) -> Option<Option<Selector>> {
    let field = format!("{path}.selector");
    if sel.match_labels.is_none() && sel.match_expressions.is_none() {
        e.required(&field, "");
        return Some(None);
    }
    validate_label_selector(sel, &field, e);
    let n = sel.match_labels.as_ref().map_or(0, BTreeMap::len)
        + sel.match_expressions.as_ref().map_or(0, Vec::len);
    if n == 0 {
        e.invalid(
            &field,
            json_label_selector(sel),
            "empty selector is invalid for deployment",
        );
    }
    match Selector::from_label_selector(sel) {
        Ok(s) => Some(Some(s)),
        Err(_) => {
            e.invalid(&field, json_label_selector(sel), "invalid label selector");
            None
        }
    }
}

/// `ValidatePodTemplateSpecForReplicaSet`.
fn validate_pod_template_for_replica_set(
    template: &PodTemplateSpec,
    selector: Option<&Selector>,
    path: &str,
    e: &mut Errs,
) {
    let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
    // `None` is labels.Nothing(): not empty, and matches nothing.
    if selector.is_none_or(|s| !s.is_empty()) {
        let empty = BTreeMap::new();
        if !selector.is_some_and(|s| s.matches(labels.unwrap_or(&empty))) {
            e.invalid(
                &format!("{path}.metadata.labels"),
                json_map(labels),
                "`selector` does not match template `labels`",
            );
        }
    }
    validate_pod_template_spec(template, path, e);
    let spec = template.spec.clone().unwrap_or_default();
    let policy = spec.restart_policy.as_deref().unwrap_or("");
    if policy != "Always" {
        e.not_supported(
            &format!("{path}.spec.restartPolicy"),
            go_quote(policy),
            &["Always"],
        );
    }
    if spec.active_deadline_seconds.is_some() {
        e.forbidden(
            &format!("{path}.spec.activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        );
    }
}

/// `ValidateDeploymentStrategy`.
fn validate_deployment_strategy(strategy: &DeploymentStrategy, path: &str, e: &mut Errs) {
    let t = strategy.type_.as_deref().unwrap_or("");
    match t {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                e.forbidden(
                    &format!("{path}.rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                );
            }
        }
        "RollingUpdate" => match &strategy.rolling_update {
            None => e.required(
                &format!("{path}.rollingUpdate"),
                "this should be defaulted and never be nil",
            ),
            Some(ru) => {
                let zero = IntOrString::Int(0);
                let max_unavailable = ru.max_unavailable.as_ref().unwrap_or(&zero);
                let max_surge = ru.max_surge.as_ref().unwrap_or(&zero);
                let mu_path = format!("{path}.rollingUpdate.maxUnavailable");
                validate_positive_int_or_percent(max_unavailable, &mu_path, e);
                validate_positive_int_or_percent(
                    max_surge,
                    &format!("{path}.rollingUpdate.maxSurge"),
                    e,
                );
                if int_or_percent_value(max_unavailable) == 0
                    && int_or_percent_value(max_surge) == 0
                {
                    e.invalid(
                        &mu_path,
                        json_intstr(max_unavailable),
                        "may not be 0 when `maxSurge` is 0",
                    );
                }
                if let Some(p) = percent_value(max_unavailable)
                    && p > 100
                {
                    e.invalid(
                        &mu_path,
                        json_intstr(max_unavailable),
                        "must not be greater than 100%",
                    );
                }
            }
        },
        _ => {
            // Go renders the internal apps.DeploymentStrategy as JSON; internal types have no
            // json tags, so the keys are Go field names.
            let ru = match &strategy.rolling_update {
                None => "null".to_owned(),
                Some(ru) => {
                    let zero = IntOrString::Int(0);
                    format!(
                        "{{\"MaxUnavailable\":{},\"MaxSurge\":{}}}",
                        json_intstr(ru.max_unavailable.as_ref().unwrap_or(&zero)),
                        json_intstr(ru.max_surge.as_ref().unwrap_or(&zero))
                    )
                }
            };
            e.not_supported(
                path,
                format!("{{\"Type\":{},\"RollingUpdate\":{ru}}}", json_str(t)),
                &["Recreate", "RollingUpdate"],
            );
        }
    }
}

/// `ValidatePositiveIntOrPercent`.
fn validate_positive_int_or_percent(v: &IntOrString, path: &str, e: &mut Errs) {
    match v {
        IntOrString::String(s) => {
            for m in is_valid_percent(s) {
                e.invalid(path, json_intstr(v), &m);
            }
        }
        IntOrString::Int(i) => e.nonnegative(path, i64::from(*i)),
    }
}

/// `getPercentValue`: the number of a well-formed percent string.
fn percent_value(v: &IntOrString) -> Option<i64> {
    match v {
        IntOrString::String(s) if is_valid_percent(s).is_empty() => {
            s[..s.len() - 1].parse().ok().or(Some(i64::MAX))
        }
        _ => None,
    }
}

/// `getIntOrPercentValue`: a percent's number, else `IntValue()` (which parses a string with
/// Atoi, so `"1"` is 1 and `"abc"` is 0).
fn int_or_percent_value(v: &IntOrString) -> i64 {
    if let Some(p) = percent_value(v) {
        return p;
    }
    match v {
        IntOrString::Int(i) => i64::from(*i),
        IntOrString::String(s) => s.parse::<i64>().unwrap_or(0),
    }
}

pub(super) fn validate_replica_set(rs: &ReplicaSet, e: &mut Errs) {
    validate_object_meta(&rs.metadata, true, NameRule::Subdomain, e);
    validate_replica_set_spec(&rs.spec.clone().unwrap_or_default(), "spec", e);
}

/// `ValidateReplicaSetSpec`.
pub(super) fn validate_replica_set_spec(
    spec: &k8s_openapi::api::apps::v1::ReplicaSetSpec,
    path: &str,
    e: &mut Errs,
) {
    e.nonnegative(
        &format!("{path}.replicas"),
        i64::from(spec.replicas.unwrap_or(1)),
    );
    e.nonnegative(
        &format!("{path}.minReadySeconds"),
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
    );
    if let Some(selector) = validate_workload_selector(&spec.selector, path, e) {
        validate_pod_template_for_replica_set(
            &spec.template.clone().unwrap_or_default(),
            selector.as_ref(),
            &format!("{path}.template"),
            e,
        );
    }
}

/// `ValidateDeploymentStatus`: counts never negative, none above `status.replicas`, available
/// never above ready.
pub(super) fn validate_deployment_status(d: &Deployment, e: &mut Errs) {
    let s = d.status.clone().unwrap_or_default();
    e.nonnegative(
        "status.observedGeneration",
        s.observed_generation.unwrap_or(0),
    );
    let counts = [
        ("replicas", s.replicas),
        ("updatedReplicas", s.updated_replicas),
        ("readyReplicas", s.ready_replicas),
        ("availableReplicas", s.available_replicas),
        ("unavailableReplicas", s.unavailable_replicas),
    ];
    for (field, v) in counts {
        e.nonnegative(&format!("status.{field}"), i64::from(v.unwrap_or(0)));
    }
    if let Some(c) = s.collision_count {
        e.nonnegative("status.collisionCount", i64::from(c));
    }
    let replicas = s.replicas.unwrap_or(0);
    for (field, v) in [
        ("updatedReplicas", s.updated_replicas),
        ("readyReplicas", s.ready_replicas),
        ("availableReplicas", s.available_replicas),
    ] {
        let v = v.unwrap_or(0);
        if v > replicas {
            e.invalid(
                &format!("status.{field}"),
                v.to_string(),
                "cannot be greater than status.replicas",
            );
        }
    }
    let (available, ready) = (
        s.available_replicas.unwrap_or(0),
        s.ready_replicas.unwrap_or(0),
    );
    if available > ready {
        e.invalid(
            "status.availableReplicas",
            available.to_string(),
            "cannot be greater than readyReplicas",
        );
    }
}

/// `ValidateReplicaSetStatus`: the same rules over a ReplicaSet's counts.
pub(super) fn validate_replica_set_status(rs: &ReplicaSet, e: &mut Errs) {
    let s = rs.status.clone().unwrap_or_default();
    let replicas = s.replicas;
    e.nonnegative("status.replicas", i64::from(replicas));
    let counts = [
        ("fullyLabeledReplicas", s.fully_labeled_replicas),
        ("readyReplicas", s.ready_replicas),
        ("availableReplicas", s.available_replicas),
    ];
    for (field, v) in counts {
        e.nonnegative(&format!("status.{field}"), i64::from(v.unwrap_or(0)));
    }
    e.nonnegative(
        "status.observedGeneration",
        s.observed_generation.unwrap_or(0),
    );
    for (field, v) in counts {
        let v = v.unwrap_or(0);
        if v > replicas {
            e.invalid(
                &format!("status.{field}"),
                v.to_string(),
                "cannot be greater than status.replicas",
            );
        }
    }
    let (available, ready) = (
        s.available_replicas.unwrap_or(0),
        s.ready_replicas.unwrap_or(0),
    );
    if available > ready {
        e.invalid(
            "status.availableReplicas",
            available.to_string(),
            "cannot be greater than readyReplicas",
        );
    }
}

#[cfg(test)]
mod tests {
    //! Cases of `pkg/apis/apps/validation/validation_test.go` (`TestValidateDeployment`,
    //! `TestValidateRollingUpdate…`, `TestValidateReplicaSet`).

    use crate::api::validation::tests::{check, course_with};

    #[test]
    fn course_manifest_recreate_is_valid() {
        let y = course_with(
            "    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n",
            "    type: Recreate\n",
        );
        assert_eq!(check(&y), Vec::<String>::new());
        let y = course_with(
            "  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n",
            "  strategy: {type: Recreate}\n",
        );
        assert_eq!(check(&y), Vec::<String>::new());
    }

    #[test]
    fn negative_replicas() {
        assert_eq!(
            check(&course_with("replicas: 10", "replicas: -1")),
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn both_zero_surge_and_unavailable() {
        assert_eq!(
            check(&course_with(
                "{maxSurge: 2, maxUnavailable: 0}",
                "{maxSurge: 0, maxUnavailable: 0}"
            )),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
            ]
        );
        // "0%" counts as 0 too.
        assert_eq!(
            check(&course_with(
                "{maxSurge: 2, maxUnavailable: 0}",
                "{maxSurge: '0%', maxUnavailable: 0}"
            ))
            .len(),
            1
        );
    }

    #[test]
    fn rolling_update_value_cases() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "surge_one_unavailable_one_percent",
                "{maxSurge: 0, maxUnavailable: '1%'}",
                &[],
            ),
            (
                "surge_200_percent_has_no_cap",
                "{maxSurge: '200%', maxUnavailable: 0}",
                &[],
            ),
            (
                "negative_surge",
                "{maxSurge: -1, maxUnavailable: 1}",
                &[
                    "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0",
                ],
            ),
            (
                "string_without_percent",
                "{maxSurge: '1', maxUnavailable: 1}",
                &[
                    "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"1\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                ],
            ),
            (
                "unavailable_over_100_percent",
                "{maxSurge: 1, maxUnavailable: '120%'}",
                &[
                    "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%",
                ],
            ),
        ];
        for (name, ru, want) in cases {
            let got = check(&course_with("{maxSurge: 2, maxUnavailable: 0}", ru));
            assert_eq!(got, *want, "case {name}");
        }
    }

    #[test]
    fn recreate_with_rolling_update_is_forbidden() {
        assert_eq!(
            check(&course_with("type: RollingUpdate", "type: Recreate")),
            [
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
            ]
        );
    }

    #[test]
    fn unknown_strategy_type() {
        let y = course_with(
            "    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n",
            "    type: BlueGreen\n",
        );
        assert_eq!(
            check(&y),
            [
                "spec.strategy: Unsupported value: {\"Type\":\"BlueGreen\",\"RollingUpdate\":null}: supported values: \"Recreate\", \"RollingUpdate\""
            ]
        );
    }

    #[test]
    fn selector_does_not_match_template() {
        let y = course_with(
            "    matchLabels: {phase: live-coding, app: rest-api}",
            "    matchLabels: {app: other}",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.metadata.labels: Invalid value: {\"app\":\"rest-api\",\"phase\":\"live-coding\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn missing_selector() {
        let y = course_with(
            "  selector:\n    matchLabels: {phase: live-coding, app: rest-api}\n",
            "",
        );
        assert_eq!(
            check(&y),
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: {\"app\":\"rest-api\",\"phase\":\"live-coding\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn empty_match_labels() {
        let y = course_with(
            "    matchLabels: {phase: live-coding, app: rest-api}",
            "    matchLabels: {}",
        );
        assert_eq!(
            check(&y),
            ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]
        );
    }

    #[test]
    fn restart_policy_never_in_deployment() {
        let y = course_with(
            "    spec:\n      containers:",
            "    spec:\n      restartPolicy: Never\n      containers:",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ]
        );
    }

    #[test]
    fn progress_deadline_and_friends() {
        let y = course_with(
            "replicas: 10",
            "replicas: 1\n  minReadySeconds: 600\n  revisionHistoryLimit: -1",
        );
        assert_eq!(
            check(&y),
            [
                "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
            ]
        );
    }

    /// `TestValidateReplicaSet` error cases.
    #[test]
    fn replica_set_rules() {
        let rs = |spec: &str| {
            format!(
                "{{apiVersion: apps/v1, kind: ReplicaSet, metadata: {{name: rs, namespace: d}}, spec: {spec}}}"
            )
        };
        let tmpl =
            "template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}";
        assert_eq!(
            check(&rs(&format!(
                "{{selector: {{matchLabels: {{a: b}}}}, {tmpl}}}"
            ))),
            Vec::<String>::new()
        );
        assert_eq!(
            check(&rs(&format!(
                "{{replicas: -1, minReadySeconds: -1, selector: {{matchLabels: {{a: c}}}}, {tmpl}}}"
            ))),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: {\"a\":\"b\"}: `selector` does not match template `labels`",
            ]
        );
        assert_eq!(
            check(&rs(&format!(
                "{{selector: {{matchExpressions: [{{key: a, operator: In}}, {{key: b, operator: Exists, values: [x]}}, {{key: c, operator: Bad}}]}}, {tmpl}}}"
            ))),
            [
                "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                "spec.selector.matchExpressions[2].operator: Invalid value: \"Bad\": not a valid selector operator",
                "spec.selector: Invalid value: {\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"},{\"key\":\"b\",\"operator\":\"Exists\",\"values\":[\"x\"]},{\"key\":\"c\",\"operator\":\"Bad\"}]}: invalid label selector",
            ]
        );
    }
}
