//! `kubectl describe replicaset` (`ReplicaSetDescriber`).

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;

use super::events::describe_events;
use super::template::describe_pod_template;
use super::{PrefixWriter, print_annotations_multiline, print_labels_multiline};
use crate::kubectl::print::util::{controller_of, format_label_selector, s};

/// `kubectl describe replicaset`. `pods` are the pods the selector matches; only those whose
/// controller is this ReplicaSet are counted, as `getPodStatusForController` does.
pub fn describe_replicaset(
    rs: &ReplicaSet,
    pods: &[Pod],
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let spec = rs.spec.as_ref();
    w.write(0, &format!("Name:\t{}\n", s(&rs.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&rs.metadata.namespace)));
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            format_label_selector(spec.map(|s| &s.selector))
        ),
    );
    print_labels_multiline(&mut w, "Labels", rs.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", rs.metadata.annotations.as_ref());
    if let Some(c) = controller_of(&rs.metadata) {
        w.write(0, &format!("Controlled By:\t{}/{}\n", c.kind, c.name));
    }
    w.write(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            rs.status.as_ref().map(|s| s.replicas).unwrap_or(0),
            spec.and_then(|s| s.replicas).unwrap_or(1)
        ),
    );
    let (mut running, mut waiting, mut succeeded, mut failed) = (0, 0, 0, 0);
    for pod in pods {
        let owned =
            controller_of(&pod.metadata).is_some_and(|c| match rs.metadata.uid.as_deref() {
                Some(uid) => c.uid == uid,
                None => {
                    c.kind == "ReplicaSet" && Some(c.name.as_str()) == rs.metadata.name.as_deref()
                }
            });
        if !owned {
            continue;
        }
        match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Running") => running += 1,
            Some("Pending") => waiting += 1,
            Some("Succeeded") => succeeded += 1,
            Some("Failed") => failed += 1,
            _ => {}
        }
    }
    w.write(0, "Pods Status:\t");
    w.write(
        0,
        &format!(
            "{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed\n"
        ),
    );
    describe_pod_template(spec.and_then(|s| s.template.as_ref()), &mut w);
    let conditions = rs
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[]);
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
    describe_events(events, &mut w, now);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::print::describe::tests::check;
    use crate::kubectl::print::fixtures::*;

    #[test]
    fn replicaset_counts_only_its_pods() {
        check(
            describe_replicaset(&new_rs(), &course_pods(), &[], now()),
            "\
Name:           credit-scoring-api-5d8c7b9f4
Namespace:      live-coding
Selector:       app=credit-scoring-api,pod-template-hash=5d8c7b9f4
Labels:         app=credit-scoring-api
                pod-template-hash=5d8c7b9f4
Annotations:    deployment.kubernetes.io/desired-replicas: 10
                deployment.kubernetes.io/max-replicas: 12
                deployment.kubernetes.io/revision: 2
Controlled By:  Deployment/credit-scoring-api
Replicas:       2 current / 2 desired
Pods Status:    3 Running / 3 Waiting / 0 Succeeded / 1 Failed
Pod Template:
  Labels:  app=credit-scoring-api
           pod-template-hash=5d8c7b9f4
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
Events:            <none>
",
        );
    }
}
