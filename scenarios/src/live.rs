//! A scenario's checks against a cluster kubesim does not run (kind, minikube, GKE): the
//! objects come from that cluster's API as JSON, read at the CLI's edge; here they become the
//! `World` checks see, and a step's checks are evaluated over it with the same
//! student-facing sentences as in the sandbox. No IO here.
//!
//! A one-shot check sees the present only: history functions (`minAvailable`,
//! `everCondition`, ...) see one sample, the Deployments as they are now, and traffic
//! functions see no traffic ([`HISTORY_NOTE`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;
use sim_core::trace::{ConditionTrace, DeploymentTrace, ReplicaSetTrace};

use crate::check::{Expr, World};
use crate::format::{Check, Scenario};
use crate::runner::CheckResult;

/// Said when a step's checks use history or traffic functions.
pub const HISTORY_NOTE: &str = "this check reads the step's history or traffic, which a one-shot check against a cluster does not have: it sees the cluster as it is now";

/// Why a step cannot be checked.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LiveError {
    /// The step number is not one of the scenario's.
    #[error("the scenario has {steps} steps; there is no step {step}")]
    NoSuchStep {
        /// Asked for (1-based).
        step: usize,
        /// How many there are.
        steps: usize,
    },
    /// A check does not compile (the scenario does not validate).
    #[error("check {name:?} does not compile: {message}")]
    Compile {
        /// The check's name.
        name: String,
        /// Why.
        message: String,
    },
}

/// The checks' world from objects listed by plural (`deployments` → the items of a list,
/// as the API serves them), at wall time `now` (seconds, for ages).
pub fn world(objects: BTreeMap<&'static str, Vec<Json>>, now: f64) -> World {
    let sample = deployment_sample(&objects);
    World {
        objects,
        now,
        step_start: now,
        deployments: vec![(now, sample)],
        services: Vec::new(),
        answers: Vec::new(),
    }
}

/// The Deployments' numbers now, as the sandbox traces them, from listed objects.
pub fn deployment_sample(objects: &BTreeMap<&'static str, Vec<Json>>) -> Vec<DeploymentTrace> {
    objects
        .get("deployments")
        .map(|ds| {
            ds.iter()
                .map(|d| deployment_trace(d, objects.get("replicasets")))
                .collect()
        })
        .unwrap_or_default()
}

/// A Deployment's numbers as the sandbox traces them, from its JSON (and its ReplicaSets').
fn deployment_trace(d: &Json, replica_sets: Option<&Vec<Json>>) -> DeploymentTrace {
    let int = |v: &Json| v.as_i64().unwrap_or(0) as i32;
    let revision = |o: &Json| {
        o["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let ns = d["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let uid = &d["metadata"]["uid"];
    let st = &d["status"];
    let conditions = st["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| ConditionTrace {
                    type_: c["type"].as_str().unwrap_or("").into(),
                    status: c["status"].as_str().unwrap_or("").into(),
                    reason: c["reason"].as_str().unwrap_or("").into(),
                })
                .collect()
        })
        .unwrap_or_default();
    let replica_sets = replica_sets
        .map(|rss| {
            rss.iter()
                .filter(|rs| {
                    rs["metadata"]["namespace"].as_str() == Some(&ns)
                        && rs["metadata"]["ownerReferences"]
                            .as_array()
                            .is_some_and(|os| os.iter().any(|o| o["uid"] == *uid))
                })
                .map(|rs| ReplicaSetTrace {
                    name: rs["metadata"]["name"].as_str().unwrap_or("").into(),
                    revision: revision(rs),
                    replicas: int(&rs["spec"]["replicas"]),
                    ready_replicas: int(&rs["status"]["readyReplicas"]),
                    available_replicas: int(&rs["status"]["availableReplicas"]),
                })
                .collect()
        })
        .unwrap_or_default();
    DeploymentTrace {
        namespace: ns,
        name: d["metadata"]["name"].as_str().unwrap_or("").into(),
        revision: revision(d),
        replicas: int(&st["replicas"]),
        updated_replicas: int(&st["updatedReplicas"]),
        ready_replicas: int(&st["readyReplicas"]),
        available_replicas: int(&st["availableReplicas"]),
        unavailable_replicas: int(&st["unavailableReplicas"]),
        conditions,
        replica_sets,
        autoscaler: None,
    }
}

/// Step `step`'s (1-based) checks evaluated over `world`, each with whether it reads
/// history or traffic (then [`HISTORY_NOTE`] applies).
pub fn check_step(
    scenario: &Scenario,
    step: usize,
    world: World,
) -> Result<Vec<(CheckResult, bool)>, LiveError> {
    let steps = scenario.steps.len();
    let Some(s) = step.checked_sub(1).and_then(|i| scenario.steps.get(i)) else {
        return Err(LiveError::NoSuchStep { step, steps });
    };
    let results = check_all(&s.checks, &std::sync::Arc::new(world))?;
    Ok(results
        .into_iter()
        .map(|r| {
            let history = crate::check::HISTORY_FUNCTIONS
                .iter()
                .any(|f| r.cel.contains(&format!("{f}(")));
            (r, history)
        })
        .collect())
}

/// Checks evaluated over `world`, in order, with the sandbox's sentences.
pub fn check_all(checks: &[Check], world: &Arc<World>) -> Result<Vec<CheckResult>, LiveError> {
    checks
        .iter()
        .map(|c| {
            let expr = Expr::compile(&c.cel).map_err(|e| LiveError::Compile {
                name: c.name.clone(),
                message: e.to_string(),
            })?;
            Ok(CheckResult {
                name: c.name.clone(),
                cel: c.cel.clone(),
                explain: c.explain.clone(),
                outcome: expr.evaluate(world),
            })
        })
        .collect()
}

/// Whether an event's condition holds over `world` (one that does not compile never does;
/// validation has refused it already).
pub fn holds(cel: &str, world: &Arc<World>) -> bool {
    Expr::compile(cel).is_ok_and(|e| e.evaluate(world).passed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(checks: &str) -> Scenario {
        let text = format!(
            "title: T\nsummary: S\nsetup: {{cluster: {{nodes: 1}}}}\nsteps:\n  - title: One\n    text: Do it\n    checks:\n{checks}"
        );
        crate::validate::validate(&text).0.expect("valid")
    }

    fn deployment(ready: i64) -> Json {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u1",
                         "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 3},
            "status": {"replicas": 3, "readyReplicas": ready, "availableReplicas": ready,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}
        })
    }

    #[test]
    fn a_step_is_checked_over_a_clusters_objects() {
        let sc = scenario(
            "      - name: three ready\n        cel: deployment('shop', 'web').status.readyReplicas == 3\n      - name: never below two\n        cel: minAvailable('shop', 'web') >= 2\n      - name: revision two\n        cel: revision('shop', 'web') == 2\n",
        );
        let mut objects = BTreeMap::new();
        objects.insert("deployments", vec![deployment(2)]);
        let results = check_step(&sc, 1, world(objects, 100.0)).unwrap();
        let got: Vec<(&str, bool, bool)> = results
            .iter()
            .map(|(r, h)| (r.name.as_str(), r.outcome.passed, *h))
            .collect();
        assert_eq!(
            got,
            [
                ("three ready", false, false),
                ("never below two", true, true),
                ("revision two", true, false),
            ]
        );
        // The student's sentence, as in the sandbox.
        assert!(!results[0].0.outcome.said.is_empty());
        let mut objects = BTreeMap::new();
        objects.insert("deployments", vec![deployment(3)]);
        let results = check_step(&sc, 1, world(objects, 100.0)).unwrap();
        assert!(results[0].0.outcome.passed);
    }

    #[test]
    fn a_missing_object_is_said_and_a_wrong_step_is_an_error() {
        let sc = scenario(
            "      - name: svc\n        cel: service('shop', 'web').spec.ports[0].port == 80\n",
        );
        let results = check_step(&sc, 1, world(BTreeMap::new(), 0.0)).unwrap();
        assert!(!results[0].0.outcome.passed);
        assert!(
            results[0].0.outcome.said.join(" ").contains("`web`"),
            "{:?}",
            results[0].0.outcome.said
        );
        assert_eq!(
            check_step(&sc, 2, world(BTreeMap::new(), 0.0)).unwrap_err(),
            LiveError::NoSuchStep { step: 2, steps: 1 }
        );
    }
}
