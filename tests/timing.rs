//! Timing fidelity (issue 17): pods of one batch become ready at distinct instants, so a
//! RollingUpdate moves one pod at a time as on a real cluster; the first pull of an image on a
//! node is slower than a pull of an image the node has; IfNotPresent skips the pull.

use std::sync::Arc;

use sim_core::kubectl::{self, NoFiles};
use sim_core::script::{self, RunOptions, RunOutput};
use sim_core::time::SimDuration;

use crate::support::{ScriptBuilder, dep, namespace, records, run_ok, run_with_workers, section};

const NS: &str = "live-coding";
const NAME: &str = "credit-scoring-api";

/// The course's Deployment (04-rolling-update): 10 replicas of the credit-scoring API with a
/// readiness probe every 5 s, under `strategy` (a YAML flow mapping, or `{}` for 25%/25%).
fn course(strategy: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {NAME}
  namespace: {NS}
spec:
  replicas: 10
  strategy: {strategy}
  selector:
    matchLabels: {{app: {NAME}}}
  template:
    metadata:
      labels: {{app: {NAME}}}
    spec:
      containers:
        - name: api
          image: registry.local/credit-scoring-api:{image}
          ports: [{{containerPort: 8000}}]
          readinessProbe:
            httpGet: {{path: /healthz, port: 8000}}
            periodSeconds: 5
"#
    )
}

/// v1 rolled out, then v2 set and rolled out; the events at the end.
fn rollout(strategy: &str, seed: u64) -> ScriptBuilder {
    ScriptBuilder::new()
        .seed(seed)
        .apply(&namespace(NS))
        .apply(&course(strategy, "v1"))
        .wait(NAME, NS)
        .kubectl(&format!(
            "set image deployment/{NAME} api=registry.local/credit-scoring-api:v2 -n {NS}"
        ))
        .wait(NAME, NS)
        .kubectl(&format!("get events -n {NS}"))
}

/// `(to, from)` of every "Scaled down replica set … to N from M" event, in order.
fn scale_downs(events: &str) -> Vec<(i32, i32)> {
    events
        .lines()
        .filter_map(|l| {
            let (_, tail) = l.split_once("Scaled down replica set ")?;
            let mut words = tail.split_whitespace().skip(1);
            let (_, to, _, from) = (words.next()?, words.next()?, words.next()?, words.next()?);
            Some((to.parse().ok()?, from.parse().ok()?))
        })
        .collect()
}

fn check_small_steps(
    strategy: &str,
    first_step: i32,
    min_single_percent: usize,
    min_available: i32,
    max_total: i32,
) {
    let out = run_with_workers(&rollout(strategy, 4).build());
    let events = section(&out.transcript, &format!("get events -n {NS}"));
    let downs = scale_downs(events);
    assert_eq!(
        downs.first().map(|(to, from)| from - to),
        Some(first_step),
        "{events}"
    );
    assert_eq!(downs.last().map(|&(to, _)| to), Some(0), "{events}");
    // After the first step (which maxUnavailable may make bigger) a real cluster scales the
    // old ReplicaSet down in small steps, as its new pods become ready one by one: with
    // maxUnavailable 0 one pod at a time; with 25 %/25 % the controller's arithmetic lets
    // some steps take two or three.
    let ones = downs[1..]
        .iter()
        .filter(|(to, from)| from - to == 1)
        .count();
    assert!(
        ones * 100 >= (downs.len() - 1) * min_single_percent,
        "{ones} single steps: {downs:?}\n{events}"
    );
    assert!(downs.len() >= 5, "few steps: {downs:?}\n{events}");
    // The bounds hold at every traced instant of the rollout.
    let recs = records(&out);
    let rollout_recs: Vec<_> = recs
        .iter()
        .filter(|r| dep(r, NAME).replica_sets.len() > 1)
        .collect();
    assert!(!rollout_recs.is_empty());
    for r in &rollout_recs {
        let d = dep(r, NAME);
        let total: i32 = d.replica_sets.iter().map(|rs| rs.replicas).sum();
        assert!(total <= max_total, "{total} pods at {}s", r.time);
        assert!(
            d.available_replicas >= min_available,
            "{} available at {}s",
            d.available_replicas,
            r.time
        );
    }
    let last = dep(rollout_recs[rollout_recs.len() - 1], NAME);
    assert_eq!((last.updated_replicas, last.available_replicas), (10, 10));
}

#[test]
fn surge_two_unavailable_zero_scales_down_one_pod_at_a_time() {
    check_small_steps(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}",
        1,
        80,
        10,
        12,
    );
}

#[test]
fn the_defaults_drop_two_at_once_then_move_in_small_steps() {
    // 25 %/25 % of 10: the first sync may scale the old ReplicaSet down by 2 (to 8) at once.
    check_small_steps("{}", 2, 0, 8, 13);
}

#[test]
fn the_pods_of_one_batch_become_ready_at_distinct_instants() {
    let opts = RunOptions {
        programs: Some(Arc::new(inference_worker::Builtin::new())),
        ..RunOptions::default()
    };
    let parsed = script::parse(&ScriptBuilder::new().seed(4).build()).expect("parses");
    let mut sim = script::build_sim(&parsed, &opts);
    let strategy = "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}";
    for yaml in [namespace(NS), course(strategy, "v1")] {
        let out = kubectl::apply_text(&mut sim, &yaml, "STDIN", "default", false);
        assert_eq!(out.code, 0, "{}", out.stderr);
        sim.settle();
    }
    sim.advance(SimDuration::from_secs(60));
    let set =
        format!("set image deployment/{NAME} api=registry.local/credit-scoring-api:v2 -n {NS}");
    assert_eq!(kubectl::run(&mut sim, &set, &NoFiles).code, 0);
    sim.advance(SimDuration::from_secs(120));
    let mut ready: Vec<u64> = sim
        .store
        .pods
        .iter()
        .filter(|(_, p)| p.ready)
        .filter(|(_, p)| {
            let image = p
                .template
                .spec
                .as_ref()
                .and_then(|s| s.containers[0].image.clone());
            image.as_deref() == Some("registry.local/credit-scoring-api:v2")
        })
        .map(|(_, p)| p.ready_changed.millis())
        .collect();
    assert_eq!(ready.len(), 10, "{ready:?}");
    ready.sort_unstable();
    let mut distinct = ready.clone();
    distinct.dedup();
    assert_eq!(distinct, ready, "two pods ready at the same millisecond");
}

#[test]
fn the_same_seed_gives_the_same_timings_and_another_seed_others() {
    let strategy = "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}";
    let a = run_with_workers(&rollout(strategy, 4).build());
    let b = run_with_workers(&rollout(strategy, 4).build());
    assert_eq!(a.transcript, b.transcript, "seed 4 twice");
    let times = |out: &RunOutput| -> Vec<u64> {
        records(out)
            .iter()
            .map(|r| (r.time * 1000.0).round() as u64)
            .collect()
    };
    assert_eq!(times(&a), times(&b), "seed 4 twice");
    let c = run_with_workers(&rollout(strategy, 5).build());
    assert_ne!(times(&a), times(&c), "seeds 4 and 5 give the same instants");
}

/// The Pulled events' messages of a run, oldest first.
fn pulled(events: &str) -> Vec<String> {
    events
        .lines()
        .filter(|l| l.contains(" Pulled "))
        .filter_map(|l| l.split_once("kubelet").map(|(_, m)| m.trim().to_string()))
        .collect()
}

/// The seconds in "Successfully pulled image … in 1.234s (…".
fn pull_secs(message: &str) -> Option<f64> {
    let (_, tail) = message.split_once(" in ")?;
    let d = tail.split_whitespace().next()?;
    match d.strip_suffix("ms") {
        Some(ms) => ms.parse::<f64>().ok().map(|v| v / 1000.0),
        None => d.strip_suffix('s')?.parse().ok(),
    }
}

fn single_pod(policy: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: demo}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: registry.local/web:v1
          imagePullPolicy: {policy}
"#
    )
}

fn pulls_on_one_node(policy: &str) -> Vec<String> {
    let script = ScriptBuilder::with_cluster("{nodes: 1}")
        .image("registry.local/web:v1", "{pullSeconds: 4}")
        .apply(&namespace("demo"))
        .apply(&single_pod(policy))
        .wait("web", "demo")
        .kubectl("scale deployment/web --replicas=2 -n demo")
        .wait("web", "demo")
        .kubectl("describe pods -n demo");
    let out = run_ok(&script.build());
    pulled(section(&out.transcript, "describe pods -n demo"))
}

#[test]
fn the_first_pull_on_a_node_is_slower_than_a_cached_one() {
    let msgs = pulls_on_one_node("Always");
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    let secs: Vec<f64> = msgs.iter().filter_map(|m| pull_secs(m)).collect();
    assert_eq!(secs.len(), 2, "{msgs:?}");
    let (first, cached) = (secs[0].max(secs[1]), secs[0].min(secs[1]));
    // pullSeconds 4 is the mean of a download (±20 %); a cached pull resolves the manifest.
    assert!((3.2..=4.8).contains(&first), "{msgs:?}");
    assert!(cached <= 0.75, "{msgs:?}");
}

#[test]
fn if_not_present_with_the_image_on_the_node_skips_the_pull() {
    let msgs = pulls_on_one_node("IfNotPresent");
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    // pkg/kubelet/images/image_manager.go: "Container image %q already present on machine".
    assert!(
        msgs.iter()
            .any(|m| m == "Container image \"registry.local/web:v1\" already present on machine"),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("Successfully pulled image")),
        "{msgs:?}"
    );
}
