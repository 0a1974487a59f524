//! The HorizontalPodAutoscaler and the resource metrics: a Deployment under traffic scaled
//! up on CPU and back down after the stabilization window, `kubectl get|describe hpa` and
//! `kubectl top` as a real cluster prints them, an HPA whose target is missing, and the same
//! bytes on every run.

use sim_core::kubectl::NoFiles;

use crate::support::{rows, run_with_workers, section, sections};

const UNDER_TRAFFIC: &str = include_str!("scripts/hpa_under_traffic.yaml");

/// READY of `kubectl get deploy web` in a section.
fn ready(table: &str) -> String {
    rows(table)[0][1].clone()
}

#[test]
fn an_hpa_scales_a_deployment_up_under_traffic_and_down_after_the_window() {
    let out = run_with_workers(UNDER_TRAFFIC);
    let t = &out.transcript;
    let gets = sections(t, "$ kubectl get hpa");
    // Before any metrics: the target is unknown, as on a new cluster.
    assert_eq!(
        gets[0],
        "NAME   REFERENCE        TARGETS              MINPODS   MAXPODS   REPLICAS   AGE\n\
         web    Deployment/web   cpu: <unknown>/50%   2         10        2          20s\n"
    );
    // Under load: more replicas, and the utilization back near its target.
    let under_load = &rows(gets[1])[0];
    let replicas: i32 = under_load[5].parse().unwrap();
    assert!(replicas > 2, "{t}");
    let targets = &under_load[2];
    assert!(
        targets.starts_with("cpu: ") && targets.ends_with("%/50%"),
        "{targets}"
    );
    // Three minutes after the load stopped the replicas are held by the 300 s window...
    let deploys = sections(t, "$ kubectl get deploy web");
    assert_eq!(ready(deploys[1]), format!("{replicas}/{replicas}"), "{t}");
    // ...and after it they are back at minReplicas.
    assert_eq!(ready(deploys[2]), "2/2", "{t}");
    assert_eq!(rows(gets[3])[0][2], "cpu: 0%/50%");
    // describe: the metric, the conditions and the rescale events with kubectl's wording.
    let describe = section(t, "$ kubectl describe hpa web");
    assert!(
        describe.contains("  resource cpu on pods  (as a percentage of request):  "),
        "{describe}"
    );
    assert!(
        describe.contains("  AbleToScale     True    "),
        "{describe}"
    );
    assert!(
        describe.contains("  ScalingActive   True    ValidMetricFound    the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"),
        "{describe}"
    );
    assert!(
        describe.contains("horizontal-pod-autoscaler  New size: 4; reason: cpu resource utilization (percentage of request) above target"),
        "{describe}"
    );
    // The why panel explains each rescale with its arithmetic.
    let why = section(t, "# why did deployment/web do that?");
    assert!(
        // 95 %: the credit scorer's requests burn 19 % less fuel since its guest allocates from
        // an arena (issue 17, docs/performance.md); it was 100 % (ratio 2.00), the same 4 pods.
        why.contains("HorizontalPodAutoscaler web: cpu 95% of request vs target 50% (ratio 1.90): ceil(1.90 × 2 ready pods) = 4"),
        "{why}"
    );
    assert!(
        why.contains("scaled 5 → 2 (All metrics below target)")
            || why.contains("→ 2 (All metrics below target)"),
        "{why}"
    );
}

#[test]
fn kubectl_top_prints_usage_from_the_traffic() {
    let out = run_with_workers(UNDER_TRAFFIC);
    let top = section(&out.transcript, "$ kubectl top pods");
    let lines: Vec<&str> = top.lines().collect();
    assert_eq!(
        lines[0],
        "NAME                   CPU(cores)   MEMORY(bytes)   "
    );
    // Busy pods use more than the idle 1m, and no more than their 250m limit.
    for r in rows(top) {
        let m: u64 = r[1].trim_end_matches('m').parse().unwrap();
        assert!(m > 10 && m <= 250, "{top}");
        assert_eq!(r[2], "12Mi");
    }
    let nodes = section(&out.transcript, "$ kubectl top nodes");
    assert!(
        nodes.starts_with("NAME     CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)   \n"),
        "{nodes}"
    );
}

#[test]
fn an_hpa_whose_target_is_missing_says_so() {
    let text = "steps:\n  - apply: |\n      apiVersion: autoscaling/v2\n      kind: HorizontalPodAutoscaler\n      metadata: {name: x}\n      spec:\n        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: x}\n        maxReplicas: 3\n  - advance: 20s\n  - kubectl: get hpa\n  - kubectl: describe hpa x\n";
    let out = run_with_workers(text);
    let get = section(&out.transcript, "$ kubectl get hpa");
    // No metrics named: the API server's default, 80 % CPU.
    assert!(
        get.contains("Deployment/x   cpu: <unknown>/80%   1         3         0"),
        "{get}"
    );
    let d = section(&out.transcript, "$ kubectl describe hpa x");
    assert!(
        d.contains("AbleToScale  False   FailedGetScale  the HPA controller was unable to get the target's current scale: deployments.apps \"x\" not found"),
        "{d}"
    );
    assert!(
        d.contains("Warning  FailedGetScale  5s    horizontal-pod-autoscaler  deployments.apps \"x\" not found"),
        "{d}"
    );
}

#[test]
fn an_invalid_hpa_is_refused_with_kubectls_and_the_api_servers_messages() {
    let mut sim = sim_core::Sim::new(Default::default());
    let mut k = |line: &str| sim_core::kubectl::run(&mut sim, line, &NoFiles);
    assert_eq!(k("create deployment web --image=nginx").code, 0);
    assert_eq!(
        k("autoscale deployment web --min=5 --max=2").stderr,
        "error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: 2, min: 5\n"
    );
    assert_eq!(
        k("autoscale deployment web --max=0").stderr,
        "error: --max=MAXPODS is required and must be at least 1, max: 0\n"
    );
    assert_eq!(
        k("autoscale deployment nope --max=3").stderr,
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    let out = k("autoscale deployment web --max=3 --cpu-percent=0");
    assert_eq!(
        out.stderr,
        "The HorizontalPodAutoscaler \"web\" is invalid: spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0\n"
    );
    assert_eq!(
        k("autoscale deployment web --max=3 --min=1 --cpu-percent=60").stdout,
        "horizontalpodautoscaler.autoscaling/web autoscaled\n"
    );
    assert_eq!(
        k("get hpa").stdout,
        "NAME   REFERENCE        TARGETS              MINPODS   MAXPODS   REPLICAS   AGE\n\
         web    Deployment/web   cpu: <unknown>/60%   1         3         0          0s\n"
    );
}

#[test]
fn autoscaling_runs_are_byte_identical() {
    let a = run_with_workers(UNDER_TRAFFIC);
    let b = run_with_workers(UNDER_TRAFFIC);
    assert_eq!(a.transcript, b.transcript);
    assert_eq!(a.tracer.to_jsonl(), b.tracer.to_jsonl());
}
