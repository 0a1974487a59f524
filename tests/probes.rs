//! Startup probes (worker.go: the other probes wait until the container has started; the
//! kubelet kills a container whose startup probe fails `failureThreshold` times), restarts
//! that pull again under `imagePullPolicy: Always`, and exec probe texts.

use sim_core::kubectl::NoFiles;
use sim_core::script::{RunOptions, run};

use crate::support::*;

/// A pod whose program listens after 60 s, with the textbook startup probe (30 × 10 s) in
/// front of liveness and readiness probes that would kill or fail it on their own.
fn slow_pod(name: &str, startup_failures: u32) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers:
    - name: app
      image: registry.local/slow:1
      startupProbe:
        httpGet: {{port: 8080, path: /healthz}}
        periodSeconds: 10
        failureThreshold: {startup_failures}
      livenessProbe:
        httpGet: {{port: 8080, path: /healthz}}
        periodSeconds: 10
        failureThreshold: 3
      readinessProbe:
        httpGet: {{port: 8080, path: /ready}}
        periodSeconds: 5
"#
    )
}

fn started_and_ready(s: &mut Session, pod: &str) -> (bool, bool, i64) {
    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&format!("get pod {pod} -o json"))).unwrap();
    let st = &json["status"]["containerStatuses"][0];
    (
        st["started"].as_bool().unwrap(),
        st["ready"].as_bool().unwrap(),
        st["restartCount"].as_i64().unwrap(),
    )
}

fn cluster() -> ScriptBuilder {
    ScriptBuilder::new().image("registry.local/slow:1", "{startSeconds: 60}")
}

#[test]
fn a_startup_probe_holds_liveness_and_readiness_until_the_app_listens() {
    let mut s = Session::new(&cluster());
    s.apply(&slow_pod("slow", 30));
    // Pulled and started at about 1.2 s. The startup worker ticks every 10 s from the pod's
    // admission (worker.go), so its probes at about 10, 20, …, 50 s are refused; this run's
    // program listens a little before 60 s (startSeconds 60 is its mean), so 60 s passes.
    s.advance(60);
    assert_eq!(started_and_ready(&mut s, "slow"), (false, false, 0));
    s.advance(1);
    assert_eq!(started_and_ready(&mut s, "slow"), (true, true, 0));
    s.advance(200);
    assert_eq!(
        started_and_ready(&mut s, "slow"),
        (true, true, 0),
        "never restarted"
    );
    let describe = s.ok("describe pod slow");
    let unhealthy: Vec<&str> = describe
        .lines()
        .filter(|l| l.contains("Unhealthy"))
        .collect();
    assert_eq!(unhealthy.len(), 1, "{describe}");
    // Last at about 50 s, first at about 10 s, read at 261 s.
    assert!(
        unhealthy[0].contains("Warning  Unhealthy  3m31s (x5 over 4m11s)  kubelet")
            && unhealthy[0].contains("Startup probe failed: Get \"http://")
            && unhealthy[0].ends_with(":8080: connect: connection refused"),
        "{}",
        unhealthy[0]
    );
}

#[test]
fn a_failing_startup_probe_kills_and_restarts_the_container() {
    let mut s = Session::new(&cluster());
    s.apply(&slow_pod("impatient", 3));
    // Probes at about 10, 20, 30 s (the worker's ticker, from the pod's admission) fail:
    // killed at 30 s, stopped at 31 s (SIGTERM honoured, 143), restarted at once (the first
    // probe kill has no back-off entry).
    s.advance(32);
    let (started, ready, restarts) = started_and_ready(&mut s, "impatient");
    assert_eq!((started, ready, restarts), (false, false, 1));
    let describe = s.ok("describe pod impatient");
    assert!(
        describe.contains("Container app failed startup probe, will be restarted"),
        "{describe}"
    );
    assert!(describe.contains("      Exit Code:    143\n"), "{describe}");
    assert!(!describe.contains("Liveness probe failed"), "{describe}");
}

#[test]
fn startup_probes_give_the_same_run_in_both_probe_modes() {
    let text = cluster()
        .apply(&slow_pod("slow", 30))
        .apply(&slow_pod("impatient", 3))
        .advance("3m")
        .kubectl("get pods")
        .kubectl("describe pod slow")
        .kubectl("describe pod impatient")
        .build();
    let standing = run(&text, RunOptions::default(), &NoFiles)
        .map_err(|(_, e)| e)
        .unwrap();
    let every_tick = run(
        &text,
        RunOptions {
            probe_mode: sim_core::ProbeMode::EveryTick,
            ..RunOptions::default()
        },
        &NoFiles,
    )
    .map_err(|(_, e)| e)
    .unwrap();
    assert_eq!(standing.transcript, every_tick.transcript);
    assert_eq!(standing.tracer.to_jsonl(), every_tick.tracer.to_jsonl());
}

#[test]
fn a_restart_pulls_again_when_the_policy_is_always() {
    let mut s = Session::new(&ScriptBuilder::new().image(
        "registry.local/crashy:latest",
        "{crash: boom, crashAfterSeconds: 5}",
    ));
    s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: crashy}\nspec:\n  containers: [{name: app, image: \"registry.local/crashy:latest\"}]\n");
    s.advance(8);
    let describe = s.ok("describe pod crashy");
    // image_manager.go EnsureImageExists on every start: `Always` pulls (quickly, the layers
    // are present), so no `already present` event.
    assert!(!describe.contains("already present"), "{describe}");
    // The restart's pull resolves the manifest only: 0.25 to 0.75 s, 0.5 s on average.
    let cached = describe.lines().any(|l| {
        l.split_once("Successfully pulled image \"registry.local/crashy:latest\" in ")
            .and_then(|(_, t)| t.split_once("ms ("))
            .and_then(|(ms, _)| ms.parse::<u64>().ok())
            .is_some_and(|ms| (250..=750).contains(&ms))
    });
    assert!(cached, "{describe}");
    let pulling = describe.lines().find(|l| l.contains("Pulling")).unwrap();
    assert!(pulling.contains("(x2 over "), "{pulling}");
}

#[test]
fn an_exec_probe_event_carries_the_commands_output() {
    let mut s = Session::new(
        &ScriptBuilder::new().image("registry.local/busybox:1", "{livenessFailAfterSeconds: 30}"),
    );
    s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: liveness-exec}\nspec:\n  containers:\n    - name: liveness\n      image: registry.local/busybox:1\n      livenessProbe:\n        exec: {command: [cat, /tmp/healthy]}\n        initialDelaySeconds: 5\n        periodSeconds: 5\n");
    s.advance(45);
    let describe = s.ok("describe pod liveness-exec");
    assert!(
        describe.contains(
            "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"
        ),
        "{describe}"
    );
}
