//! `kubectl describe deployment` (`DeploymentDescriber`).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

use super::events::describe_events;
use super::template::describe_pod_template;
use super::{PrefixWriter, print_annotations_multiline, print_labels_multiline};
use crate::kubectl::print::util::{int_or_string, rfc1123z_opt, s, selector_string};

/// `kubectl describe deployment`: metadata, replica counts, strategy, pod template, conditions,
/// the old and new ReplicaSets and the events.
pub fn describe_deployment(
    d: &Deployment,
    old_rss: &[ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let spec = d.spec.as_ref();
    let st = d.status.as_ref();
    w.write(0, &format!("Name:\t{}\n", s(&d.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&d.metadata.namespace)));
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z_opt(d.metadata.creation_timestamp.as_ref())
        ),
    );
    print_labels_multiline(&mut w, "Labels", d.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", d.metadata.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            selector_string(spec.map(|s| &s.selector))
        ),
    );
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            spec.and_then(|s| s.replicas).unwrap_or(1),
            st.and_then(|s| s.updated_replicas).unwrap_or(0),
            st.and_then(|s| s.replicas).unwrap_or(0),
            st.and_then(|s| s.available_replicas).unwrap_or(0),
            st.and_then(|s| s.unavailable_replicas).unwrap_or(0),
        ),
    );
    let strategy = spec.and_then(|s| s.strategy.as_ref());
    w.write(
        0,
        &format!(
            "StrategyType:\t{}\n",
            strategy.and_then(|s| s.type_.as_deref()).unwrap_or("")
        ),
    );
    w.write(
        0,
        &format!(
            "MinReadySeconds:\t{}\n",
            spec.and_then(|s| s.min_ready_seconds).unwrap_or(0)
        ),
    );
    if let Some(ru) = strategy.and_then(|s| s.rolling_update.as_ref()) {
        // The API server defaults both to 25%.
        let unavailable = ru
            .max_unavailable
            .as_ref()
            .map(int_or_string)
            .unwrap_or_else(|| "25%".to_string());
        let surge = ru
            .max_surge
            .as_ref()
            .map(int_or_string)
            .unwrap_or_else(|| "25%".to_string());
        w.write(
            0,
            &format!("RollingUpdateStrategy:\t{unavailable} max unavailable, {surge} max surge\n"),
        );
    }
    describe_pod_template(spec.map(|s| &s.template), &mut w);
    let conditions = st.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
        w.write(1, "----\t------\t------\n");
        for c in conditions {
            w.write(
                1,
                &format!("{} \t{}\t{}\n", c.type_, c.status, s(&c.reason)),
            );
        }
    }
    if !old_rss.is_empty() || new_rs.is_some() {
        let old: Vec<&ReplicaSet> = old_rss.iter().collect();
        let new: Vec<&ReplicaSet> = new_rs.into_iter().collect();
        w.write(
            0,
            &format!("OldReplicaSets:\t{}\n", replica_sets_by_labels(&old)),
        );
        w.write(
            0,
            &format!("NewReplicaSet:\t{}\n", replica_sets_by_labels(&new)),
        );
    }
    describe_events(events, &mut w, now);
    w.finish()
}

/// `printReplicaSetsByLabels`: `name (current/desired replicas created)`, comma-separated.
fn replica_sets_by_labels(rss: &[&ReplicaSet]) -> String {
    let list: Vec<String> = rss
        .iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                s(&rs.metadata.name),
                rs.status.as_ref().map(|s| s.replicas).unwrap_or(0),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            )
        })
        .collect();
    if list.is_empty() {
        "<none>".to_string()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::print::describe::tests::check;
    use crate::kubectl::print::fixtures::*;

    #[test]
    fn deployment_mid_rollout() {
        let events = course_events();
        check(describe_deployment(&course_deployment(), &[old_rs()], Some(&new_rs()), &events[..1], now()),
"\
Name:                   credit-scoring-api
Namespace:              live-coding
CreationTimestamp:      Mon, 23 Nov 2026 11:00:00 +0000
Labels:                 app=credit-scoring-api
Annotations:            deployment.kubernetes.io/revision: 2
Selector:               app=credit-scoring-api
Replicas:               10 desired | 2 updated | 12 total | 10 available | 2 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  0 max unavailable, 2 max surge
Pod Template:
  Labels:  app=credit-scoring-api
  Containers:
   api:
    Image:         registry.local/credit-scoring-api:single
    Port:          8080/TCP
    Host Port:     0/TCP
    Readiness:     http-get http://:8080/ delay=0s timeout=5s period=5s #success=1 #failure=3
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      True    MinimumReplicasAvailable
  Progressing    True    ReplicaSetUpdated
OldReplicaSets:  credit-scoring-api-7c9d8f6b5 (10/10 replicas created)
NewReplicaSet:   credit-scoring-api-5d8c7b9f4 (2/2 replicas created)
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  2m    deployment-controller  Scaled up replica set credit-scoring-api-5d8c7b9f4 from 0 to 2
");
    }
}
