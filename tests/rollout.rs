//! Rolling updates, Recreate, undo, crash loops and determinism: the course's central runs.

use sim_core::kubectl::NoFiles;
use sim_core::script::{RunOptions, run};
use sim_core::trace::TraceRecord;

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: live-coding}\n";

fn deployment(strategy: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: credit-scoring-api
  namespace: live-coding
  labels: {{phase: live-coding, app: rest-api}}
spec:
  replicas: 10
  strategy: {strategy}
  selector:
    matchLabels: {{phase: live-coding, app: rest-api}}
  template:
    metadata:
      labels: {{phase: live-coding, app: rest-api}}
    spec:
      containers:
        - name: api
          image: registry.local/credit-scoring-api:single
          ports: [{{containerPort: 8080}}]
          readinessProbe:
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 3
            successThreshold: 1
            httpGet: {{port: 8080, path: /}}
"#
    )
}

fn script(strategy: &str, new_image: &str, tail: &str) -> String {
    let indent = |s: &str| {
        s.lines()
            .map(|l| format!("      {l}\n"))
            .collect::<String>()
    };
    format!(
        "seed: 7\ncluster: {{nodes: 3}}\nimages:\n  registry.local/api:v2: {{startSeconds: 3}}\n  registry.local/api:broken: {{ready: never}}\n  registry.local/api:crash: {{crash: \"RedisConnectionError: redis:6379 refused\", exitCode: 1}}\nsteps:\n  - apply: |\n{}  - apply: |\n{}  - waitFor: {{rollout: deployment/credit-scoring-api, namespace: live-coding}}\n  - kubectl: set image deployment/credit-scoring-api api={new_image} -n live-coding\n{tail}",
        indent(NS),
        indent(&deployment(strategy))
    )
}

fn records(text: &str) -> Vec<TraceRecord> {
    match run(text, RunOptions::default(), &NoFiles) {
        Ok(out) => out
            .tracer
            .records
            .into_iter()
            .filter(|r| !r.deployments.is_empty())
            .collect(),
        Err((out, e)) => panic!("{e}\n{}", out.transcript),
    }
}

fn dep(r: &TraceRecord) -> &sim_core::trace::DeploymentTrace {
    &r.deployments[0]
}

fn spec_total(r: &TraceRecord) -> i32 {
    dep(r).replica_sets.iter().map(|rs| rs.replicas).sum()
}

fn after_change(recs: &[TraceRecord]) -> impl Iterator<Item = &TraceRecord> {
    let start = recs
        .iter()
        .position(|r| dep(r).replica_sets.len() > 1)
        .unwrap_or(recs.len());
    recs[start..].iter()
}

#[test]
fn surge_two_unavailable_zero_never_drops_capacity() {
    let s = script(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}",
        "registry.local/api:v2",
        "  - waitFor: {rollout: deployment/credit-scoring-api, namespace: live-coding}\n",
    );
    let recs = records(&s);
    for r in after_change(&recs) {
        assert!(
            dep(r).available_replicas >= 10,
            "available fell to {} at {}s",
            dep(r).available_replicas,
            r.time
        );
        assert!(
            spec_total(r) <= 12,
            "{} pods wanted at {}s",
            spec_total(r),
            r.time
        );
    }
    let last = recs.last().unwrap();
    assert_eq!(
        (
            dep(last).updated_replicas,
            dep(last).available_replicas,
            dep(last).revision
        ),
        (10, 10, 2)
    );
}

#[test]
fn defaults_allow_two_unavailable_and_three_extra() {
    let s = script(
        "{type: RollingUpdate}",
        "registry.local/api:v2",
        "  - waitFor: {rollout: deployment/credit-scoring-api, namespace: live-coding}\n",
    );
    let recs = records(&s);
    let min = after_change(&recs)
        .map(|r| dep(r).available_replicas)
        .min()
        .unwrap();
    let max = after_change(&recs).map(spec_total).max().unwrap();
    assert_eq!((min, max), (8, 13));
}

#[test]
fn broken_image_stalls_at_full_capacity_then_times_out() {
    let s = script(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}",
        "registry.local/api:broken",
        "  - advance: 11m\n",
    );
    let recs = records(&s);
    let last = recs.last().unwrap();
    let d = dep(last);
    assert_eq!(
        (
            d.replicas,
            d.updated_replicas,
            d.available_replicas,
            d.unavailable_replicas
        ),
        (12, 2, 10, 2)
    );
    let progressing = d
        .conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .unwrap();
    assert_eq!(
        (progressing.status.as_str(), progressing.reason.as_str()),
        ("False", "ProgressDeadlineExceeded")
    );
    // The deadline counts from the last progress, 600 s (+1 s requeue) later.
    let changed = recs
        .iter()
        .find(|r| {
            dep(r)
                .conditions
                .iter()
                .any(|c| c.reason == "ProgressDeadlineExceeded")
        })
        .unwrap();
    // The last progress is the new ReplicaSet's creation (NewReplicaSetCreated).
    let last_progress = recs
        .iter()
        .find(|r| dep(r).replica_sets.len() > 1)
        .map(|r| r.time)
        .unwrap();
    assert!(
        // lastUpdateTime is a metav1.Time, whole seconds: the deadline counts from the
        // second the progress happened in (the new ReplicaSet is created mid-second now that
        // the first rollout completes when its last pod becomes ready).
        changed.time >= last_progress.floor() + 600.0 && changed.time <= last_progress + 602.0,
        "{} vs {}",
        changed.time,
        last_progress
    );
    assert!(after_change(&recs).all(|r| dep(r).available_replicas >= 10));
}

#[test]
fn broken_image_with_defaults_drops_to_eight() {
    let s = script(
        "{type: RollingUpdate}",
        "registry.local/api:broken",
        "  - advance: 2m\n",
    );
    let recs = records(&s);
    let d = dep(recs.last().unwrap());
    assert_eq!(
        (d.replicas, d.updated_replicas, d.available_replicas),
        (13, 5, 8)
    );
}

#[test]
fn recreate_kills_everything_first() {
    let s = script(
        "{type: Recreate}",
        "registry.local/api:v2",
        "  - waitFor: {rollout: deployment/credit-scoring-api, namespace: live-coding}\n",
    );
    let recs = records(&s);
    let zero = after_change(&recs)
        .chain(recs.iter())
        .any(|r| dep(r).available_replicas == 0 && r.time > 1.0);
    assert!(zero, "Recreate must have a moment with no available pod");
    for r in &recs {
        let active = dep(r)
            .replica_sets
            .iter()
            .filter(|rs| rs.replicas > 0)
            .count();
        assert!(active <= 1, "both revisions scaled up at {}s", r.time);
    }
    assert_eq!(dep(recs.last().unwrap()).available_replicas, 10);
}

#[test]
fn undo_brings_back_the_old_template_as_a_new_revision() {
    let tail = "  - waitFor: {rollout: deployment/credit-scoring-api, namespace: live-coding}\n  - kubectl: set image deployment/credit-scoring-api api=registry.local/api:broken -n live-coding\n  - advance: 1m\n  - kubectl: rollout undo deployment/credit-scoring-api -n live-coding --to-revision=1\n  - waitFor: {rollout: deployment/credit-scoring-api, namespace: live-coding}\n  - kubectl: rollout undo deployment/credit-scoring-api -n live-coding --to-revision=1\n";
    let s = script(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}",
        "registry.local/api:v2",
        tail,
    );
    let out = run(&s, RunOptions::default(), &NoFiles);
    let out = match out {
        Ok(o) => panic!(
            "the second undo to a vanished revision must fail\n{}",
            o.transcript
        ),
        Err((o, e)) => {
            assert!(
                e.to_string()
                    .contains("unable to find specified revision 1 in history"),
                "{e}"
            );
            o
        }
    };
    let d = dep(out.tracer.records.last().unwrap());
    assert_eq!(d.revision, 4);
    let revs: Vec<i64> = d.replica_sets.iter().map(|r| r.revision).collect();
    assert_eq!(revs, [2, 3, 4]);
    let active = d.replica_sets.iter().find(|r| r.replicas == 10).unwrap();
    assert_eq!(active.revision, 4);
}

#[test]
fn crash_loop_back_off_doubles() {
    let s = script(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}",
        "registry.local/api:crash",
        "  - advance: 6m\n  - kubectl: get pods -n live-coding\n",
    );
    let out = run(&s, RunOptions::default(), &NoFiles)
        .map_err(|(_, e)| e)
        .unwrap();
    assert!(
        out.transcript.contains("CrashLoopBackOff") || out.transcript.contains("Error"),
        "{}",
        out.transcript
    );
    // Restarts within 6 minutes: exits at ~0, 0+10, +20, +40, +80, +160 → 6 restarts at most.
    let line = out.transcript.lines().find(|l| l.contains("0/1")).unwrap();
    let restarts: u32 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!((5..=7).contains(&restarts), "{line}");
}

#[test]
fn same_seed_same_bytes_and_probe_modes_agree() {
    let s = script(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}",
        "registry.local/api:broken",
        "  - advance: 11m\n  - kubectl: get pods -n live-coding\n",
    );
    let a = run(&s, RunOptions::default(), &NoFiles)
        .map_err(|(_, e)| e)
        .unwrap();
    let b = run(&s, RunOptions::default(), &NoFiles)
        .map_err(|(_, e)| e)
        .unwrap();
    assert_eq!(a.tracer.to_jsonl(), b.tracer.to_jsonl(), "seed 7 diverged");
    assert_eq!(a.transcript, b.transcript);
    let c = run(
        &s,
        RunOptions {
            probe_mode: sim_core::ProbeMode::EveryTick,
            ..RunOptions::default()
        },
        &NoFiles,
    )
    .map_err(|(_, e)| e)
    .unwrap();
    assert_eq!(
        a.tracer.to_jsonl(),
        c.tracer.to_jsonl(),
        "every-tick probes changed the run"
    );
    let d = run(
        &s,
        RunOptions {
            seed: Some(8),
            ..RunOptions::default()
        },
        &NoFiles,
    )
    .map_err(|(_, e)| e)
    .unwrap();
    assert_ne!(
        a.transcript, d.transcript,
        "another seed must give other pod names"
    );
}

#[test]
fn missing_namespace_is_not_found() {
    let s = format!(
        "steps:\n  - apply: |\n{}",
        deployment("{type: Recreate}")
            .lines()
            .map(|l| format!("      {l}\n"))
            .collect::<String>()
    );
    let err = run(&s, RunOptions::default(), &NoFiles)
        .err()
        .unwrap()
        .1
        .to_string();
    assert!(err.contains("Error from server (NotFound): error when creating \"STDIN\": namespaces \"live-coding\" not found"), "{err}");
    assert!(err.contains("step 1 (line 2)"), "{err}");
}

#[test]
fn benchmark_course_workload_is_the_same_with_every_probe_tick() {
    // S1 of `kubesim bench`: the standing-state probes must give the same run as running every
    // probe period, observed every 100 ms of virtual time.
    use sim_core::workloads::{Run, S1};
    fn trace(mode: sim_core::ProbeMode) -> String {
        let mut run = Run::start(S1, mode);
        let mut tracer = sim_core::trace::Tracer::default();
        for step in 1..=6000u64 {
            run.run_to(sim_core::SimTime(step * 100));
            tracer.observe(&mut run.sim);
        }
        assert!(run.all_rolled_out());
        tracer.to_jsonl()
    }
    let standing = trace(sim_core::ProbeMode::Standing);
    assert!(standing.lines().count() > 10, "{standing}");
    assert_eq!(standing, trace(sim_core::ProbeMode::EveryTick));
}
