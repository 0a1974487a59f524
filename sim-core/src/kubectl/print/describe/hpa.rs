//! `kubectl describe horizontalpodautoscaler` (`describeHorizontalPodAutoscalerV2` and
//! `printDirectionBehavior`).

use k8s_openapi::api::autoscaling::v2::{HPAScalingRules, HorizontalPodAutoscaler};
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

use super::events::describe_events;
use super::{PrefixWriter, print_annotations_multiline, print_labels_multiline};
use crate::kubectl::print::util::{rfc1123z_opt, s};

fn quantity(q: &Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>) -> String {
    q.as_ref().map_or_else(|| "0".to_string(), |q| q.0.clone())
}

/// `kubectl describe hpa`.
pub fn describe_hpa(h: &HorizontalPodAutoscaler, events: &[Event], now: Timestamp) -> String {
    let mut w = PrefixWriter::new();
    let spec = h.spec.clone().unwrap_or_default();
    let status = h.status.clone().unwrap_or_default();
    let current_metrics = status.current_metrics.clone().unwrap_or_default();
    w.write(0, &format!("Name:\t{}\n", s(&h.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&h.metadata.namespace)));
    print_labels_multiline(&mut w, "Labels", h.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", h.metadata.annotations.as_ref());
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z_opt(h.metadata.creation_timestamp.as_ref())
        ),
    );
    w.write(
        0,
        &format!(
            "Reference:\t{}/{}\n",
            spec.scale_target_ref.kind, spec.scale_target_ref.name
        ),
    );
    w.write(0, "Metrics:\t( current / target )\n");
    let unknown = || "<unknown>".to_string();
    for (i, m) in spec.metrics.iter().flatten().enumerate() {
        let st = current_metrics.get(i);
        match (
            m.type_.as_str(),
            &m.resource,
            &m.pods,
            &m.container_resource,
        ) {
            ("Resource", Some(r), _, _) => {
                w.write(1, &format!("resource {} on pods", r.name));
                let cur = st.and_then(|s| s.resource.as_ref()).map(|r| &r.current);
                if r.target.average_value.is_some() {
                    let c = cur.map_or_else(unknown, |c| quantity(&c.average_value));
                    w.write(
                        0,
                        &format!(":\t{c} / {}\n", quantity(&r.target.average_value)),
                    );
                } else {
                    let c = cur
                        .and_then(|c| c.average_utilization.map(|u| (u, &c.average_value)))
                        .map_or_else(unknown, |(u, v)| format!("{u}% ({})", quantity(v)));
                    let t = r
                        .target
                        .average_utilization
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    w.write(1, &format!("(as a percentage of request):\t{c} / {t}\n"));
                }
            }
            ("ContainerResource", _, _, Some(r)) => {
                w.write(
                    1,
                    &format!(
                        "resource {} of container \"{}\" on pods",
                        r.name, r.container
                    ),
                );
                let cur = st
                    .and_then(|s| s.container_resource.as_ref())
                    .map(|r| &r.current);
                if r.target.average_value.is_some() {
                    let c = cur.map_or_else(unknown, |c| quantity(&c.average_value));
                    w.write(
                        0,
                        &format!(":\t{c} / {}\n", quantity(&r.target.average_value)),
                    );
                } else {
                    let c = cur
                        .and_then(|c| c.average_utilization.map(|u| (u, &c.average_value)))
                        .map_or_else(unknown, |(u, v)| format!("{u}% ({})", quantity(v)));
                    let t = r
                        .target
                        .average_utilization
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    w.write(1, &format!("(as a percentage of request):\t{c} / {t}\n"));
                }
            }
            ("Pods", _, Some(p), _) => {
                let c = st
                    .and_then(|s| s.pods.as_ref())
                    .map_or_else(unknown, |p| quantity(&p.current.average_value));
                w.write(
                    1,
                    &format!(
                        "{:?} on pods:\t{c} / {}\n",
                        p.metric.name,
                        quantity(&p.target.average_value)
                    ),
                );
            }
            _ => w.write(1, &format!("<unknown metric type {:?}>", m.type_)),
        }
    }
    w.write(
        0,
        &format!(
            "Min replicas:\t{}\n",
            spec.min_replicas
                .map_or_else(|| "<unset>".to_string(), |m| m.to_string())
        ),
    );
    w.write(0, &format!("Max replicas:\t{}\n", spec.max_replicas));
    if let Some(b) = &spec.behavior {
        w.write(0, "Behavior:\n");
        print_direction_behavior(&mut w, "Scale Up", b.scale_up.as_ref());
        print_direction_behavior(&mut w, "Scale Down", b.scale_down.as_ref());
    }
    w.write(0, &format!("{} pods:\t", spec.scale_target_ref.kind));
    w.write(
        0,
        &format!(
            "{} current / {} desired\n",
            status.current_replicas.unwrap_or(0),
            status.desired_replicas
        ),
    );
    let conditions = status.conditions.unwrap_or_default();
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tReason\tMessage\n");
        w.write(1, "----\t------\t------\t-------\n");
        for c in &conditions {
            w.write(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\n",
                    c.type_,
                    c.status,
                    s(&c.reason),
                    s(&c.message)
                ),
            );
        }
    }
    describe_events(events, &mut w, now);
    w.finish()
}

/// `printDirectionBehavior`.
fn print_direction_behavior(
    w: &mut PrefixWriter,
    direction: &str,
    rules: Option<&HPAScalingRules>,
) {
    let Some(r) = rules else {
        return;
    };
    w.write(1, &format!("{direction}:\n"));
    if let Some(s) = r.stabilization_window_seconds {
        w.write(2, &format!("Stabilization Window: {s} seconds\n"));
    }
    let policies = r.policies.as_deref().unwrap_or_default();
    if !policies.is_empty() {
        w.write(
            2,
            &format!(
                "Select Policy: {}\n",
                r.select_policy.as_deref().unwrap_or("Max")
            ),
        );
        w.write(2, "Policies:\n");
        for p in policies {
            w.write(
                3,
                &format!(
                    "- Type: {}\tValue: {}\tPeriod: {} seconds\n",
                    p.type_, p.value, p.period_seconds
                ),
            );
        }
    }
}
