//! ResourceQuotas and LimitRanges with the real kubectl against `kubesim serve`: `kubectl
//! create quota` (sent as protobuf) and `apply -f` of both kinds, a Deployment capped by the
//! quota with the ReplicaSet's `FailedCreate`, the API server's 403s, LimitRange defaults and
//! maxima, `get quota,limits`, `describe`, strict field validation and `api-resources`.

use crate::kubectl_real::Cluster;

const SHOP: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
";

const WEB: &str = "\
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
        resources: {requests: {cpu: 100m}}
";

#[test]
fn a_quota_caps_a_deployment_and_refuses_one_more_pod() {
    let c = Cluster::start_at(10.0);
    c.ok(&["apply", "-f", &c.write("ns.yaml", SHOP)]);
    let out = c.ok(&[
        "create",
        "quota",
        "q",
        "-n",
        "shop",
        "--hard=pods=2,requests.cpu=1",
    ]);
    assert_eq!(out, "resourcequota/q created\n");
    c.ok(&["apply", "-f", &c.write("web.yaml", WEB)]);
    // Two pods fit; the third create is refused by the quota admission.
    let pods = c.ok(&["get", "pods", "-n", "shop", "-o", "name"]);
    assert_eq!(pods.lines().count(), 2, "{pods}");
    let rs = c.ok(&["describe", "rs", "-n", "shop"]);
    assert!(rs.contains("ReplicaFailure"), "{rs}");
    assert!(
        rs.contains("FailedCreate")
            && rs.contains("Error creating: pods \"web-")
            && rs.contains(
                "\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
            ),
        "{rs}"
    );
    // The quota controller's count, as kubectl describes and lists it.
    let described = c.ok(&["describe", "quota", "q", "-n", "shop"]);
    let rows: Vec<Vec<&str>> = described
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.contains(&vec!["pods", "2", "2"]), "{described}");
    assert!(
        rows.contains(&vec!["requests.cpu", "200m", "1"]),
        "{described}"
    );
    let got = c.ok(&["get", "quota", "-n", "shop"]);
    assert!(got.starts_with("NAME"), "{got}");
    assert!(got.contains("pods: 2/2, requests.cpu: 200m/1"), "{got}");
    // One more pod: without a cpu request it fails the quota's constraint, with one it
    // exceeds the count, each the API server's 403.
    let bare = c.kubectl(&["run", "extra", "-n", "shop", "--image=nginx"]);
    assert!(!bare.ok);
    assert_eq!(
        bare.stderr.trim(),
        "Error from server (Forbidden): pods \"extra\" is forbidden: failed quota: q: must specify requests.cpu for: extra"
    );
    let sized = c.kubectl(&[
        "run",
        "extra",
        "-n",
        "shop",
        "--image=nginx",
        "--overrides={\"spec\":{\"containers\":[{\"name\":\"extra\",\"image\":\"nginx\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}}",
    ]);
    assert!(!sized.ok);
    assert_eq!(
        sized.stderr.trim(),
        "Error from server (Forbidden): pods \"extra\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
    );
    // Raising the quota lets the ReplicaSet's next try through.
    c.ok(&[
        "patch",
        "quota",
        "q",
        "-n",
        "shop",
        "-p",
        "{\"spec\":{\"hard\":{\"pods\":\"3\"}}}",
    ]);
    c.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=120s",
    ]);
    let used = c.ok(&[
        "get",
        "quota",
        "q",
        "-n",
        "shop",
        "-o",
        "jsonpath={.status.used.pods} {.status.used.requests\\.cpu}",
    ]);
    assert_eq!(used, "3 300m");
}

const LAB: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: lab}
---
apiVersion: v1
kind: LimitRange
metadata: {name: sizes, namespace: lab}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 250m, memory: 128Mi}
    max: {memory: 1Gi}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: mem, namespace: lab}
spec:
  hard:
    requests.memory: 1Gi
    limits.memory: 2Gi
    count/deployments.apps: \"1\"
";

const BIG: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: lab}
spec:
  containers:
  - name: big
    image: nginx
    resources: {limits: {memory: 2Gi}}
";

const TYPO: &str = "\
apiVersion: v1
kind: ResourceQuota
metadata: {name: typo, namespace: lab}
spec:
  hrad: {pods: \"1\"}
";

#[test]
fn a_limit_range_fills_defaults_and_refuses_a_pod_over_its_max() {
    let c = Cluster::start_at(10.0);
    let out = c.ok(&["apply", "-f", &c.write("lab.yaml", LAB)]);
    assert_eq!(
        out,
        "namespace/lab created\nlimitrange/sizes created\nresourcequota/mem created\n"
    );
    c.ok(&["run", "p", "-n", "lab", "--image=nginx"]);
    let resources = c.ok(&[
        "get",
        "pod",
        "p",
        "-n",
        "lab",
        "-o",
        "jsonpath={.spec.containers[0].resources}",
    ]);
    assert_eq!(
        resources,
        "{\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"},\"requests\":{\"cpu\":\"250m\",\"memory\":\"128Mi\"}}"
    );
    let note = c.ok(&[
        "get",
        "pod",
        "p",
        "-n",
        "lab",
        "-o",
        "jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}",
    ]);
    assert_eq!(
        note,
        "LimitRanger plugin set: cpu, memory request for container p; cpu, memory limit for container p"
    );
    let big = c.kubectl(&["apply", "-f", &c.write("big.yaml", BIG)]);
    assert!(!big.ok);
    assert!(
        big.stderr.trim().ends_with(
            "pods \"big\" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"
        ),
        "{}",
        big.stderr
    );
    // Both kinds in one get, by their short names.
    let got = c.ok(&["get", "quota,limits", "-n", "lab"]);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "AGE", "REQUEST", "LIMIT"],
        "{got}"
    );
    assert!(lines[1].starts_with("resourcequota/mem"), "{got}");
    assert!(
        lines[1].contains("count/deployments.apps: 0/1, requests.memory: 128Mi/1Gi")
            && lines[1].ends_with("limits.memory: 256Mi/2Gi"),
        "{got}"
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "CREATED", "AT"],
        "{got}"
    );
    assert!(lines[4].starts_with("limitrange/sizes"), "{got}");
    let described = c.ok(&["describe", "limits", "sizes", "-n", "lab"]);
    let rows: Vec<Vec<&str>> = described
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        rows.contains(&vec![
            "Container",
            "memory",
            "-",
            "1Gi",
            "128Mi",
            "256Mi",
            "-"
        ]),
        "{described}"
    );
    // Strict field validation, as a real server does it (kubectl finds both kinds in the
    // OpenAPI v3 documents and leaves the check to the server).
    let typo = c.kubectl(&["apply", "-f", &c.write("typo.yaml", TYPO)]);
    assert!(!typo.ok);
    assert!(!typo.stderr.contains("openapi"), "{}", typo.stderr);
    assert!(
        typo.stderr
            .starts_with("Error from server (BadRequest): error when creating \"")
            && typo.stderr.trim_end().ends_with(
                "typo.yaml\": ResourceQuota in version \"v1\" cannot be handled as a ResourceQuota: strict decoding error: unknown field \"spec.hrad\""
            ),
        "{}",
        typo.stderr
    );
    // Both kinds are in the OpenAPI v3 document of api/v1.
    let v3 = c.ok(&["explain", "limitrange.spec.limits"]);
    assert!(
        v3.starts_with("KIND:       LimitRange\nVERSION:    v1\n"),
        "{v3}"
    );
    assert!(
        v3.contains("  maxLimitRequestRatio\t<map[string]Quantity>\n"),
        "{v3}"
    );
    // The OpenAPI v2 document, which kubectl reads as protobuf.
    let explained = c.ok(&[
        "explain",
        "resourcequota.spec",
        "--output=plaintext-openapiv2",
    ]);
    assert!(
        explained.starts_with("KIND:     ResourceQuota\nVERSION:  v1\n"),
        "{explained}"
    );
    assert!(explained.contains("   scopes\t<[]string>\n"), "{explained}");
    let v2 = c.http_get("/openapi/v2");
    assert!(
        v2.starts_with("HTTP/1.1 200"),
        "{}",
        &v2[..v2.len().min(300)]
    );
    assert!(v2.contains("\"io.k8s.api.core.v1.LimitRange\""));
    let resources = c.ok(&["api-resources"]);
    let row = |name: &str| -> Vec<String> {
        resources
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(|l| l.split_whitespace().map(String::from).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        row("resourcequotas"),
        ["resourcequotas", "quota", "v1", "true", "ResourceQuota"]
    );
    assert_eq!(
        row("limitranges"),
        ["limitranges", "limits", "v1", "true", "LimitRange"]
    );
}

/// A pod that finished (Succeeded) no longer counts against `pods`, so the quota controller's
/// recount frees its place; `count/pods` still counts it, as every stored pod. The console's
/// own `kubectl` prints the same tables.
#[test]
fn a_finished_pod_frees_its_place_in_the_quota() {
    use crate::support::{ScriptBuilder, Session};
    let mut s = Session::new(&ScriptBuilder::new().image(
        "registry.local/job:1",
        "{crash: done, exitCode: 0, crashAfterSeconds: 5}",
    ));
    s.ok("create quota q --hard=pods=1,count/pods=5");
    let pod = |name: &str, image: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  restartPolicy: Never\n  containers: [{{name: c, image: \"{image}\"}}]\n"
        )
    };
    s.apply(&pod("once", "registry.local/job:1"));
    let refused = s.apply(&pod("second", "nginx:1.27"));
    assert_eq!(
        refused.stderr.trim(),
        "Error from server (Forbidden): error when creating \"STDIN\": pods \"second\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1"
    );
    s.advance(30);
    let once = s.ok("get pod once");
    assert!(once.contains("Completed"), "{once}");
    let described = s.ok("describe quota q");
    assert_eq!(
        described,
        "Name:       q\nNamespace:  default\nResource    Used  Hard\n--------    ----  ----\ncount/pods  1     5\npods        0     1\n"
    );
    let admitted = s.apply(&pod("second", "nginx:1.27"));
    assert_eq!(admitted.code, 0, "{}", admitted.stderr);
    let got = s.ok("get quota");
    assert!(got.contains("count/pods: 2/5, pods: 1/1"), "{got}");
}

/// The ReplicaSet controller's pods pass through LimitRanger as the API's do: defaults filled
/// into each pod (its template left as written), and a template over the maximum refused
/// with `FailedCreate` and the API server's message.
#[test]
fn pods_a_replica_set_creates_get_the_limit_range_defaults_or_its_refusal() {
    use crate::support::{ScriptBuilder, Session};
    let mut s = Session::new(&ScriptBuilder::new());
    s.apply(
        "apiVersion: v1\nkind: LimitRange\nmetadata: {name: sizes}\nspec:\n  limits:\n  - type: Container\n    default: {memory: 256Mi}\n    max: {memory: 512Mi}\n",
    );
    s.ok("create deployment web --image=nginx:1.27 --replicas=2");
    let pods: serde_json::Value =
        serde_json::from_str(&s.ok("get pods -l app=web -o json")).unwrap_or_default();
    let items = pods["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{pods}");
    for p in &items {
        let r = &p["spec"]["containers"][0]["resources"];
        assert_eq!(r["limits"]["memory"], "256Mi", "{p}");
        assert_eq!(r["requests"]["memory"], "256Mi", "{p}");
    }
    let rs: serde_json::Value =
        serde_json::from_str(&s.ok("get rs -l app=web -o json")).unwrap_or_default();
    let template = &rs["items"][0]["spec"]["template"]["spec"]["containers"][0]["resources"];
    assert!(template["limits"].is_null(), "{rs}");
    s.apply(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: big}}\n  template:\n    metadata: {labels: {app: big}}\n    spec:\n      containers: [{name: big, image: nginx:1.27, resources: {limits: {memory: 1Gi}}}]\n",
    );
    let described = s.ok("describe rs -l app=big");
    assert!(
        described.contains(
            "\" is forbidden: maximum memory usage per Container is 512Mi, but limit is 1Gi"
        ),
        "{described}"
    );
    assert!(described.contains("FailedCreate"), "{described}");
}

/// A controller's pod is admitted as the API server stores it, its requests defaulted from
/// its limits: a quota of requests takes a template that sets only limits, and counts them.
#[test]
fn a_template_with_limits_only_meets_a_quota_of_requests() {
    use crate::support::{ScriptBuilder, Session};
    let mut s = Session::new(&ScriptBuilder::new());
    s.ok("create quota mem --hard=requests.memory=1Gi,limits.memory=1Gi");
    s.apply(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27, resources: {limits: {memory: 384Mi}}}]\n",
    );
    let described = s.ok("describe quota mem");
    assert!(
        described.contains("limits.memory    768Mi  1Gi\n")
            && described.contains("requests.memory  768Mi  1Gi\n"),
        "{described}"
    );
    let rs = s.ok("describe rs -l app=web");
    assert!(
        rs.contains("exceeded quota: mem, requested: limits.memory=384Mi,requests.memory=384Mi, used: limits.memory=768Mi,requests.memory=768Mi, limited: limits.memory=1Gi,requests.memory=1Gi"),
        "{rs}"
    );
}
