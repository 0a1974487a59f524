//! Taints and tolerations with the real kubectl 1.37.1 against `kubesim serve` (the sandbox's
//! three nodes): `kubectl taint` stores taints on the Node, the scheduler's TaintToleration
//! filter keeps pods off a tainted node until they tolerate it, `cordon` shows its taint,
//! FailedScheduling lists every reason; every pod carries the admission defaults
//! (`DefaultTolerationSeconds`, Priority, ServiceAccount). And, in virtual time, NoExecute
//! eviction honouring each pod's `tolerationSeconds`.

use super::kubectl_real::Cluster;
use crate::support::*;

const NS: [&str; 2] = ["-n", "default"];

fn args<'a>(a: &[&'a str]) -> Vec<&'a str> {
    let mut v = a.to_vec();
    v.extend(NS);
    v
}

/// The node of each pod with label `app=APP`, sorted.
fn nodes_of(c: &Cluster, app: &str) -> Vec<String> {
    let out = c.ok(&args(&[
        "get",
        "pods",
        "-l",
        &format!("app={app}"),
        "-o",
        "jsonpath={.items[*].spec.nodeName}",
    ]));
    let mut v: Vec<String> = out.split_whitespace().map(String::from).collect();
    v.sort();
    v
}

const PINNED: &str = "apiVersion: v1
kind: Pod
metadata: {name: pinned, labels: {app: pinned}}
spec:
  nodeSelector: {kubernetes.io/hostname: node-3}
  containers: [{name: web, image: nginx:1.27}]
";

const TOLERATING: &str = "apiVersion: v1
kind: Pod
metadata: {name: tolerating, labels: {app: tolerating}}
spec:
  nodeSelector: {kubernetes.io/hostname: node-3}
  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]
  containers: [{name: web, image: nginx:1.27}]
";

fn failed_scheduling(c: &Cluster, pod: &str) -> String {
    c.ok(&args(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={pod},reason=FailedScheduling"),
        "-o",
        "jsonpath={.items[*].message}",
    ]))
}

#[test]
fn a_tainted_node_gets_no_new_pods_until_a_pod_tolerates_the_taint() {
    let c = Cluster::start();
    assert_eq!(
        c.ok(&["taint", "node", "node-3", "dedicated=gpu:NoSchedule"]),
        "node/node-3 tainted\n"
    );
    assert_eq!(
        c.ok(&["get", "node", "node-3", "-o", "jsonpath={.spec.taints}"]),
        r#"[{"effect":"NoSchedule","key":"dedicated","value":"gpu"}]"#
    );
    let describe = c.ok(&["describe", "node", "node-3"]);
    assert!(
        describe.contains(
            "\nTaints:             dedicated=gpu:NoSchedule\nUnschedulable:      false\n"
        ),
        "{describe}"
    );

    // Six replicas would spread two per node; none lands on the tainted one.
    c.ok(&args(&[
        "create",
        "deployment",
        "spread",
        "--image=nginx:1.27",
        "--replicas=6",
    ]));
    let nodes = nodes_of(&c, "spread");
    assert_eq!(nodes.len(), 6, "{nodes:?}");
    assert!(nodes.iter().all(|n| n != "node-3"), "{nodes:?}");

    // A pod that must run on node-3 waits, with the scheduler's reasons; one that tolerates
    // the taint runs there.
    c.ok(&args(&["apply", "-f", &c.write("pinned.yaml", PINNED)]));
    c.ok(&args(&[
        "apply",
        "-f",
        &c.write("tolerating.yaml", TOLERATING),
    ]));
    assert_eq!(nodes_of(&c, "pinned"), Vec::<String>::new());
    assert_eq!(
        failed_scheduling(&c, "pinned"),
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
    assert_eq!(nodes_of(&c, "tolerating"), ["node-3"]);

    // A second taint with the same key and effect needs --overwrite.
    let again = c.kubectl(&["taint", "node", "node-3", "dedicated=cpu:NoSchedule"]);
    assert!(!again.ok);
    assert_eq!(
        again.stderr,
        "error: node node-3 already has dedicated taint(s) with same effect(s) and --overwrite is false\n"
    );
    assert_eq!(
        c.ok(&[
            "taint",
            "node",
            "node-3",
            "dedicated=cpu:NoSchedule",
            "--overwrite"
        ]),
        "node/node-3 modified\n"
    );
    assert_eq!(
        c.ok(&[
            "get",
            "node",
            "node-3",
            "-o",
            "jsonpath={.spec.taints[0].value}"
        ]),
        "cpu"
    );

    // Removing the taint lets the waiting pod in.
    assert_eq!(
        c.ok(&["taint", "node", "node-3", "dedicated:NoSchedule-"]),
        "node/node-3 untainted\n"
    );
    assert_eq!(
        c.ok(&["get", "node", "node-3", "-o", "jsonpath={.spec.taints}"]),
        ""
    );
    assert_eq!(nodes_of(&c, "pinned"), ["node-3"]);
    let gone = c.kubectl(&["taint", "node", "node-3", "dedicated:NoSchedule-"]);
    assert!(!gone.ok);
    assert_eq!(
        gone.stderr,
        "error: taint \"dedicated:NoSchedule\" not found\n"
    );

    // A bad effect is refused by kubectl itself; a bad key by the API server, in its words.
    let bad = c.kubectl(&[
        "patch",
        "node",
        "node-3",
        "-p",
        r#"{"spec":{"taints":[{"key":"a b","effect":"Sometimes"}]}}"#,
    ]);
    assert!(!bad.ok);
    assert!(
        bad.stderr.starts_with(
            "The Node \"node-3\" is invalid: \n* spec.taints[0].key: Invalid value: \"a b\""
        ),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("* spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""),
        "{}",
        bad.stderr
    );
    assert_eq!(
        c.ok(&["get", "node", "node-3", "-o", "jsonpath={.spec.taints}"]),
        ""
    );
}

#[test]
fn cordon_taints_the_node_and_user_taints_survive_it_and_node_status_updates() {
    let c = Cluster::start();
    c.ok(&["taint", "node", "node-2", "team=ml:PreferNoSchedule"]);
    c.ok(&["label", "node", "node-2", "disk=ssd"]);
    c.ok(&["annotate", "node", "node-2", "owner=course"]);
    assert_eq!(c.ok(&["cordon", "node-2"]), "node/node-2 cordoned\n");
    let describe = c.ok(&["describe", "node", "node-2"]);
    assert!(
        describe.contains(
            "\nTaints:             node.kubernetes.io/unschedulable:NoSchedule\n                    team=ml:PreferNoSchedule\nUnschedulable:      true\n"
        ),
        "{describe}"
    );
    assert!(describe.contains("owner: course"), "{describe}");
    assert!(
        describe.contains("RegisteredNode")
            && describe.contains(
                "node-controller  Node node-2 event: Registered Node node-2 in Controller"
            ),
        "{describe}"
    );
    assert!(describe.contains("disk=ssd"), "{describe}");
    // The unschedulable taint is the node lifecycle controller's: removing it does not last.
    c.ok(&[
        "taint",
        "node",
        "node-2",
        "node.kubernetes.io/unschedulable:NoSchedule-",
    ]);
    assert_eq!(
        c.ok(&[
            "get",
            "node",
            "node-2",
            "-o",
            "jsonpath={.spec.taints[*].key}"
        ]),
        "team node.kubernetes.io/unschedulable"
    );
    assert_eq!(c.ok(&["uncordon", "node-2"]), "node/node-2 uncordoned\n");
    assert_eq!(
        c.ok(&[
            "get",
            "node",
            "node-2",
            "-o",
            "jsonpath={.spec.taints[*].key}"
        ]),
        "team"
    );
    assert_eq!(
        c.ok(&[
            "get",
            "node",
            "node-2",
            "-o",
            "jsonpath={.metadata.labels.disk} {.metadata.annotations.owner}"
        ]),
        "ssd course"
    );
}

#[test]
fn every_pod_shows_the_default_tolerations_priority_and_service_account() {
    let c = Cluster::start();
    c.ok(&args(&["apply", "-f", &c.write("pinned.yaml", PINNED)]));
    let describe = c.ok(&args(&["describe", "pod", "pinned"]));
    assert!(
        describe.contains("\nPriority:         0\nService Account:  default\n"),
        "{describe}"
    );
    // The column width depends on the other fields printed; the words do not.
    let words: Vec<&str> = describe
        .lines()
        .skip_while(|l| !l.starts_with("Tolerations:"))
        .take(2)
        .map(str::trim)
        .collect();
    assert_eq!(
        words,
        [
            "Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s",
            "node.kubernetes.io/unreachable:NoExecute op=Exists for 300s"
        ],
        "{describe}"
    );
    // A Deployment's pods too (their template does not have them).
    c.ok(&args(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
    ]));
    assert_eq!(
        c.ok(&args(&[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[0].spec.tolerations[*].tolerationSeconds} {.items[0].spec.serviceAccountName}"
        ])),
        "300 300 default"
    );
    assert_eq!(
        c.ok(&args(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.tolerations}"
        ])),
        ""
    );
}

const TOO_BIG: &str = "apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  containers:
    - name: web
      image: nginx:1.27
      resources: {requests: {cpu: \"64\", memory: 1000Gi}}
";

#[test]
fn a_pod_too_big_for_any_node_lists_every_insufficient_resource() {
    let c = Cluster::start();
    c.ok(&args(&["apply", "-f", &c.write("big.yaml", TOO_BIG)]));
    assert_eq!(
        failed_scheduling(&c, "too-big"),
        "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    );
}

/// A deployment of `replicas` whose pods tolerate the unreachable taint for `secs` seconds.
fn tolerating_web(name: &str, replicas: i32, secs: Option<i64>) -> String {
    let tol = match secs {
        Some(s) => format!(
            "      tolerations: [{{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: {s}}}]\n"
        ),
        None => String::new(),
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      nodeSelector: {{kubernetes.io/hostname: node-2}}\n{tol}      containers:\n        - name: web\n          image: nginx:1.27\n"
    )
}

/// `(key, effect)` of each of the node's taints, from the console's `get node -o json`.
fn node_taints(s: &mut Session, node: &str) -> Vec<(String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&s.ok(&format!("get node {node} -o json"))).unwrap();
    v["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["key"].as_str().unwrap_or("").to_string(),
                t["effect"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// How many pods of `app` are terminating.
fn terminating(s: &mut Session, app: &str) -> usize {
    rows(&s.ok(&format!("get pods -l app={app}")))
        .iter()
        .filter(|r| r[2] == "Terminating")
        .count()
}

#[test]
fn an_unreachable_node_evicts_each_pod_when_its_own_toleration_runs_out() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: node-1}, {name: node-2}]}",
    ));
    s.apply(&tolerating_web("quick", 1, Some(60)));
    s.apply(&tolerating_web("default", 1, None));
    s.apply(&tolerating_web("forever", 1, None).replace(
        "      containers:",
        "      tolerations: [{operator: Exists}]\n      containers:",
    ));
    s.advance(10);
    s.sim
        .node_fault(
            "node-2",
            sim_core::controller::node_lifecycle::NodeFault::Down,
        )
        .unwrap();
    // NotReady after the 50 s grace: the unreachable NoSchedule taint with the status, the
    // NoExecute one at the node lifecycle controller's next monitor pass, 5 s later.
    s.advance(51);
    let unreachable = "node.kubernetes.io/unreachable".to_string();
    assert_eq!(
        node_taints(&mut s, "node-2"),
        [(unreachable.clone(), "NoSchedule".to_string())]
    );
    s.advance(5);
    assert_eq!(
        node_taints(&mut s, "node-2"),
        [
            (unreachable.clone(), "NoSchedule".to_string()),
            (unreachable, "NoExecute".to_string())
        ]
    );
    s.advance(58);
    assert_eq!(terminating(&mut s, "quick"), 0);
    s.advance(2);
    assert_eq!(
        terminating(&mut s, "quick"),
        1,
        "60 s after the NoExecute taint"
    );
    assert_eq!(terminating(&mut s, "default"), 0);
    s.advance(240);
    assert_eq!(
        terminating(&mut s, "default"),
        1,
        "300 s by DefaultTolerationSeconds"
    );
    assert_eq!(
        terminating(&mut s, "forever"),
        0,
        "tolerates everything, forever"
    );
    s.advance(600);
    assert_eq!(terminating(&mut s, "forever"), 0);
}

#[test]
fn a_node_back_before_the_toleration_ends_cancels_the_eviction() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: node-1}, {name: node-2}]}",
    ));
    s.apply(&tolerating_web("default", 2, None));
    s.advance(10);
    let fault = |s: &mut Session, f| s.sim.node_fault("node-2", f).unwrap();
    use sim_core::controller::node_lifecycle::NodeFault;
    fault(&mut s, NodeFault::Down);
    s.advance(100);
    fault(&mut s, NodeFault::Up);
    // NoSchedule goes with the Ready status, NoExecute at the next monitor pass (the passes
    // run every 5 s from the one that found the node lost, 50 s after the fault).
    assert_eq!(
        node_taints(&mut s, "node-2"),
        [(
            "node.kubernetes.io/unreachable".to_string(),
            "NoExecute".to_string()
        )],
        "NoSchedule first"
    );
    s.advance(4);
    assert_eq!(node_taints(&mut s, "node-2").len(), 1);
    s.advance(1);
    assert_eq!(
        node_taints(&mut s, "node-2"),
        [],
        "the NoExecute taint goes at the next pass"
    );
    s.advance(400);
    assert_eq!(terminating(&mut s, "default"), 0);
    let events = s.ok("get events");
    assert!(
        events.contains("Cancelling deletion of Pod default/default-"),
        "{events}"
    );
}

fn small_web(name: &str, replicas: i32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n"
    )
}

/// `(name, status, node)` of the pods of `app`.
fn pods_of(s: &mut Session, app: &str) -> Vec<(String, String, String)> {
    rows(&s.ok(&format!("get pods -l app={app} -o wide")))
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone(), r[6].clone()))
        .collect()
}

#[test]
fn prefer_no_schedule_steers_pods_away_but_does_not_forbid_the_node() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: node-1}, {name: node-2}]}",
    ));
    assert_eq!(
        s.ok("taint node node-1 spot=true:PreferNoSchedule"),
        "node/node-1 tainted\n"
    );
    // Without the taint, LeastAllocated would alternate the replicas between the nodes.
    s.apply(&small_web("web", 4));
    s.advance(5);
    let nodes: Vec<String> = pods_of(&mut s, "web").into_iter().map(|p| p.2).collect();
    assert_eq!(nodes, ["node-2"; 4]);
    // With node-2 cordoned, the PreferNoSchedule node still takes pods.
    s.ok("cordon node-2");
    s.apply(&small_web("more", 1));
    s.advance(5);
    let more = pods_of(&mut s, "more");
    assert_eq!(more.len(), 1);
    assert_eq!(more[0].2, "node-1", "{more:?}");
}

#[test]
fn a_no_execute_taint_evicts_the_pods_that_do_not_tolerate_it_at_once() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: node-1}, {name: node-2}]}",
    ));
    s.apply(&small_web("web", 4));
    s.advance(10);
    let before = pods_of(&mut s, "web");
    let on_2: Vec<String> = before
        .iter()
        .filter(|p| p.2 == "node-2")
        .map(|p| p.0.clone())
        .collect();
    assert_eq!(on_2.len(), 2, "{before:?}");
    assert_eq!(
        s.ok("taint node node-2 maintenance=now:NoExecute"),
        "node/node-2 tainted\n"
    );
    let after = pods_of(&mut s, "web");
    for name in &on_2 {
        let p = after.iter().find(|p| &p.0 == name).unwrap();
        assert_eq!(p.1, "Terminating", "{after:?}");
    }
    // The replacements cannot go to node-2 (NoExecute also keeps pods off).
    let replacements: Vec<_> = after.iter().filter(|p| !on_2.contains(&p.0)).collect();
    assert_eq!(replacements.len(), 4, "{after:?}");
    assert!(replacements.iter().all(|p| p.2 == "node-1"), "{after:?}");
    let events = s.ok("get events");
    assert!(
        events.contains(&format!("Marking for deletion Pod default/{}", on_2[0])),
        "{events}"
    );
}

/// The real kubectl sees the unreachable NoSchedule taint added one monitor pass (5 s) before
/// the NoExecute one, and both gone after the node is back.
#[test]
fn real_kubectl_sees_no_schedule_five_seconds_before_no_execute() {
    let script = ScriptBuilder::with_cluster("{nodes: 2}")
        .apply(&namespace("live-coding"))
        .build();
    let c = crate::kubectl_real::Cluster::start_script(script, 10.0);
    let down = c.http_post("/fault/node-down");
    assert!(
        down.starts_with("HTTP/1.1 2") || down.starts_with("HTTP/1.1 3"),
        "{down}"
    );
    let taints = |o: &str| -> Vec<(String, String, String)> {
        let v: serde_json::Value = serde_json::from_str(o).unwrap();
        v["spec"]["taints"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let f = |k: &str| t[k].as_str().unwrap_or("").to_string();
                (f("key"), f("effect"), f("timeAdded"))
            })
            .collect()
    };
    let out = crate::kubectl_real::poll(&c, &["get", "node", "node-2", "-o", "json"], |o| {
        taints(o).len() == 2
    });
    let t = taints(&out);
    assert_eq!(t[0].0, "node.kubernetes.io/unreachable");
    assert_eq!(t[0].1, "NoSchedule");
    assert_eq!(t[1].1, "NoExecute");
    let at = |s: &str| {
        s.parse::<sim_core::api::k8s_openapi::jiff::Timestamp>()
            .unwrap()
    };
    assert_eq!(
        (at(&t[1].2) - at(&t[0].2)).get_seconds(),
        5,
        "NoExecute one monitor pass later: {t:?}"
    );
    c.http_post("/fault/node-up");
    crate::kubectl_real::poll(&c, &["get", "node", "node-2", "-o", "json"], |o| {
        taints(o).is_empty()
    });
}
