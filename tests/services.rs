//! Services: Endpoints list exactly the ready pods; NodePorts come from 30000-32767.

use crate::support::*;

fn web_and_service(image: &str) -> String {
    format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: demo}}\nspec:\n  type: NodePort\n  selector: {{app: web}}\n  ports: [{{port: 80, targetPort: 8080}}]\n",
        deployment("web", "demo", 3, image, &[])
    )
}

/// `IP:8080` of every pod `get pods -o wide` shows as ready, sorted.
fn ready_pod_endpoints(s: &mut Session) -> Vec<String> {
    let mut eps: Vec<String> = rows(&s.ok("get pods -n demo -o wide"))
        .into_iter()
        .filter(|r| r[1] == "1/1")
        .map(|r| format!("{}:8080", r[5]))
        .collect();
    eps.sort();
    eps
}

fn endpoints(s: &mut Session) -> Vec<String> {
    let table = s.ok("get endpoints web -n demo");
    let row = &rows(&table)[0];
    let mut eps: Vec<String> = row[1].split(',').map(str::to_string).collect();
    eps.sort();
    eps
}

#[test]
fn endpoints_follow_readiness() {
    let b = ScriptBuilder::new().image(
        "registry.local/api:fading",
        "{livenessFailAfterSeconds: 60}",
    );
    let mut s = Session::new(&b);
    s.apply(&namespace("demo"));
    s.apply(&web_and_service("registry.local/credit-scoring-api:single"));
    s.advance(10);
    let ready = ready_pod_endpoints(&mut s);
    assert_eq!(ready.len(), 3);
    assert_eq!(endpoints(&mut s), ready);

    let svc = s.ok("get svc web -n demo");
    let ports = &rows(&svc)[0][4];
    let node_port: u16 = ports
        .strip_prefix("80:")
        .and_then(|p| p.strip_suffix("/TCP"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("PORT(S) {ports}"));
    assert!((30000..=32767).contains(&node_port), "{node_port}");

    // A new revision whose pods stop answering probes after a minute: while they are
    // ready they are endpoints; once readiness fails they leave.
    s.ok("set image deployment/web api=registry.local/api:fading -n demo");
    s.advance(30);
    let ready = ready_pod_endpoints(&mut s);
    assert_eq!(ready.len(), 3);
    assert_eq!(endpoints(&mut s), ready);
    s.advance(120);
    assert!(ready_pod_endpoints(&mut s).is_empty());
    // Only notReadyAddresses remain, and printers.go formatEndpoints lists `addresses`
    // only: the ENDPOINTS cell is empty (`<none>` is for an Endpoints without subsets).
    let table = s.ok("get endpoints web -n demo");
    assert_eq!(rows(&table)[0].len(), 2, "{table}");
    let describe = s.ok("describe svc web -n demo");
    assert!(
        describe.contains(&format!(
            "NodePort:                 <unset>  {node_port}/TCP\n"
        )),
        "{describe}"
    );
    // describe reads EndpointSlices and lists ready endpoints only: an empty value.
    assert!(
        describe.lines().any(|l| l.trim_end() == "Endpoints:"),
        "{describe}"
    );
}

#[test]
fn finished_pods_leave_the_endpoints_and_ports_resolve_per_pod() {
    // endpointsliceutil.ShouldPodBeInEndpoints: a restartPolicy Never pod that Succeeded is
    // not an endpoint; podutil.FindPort resolves a named targetPort in each pod.
    let mut s = Session::new(&ScriptBuilder::new().image(
        "registry.local/job:1",
        "{crash: done, exitCode: 0, crashAfterSeconds: 5}",
    ));
    let pod = |name: &str, image: &str, port: i32, policy: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: web}}}}\nspec:\n  restartPolicy: {policy}\n  containers: [{{name: c, image: \"{image}\", ports: [{{name: http, containerPort: {port}}}]}}]\n"
        )
    };
    s.apply(&pod("a", "nginx:1.27", 8080, "Always"));
    s.apply(&pod("b", "nginx:1.27", 9090, "Always"));
    s.apply(&pod("done", "registry.local/job:1", 7070, "Never"));
    s.apply("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: http}]\n");
    s.advance(30);
    let json: serde_json::Value = serde_json::from_str(&s.ok("get endpoints web -o json")).unwrap();
    let subsets = json["subsets"].as_array().unwrap();
    let mut seen: Vec<(i64, usize)> = subsets
        .iter()
        .map(|ss| {
            (
                ss["ports"][0]["port"].as_i64().unwrap(),
                ss["addresses"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, [(8080, 1), (9090, 1)], "{json}");
}
