//! `kubectl exec` with the real kubectl 1.37.1 against `kubesim serve`: the WebSocket
//! (`v5.channel.k8s.io`) session, the built-in shell's answers, the API server's and the
//! kubelet's refusals, exit codes, and an exec that sent a request replaying from the export.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::kubectl_real::{Cluster, Printed, kubectl_bin};

const NS: &str = "live-coding";

/// The first pod of the demo's Deployment.
fn a_pod(c: &Cluster) -> String {
    let names = c.ok(&["get", "pods", "-n", NS, "-o", "name"]);
    names
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("pod/"))
        .expect("a pod")
        .to_string()
}

/// `kubectl ARGS` with `stdin` piped in (its cache dir first: everything after `--` is the
/// command's); what it printed and its exit code.
fn run(c: &Cluster, args: &[&str], stdin: &str) -> (Printed, Option<i32>) {
    let mut child = Command::new(kubectl_bin())
        .arg(format!("--cache-dir={}", c.dir.join("cache").display()))
        .args(args)
        .env("KUBECONFIG", c.dir.join("kubeconfig"))
        .env("HOME", &c.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        Printed {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        out.status.code(),
    )
}

fn with_stdin(c: &Cluster, args: &[&str], stdin: &str) -> Printed {
    run(c, args, stdin).0
}

fn kubectl(c: &Cluster, args: &[&str]) -> Printed {
    run(c, args, "").0
}

/// kubectl's stdout, failing the test if it failed.
fn ok(c: &Cluster, args: &[&str]) -> String {
    let p = kubectl(c, args);
    assert!(p.ok, "kubectl {args:?} failed:\n{}{}", p.stdout, p.stderr);
    p.stdout
}

/// kubectl's exit code and stderr.
fn code(c: &Cluster, args: &[&str]) -> (Option<i32>, String) {
    let (p, code) = run(c, args, "");
    (code, p.stderr)
}

#[test]
fn kubectl_exec_runs_commands_in_the_container() {
    let c = Cluster::start();
    let pod = a_pod(&c);
    assert_eq!(
        ok(&c, &["exec", &pod, "-n", NS, "--", "printenv", "HOSTNAME"]),
        format!("{pod}\n")
    );
    // kubectl resolves deploy/ to a pod itself (GETs), then execs into it.
    let host = ok(
        &c,
        &[
            "exec",
            "deploy/credit-scoring-api",
            "-n",
            NS,
            "--",
            "hostname",
        ],
    );
    assert!(host.starts_with("credit-scoring-api-"), "{host}");
    assert_eq!(
        ok(
            &c,
            &[
                "exec",
                &pod,
                "-n",
                NS,
                "-c",
                "api",
                "--",
                "sh",
                "-c",
                "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; env | grep -c ^HOSTNAME="
            ]
        ),
        "live-coding\n1\n"
    );
    // `-i`: a script on standard input, to a shell.
    let p = with_stdin(
        &c,
        &["exec", "-i", &pod, "-n", NS, "--", "sh"],
        "echo one\nnope || echo \"status $?\"\n",
    );
    assert_eq!(p.stdout, "one\nstatus 127\n", "{}", p.stderr);
    assert_eq!(p.stderr, "sh: nope: not found\n");
}

#[test]
fn kubectl_exec_curls_a_service_and_gets_the_programs_answer() {
    let c = Cluster::start();
    let pod = a_pod(&c);
    assert_eq!(
        ok(
            &c,
            &[
                "exec",
                &pod,
                "-n",
                NS,
                "--",
                "curl",
                "-s",
                "http://credit-scoring-api.live-coding.svc.cluster.local/"
            ]
        ),
        r#"{"status":"ok","model_version":"v1"}"#
    );
    let p = kubectl(&c, &["exec", &pod, "-n", NS, "--", "curl", "http://nope/"]);
    assert!(!p.ok);
    assert_eq!(
        p.stderr,
        "curl: (6) Could not resolve host: nope\ncommand terminated with exit code 6\n"
    );
}

#[test]
fn kubectl_exec_exit_codes_and_refusals_are_the_real_ones() {
    let c = Cluster::start();
    let pod = a_pod(&c);
    assert_eq!(
        code(&c, &["exec", &pod, "-n", NS, "--", "false"]),
        (Some(1), "command terminated with exit code 1\n".to_string())
    );
    assert_eq!(
        code(&c, &["exec", &pod, "-n", NS, "--", "sh", "-c", "exit 42"]).0,
        Some(42)
    );
    // A container the pod does not have: kubectl refuses it from the pod it read.
    let (rc, err) = code(&c, &["exec", &pod, "-n", NS, "-c", "nope", "--", "true"]);
    assert_eq!(rc, Some(1));
    assert_eq!(
        err,
        format!("error: container nope is not valid for pod {pod} out of: api\n")
    );
    // A command the image does not have: the runtime's error, on the error channel.
    let (rc, err) = code(&c, &["exec", &pod, "-n", NS, "--", "bash"]);
    assert_eq!(rc, Some(1));
    assert!(
        err.starts_with("error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec")
            && err.ends_with("exec: \"bash\": executable file not found in $PATH: unknown\n"),
        "{err}"
    );
    // A container that is not running: the kubelet's refusal, through kubectl's SPDY fallback.
    c.ok(&["run", "broken", "-n", NS, "--image=nope.invalid/x:1"]);
    let (rc, err) = code(&c, &["exec", "broken", "-n", NS, "--", "true"]);
    assert_eq!(rc, Some(1));
    assert_eq!(
        err,
        "error: unable to upgrade connection: container not found (\"broken\")\n"
    );
    let (_, err) = code(&c, &["exec", "nope", "-n", NS, "--", "true"]);
    assert_eq!(
        err,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
}

#[test]
fn an_exec_that_sent_a_request_is_recorded_and_replays_byte_for_byte() {
    let c = Cluster::start();
    let pod = a_pod(&c);
    // A read is not recorded; a curl is (it ran the program, which counted and logged it).
    ok(&c, &["exec", &pod, "-n", NS, "--", "printenv", "HOSTNAME"]);
    let answer = ok(
        &c,
        &[
            "exec",
            &pod,
            "-n",
            NS,
            "--",
            "sh",
            "-c",
            "curl -s -X POST -d '{}' credit-scoring-api/predict; echo",
        ],
    );
    assert!(answer.contains("field required"), "{answer}");
    let run = c.ok(&["get", "--raw", "/export"]);
    assert_eq!(run.matches("- exec:").count(), 1, "{run}");
    assert!(run.contains("curl -s -X POST"), "{run}");
    let replayed = web_ui::sandbox::Sandbox::open(&run).unwrap();
    assert_eq!(replayed.export(), run);
    // The replay ran the request again: the program that answered logged it (the demo's own
    // traffic sends valid bodies, answered 200).
    let sim = &replayed.sim;
    let refused: usize = sim
        .store
        .pods
        .all_names()
        .filter_map(|(_, _, id)| sim.store.pods.get(id))
        .flat_map(|p| p.containers.iter())
        .flat_map(|c| c.logs.iter())
        .filter(|(_, l)| l.contains("\"POST /predict HTTP/1.1\" 422"))
        .count();
    assert_eq!(refused, 1);
}

/// `kubectl port-forward svc/NAME LOCAL:80`: kubectl resolves the Service to a pod, opens
/// the WebSocket-tunnelled SPDY session, and a request to its local port reaches the pod's
/// program, recorded as a `request` to the pod.
#[test]
fn kubectl_port_forward_reaches_the_pods_program() {
    use std::io::{BufRead, BufReader, Read};
    let c = Cluster::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(kubectl_bin())
        .arg(format!("--cache-dir={}", c.dir.join("cache").display()))
        .args([
            "port-forward",
            "svc/credit-scoring-api",
            &format!("{port}:80"),
            "-n",
            NS,
        ])
        .env("KUBECONFIG", c.dir.join("kubeconfig"))
        .env("HOME", &c.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // kept open to the end: kubectl prints a line for every connection
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.starts_with(&format!("Forwarding from 127.0.0.1:{port} -> 8080")),
        "{first}"
    );
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let answer = get("/");
    let health = get("/healthz");
    let _ = child.kill();
    let _ = child.wait();
    drop(stdout);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with(r#"{"status":"ok","model_version":"v1"}"#),
        "{answer}"
    );
    assert!(health.ends_with(r#"{"status":"ok"}"#), "{health}");
    let run = c.ok(&["get", "--raw", "/export"]);
    assert!(run.contains("service: http://10.244."), "{run}");
    assert!(run.contains("path: /healthz"), "{run}");
    // A pod that is not running: kubectl refuses it from the pod it read.
    c.ok(&["run", "broken", "-n", NS, "--image=nope.invalid/x:1"]);
    let (rc, err) = code(&c, &["port-forward", "pod/broken", "18089:80", "-n", NS]);
    assert_eq!(rc, Some(1));
    assert_eq!(
        err,
        "error: unable to forward port because pod is not running. Current status=Pending\n"
    );
}

const NO_TOKEN: &str = "apiVersion: v1
kind: Pod
metadata: {name: no-token}
spec:
  automountServiceAccountToken: false
  containers:
  - {name: web, image: nginx:1.27}
";

#[test]
fn every_pod_mounts_its_service_account_token_as_a_real_cluster_does() {
    let c = Cluster::start();
    let pod = a_pod(&c);
    let sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    let volume = ok(
        &c,
        &[
            "get",
            "pod",
            &pod,
            "-n",
            NS,
            "-o",
            "jsonpath={.spec.volumes[0].name} {.spec.containers[0].volumeMounts[0].name} {.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds} {.spec.volumes[0].projected.defaultMode}",
        ],
    );
    let words: Vec<&str> = volume.split(' ').collect();
    assert_eq!(words.len(), 4, "{volume}");
    assert!(
        words[0].starts_with("kube-api-access-") && words[0].len() == 21,
        "{volume}"
    );
    assert_eq!(words[1..], [words[0], "3607", "420"], "{volume}");
    let name = words[0];

    // `kubectl describe pod`: the mount, and the volume as kubectl 1.37 prints a projected one.
    let describe = ok(&c, &["describe", "pod", &pod, "-n", NS]);
    assert!(
        describe.contains(&format!("    Mounts:\n      {sa} from {name} (ro)\n")),
        "{describe}"
    );
    let block: Vec<String> = describe
        .lines()
        .skip_while(|l| !l.starts_with("Volumes:"))
        .take(7)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        block,
        [
            "Volumes:".to_string(),
            format!("{name}:"),
            "Type: Projected (a volume that contains injected data from multiple sources)".into(),
            "TokenExpirationSeconds: 3607".into(),
            "ConfigMapName: kube-root-ca.crt".into(),
            "Optional: false".into(),
            "DownwardAPI: true".into(),
        ],
        "{describe}"
    );

    // The files, through the built-in shell.
    assert_eq!(
        ok(
            &c,
            &[
                "exec",
                &pod,
                "-n",
                NS,
                "--",
                "cat",
                &format!("{sa}/namespace")
            ]
        ),
        NS
    );
    assert_eq!(
        ok(&c, &["exec", &pod, "-n", NS, "--", "ls", sa]),
        "ca.crt\nnamespace\ntoken\n"
    );
    let ca = ok(
        &c,
        &["exec", &pod, "-n", NS, "--", "cat", &format!("{sa}/ca.crt")],
    );
    assert!(
        ca.starts_with("-----BEGIN CERTIFICATE-----\n")
            && ca.ends_with("-----END CERTIFICATE-----\n"),
        "{ca}"
    );

    // The root CA publisher's ConfigMap is in every namespace, and comes back when deleted.
    let cms = ok(&c, &["get", "cm", "-n", "default"]);
    assert!(
        cms.lines().any(|l| l.starts_with("kube-root-ca.crt   1 ")),
        "{cms}"
    );
    assert_eq!(
        ok(
            &c,
            &[
                "get",
                "cm",
                "kube-root-ca.crt",
                "-n",
                "kube-system",
                "-o",
                "name"
            ]
        ),
        "configmap/kube-root-ca.crt\n"
    );
    let uid = |c: &Cluster| {
        ok(
            c,
            &[
                "get",
                "cm",
                "kube-root-ca.crt",
                "-n",
                "default",
                "-o",
                "jsonpath={.metadata.uid}",
            ],
        )
    };
    let before = uid(&c);
    ok(&c, &["delete", "cm", "kube-root-ca.crt", "-n", "default"]);
    let after = uid(&c);
    assert!(!after.is_empty() && after != before, "{before} {after}");

    // A pod that opts out gets no volume and no files.
    ok(
        &c,
        &[
            "apply",
            "-n",
            "default",
            "-f",
            &c.write("no-token.yaml", NO_TOKEN),
        ],
    );
    assert_eq!(
        ok(
            &c,
            &[
                "get",
                "pod",
                "no-token",
                "-n",
                "default",
                "-o",
                "jsonpath={.spec.volumes}"
            ]
        ),
        ""
    );
}
