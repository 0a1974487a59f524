//! `autoscaling/v2` HorizontalPodAutoscaler: a port of kubernetes
//! `pkg/apis/autoscaling/validation/validation.go` (`ValidateHorizontalPodAutoscaler`, its
//! spec, metric specs and targets, and `behavior`'s scaling rules), without the alpha
//! `HPAScaleToZero` gate (so `minReplicas` must be at least 1).

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricTarget,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::Errs;
use super::go_fmt::go_quote;
use super::meta::{NameRule, validate_object_meta};

/// The largest scaling policy period (seconds).
pub(super) const MAX_PERIOD_SECONDS: i32 = 1800;
/// The largest stabilization window (seconds).
pub(super) const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;

/// `ValidateHorizontalPodAutoscaler`.
pub(super) fn validate_hpa(h: &HorizontalPodAutoscaler, e: &mut Errs) {
    validate_object_meta(&h.metadata, true, NameRule::Subdomain, e);
    validate_hpa_spec(h, e);
}

/// `ValidateHorizontalPodAutoscalerStatusUpdate`: the replica counts are not negative.
pub(super) fn validate_hpa_status(h: &HorizontalPodAutoscaler, e: &mut Errs) {
    let status = h.status.clone().unwrap_or_default();
    e.nonnegative(
        "status.currentReplicas",
        i64::from(status.current_replicas.unwrap_or(0)),
    );
    e.nonnegative("status.desiredReplicas", i64::from(status.desired_replicas));
}

/// `validateHorizontalPodAutoscalerSpec` (minReplicas' lower bound 1).
pub(super) fn validate_hpa_spec(h: &HorizontalPodAutoscaler, e: &mut Errs) {
    let spec = h.spec.clone().unwrap_or_default();
    if let Some(min) = spec.min_replicas
        && min < 1
    {
        e.invalid(
            "spec.minReplicas",
            min.to_string(),
            "must be greater than or equal to 1",
        );
    }
    if spec.max_replicas < 1 {
        e.invalid(
            "spec.maxReplicas",
            spec.max_replicas.to_string(),
            "must be greater than 0",
        );
    }
    if let Some(min) = spec.min_replicas
        && spec.max_replicas < min
    {
        e.invalid(
            "spec.maxReplicas",
            spec.max_replicas.to_string(),
            "must be greater than or equal to `minReplicas`",
        );
    }
    validate_reference(&spec.scale_target_ref, "spec.scaleTargetRef", e);
    for (i, m) in spec.metrics.iter().flatten().enumerate() {
        validate_metric_spec(m, &format!("spec.metrics[{i}]"), e);
    }
    if let Some(b) = &spec.behavior {
        if let Some(r) = &b.scale_up {
            validate_scaling_rules(r, "spec.behavior.scaleUp", e);
        }
        if let Some(r) = &b.scale_down {
            validate_scaling_rules(r, "spec.behavior.scaleDown", e);
        }
    }
}

/// apimachinery `IsValidPathSegmentName`.
fn path_segment_errors(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    let mut out = Vec::new();
    for bad in ["/", "%"] {
        if name.contains(bad) {
            out.push(format!("may not contain '{bad}'"));
        }
    }
    out
}

/// `ValidateCrossVersionObjectReference`.
fn validate_reference(r: &CrossVersionObjectReference, path: &str, e: &mut Errs) {
    for (field, v) in [("kind", &r.kind), ("name", &r.name)] {
        if v.is_empty() {
            e.required(&format!("{path}.{field}"), "");
        } else {
            for m in path_segment_errors(v) {
                e.invalid_str(&format!("{path}.{field}"), v, &m);
            }
        }
    }
}

const METRIC_SOURCE_TYPES: &[&str] = &[
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

/// `validateMetricSpec`.
fn validate_metric_spec(m: &MetricSpec, path: &str, e: &mut Errs) {
    if m.type_.is_empty() {
        e.required(&format!("{path}.type"), "must specify a metric source type");
    }
    if !METRIC_SOURCE_TYPES.contains(&m.type_.as_str()) {
        e.not_supported(
            &format!("{path}.type"),
            go_quote(&m.type_),
            METRIC_SOURCE_TYPES,
        );
    }
    let mut present: Vec<&str> = Vec::new();
    if let Some(o) = &m.object {
        present.push("object");
        if present.len() == 1 {
            let p = format!("{path}.object");
            validate_reference(&o.described_object, &format!("{p}.describedObject"), e);
            validate_metric_name(&o.metric.name, &format!("{p}.metric"), e);
            validate_metric_target(&o.target, &format!("{p}.target"), e);
            if o.target.value.is_none() && o.target.average_value.is_none() {
                e.required(
                    &format!("{p}.target.averageValue"),
                    "must set either a target value or averageValue",
                );
            }
        }
    }
    if let Some(x) = &m.external {
        present.push("external");
        if present.len() == 1 {
            let p = format!("{path}.external");
            validate_metric_name(&x.metric.name, &format!("{p}.metric"), e);
            validate_metric_target(&x.target, &format!("{p}.target"), e);
            if x.target.value.is_none() && x.target.average_value.is_none() {
                e.required(
                    &format!("{p}.target.averageValue"),
                    "must set either a target value for metric or a per-pod target",
                );
            }
            if x.target.value.is_some() && x.target.average_value.is_some() {
                e.forbidden(
                    &format!("{p}.target.value"),
                    "may not set both a target value for metric and a per-pod target",
                );
            }
        }
    }
    if let Some(s) = &m.pods {
        present.push("pods");
        if present.len() == 1 {
            let p = format!("{path}.pods");
            validate_metric_name(&s.metric.name, &format!("{p}.metric"), e);
            validate_metric_target(&s.target, &format!("{p}.target"), e);
            if s.target.average_value.is_none() {
                e.required(
                    &format!("{p}.target.averageValue"),
                    "must specify a positive target averageValue",
                );
            }
        }
    }
    if let Some(r) = &m.resource {
        present.push("resource");
        if present.len() == 1 {
            let p = format!("{path}.resource");
            if r.name.is_empty() {
                e.required(&format!("{p}.name"), "must specify a resource name");
            }
            validate_utilization_target(&r.target, &p, e);
        }
    }
    if let Some(c) = &m.container_resource {
        present.push("containerResource");
        if present.len() == 1 {
            let p = format!("{path}.containerResource");
            if c.name.is_empty() {
                e.required(&format!("{p}.name"), "must specify a resource name");
            }
            if c.container.is_empty() {
                e.required(&format!("{p}.container"), "must specify a container");
            }
            validate_utilization_target(&c.target, &p, e);
        }
    }
    let expected = match m.type_.as_str() {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "External" => "external",
        "ContainerResource" => "containerResource",
        _ => {
            e.not_supported(
                &format!("{path}.type"),
                go_quote(&m.type_),
                METRIC_SOURCE_TYPES,
            );
            ""
        }
    };
    if !expected.is_empty() && !present.contains(&expected) {
        e.required(
            &format!("{path}.{expected}"),
            "must populate information for the given metric source",
        );
    }
    if present.len() != 1 {
        // Go walks a set here; sorted order.
        present.retain(|t| *t != expected);
        present.sort_unstable();
        for t in present {
            e.forbidden(
                &format!("{path}.{t}"),
                "must populate the given metric source only",
            );
        }
    }
}

/// The target checks `validateResourceSource` and `validateContainerResourceSource` share.
fn validate_utilization_target(t: &MetricTarget, path: &str, e: &mut Errs) {
    validate_metric_target(t, &format!("{path}.target"), e);
    if t.average_utilization.is_none() && t.average_value.is_none() {
        e.required(
            &format!("{path}.target.averageUtilization"),
            "must set either a target raw value or a target utilization",
        );
    }
    if t.average_utilization.is_some() && t.average_value.is_some() {
        e.forbidden(
            &format!("{path}.target.averageValue"),
            "may not set both a target raw value and a target utilization",
        );
    }
}

fn positive(q: &Quantity) -> bool {
    crate::api::quantity::parse_quantity(&q.0).is_ok_and(|v| !v.is_negative() && !v.is_zero())
}

/// `validateMetricTarget`.
fn validate_metric_target(t: &MetricTarget, path: &str, e: &mut Errs) {
    if t.type_.is_empty() {
        e.required(&format!("{path}.type"), "must specify a metric target type");
    }
    if !matches!(t.type_.as_str(), "Utilization" | "Value" | "AverageValue") {
        e.invalid_str(
            &format!("{path}.type"),
            &t.type_,
            "must be either Utilization, Value, or AverageValue",
        );
    }
    if let Some(v) = &t.value
        && !positive(v)
    {
        e.invalid(&format!("{path}.value"), go_quote(&v.0), "must be positive");
    }
    if let Some(v) = &t.average_value
        && !positive(v)
    {
        e.invalid(
            &format!("{path}.averageValue"),
            go_quote(&v.0),
            "must be positive",
        );
    }
    if let Some(u) = t.average_utilization
        && u < 1
    {
        e.invalid(
            &format!("{path}.averageUtilization"),
            u.to_string(),
            "must be greater than 0",
        );
    }
}

/// `validateMetricIdentifier`.
fn validate_metric_name(name: &str, path: &str, e: &mut Errs) {
    if name.is_empty() {
        e.required(&format!("{path}.name"), "must specify a metric name");
    } else {
        for m in path_segment_errors(name) {
            e.invalid_str(&format!("{path}.name"), name, &m);
        }
    }
}

/// `validateScalingRules` and `validateScalingPolicy`.
fn validate_scaling_rules(r: &HPAScalingRules, path: &str, e: &mut Errs) {
    if let Some(w) = r.stabilization_window_seconds {
        if w < 0 {
            e.invalid(
                &format!("{path}.stabilizationWindowSeconds"),
                w.to_string(),
                "must be greater than or equal to zero",
            );
        }
        if w > MAX_STABILIZATION_WINDOW_SECONDS {
            e.invalid(
                &format!("{path}.stabilizationWindowSeconds"),
                w.to_string(),
                &format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            );
        }
    }
    if let Some(s) = &r.select_policy
        && !matches!(s.as_str(), "Disabled" | "Max" | "Min")
    {
        e.not_supported(
            &format!("{path}.selectPolicy"),
            go_quote(s),
            &["Disabled", "Max", "Min"],
        );
    }
    let policies = r.policies.as_deref().unwrap_or_default();
    if policies.is_empty() {
        e.required(
            &format!("{path}.policies"),
            "must specify at least one Policy",
        );
    }
    for (i, p) in policies.iter().enumerate() {
        let pp = format!("{path}.policies[{i}]");
        if !matches!(p.type_.as_str(), "Pods" | "Percent") {
            e.not_supported(
                &format!("{pp}.type"),
                go_quote(&p.type_),
                &["Percent", "Pods"],
            );
        }
        if p.value <= 0 {
            e.invalid(
                &format!("{pp}.value"),
                p.value.to_string(),
                "must be greater than zero",
            );
        }
        if p.period_seconds <= 0 {
            e.invalid(
                &format!("{pp}.periodSeconds"),
                p.period_seconds.to_string(),
                "must be greater than zero",
            );
        }
        if p.period_seconds > MAX_PERIOD_SECONDS {
            e.invalid(
                &format!("{pp}.periodSeconds"),
                p.period_seconds.to_string(),
                &format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;

    const HPA: &str = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: MIN
  maxReplicas: MAX
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: UTIL}}
";

    fn hpa(min: &str, max: &str, util: &str) -> String {
        HPA.replace("MIN", min)
            .replace("MAX", max)
            .replace("UTIL", util)
    }

    #[test]
    fn replica_bounds_and_targets() {
        assert!(check(&hpa("1", "10", "50")).is_empty());
        assert_eq!(
            check(&hpa("0", "10", "50")),
            ["spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"]
        );
        assert_eq!(
            check(&hpa("5", "2", "50")),
            ["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"]
        );
        assert_eq!(
            check(&hpa("1", "0", "50")),
            [
                "spec.maxReplicas: Invalid value: 0: must be greater than 0",
                "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`"
            ]
        );
        assert_eq!(
            check(&hpa("1", "3", "0")),
            [
                "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"
            ]
        );
    }

    #[test]
    fn metric_sources_and_behaviour() {
        let two_sources = hpa("1", "3", "50").replace(
            "    resource: {",
            "    pods: {metric: {name: qps}, target: {type: AverageValue, averageValue: \"1\"}}\n    resource: {",
        );
        assert_eq!(
            check(&two_sources),
            ["spec.metrics[0].pods: Forbidden: must populate the given metric source only"]
        );
        let behavior = format!(
            "{}  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 4000\n      selectPolicy: Most\n      policies: [{{type: Percent, value: 0, periodSeconds: 1801}}]\n    scaleUp: {{policies: []}}\n",
            hpa("1", "3", "50")
        );
        assert_eq!(
            check(&behavior),
            [
                "spec.behavior.scaleUp.policies: Required value: must specify at least one Policy",
                "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600",
                "spec.behavior.scaleDown.selectPolicy: Unsupported value: \"Most\": supported values: \"Disabled\", \"Max\", \"Min\"",
                "spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero",
                "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
            ]
        );
    }
}
