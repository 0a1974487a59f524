//! Containers that run their command through the shell, as the kubelet reports them.

use crate::sim::{Sim, SimConfig};
use crate::store::pod::{CState, Phase, WaitReason};
use crate::time::{SimDuration, SimTime};

fn sim() -> Sim {
    Sim::new(SimConfig::default())
}

fn apply(sim: &mut Sim, yaml: &str) {
    let out = crate::kubectl::apply_text(sim, yaml, "STDIN", "default", false);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

fn pod(name: &str, image: &str, policy: &str, command: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  restartPolicy: {policy}\n  containers:\n    - name: c\n      image: {image}\n{command}"
    )
}

fn logs(sim: &Sim, name: &str) -> Vec<String> {
    let id = sim.store.pods.lookup("default", name).expect("the pod");
    let p = sim.store.pods.get(id).expect("the pod");
    p.containers[0]
        .logs
        .iter()
        .map(|(_, l)| l.to_string())
        .collect()
}

fn state(sim: &Sim, name: &str) -> (Phase, CState, u32) {
    let id = sim.store.pods.lookup("default", name).expect("the pod");
    let p = sim.store.pods.get(id).expect("the pod");
    (
        p.phase,
        p.containers[0].state.clone(),
        p.containers[0].restarts,
    )
}

fn terminated(s: &CState) -> Option<(i32, &'static str)> {
    match s {
        CState::Terminated(t) => Some((t.exit_code, t.reason)),
        _ => None,
    }
}

#[test]
fn an_exit_code_ends_the_container_and_the_pod() {
    let mut s = sim();
    apply(
        &mut s,
        &pod(
            "b",
            "busybox:1.36",
            "Never",
            "      args: [sh, -c, 'echo hello; exit 3']\n",
        ),
    );
    s.advance(SimDuration::from_secs(30));
    assert_eq!(logs(&s, "b"), ["hello"]);
    let (phase, st, restarts) = state(&s, "b");
    assert_eq!(terminated(&st), Some((3, "Error")));
    assert_eq!((phase, restarts), (Phase::Failed, 0));

    apply(
        &mut s,
        &pod(
            "c",
            "docker.io/library/busybox:1.37.0",
            "Never",
            "      command: [echo, hi]\n",
        ),
    );
    s.advance(SimDuration::from_secs(30));
    assert_eq!(logs(&s, "c"), ["hi"]);
    let (phase, st, _) = state(&s, "c");
    assert_eq!(terminated(&st), Some((0, "Completed")));
    assert_eq!(phase, Phase::Succeeded);
}

#[test]
fn sleep_waits_in_virtual_time() {
    let mut s = sim();
    apply(
        &mut s,
        &pod(
            "t",
            "alpine:3.20",
            "Never",
            "      command: [sh, -c]\n      args: ['echo a; sleep 10; echo b; for i in 1 2 3; do echo $i; sleep 1m; done']\n",
        ),
    );
    // The pull and start take a couple of seconds; the first line is there once it runs.
    s.run_until(SimTime(5_000), |_| false);
    assert_eq!(logs(&s, "t"), ["a"]);
    let started = match state(&s, "t").1 {
        CState::Running { started } => started,
        other => panic!("running: {other:?}"),
    };
    s.run_until(started + SimDuration(9_999), |_| false);
    assert_eq!(logs(&s, "t"), ["a"]);
    s.run_until(started + SimDuration::from_secs(10), |_| false);
    assert_eq!(logs(&s, "t"), ["a", "b", "1"]);
    s.run_until(started + SimDuration::from_secs(130), |_| false);
    assert_eq!(logs(&s, "t"), ["a", "b", "1", "2", "3"]);
    assert_eq!(state(&s, "t").0, Phase::Running);
    s.run_until(started + SimDuration::from_secs(190), |_| false);
    let (phase, st, _) = state(&s, "t");
    assert_eq!(
        (phase, terminated(&st)),
        (Phase::Succeeded, Some((0, "Completed")))
    );
    let finished = match st {
        CState::Terminated(t) => t.finished,
        _ => SimTime(0),
    };
    assert_eq!(finished, started + SimDuration::from_secs(190));
}

#[test]
fn a_loop_that_never_sleeps_is_bounded_per_virtual_second() {
    let mut s = sim();
    apply(
        &mut s,
        &pod(
            "spin",
            "busybox",
            "Always",
            "      command: [sh, -c, 'while true; do echo x; done']\n",
        ),
    );
    s.advance(SimDuration::from_secs(10));
    let n = logs(&s, "spin").len();
    assert!(n > 0, "it prints");
    // At most one slice of commands per virtual second since it started.
    assert!(
        n <= 11 * crate::shell::machine::PROCESS_STEPS as usize,
        "{n} lines in 10 s"
    );
    assert!(matches!(state(&s, "spin").1, CState::Running { .. }));
}

#[test]
fn a_shell_image_without_a_command_completes_and_a_deployment_crash_loops() {
    let mut s = sim();
    apply(&mut s, &pod("once", "ubuntu:22.04", "Never", ""));
    s.advance(SimDuration::from_secs(30));
    let (phase, st, _) = state(&s, "once");
    assert_eq!(
        (phase, terminated(&st)),
        (Phase::Succeeded, Some((0, "Completed")))
    );

    apply(
        &mut s,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: box}\nspec:\n  selector: {matchLabels: {app: box}}\n  template:\n    metadata: {labels: {app: box}}\n    spec:\n      containers: [{name: c, image: busybox}]\n",
    );
    s.advance(SimDuration::from_secs(60));
    let id = s
        .store
        .pods
        .all_names()
        .find(|(_, n, _)| n.starts_with("box-"))
        .map(|(_, _, id)| id)
        .expect("a pod");
    let p = s.store.pods.get(id).expect("the pod");
    assert!(p.containers[0].restarts >= 2, "{:?}", p.containers[0]);
    assert_eq!(p.phase, Phase::Running);
    assert!(
        matches!(
            p.containers[0].state,
            CState::Waiting {
                reason: WaitReason::CrashLoopBackOff,
                ..
            }
        ) || terminated(&p.containers[0].state) == Some((0, "Completed")),
        "{:?}",
        p.containers[0].state
    );
}

#[test]
fn on_failure_restarts_only_a_failure_and_env_and_files_reach_the_script() {
    let mut s = sim();
    apply(
        &mut s,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {greeting: hello}\n",
    );
    apply(
        &mut s,
        &format!(
            "{}      env: [{{name: WHO, value: world}}]\n      volumeMounts: [{{name: cfg, mountPath: /etc/cfg}}]\n  volumes: [{{name: cfg, configMap: {{name: cfg}}}}]\n",
            pod(
                "ok2",
                "busybox",
                "OnFailure",
                "      command: [sh, -c, 'cat /etc/cfg/greeting; echo; printenv WHO; echo $(WHO); test -f /etc/cfg/greeting && echo file; echo \"$(date) $((6*7))\"']\n"
            )
        ),
    );
    s.advance(SimDuration::from_secs(30));
    let lines = logs(&s, "ok2");
    assert_eq!(lines[..4], ["hello", "world", "world", "file"]);
    assert!(lines[4].ends_with(" UTC 2026 42"), "{lines:?}");
    assert_eq!(state(&s, "ok2").0, Phase::Succeeded);

    apply(
        &mut s,
        &pod(
            "fails",
            "busybox",
            "OnFailure",
            "      command: [sh, -c, 'exit 1']\n",
        ),
    );
    s.advance(SimDuration::from_secs(60));
    let (phase, _, restarts) = state(&s, "fails");
    assert_eq!(phase, Phase::Running);
    assert!(restarts >= 2, "{restarts}");
}

#[test]
fn a_command_the_image_lacks_is_a_start_error() {
    let mut s = sim();
    apply(
        &mut s,
        &pod(
            "py",
            "busybox",
            "Never",
            "      command: [python, app.py]\n",
        ),
    );
    s.advance(SimDuration::from_secs(30));
    let (phase, st, _) = state(&s, "py");
    assert_eq!(
        (phase, terminated(&st)),
        (Phase::Failed, Some((128, "StartError")))
    );
}

#[test]
fn get_phase_follows_the_kubelet() {
    use crate::store::pod::{ContainerRun, Terminated, get_phase};
    let run = |state: CState, last: bool| {
        let mut c = ContainerRun::new();
        c.state = state;
        if last {
            c.last = Some(Terminated {
                exit_code: 1,
                reason: "Error",
                started: SimTime(0),
                finished: SimTime(0),
            });
        }
        c
    };
    let running = || {
        run(
            CState::Running {
                started: SimTime(0),
            },
            false,
        )
    };
    let exited = |code: i32| {
        run(
            CState::Terminated(Terminated {
                exit_code: code,
                reason: if code == 0 { "Completed" } else { "Error" },
                started: SimTime(0),
                finished: SimTime(0),
            }),
            false,
        )
    };
    let waiting = |last: bool| {
        run(
            CState::Waiting {
                reason: WaitReason::CrashLoopBackOff,
                message: None,
            },
            last,
        )
    };
    // Cases from kubelet_pods_test.go's TestPodPhaseWithRestart{Always,Never,OnFailure}.
    let table: &[(&str, Vec<ContainerRun>, Phase)] = &[
        ("Always", vec![running(), running()], Phase::Running),
        ("Always", vec![exited(0), exited(0)], Phase::Running),
        ("Always", vec![exited(0), exited(1)], Phase::Running),
        ("Always", vec![running(), waiting(false)], Phase::Pending),
        ("Always", vec![running(), waiting(true)], Phase::Running),
        ("Never", vec![running(), running()], Phase::Running),
        ("Never", vec![exited(0), exited(0)], Phase::Succeeded),
        ("Never", vec![exited(0), exited(1)], Phase::Failed),
        ("Never", vec![running(), exited(1)], Phase::Running),
        ("Never", vec![running(), waiting(false)], Phase::Pending),
        ("OnFailure", vec![exited(0), exited(0)], Phase::Succeeded),
        ("OnFailure", vec![exited(0), exited(1)], Phase::Running),
        ("OnFailure", vec![running(), exited(1)], Phase::Running),
        ("OnFailure", vec![waiting(true), exited(0)], Phase::Running),
    ];
    for (policy, containers, want) in table {
        assert_eq!(
            get_phase(containers, policy),
            *want,
            "{policy} {containers:?}"
        );
    }
}

#[test]
fn a_sleeping_pid_1_ignores_sigterm_so_deletion_waits_for_the_grace_period() {
    let mut s = sim();
    apply(
        &mut s,
        &pod(
            "sleeper",
            "busybox",
            "Always",
            "      command: [sleep, '3600']\n",
        ),
    );
    s.advance(SimDuration::from_secs(10));
    assert!(matches!(state(&s, "sleeper").1, CState::Running { .. }));
    let out = crate::kubectl::run(
        &mut s,
        "delete pod sleeper --wait=false",
        &crate::kubectl::NoFiles,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    s.advance(SimDuration::from_secs(29));
    assert!(
        s.store.pods.lookup("default", "sleeper").is_some(),
        "still terminating"
    );
    s.advance(SimDuration::from_secs(2));
    assert!(
        s.store.pods.lookup("default", "sleeper").is_none(),
        "killed at 30 s"
    );
}

#[test]
fn a_container_that_exits_is_unready_for_its_replicaset_and_service_before_its_restart() {
    let mut s = sim();
    apply(
        &mut s,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: box}\nspec:\n  selector: {matchLabels: {app: box}}\n  template:\n    metadata: {labels: {app: box}}\n    spec:\n      containers: [{name: c, image: busybox, command: [sh, -c, 'sleep 20; exit 1']}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: box}\nspec:\n  selector: {app: box}\n  ports: [{port: 80}]\n",
    );
    let pod = || {
        s.store
            .pods
            .all_names()
            .find(|(_, n, _)| n.starts_with("box-"))
            .map(|(_, _, id)| id)
            .expect("a pod")
    };
    let id = pod();
    let rs_ready = |s: &Sim| {
        s.store
            .replicasets
            .iter()
            .find_map(|(_, e)| {
                e.rs.status
                    .as_ref()
                    .map(|st| st.ready_replicas.unwrap_or(0))
            })
            .expect("the ReplicaSet's status")
    };
    let ready_addresses = |s: &Sim| {
        s.store
            .endpoints
            .iter()
            .filter_map(|(_, (_, ep))| ep.subsets.as_ref())
            .flatten()
            .map(|ss| ss.addresses.as_ref().map_or(0, Vec::len))
            .sum::<usize>()
    };
    s.advance(SimDuration::from_secs(15));
    assert_eq!(
        (rs_ready(&s), ready_addresses(&s)),
        (1, 1),
        "running and ready"
    );
    // Step until the first exit: the kubelet restarts the container at once (no back-off
    // yet), and its status write has already made the pod unready for both.
    let mut steps = 0;
    while matches!(
        s.store.pods.get(id).expect("the pod").containers[0].state,
        CState::Running { .. }
    ) {
        s.advance(SimDuration(10));
        steps += 1;
        assert!(steps < 2_000, "the container never exited");
    }
    let p = s.store.pods.get(id).expect("the pod");
    assert!(!p.ready, "{:?}", p.containers[0].state);
    assert_eq!(
        (rs_ready(&s), ready_addresses(&s)),
        (0, 0),
        "unready at its exit"
    );
}
