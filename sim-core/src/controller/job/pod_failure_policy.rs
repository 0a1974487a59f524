//! `matchPodFailurePolicy` of `pkg/controller/job/pod_failure_policy.go`: the first rule
//! that matches a failed pod's non-zero container exit codes, or its conditions (only
//! `DisruptionTarget` is modelled), decides whether the failure fails the Job, counts
//! against `backoffLimit`, or is ignored.

use k8s_openapi::api::batch::v1::PodFailurePolicy;

use crate::store::PodState;
use crate::store::pod::CState;

/// What the policy says about one failed pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `FailJob`, with the message the Job's condition and event carry.
    FailJob(String),
    /// `Ignore`: not counted as a failure.
    Ignore,
    /// `Count`, or no rule matched: an ordinary failure.
    Count,
}

/// `matchPodFailurePolicy`.
pub fn match_policy(policy: &PodFailurePolicy, pod: &PodState) -> Verdict {
    let names: Vec<&str> = pod
        .template
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    for (index, rule) in policy.rules.iter().enumerate() {
        if let Some(req) = &rule.on_exit_codes {
            let hit = pod.containers.iter().zip(&names).find_map(|(c, name)| {
                let CState::Terminated(t) = &c.state else {
                    return None;
                };
                if t.exit_code == 0 {
                    return None;
                }
                if req.container_name.as_deref().is_some_and(|n| n != *name) {
                    return None;
                }
                let listed = req.values.contains(&t.exit_code);
                let matches = match req.operator.as_str() {
                    "In" => listed,
                    "NotIn" => !listed,
                    _ => false,
                };
                matches.then_some((*name, t.exit_code))
            });
            if let Some((name, code)) = hit {
                return match rule.action.as_str() {
                    "Ignore" => Verdict::Ignore,
                    "FailJob" => Verdict::FailJob(format!(
                        "Container {name} for pod {}/{} failed with exit code {code} matching FailJob rule at index {index}",
                        pod.namespace, pod.name
                    )),
                    _ => Verdict::Count,
                };
            }
        } else if let Some(conds) = &rule.on_pod_conditions {
            let hit = pod.disruption.is_some()
                && conds.iter().any(|c| {
                    c.type_ == "DisruptionTarget" && c.status.as_deref().unwrap_or("True") == "True"
                });
            if hit {
                return match rule.action.as_str() {
                    "Ignore" => Verdict::Ignore,
                    "FailJob" => Verdict::FailJob(format!(
                        "Pod {}/{} has condition DisruptionTarget matching FailJob rule at index {index}",
                        pod.namespace, pod.name
                    )),
                    _ => Verdict::Count,
                };
            }
        }
    }
    Verdict::Count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::pod::Terminated;
    use crate::time::SimTime;
    use std::sync::Arc;

    fn failed_pod(codes: &[i32]) -> PodState {
        let containers: Vec<String> = (0..codes.len()).map(|i| format!("c{i}")).collect();
        let yaml = format!(
            "spec: {{restartPolicy: Never, containers: [{}]}}",
            containers
                .iter()
                .map(|n| format!("{{name: {n}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let template = Arc::new(serde_yaml::from_str(&yaml).expect("template"));
        let mut p = PodState::new(
            1,
            "job-abcde".into(),
            "default".into(),
            template,
            None,
            SimTime(0),
        );
        for (c, code) in p.containers.iter_mut().zip(codes) {
            c.state = CState::Terminated(Terminated {
                exit_code: *code,
                reason: if *code == 0 { "Completed" } else { "Error" },
                started: SimTime(0),
                finished: SimTime(0),
            });
        }
        p
    }

    fn policy(yaml: &str) -> PodFailurePolicy {
        serde_yaml::from_str(yaml).expect("policy")
    }

    #[test]
    fn exit_code_rules_match_in_order() {
        // TestMatchPodFailurePolicy rows.
        let p = policy(
            "rules: [{action: Ignore, onExitCodes: {operator: In, values: [1, 2, 3]}}, {action: FailJob, onExitCodes: {operator: In, values: [5, 6, 7]}}]",
        );
        assert_eq!(match_policy(&p, &failed_pod(&[2])), Verdict::Ignore);
        assert_eq!(
            match_policy(&p, &failed_pod(&[6])),
            Verdict::FailJob("Container c0 for pod default/job-abcde failed with exit code 6 matching FailJob rule at index 1".into())
        );
        assert_eq!(match_policy(&p, &failed_pod(&[42])), Verdict::Count);
        // NotIn, and exit code 0 never matches.
        let p = policy("rules: [{action: FailJob, onExitCodes: {operator: NotIn, values: [5]}}]");
        assert_eq!(match_policy(&p, &failed_pod(&[0, 5])), Verdict::Count);
        assert!(
            matches!(match_policy(&p, &failed_pod(&[0, 3])), Verdict::FailJob(m) if m.starts_with("Container c1 "))
        );
        // containerName restricts the rule.
        let p = policy(
            "rules: [{action: Ignore, onExitCodes: {containerName: c1, operator: In, values: [1]}}]",
        );
        assert_eq!(match_policy(&p, &failed_pod(&[1, 0])), Verdict::Count);
    }

    #[test]
    fn disruption_target_rules() {
        let p = policy(
            "rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget, status: 'True'}]}]",
        );
        let mut pod = failed_pod(&[137]);
        assert_eq!(match_policy(&p, &pod), Verdict::Count);
        pod.disruption = Some((SimTime(0), "DeletionByTaintManager", "Taint manager"));
        assert_eq!(match_policy(&p, &pod), Verdict::Ignore);
    }
}
