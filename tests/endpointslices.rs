//! EndpointSlices with the real kubectl against `kubesim serve`: `kubectl get endpointslices`,
//! `kubectl describe svc` reading a Service's endpoints from its slices, and the deprecation
//! warning v1 Endpoints answer with.

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
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: shop}
spec:
  selector: {app: nothing-runs-this}
  ports: [{port: 80, targetPort: 8080}]
";

#[test]
fn kubectl_reads_a_services_endpoints_from_its_slices() {
    let c = Cluster::start();
    c.ok(&["apply", "-f", &c.write("app.yaml", APP)]);
    c.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=120s",
    ]);
    let pod_ips = c.ok(&[
        "get",
        "pods",
        "-n",
        "shop",
        "-o",
        "jsonpath={.items[*].status.podIP}",
    ]);
    let mut ips: Vec<&str> = pod_ips.split_whitespace().collect();
    ips.sort_by_key(|ip| ip.parse::<std::net::Ipv4Addr>().ok());
    assert_eq!(ips.len(), 3, "{pod_ips}");

    // kubectl get endpointslices: one slice per Service, the empty one a placeholder.
    let out = c.ok(&["get", "endpointslices", "-n", "shop"]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"],
        "{out}"
    );
    assert_eq!(rows.len(), 3, "{out}");
    let row = |svc: &str| {
        rows[1..]
            .iter()
            .find(|r| r[0].starts_with(&format!("{svc}-")) && r[0].len() == svc.len() + 6)
            .unwrap_or_else(|| panic!("no slice of {svc}:\n{out}"))
            .clone()
    };
    let mut listed: Vec<&str> = row("web")[3].split(',').collect();
    listed.sort_by_key(|ip| ip.parse::<std::net::Ipv4Addr>().ok());
    assert_eq!(row("web")[1..3], ["IPv4", "8080"], "{out}");
    assert_eq!(listed, ips, "{out}");
    assert_eq!(row("empty")[1..4], ["IPv4", "<unset>", "<unset>"], "{out}");

    // Selected by the label kubectl describe uses; each endpoint ready, serving, not
    // terminating, owned by the Service.
    let json = c.ok(&[
        "get",
        "endpointslices",
        "-n",
        "shop",
        "-l",
        "kubernetes.io/service-name=web",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{json}");
    let slice = &items[0];
    assert_eq!(slice["apiVersion"], "discovery.k8s.io/v1");
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(slice["ports"][0]["port"], 8080);
    for e in slice["endpoints"].as_array().unwrap() {
        assert_eq!(
            e["conditions"],
            serde_json::json!({"ready": true, "serving": true, "terminating": false}),
            "{json}"
        );
        assert_eq!(e["targetRef"]["kind"], "Pod");
    }

    // kubectl describe svc lists the ready endpoints (it read "<none>" before slices).
    let out = c.ok(&["describe", "svc", "web", "-n", "shop"]);
    let line = out
        .lines()
        .find(|l| l.starts_with("Endpoints:"))
        .unwrap_or_else(|| panic!("{out}"));
    let mut described: Vec<&str> = line["Endpoints:".len()..].trim().split(',').collect();
    described.sort_by_key(|e| {
        e.trim_end_matches(":8080")
            .parse::<std::net::Ipv4Addr>()
            .ok()
    });
    let expected: Vec<String> = ips.iter().map(|ip| format!("{ip}:8080")).collect();
    assert_eq!(described, expected, "{out}");
    // The Service selecting nothing: its placeholder slice gives an empty line.
    let out = c.ok(&["describe", "svc", "empty", "-n", "shop"]);
    assert!(out.lines().any(|l| l.trim_end() == "Endpoints:"), "{out}");

    // v1 Endpoints still answer, with the warning of the API server since 1.33.
    let p = c.kubectl(&["get", "endpoints", "-n", "shop"]);
    assert!(p.ok, "{}", p.stderr);
    assert!(
        p.stderr.contains(
            "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"
        ),
        "{}",
        p.stderr
    );
    // A slice cannot be written through the API: kubesim's controller owns them.
    let name = row("web")[0].to_string();
    let p = c.kubectl(&["delete", "endpointslice", &name, "-n", "shop"]);
    assert!(!p.ok, "{}", p.stdout);
    assert!(
        p.stderr.contains("kubesim manages endpointslices itself"),
        "{}",
        p.stderr
    );
}

/// The console's `describe svc` reads the slices too: a Service that selects nothing has only
/// the placeholder slice, and its `Endpoints:` line is empty, as kubectl 1.37 prints it.
#[test]
fn the_console_describe_svc_reads_endpoint_slices() {
    use crate::support::*;
    let mut s = Session::new(&ScriptBuilder::with_cluster("{nodes: 2}"));
    s.apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: nginx:1.27, ports: [{containerPort: 80}]}]\n");
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n");
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: nobody}\nspec:\n  selector: {app: nobody}\n  ports: [{port: 80}]\n");
    s.advance(30);
    let line = |s: &mut Session, svc: &str| -> String {
        let out = s.ok(&format!("describe svc {svc}"));
        out.lines()
            .find(|l| l.starts_with("Endpoints:"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };
    let web = line(&mut s, "web");
    assert_eq!(web.matches(":80").count(), 2, "{web}");
    assert_eq!(line(&mut s, "nobody").trim_end(), "Endpoints:");
}
