//! Scaling a Deployment in the middle of a stalled rollout: proportional scaling across the
//! active ReplicaSets (k8s-semantics §7 and the §17 (g) trace).

use crate::support::*;

/// Ten replicas with the default 25%/25% stall at old 8 / new 5 on an image that never
/// becomes ready (§17 (f)).
fn stalled(tail: &[&str]) -> ScriptBuilder {
    let mut b = ScriptBuilder::new()
        .image("registry.local/api:broken", "{ready: never}")
        .apply(&namespace("demo"))
        .apply(&deployment(
            "web",
            "demo",
            10,
            "registry.local/credit-scoring-api:single",
            &[],
        ))
        .wait("web", "demo")
        .kubectl("set image deployment/web api=registry.local/api:broken -n demo")
        .advance("2m");
    for step in tail {
        b = b.step(step);
    }
    b
}

#[test]
fn scaling_up_a_stalled_rollout_grows_both_replica_sets_in_proportion() {
    let out = run_ok(
        &stalled(&[
            "kubectl: get rs -n demo",
            "kubectl: scale deployment/web --replicas=15 -n demo",
            "advance: 2m",
            "kubectl: get deploy web -n demo",
        ])
        .build(),
    );
    let recs = records(&out);
    let before = dep(at(&recs, 120.0), "web");
    assert_eq!(sizes(before), [(1, 8), (2, 5)], "the §17 (f) stall");
    // allowed = 15 + ceil(25% of 15) = 19, toAdd = 19 − 13 = 6;
    // old: round(8 × 19/13) − 8 = +4, new: round(5 × 19/13) − 5 = +2.
    let after = dep(recs.last().unwrap(), "web");
    assert_eq!(sizes(after), [(1, 12), (2, 7)]);
    // Still stalled: the new pods are never ready, old ones carry the load.
    assert_eq!((after.updated_replicas, after.available_replicas), (7, 12));
    assert!(
        recs.iter().all(|r| dep(r, "web")
            .replica_sets
            .iter()
            .map(|rs| rs.replicas)
            .sum::<i32>()
            <= 19),
        "never more than replicas + maxSurge pods wanted"
    );
    let table = section(&out.transcript, "kubectl get deploy web -n demo");
    assert_eq!(rows(table)[0][1..4], ["12/15", "7", "12"], "{table}");
}

#[test]
fn scaling_down_a_stalled_rollout_shrinks_both_replica_sets_in_proportion() {
    let out = run_ok(
        &stalled(&[
            "kubectl: scale deployment/web --replicas=5 -n demo",
            "advance: 1m",
        ])
        .build(),
    );
    let recs = records(&out);
    // allowed = 5 + ceil(1.25) = 7, toAdd = 7 − 13 = −6;
    // old: round(8 × 7/13) − 8 = −4, new: round(5 × 7/13) − 5 = −2.
    let last = dep(recs.last().unwrap(), "web");
    assert_eq!(sizes(last), [(1, 4), (2, 3)]);
    assert_eq!(last.available_replicas, 4);
}
