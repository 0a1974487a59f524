//! `progressDeadlineSeconds`: Progressing=False/ProgressDeadlineExceeded comes the deadline
//! (plus the one-second requeue) after the last progress, changes nothing else, and a paused
//! Deployment never times out (k8s-semantics §8.3, §8.4, §17 (e)).

use crate::support::*;

fn stuck_with_deadline(tail: &[&str]) -> ScriptBuilder {
    let mut b = ScriptBuilder::new()
        .image("registry.local/api:broken", "{ready: never}")
        .apply(&namespace("demo"))
        .apply(&deployment(
            "web",
            "demo",
            10,
            "registry.local/credit-scoring-api:single",
            &["progressDeadlineSeconds: 60"],
        ))
        .wait("web", "demo")
        // Let the first rollout's deadline requeues pass, so only the new rollout counts.
        .advance("3m")
        .kubectl("set image deployment/web api=registry.local/api:broken -n demo");
    for step in tail {
        b = b.step(step);
    }
    b
}

fn timed_out(d: &sim_core::trace::DeploymentTrace) -> bool {
    condition(d, "Progressing") == Some(("False".into(), "ProgressDeadlineExceeded".into()))
}

#[test]
fn a_short_deadline_times_out_a_minute_after_the_last_progress() {
    let out = run_ok(
        &stuck_with_deadline(&[
            "waitFor: {rollout: deployment/web, namespace: demo, timeout: 5m}",
            "kubectl: rollout status deployment/web -n demo",
            "kubectl: describe deployment web -n demo",
            "advance: 10m",
        ])
        .build(),
    );
    let recs = records(&out);
    let first_timeout = recs.iter().position(|r| timed_out(dep(r, "web"))).unwrap();
    // The last record before the timeout with different counts is the last progress.
    let last_progress = recs[..first_timeout]
        .iter()
        .rev()
        .find(|r| {
            let d = dep(r, "web");
            (d.updated_replicas, d.ready_replicas, d.available_replicas) == (5, 8, 8)
        })
        .map(|r| r.time)
        .unwrap();
    let timeout = recs[first_timeout].time;
    assert!(
        timeout > last_progress + 60.0 && timeout <= last_progress + 62.0,
        "ProgressDeadlineExceeded at {timeout}s, last progress at {last_progress}s"
    );
    // Nothing else changes: no rollback, capacity kept, the condition stays False.
    for r in &recs[first_timeout..] {
        let d = dep(r, "web");
        assert!(timed_out(d), "at {}s", r.time);
        assert_eq!(sizes(d), [(1, 8), (2, 5)]);
        assert_eq!(
            condition(d, "Available"),
            Some(("True".into(), "MinimumReplicasAvailable".into()))
        );
    }
    let wait = section(
        &out.transcript,
        "kubectl rollout status deployment/web -n demo --timeout=5m0s",
    );
    assert!(
        wait.ends_with("error: deployment \"web\" exceeded its progress deadline\n"),
        "{wait}"
    );
    assert_eq!(
        section(
            &out.transcript,
            "kubectl rollout status deployment/web -n demo"
        ),
        "error: deployment \"web\" exceeded its progress deadline\n"
    );
    let describe = section(&out.transcript, "kubectl describe deployment web -n demo");
    assert!(
        describe.contains("  Progressing    False   ProgressDeadlineExceeded\n"),
        "{describe}"
    );
    assert!(describe.contains("Replicas:               10 desired | 5 updated | 13 total | 8 available | 5 unavailable\n"), "{describe}");
}

#[test]
fn a_paused_rollout_never_times_out_and_the_clock_restarts_on_resume() {
    let out = run_ok(
        &stuck_with_deadline(&[
            "advance: 10s",
            "kubectl: rollout pause deployment/web -n demo",
            "advance: 5m",
            "kubectl: rollout resume deployment/web -n demo",
            "advance: 5m",
        ])
        .build(),
    );
    let recs = records(&out);
    let paused_at = 181.0 + 10.0;
    let resumed_at = paused_at + 300.0;
    for r in recs
        .iter()
        .filter(|r| r.time > paused_at && r.time < resumed_at)
    {
        assert_eq!(
            condition(dep(r, "web"), "Progressing"),
            Some(("Unknown".into(), "DeploymentPaused".into())),
            "at {}s",
            r.time
        );
    }
    let timeout = recs
        .iter()
        .find(|r| timed_out(dep(r, "web")))
        .map(|r| r.time)
        .unwrap();
    // Resuming stamps lastUpdateTime, so the minute starts again then.
    assert!(
        timeout > resumed_at + 60.0 && timeout <= resumed_at + 62.0,
        "timed out at {timeout}s, resumed at {resumed_at}s"
    );
}
