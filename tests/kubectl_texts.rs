//! kubectl's own texts for `logs` (container defaulting, picking a pod of a Deployment) and
//! `drain` (evict everything, wait until gone, refuse bare pods), as the Go sources print them.

use crate::support::*;

fn one_node() -> ScriptBuilder {
    ScriptBuilder::with_cluster("{nodes: [{name: node-1}]}")
        .image("registry.local/a:1", "{logs: [hello from a]}")
        .image("registry.local/b:1", "{logs: [hello from b]}")
}

fn two_containers(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, annotations: {{{annotations}}}}}\nspec:\n  containers:\n    - {{name: a, image: registry.local/a:1}}\n    - {{name: b, image: registry.local/b:1}}\n"
    )
}

fn web(replicas: i32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: registry.local/a:1}}]\n"
    )
}

#[test]
fn logs_defaults_the_container_and_says_so() {
    let mut s = Session::new(&one_node());
    s.apply(&two_containers("two", ""));
    s.apply(&two_containers(
        "picked",
        "kubectl.kubernetes.io/default-container: b",
    ));
    s.advance(10);
    // logsforobject.go: the first container, with a note on stderr.
    let out = s.kubectl("logs two");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "hello from a\n",
            "Defaulted container \"a\" out of: a, b\n"
        )
    );
    // The default-container annotation picks silently.
    let out = s.kubectl("logs picked");
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("hello from b\n", "")
    );
    // A wrong -c is refused by kubectl itself, listing the containers.
    assert_eq!(
        s.fails("logs two -c nope"),
        "error: container nope is not valid for pod two out of: a, b\n"
    );
}

#[test]
fn logs_of_a_deployment_picks_one_pod_and_says_which() {
    let mut s = Session::new(&one_node());
    s.apply(&web(3));
    s.advance(10);
    let out = s.kubectl("logs deployment/web");
    assert_eq!(out.stdout, "hello from a\n");
    let picked = out
        .stderr
        .strip_prefix("Found 3 pods, using pod/")
        .unwrap_or_else(|| panic!("{:?}", out.stderr))
        .trim()
        .to_string();
    assert!(
        s.ok("get pods -o name")
            .contains(&format!("pod/{picked}\n"))
    );
}

#[test]
fn drain_refuses_bare_pods_then_evicts_everything_and_waits() {
    let mut s = Session::new(&one_node());
    s.apply(&web(2));
    s.apply(&two_containers("solo", ""));
    s.advance(10);
    let names: Vec<String> = rows(&s.ok("get pods"))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();

    // drain.go RunDrain and filters.go unreplicatedFilter.
    let out = s.kubectl("drain node-1");
    assert_eq!(out.stdout, "node/node-1 cordoned\n");
    assert_eq!(
        out.stderr,
        "error: unable to drain node \"node-1\" due to error: cannot delete cannot delete Pods that declare no controller (use --force to override): default/solo, continuing command...\n\
         There are pending nodes to be drained:\n node-1\n\
         error: cannot delete cannot delete Pods that declare no controller (use --force to override): default/solo\n"
    );
    assert_eq!(rows(&s.ok("get pods")).len(), 3, "nothing was evicted");

    let before = s.sim.now();
    let out = s.kubectl("drain node-1 --force");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "Warning: deleting Pods that declare no controller: default/solo\n"
    );
    // Every eviction first; `evicted` once each pod is gone (stopping takes 1 s here).
    let mut expected = String::from("node/node-1 already cordoned\n");
    for n in &names {
        expected.push_str(&format!("evicting pod default/{n}\n"));
    }
    for n in &names {
        expected.push_str(&format!("pod/{n} evicted\n"));
    }
    expected.push_str("node/node-1 drained\n");
    assert_eq!(out.stdout, expected);
    assert_eq!(
        s.sim.now().since(before),
        sim_core::SimDuration::from_secs(1)
    );
    // The old pods are gone; the replacements wait for a schedulable node.
    let now = rows(&s.ok("get pods"));
    assert!(
        now.iter()
            .all(|r| !names.contains(&r[0]) && r[2] == "Pending"),
        "{now:?}"
    );
}
