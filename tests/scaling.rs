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

/// The rows of the `Events:` table at the end of a describe: (age, message).
fn event_rows(describe: &str) -> Vec<(String, String)> {
    describe
        .lines()
        .skip_while(|l| !l.starts_with("Events:"))
        .skip(3)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let cols: Vec<&str> = l
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            (cols[2].to_string(), cols[4..].join("  "))
        })
        .collect()
}

#[test]
fn fourteen_scale_steps_leave_nine_events_and_one_combined() {
    // client-go's EventCorrelator (tools/record/events_cache.go): the deployment
    // controller's ScalingReplicaSet events about one Deployment are similar (same source,
    // object, type and reason); the tenth distinct message within ten minutes and every
    // one after it go to one event, `(combined from similar events): <latest message>`,
    // counted. 1 + 14 events: nine lines of their own, the 10th to the 15th combined (x6).
    // The ReplicaSet's `Created pod:` events are combined the same way.
    let mut b = ScriptBuilder::new()
        .apply(&deployment("web", "default", 1, "nginx", &[]))
        .wait("web", "default");
    for n in 2..=15 {
        b = b
            .kubectl(&format!("scale deployment/web --replicas={n}"))
            .advance("10s");
    }
    let out = run_ok(
        &b.kubectl("describe deployment web")
            .kubectl("describe rs")
            .build(),
    );
    let rs = dep(
        records(&out).last().expect("the run traced the Deployment"),
        "web",
    )
    .replica_sets[0]
        .name
        .clone();
    let deploy = event_rows(section(&out.transcript, "kubectl describe deployment web"));
    let mut want = vec![format!("Scaled up replica set {rs} to 1")];
    want.extend((2..=9).map(|n| format!("Scaled up replica set {rs} to {n} from {}", n - 1)));
    want.push(format!(
        "(combined from similar events): Scaled up replica set {rs} to 15 from 14"
    ));
    assert_eq!(
        deploy.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        want,
        "{deploy:#?}"
    );
    assert_eq!(deploy[9].0, "10s (x6 over 60s)");
    assert!(
        deploy[..9].iter().all(|r| !r.0.contains('x')),
        "{deploy:#?}"
    );

    let created = event_rows(section(&out.transcript, "kubectl describe rs"));
    assert_eq!(created.len(), 10, "{created:#?}");
    assert!(
        created[..9]
            .iter()
            .all(|r| r.1.starts_with("Created pod: "))
    );
    assert!(
        created[9]
            .1
            .starts_with("(combined from similar events): Created pod: "),
        "{created:#?}"
    );
    assert_eq!(created[9].0, "10s (x6 over 60s)");
}
