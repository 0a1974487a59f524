//! Course scenarios: every file in `scenarios/course/` passes `kubesim scenario test` (this is
//! how CI tests the course), a check that cannot fail is reported, and `validate` names the
//! file and line of a bad expression.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sim_core::kubectl::FileSource;
use sim_core::script::RunOptions;

struct Dir(PathBuf);

impl FileSource for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn course_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/course")
}

/// All course scenarios in one process, so each worker module compiles once.
#[test]
fn every_course_scenario_passes_its_own_test() {
    let programs: Arc<dyn sim_core::program::Programs> = Arc::new(inference_worker::Builtin::new());
    let mut files: Vec<PathBuf> = std::fs::read_dir(course_dir())
        .expect("scenarios/course exists")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let mut failed = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable scenario");
        let opts = RunOptions {
            programs: Some(programs.clone()),
            ..RunOptions::default()
        };
        let report = ::scenarios::test(&text, opts, Box::new(Dir(course_dir())));
        if !report.passed() {
            failed.push(report.render(&path.display().to_string()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

const ONE_STEP: &str = "\
title: t
setup:
  namespace: demo
steps:
  - title: scale
    text: Scale it.
    checks:
      - name: CHECK
        cel: EXPR
    hints: [h]
    solution:
      - apply: |
          apiVersion: apps/v1
          kind: Deployment
          metadata: {name: web, namespace: demo}
          spec:
            replicas: 2
            selector: {matchLabels: {app: web}}
            template:
              metadata: {labels: {app: web}}
              spec: {containers: [{name: web, image: nginx:1.27}]}
      - advance: 10s
";

fn one_step(name: &str, expr: &str) -> String {
    ONE_STEP.replace("CHECK", name).replace("EXPR", expr)
}

#[test]
fn a_check_that_cannot_fail_is_reported() {
    let run = |expr: &str| {
        let report = ::scenarios::test(
            &one_step("ready", expr),
            RunOptions::default(),
            ::scenarios::runner::no_files(),
        );
        (report.passed(), report.render("x.yaml"))
    };
    let (ok, text) = run("deployment('demo', 'web').status.readyReplicas == 2");
    assert!(ok, "{text}");
    let (ok, text) = run("size(nodes) == 3");
    assert!(!ok);
    assert!(
        text.contains(
            "check \"ready\" already passes before the solution; a check that cannot fail is a bug (size(nodes) == 3)"
        ),
        "{text}"
    );
    let (ok, text) = run("deployment('demo', 'web').status.readyReplicas == 3");
    assert!(!ok);
    assert!(
        text.contains("fails after the solution: expected deployment('demo', 'web').status.readyReplicas == 3; found deployment('demo', 'web').status.readyReplicas = 2"),
        "{text}"
    );
}

#[test]
fn validate_names_the_file_and_line_of_a_bad_expression() {
    let dir = std::env::temp_dir().join(format!("kubesim-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        one_step("ready", "deployment('demo', 'web').status.readyReplicas =="),
    )
    .unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, one_step("ready", "revision('demo', 'web') == 1")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["scenario", "validate"])
        .arg(&file)
        .arg(&good)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let want = format!("{}:9:", file.display());
    let line = stdout.lines().next().unwrap_or_default();
    assert!(line.starts_with(&want), "{stdout}");
    assert!(
        line.contains("error: step 1 (\"scale\"): check \"ready\": Syntax error"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: ok", good.display())),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_shows_every_course_scenario() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["scenario", "list"])
        .arg(course_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("05-broken-release.yaml")
                && l.contains("intermediate")
                && l.contains("5 steps")),
        "{stdout}"
    );
    assert!(!stdout.contains("invalid"), "{stdout}");
}

/// The complete example in docs/scenarios.md is a scenario that passes its own test.
#[test]
fn the_documented_example_passes() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md"))
            .expect("docs/scenarios.md");
    let start = doc.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + doc[start..].find("\n```\n").expect("its end");
    let report = ::scenarios::test(
        &doc[start..end],
        RunOptions {
            programs: Some(Arc::new(inference_worker::Builtin::new())),
            ..RunOptions::default()
        },
        ::scenarios::runner::no_files(),
    );
    assert!(report.passed(), "{}", report.render("docs/scenarios.md"));
}

/// While the student's `kubectl delete` waits for the pod's graceful end, the step's timed
/// event fires at its moment (10 s in), not after the command returns.
#[test]
fn events_fire_while_a_kubectl_command_waits() {
    let text = r#"
title: waits
setup:
  cluster: {nodes: 1}
  images:
    registry.local/slow-stop:v1: {stopSeconds: 25}
  objects:
    - |
      apiVersion: v1
      kind: Pod
      metadata: {name: slow}
      spec:
        terminationGracePeriodSeconds: 30
        containers: [{name: c, image: registry.local/slow-stop:v1}]
  steps:
    - advance: 10s
steps:
  - title: delete
    text: delete the pod
    events:
      - at: 10s
        say: ten seconds into the step
        do:
          - echo: tick
    checks:
      - name: gone
        cel: "!exists('default', 'pods', 'slow')"
    solution:
      - kubectl: delete pod slow
"#;
    let mut s =
        ::scenarios::Session::start(text, RunOptions::default(), ::scenarios::runner::no_files())
            .unwrap();
    let start = s.sim.now();
    let (out, failed) = s.act(&sim_core::action::Action::Kubectl("delete pod slow".into()));
    assert!(failed.is_none(), "{failed:?}");
    let out = out.output;
    assert!(out.stdout.contains("pod \"slow\" deleted"), "{out:?}");
    assert!(
        s.sim.now().since(start).as_secs_f64() >= 20.0,
        "the command waited"
    );
    let (at, said) = s.messages.first().cloned().expect("the event fired");
    assert_eq!(said, "ten seconds into the step");
    assert_eq!(at.since(start).as_secs_f64(), 10.0, "fired at its moment");
}
