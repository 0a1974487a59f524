//! `autoscaling/v2` HorizontalPodAutoscaler defaults: a port of kubernetes
//! `pkg/apis/autoscaling/v2/defaults.go`. `behavior` is filled in only when the object has
//! one (the controller applies the same defaults to an absent one, `horizontal.go`).

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricTarget,
    ResourceMetricSource,
};

/// `autoscaling.DefaultCPUUtilization`: the target when an HPA names no metric.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

fn policy(type_: &str, value: i32) -> HPAScalingPolicy {
    HPAScalingPolicy {
        type_: type_.into(),
        value,
        period_seconds: 15,
    }
}

/// `defaultHPAScaleUpRules`: no stabilization, at most 4 pods or 100 % per 15 s, the larger.
pub fn default_scale_up() -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some("Max".into()),
        policies: Some(vec![policy("Pods", 4), policy("Percent", 100)]),
        tolerance: None,
    }
}

/// `defaultHPAScaleDownRules`: the window is left to the controller's flag (300 s), at most
/// 100 % per 15 s.
pub fn default_scale_down() -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some("Max".into()),
        policies: Some(vec![policy("Percent", 100)]),
        tolerance: None,
    }
}

/// `copyHPAScalingRules`: the set fields of `from` over `to`.
pub fn merge_rules(from: Option<&HPAScalingRules>, mut to: HPAScalingRules) -> HPAScalingRules {
    if let Some(from) = from {
        if from.select_policy.is_some() {
            to.select_policy.clone_from(&from.select_policy);
        }
        if from.stabilization_window_seconds.is_some() {
            to.stabilization_window_seconds = from.stabilization_window_seconds;
        }
        if from.policies.is_some() {
            to.policies.clone_from(&from.policies);
        }
        if from.tolerance.is_some() {
            to.tolerance.clone_from(&from.tolerance);
        }
    }
    to
}

/// `SetDefaults_HorizontalPodAutoscaler`.
pub fn hpa(h: &mut HorizontalPodAutoscaler) {
    let spec = h.spec.get_or_insert_default();
    spec.min_replicas.get_or_insert(1);
    if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
        spec.metrics = Some(vec![MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(DEFAULT_CPU_UTILIZATION),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }]);
    }
    if let Some(b) = spec.behavior.as_mut() {
        b.scale_up = Some(merge_rules(b.scale_up.as_ref(), default_scale_up()));
        b.scale_down = Some(merge_rules(b.scale_down.as_ref(), default_scale_down()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::autoscaling::v2::{
        HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec,
    };

    #[test]
    fn min_replicas_metrics_and_a_partial_behavior_are_defaulted() {
        // TestSetDefaultsHorizontalPodAutoscaler (pkg/apis/autoscaling/v2): a scaleDown with
        // only a window keeps it and gains the default select policy and policies.
        let mut h = HorizontalPodAutoscaler {
            spec: Some(HorizontalPodAutoscalerSpec {
                max_replicas: 3,
                behavior: Some(HorizontalPodAutoscalerBehavior {
                    scale_down: Some(HPAScalingRules {
                        stabilization_window_seconds: Some(60),
                        ..Default::default()
                    }),
                    scale_up: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        hpa(&mut h);
        let spec = h.spec.unwrap();
        assert_eq!(spec.min_replicas, Some(1));
        let m = &spec.metrics.unwrap()[0];
        assert_eq!(
            m.resource.as_ref().unwrap().target.average_utilization,
            Some(80)
        );
        let b = spec.behavior.unwrap();
        assert_eq!(b.scale_up, Some(default_scale_up()));
        let down = b.scale_down.unwrap();
        assert_eq!(down.stabilization_window_seconds, Some(60));
        assert_eq!(down.policies, default_scale_down().policies);
        assert_eq!(down.select_policy.as_deref(), Some("Max"));
    }
}
