//! "Why did the controller do that?": the `explain` step and `--why`, minReadySeconds, and the
//! change stream the web UI and API server will watch.

use crate::support::*;
use sim_core::script::{RunOptions, run};

fn rolled(extra: &[&str]) -> String {
    ScriptBuilder::new()
        .image("registry.local/api:v2", "{startSeconds: 2}")
        .apply(&namespace("demo"))
        .apply(&deployment(
            "web",
            "demo",
            10,
            "registry.local/credit-scoring-api:single",
            extra,
        ))
        .wait("web", "demo")
        .kubectl("set image deployment/web api=registry.local/api:v2 -n demo")
        .wait("web", "demo")
        .step("explain: deployment/web -n demo")
        .build()
}

#[test]
fn explain_shows_each_scaling_step_with_its_arithmetic() {
    let out = run_ok(&rolled(&[
        "strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}",
    ]));
    let why = section(&out.transcript, "# why did deployment/web do that?");
    assert!(why.contains("created new ReplicaSet web-"), "{why}");
    assert!(
        why.contains("with 2: min(replicas 10 + maxSurge 2 − 10 existing, 10 needed) = 2"),
        "{why}"
    );
    assert!(
        why.contains("10→9: 11 available − (10 replicas − maxUnavailable 0) = 1 may go (maxScaledDown = 12 total − 10 min available − 1 new unavailable = 1)"),
        "{why}"
    );
    // The pods of the first surge of 2 become ready milliseconds apart, as on a real cluster
    // (kubelet/jitter.rs), so even they are traded one at a time: 8 scale-ups and 10
    // scale-downs, all steps of 1.
    assert_eq!(why.matches("scaled up ReplicaSet").count(), 8, "{why}");
    assert_eq!(why.matches("scaled down ReplicaSet").count(), 10, "{why}");
}

#[test]
fn why_flag_prints_decisions_after_the_step_that_caused_them() {
    let text = rolled(&[]);
    let plain = run(&text, RunOptions::default(), &sim_core::kubectl::NoFiles)
        .map_err(|(_, e)| e)
        .unwrap();
    let why = run(
        &text,
        RunOptions {
            why: true,
            ..RunOptions::default()
        },
        &sim_core::kubectl::NoFiles,
    )
    .map_err(|(_, e)| e)
    .unwrap();
    // Without --why, only the explain step at the end prints decisions.
    let before_explain = &plain.transcript[..plain.transcript.find("# why did").unwrap()];
    assert!(!before_explain.contains("  why ["), "{before_explain}");
    let set_image = why.transcript.find("$ kubectl set image").unwrap();
    let after = &why.transcript[set_image..];
    // With 25%/25% the first decision creates the new ReplicaSet with 3 and scales the old to 8.
    assert!(after.contains("created new ReplicaSet web-"), "{after}");
    assert!(after.contains("10→8"), "{after}");
    assert_eq!(
        plain.tracer.to_jsonl(),
        why.tracer.to_jsonl(),
        "--why must not change the run"
    );
}

#[test]
fn min_ready_seconds_delays_availability() {
    let mut s = Session::new(&ScriptBuilder::new());
    s.apply(&namespace("demo"));
    s.apply(&deployment(
        "web",
        "demo",
        2,
        "nginx:1.27",
        &["minReadySeconds: 20"],
    ));
    s.advance(5);
    let d = s.dep("web");
    assert_eq!(
        (d.ready_replicas, d.available_replicas),
        (2, 0),
        "ready but not yet available"
    );
    s.advance(25);
    assert_eq!(s.dep("web").available_replicas, 2);
}

#[test]
fn the_change_stream_reports_every_write_in_order() {
    use sim_core::store::{ChangeType, Kind};
    let mut s = Session::new(&ScriptBuilder::new());
    let start = s.sim.store.resource_version();
    s.sim.store.keep_changes(100_000);
    s.apply(&namespace("demo"));
    s.apply(&deployment("web", "demo", 2, "nginx:1.27", &[]));
    s.advance(10);
    s.ok("delete deployment web -n demo");
    s.advance(40);
    let changes: Vec<_> = s
        .sim
        .store
        .changes_since(start)
        .expect("kept")
        .cloned()
        .collect();
    assert!(
        changes
            .windows(2)
            .all(|w| w[0].resource_version < w[1].resource_version)
    );
    let added = |k: Kind| {
        changes
            .iter()
            .filter(|c| c.kind == k && c.change == ChangeType::Added)
            .count()
    };
    assert_eq!(
        (
            added(Kind::Namespace),
            added(Kind::Deployment),
            added(Kind::ReplicaSet),
            added(Kind::Pod)
        ),
        (1, 1, 1, 2)
    );
    assert!(
        changes
            .iter()
            .any(|c| c.kind == Kind::Deployment && c.change == ChangeType::Deleted)
    );
    assert!(
        changes
            .iter()
            .filter(|c| c.kind == Kind::Pod && c.change == ChangeType::Deleted)
            .count()
            == 2
    );
    let now = s.sim.store.resource_version();
    assert_eq!(s.sim.store.changes_since(now).map(|c| c.count()), Some(0));
    // A small log forgets the oldest: a watcher that far behind must list again.
    s.sim.store.keep_changes(2);
    s.apply(&namespace("other"));
    assert!(s.sim.store.changes_since(start).is_none());
}
