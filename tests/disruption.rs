//! PodDisruptionBudgets and evictions with the real kubectl against `kubesim serve`:
//! `kubectl create pdb` (sent as protobuf), `kubectl get pdb`, and `kubectl drain` evicting
//! through the `pods/eviction` subresource, retrying while the budget forbids it.

use crate::kubectl_real::Cluster;

const APP: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
";

#[test]
fn drain_waits_on_the_disruption_budget_and_reports_it() {
    let c = Cluster::start_at(10.0);
    c.ok(&["apply", "-f", &c.write("app.yaml", APP)]);
    c.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=120s",
    ]);
    // kubectl create pdb sends the object as protobuf.
    let out = c.ok(&[
        "create",
        "pdb",
        "web",
        "-n",
        "shop",
        "--selector=app=web",
        "--min-available=2",
    ]);
    assert_eq!(out, "poddisruptionbudget.policy/web created\n");
    // The disruption controller's status: two healthy of two wanted, nothing to spare.
    let status = c.ok(&[
        "get",
        "pdb",
        "web",
        "-n",
        "shop",
        "-o",
        "jsonpath={.status.currentHealthy} {.status.desiredHealthy} {.status.expectedPods} {.status.disruptionsAllowed} {.status.conditions[0].reason}",
    ]);
    assert_eq!(status, "2 2 2 0 InsufficientPods");
    let out = c.ok(&["get", "pdb", "-n", "shop"]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "MIN",
            "AVAILABLE",
            "MAX",
            "UNAVAILABLE",
            "ALLOWED",
            "DISRUPTIONS",
            "AGE"
        ],
        "{out}"
    );
    assert_eq!(rows[1][..4], ["web", "2", "N/A", "0"], "{out}");

    // Draining the node of a pod: the eviction is refused, kubectl retries every 5 s and
    // gives up at its timeout; the pod stays.
    let node = c.ok(&[
        "get",
        "pods",
        "-n",
        "shop",
        "-o",
        "jsonpath={.items[0].spec.nodeName}",
    ]);
    let pods_before = c.ok(&["get", "pods", "-n", "shop", "-o", "name"]);
    let p = c.kubectl(&["drain", &node, "--timeout=7s"]);
    assert!(!p.ok, "{}", p.stdout);
    assert!(
        p.stdout.contains(&format!("node/{node} cordoned")),
        "{}",
        p.stdout
    );
    assert!(p.stdout.contains("evicting pod shop/web-"), "{}", p.stdout);
    assert!(
        p.stderr.contains(
            "-n \"shop\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
        ),
        "{}",
        p.stderr
    );
    assert!(
        p.stderr.contains("global timeout reached: 7s"),
        "{}",
        p.stderr
    );
    assert_eq!(
        c.ok(&["get", "pods", "-n", "shop", "-o", "name"]),
        pods_before,
        "nothing was evicted"
    );

    // A budget that spares one pod lets the drain through: evicted, not deleted.
    c.ok(&["delete", "pdb", "web", "-n", "shop"]);
    c.ok(&[
        "create",
        "pdb",
        "web",
        "-n",
        "shop",
        "--selector=app=web",
        "--max-unavailable=1",
    ]);
    let out = c.ok(&["drain", &node, "--timeout=120s"]);
    assert!(out.contains("evicting pod shop/web-"), "{out}");
    assert!(out.contains(" evicted\n"), "{out}");
    assert!(out.ends_with(&format!("node/{node} drained\n")), "{out}");
}

/// The console's own `kubectl drain` evicts as the real one does: the budget's 429 is
/// retried every 5 s of virtual time, printing `evicting pod` again, until `--timeout`.
#[test]
fn the_consoles_drain_evicts_and_retries_as_kubectl_does() {
    use crate::support::{ScriptBuilder, Session, rows};
    let mut s = Session::new(&ScriptBuilder::with_cluster("{nodes: [{name: node-1}]}"));
    s.apply(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n",
    );
    s.apply(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 2\n  selector: {matchLabels: {app: web}}\n",
    );
    s.advance(30);
    let pdb = rows(&s.ok("get pdb"));
    assert_eq!(pdb[0][..4], ["web", "2", "N/A", "0"], "{pdb:?}");
    let mut names: Vec<String> = rows(&s.ok("get pods"))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    names.sort();

    let before = s.sim.now();
    let out = s.kubectl("drain node-1 --timeout=12s");
    assert_eq!(out.code, 1, "{}", out.stdout);
    // Tries at 0, 5 and 10 s, each refused; at 15 s kubectl prints its try and finds the
    // timeout passed.
    let mut stdout = String::from("node/node-1 cordoned\n");
    let mut retries = String::new();
    for _ in 0..3 {
        for n in &names {
            stdout.push_str(&format!("evicting pod default/{n}\n"));
            retries.push_str(&format!(
                "error when evicting pods/\"{n}\" -n \"default\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.\n"
            ));
        }
    }
    for n in &names {
        stdout.push_str(&format!("evicting pod default/{n}\n"));
    }
    assert_eq!(out.stdout, stdout);
    let errs: Vec<String> = names
        .iter()
        .map(|n| {
            format!("error when evicting pods/\"{n}\" -n \"default\": global timeout reached: 12s")
        })
        .collect();
    let agg = format!("[{}]", errs.join(", "));
    assert_eq!(
        out.stderr,
        format!(
            "{retries}error: unable to drain node \"node-1\" due to error: {agg}, continuing command...\nThere are pending nodes to be drained:\n node-1\nerror: {agg}\n"
        )
    );
    assert_eq!(
        s.sim.now().since(before),
        sim_core::SimDuration::from_secs(15)
    );
    let after: Vec<String> = rows(&s.ok("get pods"))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(after.len(), 2, "nothing was evicted: {after:?}");
}
