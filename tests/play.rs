//! `kubesim scenario play --kubeconfig`: the course's scenarios 01–05 played against another
//! `kubesim serve` reached only through its kubeconfig, as kind or GKE would be, each step
//! also graded by `kubesim scenario check` before and after its solution. A student
//! works in their own shell (here: each step's reference solution through the real kubectl)
//! while play watches; every check the sandbox plays must be shown failing before the
//! solution's writes and passing after them. The safety rules and the one-line errors for a
//! cluster that cannot be used are checked here too.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::scenarios::format::Step;
use sim_core::action::Action;
use sim_core::script::StepSpec;

use crate::kubectl_real::Cluster;

/// Virtual seconds per wall second, in the sandbox and for play's waits alike.
const SPEED: f64 = 20.0;

fn course(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/course")
        .join(file)
}

/// A running `kubesim scenario play`, its output read as it comes.
struct Play {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<String>>,
}

impl Play {
    fn start(c: &Cluster, file: &Path, args: &[&str]) -> Play {
        let mut child = play_command(c, file, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubesim starts");
        let out = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let out = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Play {
            stdin: child.stdin.take(),
            child,
            out,
        }
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits (up to two minutes of wall time) until `text` is printed after byte `from`;
    /// returns where it ends.
    fn wait_for(&self, text: &str, from: usize) -> usize {
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            let out = self.output();
            if let Some(i) = out.get(from..).and_then(|rest| rest.find(text)) {
                return from + i + text.len();
            }
            assert!(
                Instant::now() < until,
                "play never printed {text:?} after byte {from}:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn key(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn finish(mut self) -> (ExitStatus, String) {
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("play did not end:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        std::thread::sleep(Duration::from_millis(200));
        (status, self.output())
    }
}

impl Drop for Play {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn play_command(c: &Cluster, file: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubesim"));
    cmd.args(["scenario", "play"])
        .arg(file)
        .arg("--kubeconfig")
        .arg(c.dir.join("kubeconfig"))
        .args(args)
        .env("PATH", crate::kubectl_real::path_with_kubectl());
    cmd
}

/// `kubesim scenario play ARGS` to its end (a minute at most), with stdin closed: (success,
/// all it printed).
fn play_once(c: &Cluster, file: &Path, args: &[&str]) -> (bool, String) {
    let (status, out) = Play::start(c, file, args).finish();
    (status.success(), out)
}

/// The student at work: a step's reference solution through the real kubectl. Whether it
/// wrote anything (its checks must fail before it, then).
fn solve(c: &Cluster, step: &Step, n: usize) -> bool {
    let mut wrote = false;
    for (i, spec) in step.solution.iter().enumerate() {
        match spec {
            StepSpec::Act(Action::Kubectl(line)) => {
                let mut words = sim_core::kubectl::split_words(line).unwrap();
                pick_pod(c, &mut words);
                let args: Vec<&str> = words.iter().map(String::as_str).collect();
                let read_only = sim_core::kubectl::is_read_only(&words);
                let p = c.kubectl(&args);
                // A read (`rollout status` of a stalled rollout) may fail as it would for
                // the student; a write may not.
                assert!(
                    read_only || p.ok,
                    "kubectl {line}:\n{}{}",
                    p.stdout,
                    p.stderr
                );
                wrote |= !read_only;
            }
            StepSpec::Act(Action::Apply(yaml) | Action::Create(yaml)) => {
                let file = c.dir.join(format!("step{n}-{i}.yaml"));
                std::fs::write(&file, yaml).unwrap();
                c.ok(&["apply", "-f", file.to_str().unwrap()]);
                wrote = true;
            }
            StepSpec::Advance(d) => {
                let secs = sim_core::time::parse_duration(d).unwrap().as_secs_f64();
                std::thread::sleep(Duration::from_secs_f64(secs / SPEED));
            }
            // play waits for the checks; the student would watch `rollout status`.
            StepSpec::WaitFor(_) | StepSpec::Echo(_) | StepSpec::Explain(_) => {}
            other => panic!("step {n}'s solution has {other:?}, which a student cannot type"),
        }
    }
    wrote
}

/// `delete pod web-v7nv7` names a pod of the sandbox's seeded run; this cluster's pods have
/// other names. The student picks one of the same owner from `kubectl get pods`, as the
/// step's text tells them to.
fn pick_pod(c: &Cluster, words: &mut [String]) {
    let [verb, kind, name, ..] = words else {
        return;
    };
    if verb != "delete" || kind != "pod" || c.kubectl(&["get", "pod", name]).ok {
        return;
    }
    let Some((owner, _)) = name.rsplit_once('-') else {
        return;
    };
    let pods = c.ok(&["get", "pods", "-o", "name"]);
    if let Some(p) = pods
        .lines()
        .filter_map(|l| l.strip_prefix("pod/"))
        .find(|p| p.rsplit_once('-').is_some_and(|(o, _)| o == owner))
    {
        *name = p.to_string();
    }
}

/// Plays a course scenario on a fresh sandbox with every step solved in the student's shell.
fn play_course(file: &str) -> (Cluster, String) {
    play_course_in(file, None)
}

/// [`play_course`], in namespace `ns` (`play -n NS`) when given.
fn play_course_in(file: &str, ns: Option<&str>) -> (Cluster, String) {
    let c = Cluster::start_script("cluster: {nodes: 3}\n".into(), SPEED);
    let path = course(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut scenario = ::scenarios::validate(&text)
        .0
        .expect("the course validates");
    if let Some(ns) = ns {
        scenario = ::scenarios::real::in_namespace(&scenario, ns);
    }
    let plan = ::scenarios::real::plan(&scenario).expect("the course plays on a cluster");
    // The student's kubectl works in the scenario's namespace, as the sandbox's console does.
    let own = scenario.setup.namespace.as_deref().unwrap_or("default");
    c.ok(&[
        "config",
        "set-context",
        "--current",
        &format!("--namespace={own}"),
    ]);
    let speed = SPEED.to_string();
    let mut args = vec!["--yes", "--time-scale", &speed];
    if let Some(ns) = ns {
        args.extend(["-n", ns]);
    }
    let mut p = Play::start(&c, &path, &args);
    let mut at = 0;
    for (i, (step, sp)) in scenario.steps.iter().zip(&plan.steps).enumerate() {
        let n = i + 1;
        at = p.wait_for(&format!("## Step {n} of {}", scenario.steps.len()), at);
        at = p.wait_for("Keys:", at);
        let played: Vec<&str> = step
            .checks
            .iter()
            .zip(&sp.checks)
            .filter(|(_, skip)| skip.is_none())
            .map(|(c, _)| c.name.as_str())
            .collect();
        if n == 1 && !step.hints.is_empty() {
            p.key("h");
            p.wait_for(&format!("hint: {}", step.hints[0]), at);
        }
        let writes = step.solution.iter().any(|s| match s {
            StepSpec::Act(Action::Kubectl(l)) => {
                !sim_core::kubectl::is_read_only(&sim_core::kubectl::split_words(l).unwrap())
            }
            StepSpec::Act(_) => true,
            _ => false,
        });
        // The state checks `scenario check` evaluates once (not history, traffic or time).
        let state: Vec<&str> = step
            .checks
            .iter()
            .filter(|ch| {
                !::scenarios::check::HISTORY_FUNCTIONS
                    .iter()
                    .any(|f| ch.cel.contains(&format!("{f}(")))
                    && !ch.cel.contains("elapsed")
            })
            .map(|ch| ch.name.as_str())
            .collect();
        let grade = |mark: &str| {
            if ns.is_some() || state.is_empty() {
                return;
            }
            let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
                .args(["scenario", "check"])
                .arg(&path)
                .args(["--step", &n.to_string(), "--kubeconfig"])
                .arg(c.dir.join("kubeconfig"))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            for name in &state {
                assert!(
                    text.contains(&format!("{mark} {name}\n")),
                    "{file} step {n}: scenario check should say {mark} {name}:\n{text}"
                );
            }
        };
        if writes {
            // As in the sandbox (`scenario test`): every check fails before the solution.
            for name in &played {
                p.wait_for(&format!("✗ {name}\n"), at);
            }
            grade("✗");
        }
        solve(&c, step, n);
        let done = p.wait_for(&format!("Step {n} done."), at);
        grade("✓");
        for name in &played {
            let out = p.output();
            assert!(
                out[at..done].contains(&format!("✓ {name}\n")),
                "{file} step {n}: check {name:?} never passed:\n{}",
                &out[at..]
            );
        }
        at = done;
    }
    let (status, out) = p.finish();
    assert!(status.success(), "{file}:\n{out}");
    assert!(
        out.contains(&format!("All {} steps done.", scenario.steps.len())),
        "{out}"
    );
    (c, out)
}

#[test]
fn course_01_plays_on_a_cluster_through_its_kubeconfig() {
    let (c, out) = play_course("01-pods-and-labels.yaml");
    // Scenario 01 sets nothing up: play wrote nothing, the student made the pods.
    assert!(!out.contains("applied"), "{out}");
    let pods = c.ok(&["get", "pods", "-n", "default", "-o", "name"]);
    assert_eq!(pods.trim(), "pod/hello-api", "{pods}");
}

#[test]
fn course_02_plays_on_a_cluster_through_its_kubeconfig() {
    play_course("02-replicaset.yaml");
}

#[test]
fn course_03_plays_on_a_cluster_through_its_kubeconfig() {
    let (_, out) = play_course("03-recreate.yaml");
    // The traffic goes through the API server's service proxy: Recreate's downtime is seen
    // as failed requests there too ("requests failed during the update" is played).
    assert!(
        out.contains("through the API server's service proxy"),
        "{out}"
    );
    assert!(!out.contains("not checked here"), "{out}");
}

#[test]
fn course_04_plays_on_a_cluster_through_its_kubeconfig() {
    play_course("04-rolling-update.yaml");
}

#[test]
fn course_05_plays_and_touches_nothing_outside_its_namespace() {
    let (c, out) = play_course("05-broken-release.yaml");
    assert!(
        out.contains("deployment.apps/credit-scoring-api -n live-coding applied"),
        "{out}"
    );
    // Nothing outside `live-coding` was created or changed.
    let namespaces = c.ok(&["get", "namespaces", "-o", "name"]);
    let mut got: Vec<&str> = namespaces.lines().collect();
    got.sort();
    assert_eq!(
        got,
        [
            "namespace/default",
            "namespace/kube-node-lease",
            "namespace/kube-public",
            "namespace/kube-system",
            "namespace/live-coding"
        ]
    );
    let default = c.ok(&[
        "get",
        "deployments,replicasets,pods",
        "-n",
        "default",
        "-o",
        "name",
    ]);
    assert_eq!(default.trim(), "", "{default}");
}

#[test]
fn course_04_plays_in_a_students_own_namespace() {
    let (c, out) = play_course_in("04-rolling-update.yaml", Some("student-7"));
    assert!(out.contains("may write in: student-7"), "{out}");
    let there = c.ok(&["get", "deployments", "-n", "student-7", "-o", "name"]);
    assert_eq!(there.trim(), "deployment.apps/credit-scoring-api");
    assert!(!c.kubectl(&["get", "namespace", "live-coding"]).ok);
}

#[test]
fn a_killercoda_folder_plays_with_its_verify_scripts() {
    let c = Cluster::start_script("cluster: {nodes: 2}\n".into(), SPEED);
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/killercoda/deploy-and-scale");
    c.ok(&["config", "set-context", "--current", "--namespace=default"]);
    let speed = SPEED.to_string();
    // It writes nothing itself (its background scripts stay in the sandbox): no --yes.
    let p = Play::start(&c, &folder, &["--time-scale", &speed]);
    let mut at = 0;
    let student: [&[&str]; 3] = [
        &["create", "deployment", "web", "--image=nginx:1.27"],
        &["scale", "deployment", "web", "--replicas=3"],
        &[
            "expose",
            "deployment",
            "web",
            "--type=NodePort",
            "--port=80",
        ],
    ];
    for (i, args) in student.iter().enumerate() {
        let n = i + 1;
        at = p.wait_for(&format!("## Step {n} of 3"), at);
        at = p.wait_for("✗ verify script", at);
        c.ok(args);
        at = p.wait_for("✓ verify script", at);
        at = p.wait_for(&format!("Step {n} done."), at);
    }
    let (status, out) = p.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("All 3 steps done."), "{out}");
    assert!(
        out.contains("background/foreground script is skipped"),
        "said: {out}"
    );
}

const SHOP: &str = r#"title: The shop
setup:
  namespace: shop
  objects:
    - |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: nginx:1.27}]}
steps:
  - title: Scale
    text: Scale `web` to three.
    checks:
      - name: three
        cel: deployment('shop', 'web').spec.replicas == 3
"#;

fn scenario_file(c: &Cluster, name: &str, text: &str) -> PathBuf {
    let f = c.dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn play_writes_only_with_yes_only_in_declared_namespaces_and_dry_runs_on_the_server() {
    let c = Cluster::start_script("cluster: {nodes: 1}\n".into(), SPEED);
    let shop = scenario_file(&c, "shop.yaml", SHOP);
    let absent = |c: &Cluster, ns: &str| {
        let p = c.kubectl(&["get", "namespace", ns]);
        assert!(!p.ok, "namespace {ns} exists");
    };

    // No --yes: refused, with what it would write; nothing written.
    let (ok, out) = play_once(&c, &shop, &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("apply deployment.apps/web -n shop"), "{out}");
    assert!(out.contains("re-run with --yes"), "{out}");
    absent(&c, "shop");

    // --dry-run: the server checks each object (dryRun=All); nothing written.
    let (ok, out) = play_once(&c, &shop, &["--dry-run"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("would apply namespace/shop (server dry run: ok)"),
        "{out}"
    );
    absent(&c, "shop");

    // An object in a namespace the scenario does not declare: refused before any write.
    let prod = scenario_file(
        &c,
        "prod.yaml",
        &SHOP.replace(
            "metadata: {name: web}",
            "metadata: {name: web, namespace: prod}",
        ),
    );
    let (ok, out) = play_once(&c, &prod, &["--yes"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("is in namespace \"prod\", which the scenario does not declare"),
        "{out}"
    );
    absent(&c, "shop");
    absent(&c, "prod");

    // An object the server refuses: nothing of the setup is applied but its namespace.
    let bad = scenario_file(&c, "bad.yaml", &SHOP.replace("replicas: 2", "replicas: -2"));
    let (ok, out) = play_once(&c, &bad, &["--yes"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("nothing was applied: deployment.apps/web -n shop is refused"),
        "{out}"
    );
    let left = c.ok(&["get", "deployments", "-n", "shop", "-o", "name"]);
    assert_eq!(left.trim(), "", "{left}");
}

#[test]
fn a_cluster_that_cannot_be_used_is_one_clear_line() {
    let c = Cluster::start_script("cluster: {nodes: 1}\n".into(), SPEED);
    let shop = scenario_file(&c, "shop.yaml", SHOP);

    // Unreachable: the kubeconfig points at a closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let kc = c.dir.join("closed-kubeconfig");
    std::fs::write(
        &kc,
        web_ui::kube_api::kubeconfig(&format!("http://127.0.0.1:{port}"), None, None),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["scenario", "play"])
        .arg(&shop)
        .arg("--kubeconfig")
        .arg(&kc)
        .arg("--yes")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "cannot reach the cluster at http://127.0.0.1:{port}"
        )),
        "{err}"
    );

    // Refused credentials (an expired token is refused the same way).
    let guarded = Cluster::start_with_token("right-token");
    let config = std::fs::read_to_string(guarded.dir.join("kubeconfig")).unwrap();
    std::fs::write(
        guarded.dir.join("kubeconfig"),
        config.replace("right-token", "expired-token"),
    )
    .unwrap();
    let (ok, out) = play_once(&guarded, &shop, &["--yes"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("refused the kubeconfig's credentials (401 Unauthorized)"),
        "{out}"
    );
    assert_eq!(out.trim().lines().count(), 1, "{out}");

    // A context the kubeconfig lacks.
    let (ok, out) = play_once(&c, &shop, &["--yes", "--context", "gke-prod"]);
    assert!(!ok);
    assert!(out.contains("has no context \"gke-prod\""), "{out}");
}
