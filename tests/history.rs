//! Old ReplicaSets: `revisionHistoryLimit` cleanup (k8s-semantics §10) and cascading deletion.

use crate::support::*;

fn web(extra: &[&str]) -> String {
    deployment("web", "demo", 3, "nginx:1.25", extra)
}

#[test]
fn revision_history_limit_two_keeps_two_old_replica_sets() {
    let mut b = ScriptBuilder::new()
        .apply(&namespace("demo"))
        .apply(&web(&["revisionHistoryLimit: 2"]))
        .wait("web", "demo");
    // Images that keep running (busybox without a command would exit and crash-loop).
    for image in ["nginx:1.27", "redis:7", "postgres:16", "httpd:2.4"] {
        b = b
            .kubectl(&format!("set image deployment/web api={image} -n demo"))
            .wait("web", "demo");
    }
    let out = run_ok(
        &b.advance("10s")
            .kubectl("get rs -n demo")
            .kubectl("rollout history deployment/web -n demo")
            .build(),
    );
    let recs = records(&out);
    let last = dep(recs.last().unwrap(), "web");
    assert_eq!(sizes(last), [(3, 0), (4, 0), (5, 3)]);
    let table = section(&out.transcript, "kubectl get rs -n demo");
    assert_eq!(rows(table).len(), 3, "{table}");
    assert_eq!(
        section(
            &out.transcript,
            "kubectl rollout history deployment/web -n demo"
        ),
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n3         <none>\n4         <none>\n5         <none>\n\n"
    );
}

#[test]
fn deleting_a_deployment_cascades_to_its_replica_sets_and_pods() {
    let mut s = Session::new(&ScriptBuilder::new());
    s.apply(&namespace("demo"));
    s.apply(&web(&[]));
    s.advance(20);
    s.ok("set image deployment/web api=nginx:1.27 -n demo");
    s.advance(20);
    // rollback.go: the skip message names the requested toRevision.
    assert_eq!(
        s.ok("rollout undo deployment/web -n demo --to-revision=2"),
        "deployment.apps/web skipped rollback (current template already matches revision 2)\n"
    );
    assert_eq!(
        s.ok("delete deployment web -n demo"),
        "deployment.apps \"web\" deleted from demo namespace\n"
    );
    // Background propagation: the ReplicaSets go at once, the pods terminate.
    let pods = rows(&s.ok("get pods -n demo"));
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| p[2] == "Terminating"), "{pods:?}");
    assert_eq!(
        s.kubectl("get rs -n demo").stderr,
        "No resources found in demo namespace.\n"
    );
    s.advance(40);
    assert_eq!(
        s.kubectl("get deploy,rs,pods -n demo").stderr,
        "No resources found in demo namespace.\n"
    );
}

#[test]
fn cascade_orphan_keeps_the_replica_sets_and_pods_running() {
    let mut s = Session::new(&ScriptBuilder::new());
    s.apply(&namespace("demo"));
    s.apply(&web(&[]));
    s.advance(20);
    s.ok("set image deployment/web api=nginx:1.27 -n demo");
    s.advance(20);
    let rs_before = s.ok("get rs -n demo -o name");
    let pods_before = s.ok("get pods -n demo -o name");
    s.ok("delete deployment web -n demo --cascade=orphan");
    s.advance(60);
    assert_eq!(
        s.kubectl("get deploy -n demo").stderr,
        "No resources found in demo namespace.\n"
    );
    assert_eq!(s.ok("get rs -n demo -o name"), rs_before);
    assert_eq!(s.ok("get pods -n demo -o name"), pods_before);
    let pods = rows(&s.ok("get pods -n demo"));
    assert!(
        pods.iter().all(|p| p[1] == "1/1" && p[2] == "Running"),
        "{pods:?}"
    );
    // No longer owned: describe shows no controller, and the RS keeps its pods itself.
    let rs = rs_before
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("replicaset.apps/");
    let describe = s.ok(&format!("describe rs {rs} -n demo"));
    assert!(!describe.contains("Controlled By"), "{describe}");
}
