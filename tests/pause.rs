//! `kubectl rollout pause / resume / undo / restart` (k8s-semantics §8.4, §11).

use crate::support::*;

fn cluster() -> ScriptBuilder {
    ScriptBuilder::new().image("registry.local/api:v2", "{startSeconds: 3}")
}

#[test]
fn a_paused_deployment_rolls_nothing_out_until_resumed() {
    let out = run_ok(
        &cluster()
            .apply(&namespace("demo"))
            .apply(&deployment(
                "web",
                "demo",
                10,
                "registry.local/credit-scoring-api:single",
                &[],
            ))
            .wait("web", "demo")
            .advance("1m")
            .kubectl("rollout pause deployment/web -n demo")
            .kubectl("set image deployment/web api=registry.local/api:v2 -n demo")
            .advance("5m")
            .kubectl("get rs -n demo")
            .kubectl("rollout status deployment/web -n demo")
            .kubectl("rollout resume deployment/web -n demo")
            .wait("web", "demo")
            .kubectl("rollout history deployment/web -n demo")
            .build(),
    );
    let recs = records(&out);
    // 61 s: paused; the template changed, but for five minutes nothing happens.
    let paused: Vec<_> = recs
        .iter()
        .filter(|r| r.time >= 61.0 && r.time < 361.0)
        .map(|r| dep(r, "web"))
        .collect();
    assert!(!paused.is_empty());
    for d in &paused {
        assert_eq!(sizes(d), [(1, 10)], "no new ReplicaSet while paused");
        assert_eq!(
            condition(d, "Progressing"),
            Some(("Unknown".into(), "DeploymentPaused".into()))
        );
        assert_eq!(d.available_replicas, 10);
    }
    assert_eq!(
        section(
            &out.transcript,
            "kubectl rollout pause deployment/web -n demo"
        ),
        "deployment.apps/web paused\n"
    );
    assert_eq!(
        rows(section(&out.transcript, "kubectl get rs -n demo")).len(),
        1
    );
    assert_eq!(
        section(
            &out.transcript,
            "kubectl rollout status deployment/web -n demo"
        ),
        "Waiting for deployment \"web\" rollout to finish: 0 out of 10 new replicas have been updated...\n"
    );
    assert_eq!(
        section(
            &out.transcript,
            "kubectl rollout resume deployment/web -n demo"
        ),
        "deployment.apps/web resumed\n"
    );
    // Resumed: the rollout happens as revision 2.
    let last = dep(recs.last().unwrap(), "web");
    assert_eq!((last.revision, sizes(last)), (2, vec![(1, 0), (2, 10)]));
    assert_eq!(
        condition(last, "Progressing"),
        Some(("True".into(), "NewReplicaSetAvailable".into()))
    );
    assert_eq!(
        section(
            &out.transcript,
            "kubectl rollout history deployment/web -n demo"
        ),
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    );
}

#[test]
fn pause_refuses_undo_restart_and_a_second_pause() {
    let mut s = Session::new(&cluster());
    s.apply(&namespace("demo"));
    s.apply(&deployment(
        "web",
        "demo",
        3,
        "registry.local/credit-scoring-api:single",
        &[],
    ));
    s.advance(30);
    s.ok("set image deployment/web api=registry.local/api:v2 -n demo");
    s.advance(60);
    assert_eq!(s.dep("web").revision, 2);

    assert_eq!(
        s.ok("rollout pause deployment/web -n demo"),
        "deployment.apps/web paused\n"
    );
    assert_eq!(
        s.fails("rollout pause deployment/web -n demo"),
        "error: deployments.apps \"web\" is already paused\n"
    );
    assert_eq!(
        s.fails("rollout undo deployment/web -n demo"),
        "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again\n"
    );
    assert_eq!(
        s.fails("rollout restart deployment/web -n demo"),
        // rollout_restart.go wraps objectrestarter.go's error: `error: %s %q %v`.
        "error: deployments.apps \"web\" can't restart paused deployment (run rollout resume first)\n"
    );
    s.advance(60);
    assert_eq!(
        s.dep("web").revision,
        2,
        "nothing was rolled back or restarted"
    );

    assert_eq!(
        s.ok("rollout resume deployment/web -n demo"),
        "deployment.apps/web resumed\n"
    );
    // objectresumer.go: resuming a Deployment that is not paused is an error.
    assert_eq!(
        s.fails("rollout resume deployment/web -n demo"),
        "error: deployments.apps \"web\" is not paused\n"
    );
}

#[test]
fn rollout_restart_makes_a_new_revision_with_the_same_image() {
    let mut s = Session::new(&cluster());
    s.apply(&namespace("demo"));
    s.apply(&deployment(
        "web",
        "demo",
        3,
        "registry.local/credit-scoring-api:single",
        &[],
    ));
    s.advance(30);
    let pods_before = s.ok("get pods -n demo -o name");
    assert_eq!(
        s.ok("rollout restart deployment/web -n demo"),
        "deployment.apps/web restarted\n"
    );
    // restartedAt has a resolution of seconds: a second restart in the same second would be an
    // empty patch, which rollout_restart.go refuses.
    assert_eq!(
        s.fails("rollout restart deployment/web -n demo"),
        "error: failed to create patch for web: if restart has already been triggered within the past second, please wait before attempting to trigger another\n"
    );
    s.advance(60);
    let d = s.dep("web");
    assert_eq!((d.revision, sizes(&d)), (2, vec![(1, 0), (2, 3)]));
    let json = s.ok("get deployment web -n demo -o json");
    assert!(
        json.contains("\"kubectl.kubernetes.io/restartedAt\""),
        "{json}"
    );
    assert!(json.contains("\"image\": \"registry.local/credit-scoring-api:single\""));
    let pods_after = s.ok("get pods -n demo -o name");
    assert!(
        pods_before.lines().all(|p| !pods_after.contains(p)),
        "every pod was replaced:\n{pods_before}\n{pods_after}"
    );
}
