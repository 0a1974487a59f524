//! The default scheduler profile as a real cluster shows it: where replicas land
//! (NodeResourcesFit, BalancedAllocation and PodTopologySpread's default constraints), and
//! the filters a pod's node affinity, topology spread constraints and pod (anti-)affinity add,
//! each with kube-scheduler's FailedScheduling words.

use std::collections::BTreeMap;

use crate::support::*;

fn deployment(name: &str, replicas: i32, spec_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{spec_extra}      containers: [{{name: c, image: nginx:1.27}}]\n"
    )
}

/// Pods per node (`<none>` for pending ones), from `kubectl get pods -o wide`.
fn per_node(s: &mut Session) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in rows(&s.ok("get pods -o wide")) {
        *out.entry(r[6].clone()).or_default() += 1;
    }
    out
}

fn counts(s: &mut Session) -> Vec<usize> {
    let mut c: Vec<usize> = per_node(s).into_values().collect();
    c.sort();
    c
}

#[test]
fn ten_replicas_land_3_3_4_and_thirty_10_10_10_on_nodes_of_4_4_8_cpus() {
    for seed in 0..4 {
        let mut s = Session::new(
            &ScriptBuilder::with_cluster(
                "{nodes: [{name: small-1, cpu: \"4\"}, {name: small-2, cpu: \"4\"}, {name: big, cpu: \"8\"}]}",
            )
            .seed(seed),
        );
        s.apply(&deployment("web", 10, ""));
        s.advance(10);
        let placed = per_node(&mut s);
        // LeastAllocated alone would put 6 of 10 on the big node; the default hostname
        // spreading (maxSkew 5, weight 2) holds it to one more than the others.
        assert_eq!(placed.get("big"), Some(&4), "seed {seed}: {placed:?}");
        assert_eq!(counts(&mut s), vec![3, 3, 4], "seed {seed}: {placed:?}");
        s.ok("scale deployment web --replicas=30");
        s.advance(10);
        assert_eq!(
            counts(&mut s),
            vec![10, 10, 10],
            "seed {seed}: {:?}",
            per_node(&mut s)
        );
    }
}

#[test]
fn equal_nodes_still_get_3_3_4_and_10_10_10() {
    for seed in 0..4 {
        let mut s = Session::new(&ScriptBuilder::with_cluster("{nodes: 3}").seed(seed));
        s.apply(&deployment("web", 10, ""));
        s.advance(10);
        assert_eq!(counts(&mut s), vec![3, 3, 4], "seed {seed}");
        s.ok("scale deployment web --replicas=30");
        s.advance(10);
        assert_eq!(counts(&mut s), vec![10, 10, 10], "seed {seed}");
    }
}

fn failed_scheduling(s: &mut Session) -> String {
    let pending: Vec<String> = rows(&s.ok("get pods -o wide"))
        .into_iter()
        .filter(|r| r[2] == "Pending")
        .map(|r| r[0].clone())
        .collect();
    assert!(!pending.is_empty(), "a pod is pending");
    let describe = s.ok(&format!("describe pod {}", pending[0]));
    describe
        .lines()
        .find(|l| l.contains("FailedScheduling"))
        .unwrap_or_else(|| panic!("{describe}"))
        .to_string()
}

#[test]
fn a_required_node_affinity_no_node_matches_leaves_the_pod_pending() {
    let mut s = Session::new(&ScriptBuilder::with_cluster("{nodes: 3}"));
    s.apply(&deployment(
        "gpu",
        1,
        "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{key: accelerator, operator: In, values: [a100]}]\n",
    ));
    s.advance(5);
    let event = failed_scheduling(&mut s);
    assert!(
        event.contains(
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        ),
        "{event}"
    );
    // Labelling a node lets the scheduler place it.
    s.ok("label node node-2 accelerator=a100");
    s.advance(5);
    assert_eq!(per_node(&mut s).get("node-2"), Some(&1));
}

#[test]
fn node_affinity_operators_and_match_fields_pick_the_node() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: n1, labels: {gen: \"3\"}}, {name: n2, labels: {gen: \"5\"}}, {name: n3}]}",
    ));
    s.apply(&deployment(
        "new",
        3,
        "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{key: gen, operator: Gt, values: [\"4\"]}]\n",
    ));
    s.apply(&deployment(
        "pinned",
        2,
        "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchFields: [{key: metadata.name, operator: In, values: [n3]}]\n",
    ));
    s.advance(10);
    let rows = rows(&s.ok("get pods -o wide"));
    for r in &rows {
        let want = if r[0].starts_with("new-") { "n2" } else { "n3" };
        assert_eq!(r[6], want, "{rows:?}");
    }
}

#[test]
fn preferred_node_affinity_outweighs_free_capacity() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: n1, cpu: \"2\", labels: {disk: ssd}}, {name: n2, cpu: \"16\"}]}",
    ));
    s.apply(&deployment(
        "db",
        3,
        "      affinity:\n        nodeAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 50\n              preference: {matchExpressions: [{key: disk, operator: Exists}]}\n",
    ));
    s.advance(10);
    assert_eq!(
        per_node(&mut s).get("n1"),
        Some(&3),
        "{:?}",
        per_node(&mut s)
    );
}

#[test]
fn a_do_not_schedule_spread_constraint_holds_back_the_pod_that_would_skew() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: a1, labels: {topology.kubernetes.io/zone: a}}, {name: a2, labels: {topology.kubernetes.io/zone: a}}, {name: b1, cpu: \"1\", labels: {topology.kubernetes.io/zone: b}}]}",
    ));
    // Every pod asks for 400m: zone b holds two, so a sixth pod would make zone a 4 against 2.
    let spec = "      topologySpreadConstraints:\n        - maxSkew: 1\n          topologyKey: topology.kubernetes.io/zone\n          whenUnsatisfiable: DoNotSchedule\n          labelSelector: {matchLabels: {app: web}}\n";
    let yaml = deployment("web", 6, spec).replace(
        "image: nginx:1.27}",
        "image: nginx:1.27, resources: {requests: {cpu: 400m}}}",
    );
    s.apply(&yaml);
    s.advance(10);
    let placed = per_node(&mut s);
    assert_eq!(placed.get("b1"), Some(&2), "{placed:?}");
    assert_eq!(
        placed.get("a1").unwrap_or(&0) + placed.get("a2").unwrap_or(&0),
        3,
        "{placed:?}"
    );
    let event = failed_scheduling(&mut s);
    assert!(
        event.contains("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod topology spread constraints."),
        "{event}"
    );
}

#[test]
fn required_pod_anti_affinity_by_hostname_keeps_replicas_apart() {
    let mut s = Session::new(&ScriptBuilder::with_cluster("{nodes: 2}"));
    s.apply(&deployment(
        "cache",
        3,
        "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - topologyKey: kubernetes.io/hostname\n              labelSelector: {matchLabels: {app: cache}}\n",
    ));
    s.advance(10);
    let placed = per_node(&mut s);
    assert_eq!(placed.get("node-1"), Some(&1), "{placed:?}");
    assert_eq!(placed.get("node-2"), Some(&1), "{placed:?}");
    let event = failed_scheduling(&mut s);
    assert!(
        event.contains("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."),
        "{event}"
    );
}

#[test]
fn required_pod_affinity_follows_the_pods_it_names() {
    let mut s = Session::new(&ScriptBuilder::with_cluster("{nodes: 3}"));
    s.apply(&deployment("db", 1, ""));
    s.advance(5);
    let db_node = rows(&s.ok("get pods -o wide"))[0][6].clone();
    s.apply(&deployment(
        "app",
        3,
        "      affinity:\n        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - topologyKey: kubernetes.io/hostname\n              labelSelector: {matchLabels: {app: db}}\n",
    ));
    s.advance(10);
    assert_eq!(per_node(&mut s).get(&db_node), Some(&4));
    // Affinity to pods that exist nowhere: pending with the plugin's words.
    s.apply(&deployment(
        "lonely",
        1,
        "      affinity:\n        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - topologyKey: kubernetes.io/hostname\n              labelSelector: {matchLabels: {app: ghost}}\n",
    ));
    s.advance(5);
    let event = failed_scheduling(&mut s);
    assert!(
        event.contains("0/3 nodes are available: 3 node(s) didn't match pod affinity rules."),
        "{event}"
    );
}

fn bare_pod(name: &str, node: &str, cpu: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  nodeName: {node}\n  containers: [{{name: c, image: nginx:1.27, resources: {{requests: {{cpu: \"{cpu}\"}}}}}}]\n"
    )
}

#[test]
fn a_pod_with_node_name_skips_the_scheduler_and_the_kubelet_may_refuse_it() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: node-1, cpu: \"2\"}, {name: node-2, cpu: \"2\"}]}",
    ));
    s.apply(&bare_pod("fits", "node-1", "500m"));
    s.apply(&bare_pod("too-big", "node-1", "2"));
    s.advance(10);
    let rows = rows(&s.ok("get pods -o wide"));
    let row = |n: &str| rows.iter().find(|r| r[0] == n).unwrap().clone();
    assert_eq!(row("fits")[2], "Running");
    assert_eq!(row("fits")[6], "node-1");
    assert_eq!(row("too-big")[2], "OutOfcpu", "{rows:?}");
    assert_eq!(row("too-big")[6], "node-1");
    let events = s.ok("get events");
    assert!(
        !events.contains("Scheduled"),
        "no scheduler involved: {events}"
    );
    assert!(
        events.contains("OutOfcpu")
            && events.contains(
                "Node didn't have enough resource: cpu, requested: 2000, used: 500, capacity: 2000"
            ),
        "{events}"
    );
    let json: serde_json::Value = serde_json::from_str(&s.ok("get pod too-big -o json")).unwrap();
    assert_eq!(json["status"]["phase"], "Failed");
    assert_eq!(json["status"]["reason"], "OutOfcpu");
    assert_eq!(
        json["status"]["message"],
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 2000, used: 500, capacity: 2000"
    );
    // The refused pod holds nothing: a 1500m pod still fits beside the first.
    s.apply(&bare_pod("rest", "node-1", "1500m"));
    s.advance(10);
    let rows = crate::support::rows(&s.ok("get pods"));
    assert_eq!(rows.iter().find(|r| r[0] == "rest").unwrap()[2], "Running");
    s.ok("delete pod too-big");
    assert!(!s.ok("get pods").contains("too-big"));
}

#[test]
fn a_pending_pod_deleted_before_binding_just_disappears() {
    let mut s = Session::new(&ScriptBuilder::with_cluster(
        "{nodes: [{name: node-1, cpu: \"1\"}]}",
    ));
    s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: huge}\nspec:\n  containers: [{name: c, image: nginx:1.27, resources: {requests: {cpu: \"4\"}}}]\n");
    s.advance(5);
    let before = rows(&s.ok("get events")).len();
    s.ok("delete pod huge");
    s.advance(5);
    assert!(rows(&s.ok("get pods")).is_empty());
    assert_eq!(
        rows(&s.ok("get events")).len(),
        before,
        "{}",
        s.ok("get events")
    );
}

/// Pods per node as the real kubectl's `get pods -o wide` shows them, once all `want` are bound.
fn real_per_node(c: &crate::kubectl_real::Cluster, want: usize) -> BTreeMap<String, usize> {
    let out = crate::kubectl_real::poll(c, &["get", "pods", "-o", "wide"], |o| {
        let bound: Vec<_> = rows(o).into_iter().filter(|r| r[6] != "<none>").collect();
        bound.len() == want
    });
    let mut per = BTreeMap::new();
    for r in rows(&out) {
        *per.entry(r[6].clone()).or_default() += 1;
    }
    per
}

#[test]
fn real_kubectl_sees_3_3_4_then_10_10_10_and_the_node_affinity_reason() {
    let script = ScriptBuilder::with_cluster(
        "{nodes: [{name: small-1, cpu: \"4\"}, {name: small-2, cpu: \"4\"}, {name: big, cpu: \"8\"}]}",
    )
    .apply(&namespace("live-coding"))
    .build();
    let c = crate::kubectl_real::Cluster::start_script(script, 20.0);
    c.ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=10",
    ]);
    let per = real_per_node(&c, 10);
    assert_eq!(per.get("big"), Some(&4), "{per:?}");
    assert_eq!(per.get("small-1"), Some(&3), "{per:?}");
    assert_eq!(per.get("small-2"), Some(&3), "{per:?}");
    c.ok(&["scale", "deployment", "web", "--replicas=30"]);
    let per = real_per_node(&c, 30);
    assert!(per.values().all(|n| *n == 10), "{per:?}");

    let file = c.write(
        "gpu.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: gpu}\nspec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchExpressions: [{key: accelerator, operator: In, values: [a100]}]\n  containers: [{name: c, image: nginx:1.27}]\n",
    );
    c.ok(&["apply", "-f", &file]);
    let described = crate::kubectl_real::poll(&c, &["describe", "pod", "gpu"], |o| {
        o.contains("FailedScheduling")
    });
    assert!(
        described.contains("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."),
        "{described}"
    );
    let pods = c.ok(&["get", "pod", "gpu"]);
    assert!(pods.contains("Pending"), "{pods}");
}

#[test]
fn real_kubectl_lists_node_leases_and_describe_node_shows_the_lease() {
    let script = ScriptBuilder::with_cluster("{nodes: 2}")
        .apply(&namespace("live-coding"))
        .build();
    let c = crate::kubectl_real::Cluster::start_script(script, 1.0);
    let leases = c.ok(&["get", "leases", "-n", "kube-node-lease"]);
    let table = rows(&leases);
    assert_eq!(table.len(), 2, "{leases}");
    assert_eq!(&table[0][..2], ["node-1", "node-1"], "{leases}");
    let described = c.ok(&["describe", "node", "node-1"]);
    assert!(!described.contains("Failed to get lease"), "{described}");
    let block: Vec<&str> = described
        .lines()
        .skip_while(|l| *l != "Lease:")
        .take(4)
        .collect();
    assert_eq!(block.len(), 4, "{described}");
    assert_eq!(block[1], "  HolderIdentity:  node-1");
    assert_eq!(block[2], "  AcquireTime:     <unset>");
    assert!(block[3].starts_with("  RenewTime:       "), "{described}");
    assert!(!block[3].contains("<unset>"), "{described}");
}

#[test]
fn the_default_zone_spreading_leans_towards_the_zone_with_fewer_nodes() {
    // Two nodes in zone a, one in zone b: by hostname alone 12 replicas would land 4/4/4
    // (zone a 8, zone b 4); the zone constraint (maxSkew 3) moves one to zone b.
    for seed in 0..3 {
        let mut s = Session::new(
            &ScriptBuilder::with_cluster(
                "{nodes: [{name: a1, labels: {topology.kubernetes.io/zone: a}}, {name: a2, labels: {topology.kubernetes.io/zone: a}}, {name: b1, labels: {topology.kubernetes.io/zone: b}}]}",
            )
            .seed(seed),
        );
        s.apply(&deployment("web", 6, ""));
        s.advance(10);
        assert_eq!(counts(&mut s), vec![2, 2, 2], "seed {seed}");
        s.ok("scale deployment web --replicas=12");
        s.advance(10);
        let placed = per_node(&mut s);
        assert_eq!(placed.get("b1"), Some(&5), "seed {seed}: {placed:?}");
    }
}

#[test]
fn image_locality_draws_a_pod_to_the_node_that_has_its_large_image() {
    for seed in 0..3 {
        let mut s = Session::new(
            &ScriptBuilder::with_cluster("{nodes: 2}")
                .seed(seed)
                .image("registry.local/big:v1", "{sizeBytes: 1048576000}"),
        );
        // A first pod pulls the 1000 MiB image on node-2.
        s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  nodeSelector: {kubernetes.io/hostname: node-2}\n  containers: [{name: c, image: \"registry.local/big:v1\"}]\n");
        s.advance(30);
        // node-1 is emptier (LeastAllocated), but node-2 has the image: 1000 MiB on one node
        // of two scores 100 * (500 − 23) / (1000 − 23) = 48.
        s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: second}\nspec:\n  containers: [{name: c, image: \"registry.local/big:v1\"}]\n");
        s.advance(5);
        let rows = rows(&s.ok("get pods -o wide"));
        let second = rows.iter().find(|r| r[0] == "second").unwrap();
        assert_eq!(second[6], "node-2", "seed {seed}: {rows:?}");
    }
}
