//! Node failures and capacity: NotReady 50 s (node-monitor-grace-period) after the last Lease renewal, eviction 300 s
//! after the NoExecute taint the next monitor pass adds, `removeNode`,
//! and pods that fit nowhere.

use crate::support::*;

fn two_nodes() -> ScriptBuilder {
    ScriptBuilder::with_cluster("{nodes: [{name: node-1, cpu: \"2\"}, {name: node-2, cpu: \"2\"}]}")
}

fn web(replicas: i32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          resources: {{requests: {{cpu: 500m}}}}\n"
    )
}

/// `(name, ready, status, node)` of every pod.
fn pods(s: &mut Session) -> Vec<(String, String, String, String)> {
    rows(&s.ok("get pods -o wide"))
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[6].clone()))
        .collect()
}

fn node_status(s: &mut Session, node: &str) -> String {
    rows(&s.ok("get nodes"))
        .into_iter()
        .find(|r| r[0] == node)
        .map(|r| r[1].clone())
        .unwrap()
}

#[test]
fn a_dead_node_goes_notready_then_its_pods_are_evicted_and_replaced() {
    let mut s = Session::new(&two_nodes());
    s.apply(&web(4));
    s.advance(10);
    let on_2: Vec<String> = pods(&mut s)
        .into_iter()
        .filter(|p| p.3 == "node-2")
        .map(|p| p.0)
        .collect();
    assert_eq!(on_2.len(), 2, "the scheduler spreads the pods");

    s.sim
        .node_fault(
            "node-2",
            sim_core::controller::node_lifecycle::NodeFault::Down,
        )
        .unwrap();
    s.advance(49);
    assert_eq!(node_status(&mut s, "node-2"), "Ready");
    s.advance(2);
    assert_eq!(node_status(&mut s, "node-2"), "NotReady");
    // Marked not ready: the Deployment counts only the pods on node-1.
    assert_eq!(s.dep("web").available_replicas, 2);

    // Evicted 300 s after the NoExecute taint, which comes one monitor pass (5 s) after
    // NotReady; replacements land on node-1.
    s.advance(303);
    assert!(pods(&mut s).iter().all(|p| p.2 == "Running"));
    s.advance(2);
    let now = pods(&mut s);
    for name in &on_2 {
        let p = now.iter().find(|p| &p.0 == name).unwrap();
        assert_eq!(p.2, "Terminating", "{p:?}");
    }
    let running: Vec<_> = now.iter().filter(|p| p.2 == "Running").collect();
    assert_eq!(running.len(), 4, "{now:?}");
    assert!(running.iter().all(|p| p.3 == "node-1" && p.1 == "1/1"));
    assert_eq!(s.dep("web").available_replicas, 4);

    // The kubelet never confirms the deletion; removing the node lets the pod garbage
    // collector force-delete the pods, after its quarantine (gc_controller.go gcOrphaned:
    // loop every 20 s, node missing for 40 s). Removed at 966 s: first loop at 980 s, pods
    // deleted at 1020 s.
    s.advance(600);
    assert_eq!(pods(&mut s).len(), 6);
    s.sim
        .node_fault(
            "node-2",
            sim_core::controller::node_lifecycle::NodeFault::Remove,
        )
        .unwrap();
    s.sim.settle();
    assert_eq!(rows(&s.ok("get nodes")).len(), 1);
    let lingering = pods(&mut s);
    assert_eq!(lingering.len(), 6, "{lingering:?}");
    assert!(
        lingering
            .iter()
            .filter(|p| on_2.contains(&p.0))
            .all(|p| p.3 == "node-2"),
        "they still name their node: {lingering:?}"
    );
    s.advance(53);
    assert_eq!(pods(&mut s).len(), 6);
    s.advance(1);
    let now = pods(&mut s);
    assert_eq!(now.len(), 4, "{now:?}");
    assert!(now.iter().all(|p| !on_2.contains(&p.0)));
    assert_eq!(rows(&s.ok("get nodes")).len(), 1);
}

#[test]
fn pods_that_fit_nowhere_stay_pending_with_insufficient_cpu() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: node-1, cpu: \"1\"}]}",
    ));
    s.apply(&web(3));
    s.advance(30);
    let all = pods(&mut s);
    let pending: Vec<_> = all.iter().filter(|p| p.2 == "Pending").collect();
    assert_eq!(pending.len(), 1, "two 500m pods fill one cpu: {all:?}");
    assert_eq!(pending[0].3, "<none>");
    let describe = s.ok(&format!("describe pod {}", pending[0].0));
    let event = describe
        .lines()
        .find(|l| l.contains("FailedScheduling"))
        .unwrap_or_else(|| panic!("{describe}"));
    assert!(event.starts_with("  Warning  FailedScheduling"), "{event}");
    assert!(
        event.contains("default-scheduler  0/1 nodes are available: 1 Insufficient cpu."),
        "{event}"
    );
    assert_eq!(s.dep("web").available_replicas, 2);
}

#[test]
fn replicas_without_requests_spread_over_the_nodes() {
    // NodeResourcesFit scores every pod with default requests (100m, 200Mi) when it asks for
    // none, so three replicas on three empty nodes land one per node, as on a real cluster.
    for seed in 0..5 {
        let mut s = Session::new(&ScriptBuilder::with_cluster("{nodes: 3}").seed(seed));
        s.apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: spread}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: spread}}\n  template:\n    metadata: {labels: {app: spread}}\n    spec:\n      containers: [{name: c, image: nginx:1.27}]\n");
        s.advance(10);
        let mut nodes: Vec<String> = pods(&mut s).into_iter().map(|p| p.3).collect();
        nodes.sort();
        assert_eq!(nodes, ["node-1", "node-2", "node-3"], "seed {seed}");
    }
}

/// The conditions of pod `name` as `(type, status, reason, message)`.
fn conditions(s: &mut Session, name: &str) -> Vec<(String, String, String, String)> {
    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&format!("get pod {name} -o json"))).unwrap();
    json["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let f = |k: &str| c[k].as_str().unwrap_or("").to_string();
            (f("type"), f("status"), f("reason"), f("message"))
        })
        .collect()
}

#[test]
fn a_lost_node_flips_only_ready_keeps_its_heartbeat_and_marks_the_eviction() {
    let mut s = Session::new(&two_nodes());
    s.apply(&web(4));
    s.advance(10);
    let on_2: Vec<String> = pods(&mut s)
        .into_iter()
        .filter(|p| p.3 == "node-2")
        .map(|p| p.0)
        .collect();
    let heartbeat = |s: &mut Session| {
        let json: serde_json::Value =
            serde_json::from_str(&s.ok("get node node-2 -o json")).unwrap();
        json["status"]["conditions"][0]["lastHeartbeatTime"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let alive = heartbeat(&mut s);
    s.sim
        .node_fault(
            "node-2",
            sim_core::controller::node_lifecycle::NodeFault::Down,
        )
        .unwrap();
    s.advance(60);
    // The node controller changes status, reason and message; the heartbeat stays the
    // kubelet's last one.
    assert_eq!(heartbeat(&mut s), alive);

    // controller_utils.go MarkPodsNotReady: only Ready turns False, keeping its empty reason
    // and message; ContainersReady stays True.
    let conds = conditions(&mut s, &on_2[0]);
    let find = |ty: &str| conds.iter().find(|c| c.0 == ty).unwrap().clone();
    assert_eq!(
        find("Ready"),
        ("Ready".into(), "False".into(), "".into(), "".into())
    );
    assert_eq!(
        find("ContainersReady"),
        (
            "ContainersReady".into(),
            "True".into(),
            "".into(),
            "".into()
        )
    );

    // taint_eviction.go: DisruptionTarget before the deletion, listed last.
    s.advance(300);
    let conds = conditions(&mut s, &on_2[0]);
    assert_eq!(
        conds.last().unwrap(),
        &(
            "DisruptionTarget".to_string(),
            "True".to_string(),
            "DeletionByTaintManager".to_string(),
            "Taint manager: deleting due to NoExecute taint".to_string()
        ),
        "{conds:?}"
    );
}

/// `(name, holder)` rows of `get leases -n kube-node-lease` and node-2's lease renew time.
fn renew_time(s: &mut Session, node: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&s.ok(&format!("get lease {node} -n kube-node-lease -o json")))
            .unwrap();
    v["spec"]["renewTime"].as_str().unwrap().to_string()
}

#[test]
fn each_kubelet_renews_its_node_lease_every_ten_seconds_until_it_stops() {
    let mut s = Session::new(&two_nodes());
    let table = rows(&s.ok("get leases -n kube-node-lease"));
    let names: Vec<(&str, &str)> = table
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(names, [("node-1", "node-1"), ("node-2", "node-2")]);
    assert!(
        rows(&s.ok("get leases")).is_empty(),
        "none in other namespaces"
    );
    let v: serde_json::Value =
        serde_json::from_str(&s.ok("get lease node-2 -n kube-node-lease -o json")).unwrap();
    assert_eq!(v["spec"]["holderIdentity"], "node-2");
    assert_eq!(v["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(v["metadata"]["ownerReferences"][0]["kind"], "Node");
    let start = renew_time(&mut s, "node-2");
    s.advance(9);
    assert_eq!(renew_time(&mut s, "node-2"), start);
    s.advance(1);
    let renewed = renew_time(&mut s, "node-2");
    assert_ne!(renewed, start, "renewed after 10 s");
    s.sim
        .node_fault(
            "node-2",
            sim_core::controller::node_lifecycle::NodeFault::Down,
        )
        .unwrap();
    s.advance(120);
    assert_eq!(
        renew_time(&mut s, "node-2"),
        renewed,
        "a stopped kubelet renews nothing"
    );
    assert_ne!(renew_time(&mut s, "node-1"), renewed);
    let describe = s.ok("describe node node-2");
    assert!(
        describe.contains(
            "Lease:\n  HolderIdentity:  node-2\n  AcquireTime:     <unset>\n  RenewTime:  "
        ),
        "{describe}"
    );
    // The API refuses writes to a kubelet's lease.
    let err = s.fails("delete lease node-2 -n kube-node-lease");
    assert!(
        err.contains("read only")
            || err.contains("MethodNotAllowed")
            || err.contains("not allowed"),
        "{err}"
    );
}

#[test]
fn the_grace_period_runs_from_the_last_lease_renewal() {
    let mut s = Session::new(&two_nodes());
    // Renewed at 10 s; the kubelet stops at 15 s, so NotReady comes 45 s later, at 60 s.
    s.advance(15);
    s.sim
        .node_fault(
            "node-2",
            sim_core::controller::node_lifecycle::NodeFault::Down,
        )
        .unwrap();
    s.advance(44);
    assert_eq!(node_status(&mut s, "node-2"), "Ready");
    s.advance(2);
    assert_eq!(node_status(&mut s, "node-2"), "NotReady");
}
