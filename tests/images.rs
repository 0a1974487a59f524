//! Public images by family, with the real kubectl 1.37.1: any published tag of busybox runs
//! its command through the shell (its exit is the pod's status), nginx serves its welcome
//! page and a ConfigMap's files, and a tag no registry has fails to pull.

use crate::kubectl_real::Cluster;

/// Waits (within kubectl's own timeout) until `jsonpath` of `object` is `value`.
fn wait_for(c: &Cluster, object: &str, jsonpath: &str, value: &str) {
    let w = c.kubectl(&[
        "wait",
        object,
        &format!("--for=jsonpath={jsonpath}={value}"),
        "--timeout=60s",
    ]);
    assert!(
        w.ok,
        "{object} {jsonpath}={value}: {}{}",
        w.stdout, w.stderr
    );
}

fn status_column(c: &Cluster, pod: &str) -> String {
    let out = c.ok(&["get", "pod", pod, "--no-headers"]);
    out.split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn busybox_runs_its_command_and_its_exit_is_the_pods_status() {
    let c = Cluster::start_at(20.0);
    c.ok(&[
        "run",
        "b",
        "--image=busybox:1.36",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo hello; exit 3",
    ]);
    wait_for(&c, "pod/b", "{.status.phase}", "Failed");
    assert_eq!(c.ok(&["logs", "b"]), "hello\n");
    assert_eq!(status_column(&c, "b"), "Error");
    assert_eq!(
        c.ok(&[
            "get",
            "pod",
            "b",
            "-o",
            "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}"
        ]),
        "3"
    );

    c.ok(&[
        "run",
        "c",
        "--image=docker.io/library/busybox:1.37.0",
        "--restart=Never",
        "--",
        "echo",
        "hi",
    ]);
    wait_for(&c, "pod/c", "{.status.phase}", "Succeeded");
    assert_eq!(status_column(&c, "c"), "Completed");
    assert_eq!(c.ok(&["logs", "c"]), "hi\n");
}

#[test]
fn a_sleeping_loop_logs_as_virtual_time_passes() {
    let c = Cluster::start_at(30.0);
    c.ok(&[
        "run",
        "ticker",
        "--image=alpine:3.20",
        "--",
        "sh",
        "-c",
        "i=0; while true; do echo tick $i; i=$i.; sleep 5; done",
    ]);
    wait_for(&c, "pod/ticker", "{.status.phase}", "Running");
    // Wait until the loop has gone round a few times (each turn is 5 virtual seconds).
    let mut lines = 0;
    for _ in 0..600 {
        lines = c.ok(&["logs", "ticker"]).lines().count();
        if lines >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(lines >= 3, "{lines} lines");
    let logs = c.ok(&["logs", "ticker"]);
    assert!(logs.starts_with("tick 0\ntick 0.\ntick 0..\n"), "{logs}");
    assert_eq!(status_column(&c, "ticker"), "Running");
}

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.21-alpine
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: site, namespace: default}
data:
  index.html: <h1>Hello from a ConfigMap</h1>
---
apiVersion: v1
kind: Pod
metadata: {name: site, namespace: default, labels: {app: site}}
spec:
  containers:
  - name: nginx
    image: public.ecr.aws/docker/library/nginx:stable
    volumeMounts: [{name: html, mountPath: /usr/share/nginx/html}]
  volumes: [{name: html, configMap: {name: site}}]
---
apiVersion: v1
kind: Service
metadata: {name: site, namespace: default}
spec:
  selector: {app: site}
  ports: [{port: 80}]
";

#[test]
fn nginx_serves_its_welcome_page_and_a_config_maps_files() {
    let c = Cluster::start_at(20.0);
    let file = c.write("web.yaml", WEB);
    c.ok(&["apply", "-f", &file]);
    let avail = c.kubectl(&[
        "wait",
        "-n",
        "default",
        "deployment/web",
        "--for=condition=Available",
        "--timeout=60s",
    ]);
    assert!(avail.ok, "{}{}", avail.stdout, avail.stderr);
    let page = c.ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/services/web:80/proxy/",
    ]);
    assert!(page.contains("<title>Welcome to nginx!</title>"), "{page}");
    // The request is an access-log line in the pod that served it.
    let logs = c.ok(&["logs", "-n", "default", "-l", "app=web", "--tail=-1"]);
    assert!(logs.contains("\"GET / HTTP/1.1\" 200 615 \"-\""), "{logs}");
    let missing = c.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/services/web:80/proxy/nope.html",
    ]);
    assert!(!missing.ok);
    // nginx answered 404: kubectl reports the status as the API server relayed it.
    assert!(missing.stderr.contains("(NotFound)"), "{}", missing.stderr);

    let site = c.kubectl(&[
        "wait",
        "-n",
        "default",
        "pod/site",
        "--for=jsonpath={.status.phase}=Running",
        "--timeout=60s",
    ]);
    assert!(site.ok, "{}{}", site.stdout, site.stderr);
    let mine = c.ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/services/site:80/proxy/",
    ]);
    assert_eq!(mine, "<h1>Hello from a ConfigMap</h1>");
}

#[test]
fn a_tag_no_registry_has_fails_to_pull() {
    let c = Cluster::start_at(20.0);
    c.ok(&["run", "typo", "--image=nginx:1.2O"]);
    wait_for(
        &c,
        "pod/typo",
        "{.status.containerStatuses[0].state.waiting.reason}",
        "ErrImagePull",
    );
    let events = c.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=typo",
    ]);
    assert!(
        events.contains("failed to resolve reference \"nginx:1.2O\": nginx:1.2O: not found"),
        "{events}"
    );
}

/// The same script twice gives the same bytes: shell loops that sleep and call a Service,
/// nginx under traffic, their logs.
#[test]
fn shell_processes_and_web_servers_replay_byte_for_byte() {
    use crate::support::*;
    let text = ScriptBuilder::new()
        .apply(WEB)
        .apply(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: poller, namespace: default}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sh, -c, 'for i in 1 2 3; do date; wget -qO- web | head -n 4; sleep 7; done; while true; do echo spin; done']\n",
        )
        .step("traffic: {service: web, namespace: default, rps: 50, path: /}")
        .advance("20s")
        .kubectl("logs poller -n default")
        .advance("20s")
        .kubectl("logs poller -n default --tail=2")
        .kubectl("get pods -n default")
        .build();
    let a = run_ok(&text);
    let b = run_ok(&text);
    assert_eq!(a.transcript, b.transcript);
    let logs = section(&a.transcript, "kubectl logs poller -n default");
    assert!(logs.contains("<title>Welcome to nginx!</title>"), "{logs}");
    assert_eq!(logs.matches(" UTC 2026\n").count(), 3, "{logs}");
    let tail = section(&a.transcript, "kubectl logs poller -n default --tail=2");
    assert_eq!(tail, "spin\nspin\n");
}

#[test]
fn busybox_without_a_command_crash_loops_under_a_deployment() {
    let c = Cluster::start_at(20.0);
    c.ok(&[
        "create",
        "deployment",
        "box",
        "--image=busybox",
        "-n",
        "default",
    ]);
    let w = c.kubectl(&[
        "wait",
        "-n",
        "default",
        "pod",
        "-l",
        "app=box",
        "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=CrashLoopBackOff",
        "--timeout=60s",
    ]);
    assert!(w.ok, "{}{}", w.stdout, w.stderr);
    let last = c.ok(&[
        "get",
        "pods",
        "-n",
        "default",
        "-l",
        "app=box",
        "-o",
        "jsonpath={.items[0].status.containerStatuses[0].lastState.terminated.reason}",
    ]);
    assert_eq!(last, "Completed");
}
