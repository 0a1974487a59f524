//! Ingress: the real kubectl against `kubesim serve`, and requests through the ingress
//! controller's listener answered by the pods (or by ingress-nginx's own pages).

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
      containers:
        - name: api
          image: registry.local/credit-scoring-api:v1
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {port: 8080, path: /healthz}, periodSeconds: 1}
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
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: shop}
spec:
  rules:
    - host: api.local
      http:
        paths:
          - path: /predict
            pathType: Prefix
            backend:
              service: {name: web, port: {number: 80}}
    - host: empty.local
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: empty, port: {number: 80}}
";

const BODY: &str = r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#;

/// One HTTP/1.1 exchange with `addr` (what `curl -H 'Host: HOST'` sends): the whole response.
fn http(addr: std::net::SocketAddr, method: &str, host: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The value of response header `name` (lower case, as hyper writes it).
fn header<'a>(res: &'a str, name: &str) -> Option<&'a str> {
    res.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[test]
fn an_ingress_routes_curl_by_host_and_path_and_the_run_replays() {
    let c = Cluster::start_with_ingress();
    let ingress = c.ingress.expect("the ingress listener");
    c.ok(&["apply", "-f", &c.write("app.yaml", APP)]);
    c.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=120s",
    ]);

    // kubectl get ingress: the default class, the hosts, the controller's address, port 80.
    let out = c.ok(&["get", "ingress", "-n", "shop"]);
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
        "{out}"
    );
    assert_eq!(
        lines[1][..5],
        ["api", "nginx", "api.local,empty.local", "127.0.0.1", "80"],
        "{out}"
    );
    let classes = c.ok(&["get", "ingressclass"]);
    assert!(
        classes.contains("nginx   k8s.io/ingress-nginx   <none>"),
        "{classes}"
    );

    // A request for api.local's /predict is answered by one of the Service's pods.
    let res = http(ingress, "POST", "api.local", "/predict", BODY);
    assert!(res.starts_with("HTTP/1.1 200 OK\r\n"), "{res}");
    assert!(
        res.ends_with(r#"{"probability_of_default":0.139101,"decision":"approve"}"#),
        "{res}"
    );
    let first_pod = header(&res, "x-kubesim-pod").expect("the pod").to_string();
    assert!(first_pod.starts_with("web-"), "{res}");
    // The Host's port and case do not matter; a path the rules lack is nginx's 404.
    let res = http(ingress, "POST", "API.local:8081", "/predict", BODY);
    assert!(res.starts_with("HTTP/1.1 200 OK\r\n"), "{res}");
    let second_pod = header(&res, "x-kubesim-pod").expect("the pod").to_string();
    let res = http(ingress, "GET", "api.local", "/other", "");
    assert!(res.starts_with("HTTP/1.1 404 Not Found\r\n"), "{res}");
    // An unknown host: nginx's 404 page, from no pod.
    let res = http(ingress, "GET", "unknown.local", "/predict", "");
    assert!(res.starts_with("HTTP/1.1 404 Not Found\r\n"), "{res}");
    assert!(
        res.contains("<center><h1>404 Not Found</h1></center>"),
        "{res}"
    );
    assert_eq!(header(&res, "x-kubesim-pod"), None, "{res}");
    // A Service without a ready endpoint: 503.
    let res = http(ingress, "GET", "empty.local", "/", "");
    assert!(
        res.starts_with("HTTP/1.1 503 Service Temporarily Unavailable\r\n"),
        "{res}"
    );

    // kubectl describe ingress: the rules with their backends.
    let out = c.ok(&["describe", "ingress", "api", "-n", "shop"]);
    assert!(out.contains("Ingress Class:    nginx\n"), "{out}");
    assert!(out.contains("Address:          127.0.0.1\n"), "{out}");
    let rules: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Rules:"))
        .map(str::trim)
        .collect();
    assert_eq!(
        rules[1..4],
        [
            "Host         Path  Backends",
            "----         ----  --------",
            "api.local"
        ],
        "{out}"
    );
    // kubectl reads a backend's endpoints from the Service's EndpointSlices: the two ready
    // pods' addresses at the target port.
    assert!(rules[4].starts_with("/predict   web:80 ("), "{out}");
    let backends = rules[4]
        .trim_start_matches("/predict   web:80 (")
        .trim_end_matches(')');
    assert_eq!(backends.split(',').count(), 2, "{out}");
    assert!(backends.split(',').all(|e| e.ends_with(":8080")), "{out}");

    // Every request is in the run as an `ingress` step, and the run replays to the same
    // answers from the same pods.
    let body = c.ok(&["get", "--raw", "/export"]);
    assert_eq!(body.matches("- ingress:").count(), 5, "{body}");
    let mut replayed = web_ui::sandbox::Sandbox::open(&body).unwrap();
    let strip = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&replayed.export()), strip(&body));
    let answers: Vec<(u16, Option<String>)> = replayed
        .tracer
        .records
        .iter()
        .filter_map(|r| r.request.as_ref())
        .map(|r| (r.status, r.pod.clone().filter(|p| !p.is_empty())))
        .collect();
    assert_eq!(
        answers,
        [
            (200, Some(first_pod)),
            (200, Some(second_pod)),
            (404, None),
            (404, None),
            (503, None),
        ]
    );
    // The requests that reached a Service count in its traffic numbers (the chart), written
    // when their second ends.
    replayed.sim.advance(sim_core::time::SimDuration(2000));
    let counted = |svc: &str| -> (u64, u64) {
        replayed
            .sim
            .traffic
            .seconds
            .iter()
            .filter(|s| s.namespace == "shop" && s.service == svc)
            .fold((0, 0), |(r, e), s| (r + s.requests, e + s.errors))
    };
    assert_eq!(counted("web"), (2, 0));
    assert_eq!(counted("empty"), (1, 1));
}

#[test]
fn an_ingress_with_an_unknown_path_type_is_refused_with_the_api_servers_words() {
    let c = Cluster::start();
    let bad = APP
        .split("---\n")
        .last()
        .unwrap()
        .replace("pathType: Prefix", "pathType: Foo")
        .replace("namespace: shop", "namespace: default");
    let p = c.kubectl(&["apply", "-f", &c.write("bad.yaml", &bad)]);
    assert!(!p.ok);
    assert_eq!(
        p.stderr,
        "The Ingress \"api\" is invalid: \n\
         * spec.rules[0].http.paths[0].pathType: Unsupported value: \"Foo\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"\n\
         * spec.rules[1].http.paths[0].pathType: Unsupported value: \"Foo\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"\n"
    );
    let p = c.kubectl(&["get", "ingress", "api"]);
    assert!(!p.ok);
    assert_eq!(
        p.stderr,
        "Error from server (NotFound): ingresses.networking.k8s.io \"api\" not found\n"
    );
    // kubectl's generator sends protobuf (a rule's value is inlined in JSON).
    let out = c.ok(&[
        "create",
        "ingress",
        "api",
        "--rule=api.local/predict*=web:80",
        "--default-backend=web:80",
    ]);
    assert_eq!(out, "ingress.networking.k8s.io/api created\n");
    let v: serde_json::Value =
        serde_json::from_str(&c.ok(&["get", "ingress", "api", "-o", "json"])).unwrap();
    assert_eq!(
        v["spec"]["rules"][0]["http"]["paths"][0],
        serde_json::json!({"path": "/predict", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}})
    );
    assert_eq!(v["spec"]["defaultBackend"]["service"]["name"], "web");
    assert_eq!(v["spec"]["ingressClassName"], "nginx");
}

/// A `kubesim run` script with `ingress` steps, run with the real workers.
fn run_script(text: &str) -> sim_core::script::RunOutput {
    let opts = sim_core::script::RunOptions {
        programs: Some(std::sync::Arc::new(inference_worker::Builtin::new())),
        ..sim_core::script::RunOptions::default()
    };
    match sim_core::script::run(text, opts, &sim_core::kubectl::NoFiles) {
        Ok(out) => out,
        Err((out, e)) => panic!("the run failed: {e}\n{}", out.transcript),
    }
}

#[test]
fn ingress_steps_in_a_script_answer_and_run_the_same_twice() {
    let apply: String = APP
        .split("---\n")
        .map(|doc| format!("  - apply: |\n{}", crate::support::indent(doc, 6)))
        .collect();
    let text = format!(
        "seed: 4\nsteps:\n{apply}  - waitFor: {{rollout: deployment/web, namespace: shop}}
  - ingress: {{host: api.local, path: /predict, body: {BODY}}}
  - ingress: {{host: api.local, path: /predict/, body: {BODY}}}
  - ingress: {{host: api.local, path: /predictions, body: {BODY}}}
  - ingress: {{host: empty.local, path: /}}
  - kubectl: get ingress -n shop
  - traffic: {{service: web, namespace: shop, rps: 5, path: /healthz, duration: 3s}}
  - ingress: {{host: api.local, path: /predict, body: {BODY}}}
  - advance: 5s
"
    );
    let a = run_script(&text);
    let b = run_script(&text);
    assert_eq!(a.transcript, b.transcript);
    assert_eq!(a.tracer.to_jsonl(), b.tracer.to_jsonl());
    let t = &a.transcript;
    assert!(
        t.contains("$ curl -s -X POST -H 'Host: api.local' http://ingress/predict -d '{\"age\":35"),
        "{t}"
    );
    // /predict and /predict/ match the Prefix rule and reach a pod (whose program knows
    // /predict only: no path is rewritten); /predictions does not match (whole elements) and
    // is nginx's own 404. (The second 200 is the last step's.)
    assert_eq!(
        t.matches("200 {\"probability_of_default\":0.139101,\"decision\":\"approve\"}")
            .count(),
        2,
        "{t}"
    );
    assert!(t.contains("404 {\"detail\":\"Not Found\"}"), "{t}");
    assert!(t.contains("404 <html>"), "{t}");
    assert!(
        t.contains("503 <html>\r\n<head><title>503 Service Temporarily Unavailable</title>"),
        "{t}"
    );
    assert!(
        t.contains("api    nginx   api.local,empty.local   127.0.0.1   80"),
        "{t}"
    );
    // Each second is traced once: the three requests that reached `web` through the ingress
    // (one of them during the load generator's 15) and the one that reached `empty`.
    let counted = |svc: &str| -> (u64, u64) {
        a.tracer
            .records
            .iter()
            .flat_map(|r| r.services.iter())
            .filter(|s| s.namespace == "shop" && s.service == svc)
            .fold((0, 0), |(n, e), s| (n + s.requests, e + s.errors))
    };
    assert_eq!(counted("web"), (15 + 3, 0));
    assert_eq!(counted("empty"), (1, 1));
}
