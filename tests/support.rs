//! Helpers shared by the whole-run tests: building scripts, running them, cutting the
//! transcript into steps, driving a `Sim` command by command, and comparing snapshots.

use std::path::PathBuf;

use sim_core::kubectl::{self, NoFiles, Output};
use sim_core::script::{self, RunOptions, RunOutput, ScriptError};
use sim_core::trace::{DeploymentTrace, TraceRecord};
use sim_core::{Sim, SimDuration};

/// Indents every line of `text` by `n` spaces (for inline YAML under `- apply: |`).
pub(crate) fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// A namespace manifest.
pub(crate) fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
}

/// A Deployment `name` in `ns` with one container `api` running `image`, a readiness probe
/// every 5 s (so images declared `ready: never` stay unready), and `extra` lines added to
/// its spec (written at spec indentation, e.g. `"progressDeadlineSeconds: 60"`).
pub(crate) fn deployment(
    name: &str,
    ns: &str,
    replicas: i32,
    image: &str,
    extra: &[&str],
) -> String {
    let extra: String = extra.iter().map(|l| indent(l, 2)).collect();
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
spec:
  replicas: {replicas}
{extra}  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: api
          image: {image}
          ports: [{{containerPort: 8080}}]
          readinessProbe:
            httpGet: {{port: 8080, path: /}}
            periodSeconds: 5
"#
    )
}

/// Builds a `kubesim run` script.
#[derive(Debug, Clone)]
pub(crate) struct ScriptBuilder {
    header: String,
    images: String,
    steps: String,
}

impl ScriptBuilder {
    /// Seed 7 on three default nodes.
    pub(crate) fn new() -> ScriptBuilder {
        ScriptBuilder::with_cluster("{nodes: 3}")
    }

    /// Seed 7 on the cluster given as YAML (the value of `cluster:`).
    pub(crate) fn with_cluster(cluster: &str) -> ScriptBuilder {
        ScriptBuilder {
            header: format!("seed: 7\ncluster: {cluster}\n"),
            images: String::new(),
            steps: String::new(),
        }
    }

    /// The same cluster with another seed.
    pub(crate) fn seed(mut self, seed: u64) -> Self {
        self.header = self.header.replacen("seed: 7", &format!("seed: {seed}"), 1);
        self
    }

    /// Declares an image (`behaviour` is a YAML flow mapping).
    pub(crate) fn image(mut self, name: &str, behaviour: &str) -> Self {
        self.images.push_str(&format!("  {name}: {behaviour}\n"));
        self
    }

    /// Adds a step written as YAML (`"advance: 2m"`).
    pub(crate) fn step(mut self, step: &str) -> Self {
        self.steps.push_str(&format!("  - {step}\n"));
        self
    }

    /// `- apply: |` with the manifest text.
    pub(crate) fn apply(mut self, yaml: &str) -> Self {
        self.steps.push_str("  - apply: |\n");
        self.steps.push_str(&indent(yaml, 6));
        self
    }

    /// `- kubectl: CMD`.
    pub(crate) fn kubectl(self, cmd: &str) -> Self {
        self.step(&format!("kubectl: {cmd}"))
    }

    /// `- advance: D`.
    pub(crate) fn advance(self, d: &str) -> Self {
        self.step(&format!("advance: {d}"))
    }

    /// `- waitFor: {rollout: deployment/NAME, namespace: NS}`.
    pub(crate) fn wait(self, name: &str, ns: &str) -> Self {
        self.step(&format!(
            "waitFor: {{rollout: deployment/{name}, namespace: {ns}}}"
        ))
    }

    /// The script text.
    pub(crate) fn build(&self) -> String {
        let images = if self.images.is_empty() {
            String::new()
        } else {
            format!("images:\n{}", self.images)
        };
        format!("{}{images}steps:\n{}", self.header, self.steps)
    }
}

/// Runs a script that must succeed.
pub(crate) fn run_ok(text: &str) -> RunOutput {
    match script::run(text, RunOptions::default(), &NoFiles) {
        Ok(out) => out,
        Err((out, e)) => panic!(
            "the run failed: {e}\n--- transcript ---\n{}",
            out.transcript
        ),
    }
}

/// Runs a script that must succeed, with the course's worker programs (the credit-scoring
/// API is one) rather than declared behaviour.
pub(crate) fn run_with_workers(text: &str) -> RunOutput {
    let opts = RunOptions {
        programs: Some(std::sync::Arc::new(inference_worker::Builtin::new())),
        ..RunOptions::default()
    };
    match script::run(text, opts, &NoFiles) {
        Ok(out) => out,
        Err((out, e)) => panic!("the run failed: {e}\n{}", out.transcript),
    }
}

/// Runs a script that must stop with an error.
pub(crate) fn run_err(text: &str) -> (RunOutput, ScriptError) {
    match script::run(text, RunOptions::default(), &NoFiles) {
        Ok(out) => panic!(
            "the run should have failed\n--- transcript ---\n{}",
            out.transcript
        ),
        Err(x) => x,
    }
}

/// What the transcript shows under the first step whose command line ends with `cmd`
/// (`"kubectl get pods -n demo"`, `"# node node-2 is removed"`), up to the next step.
pub(crate) fn section<'a>(transcript: &'a str, cmd: &str) -> &'a str {
    sections(transcript, cmd)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no step {cmd:?} in the transcript\n{transcript}"))
}

/// Every section of the transcript under steps whose command line ends with `cmd`.
pub(crate) fn sections<'a>(transcript: &'a str, cmd: &str) -> Vec<&'a str> {
    let is_step = |l: &str| {
        l.starts_with('[') && (l.contains("] $ ") || l.contains("] # ") || l.contains("] ("))
    };
    let mut out = Vec::new();
    let mut offset = 0;
    let lines: Vec<&str> = transcript.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let start = offset + line.len();
        offset = start;
        if is_step(line) && line.trim_end().ends_with(cmd) {
            let len: usize = lines[i + 1..]
                .iter()
                .take_while(|l| !is_step(l))
                .map(|l| l.len())
                .sum();
            out.push(&transcript[start..start + len]);
        }
    }
    out
}

/// The rows of a `kubectl get` table (header skipped), split into cells on runs of spaces.
pub(crate) fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            l.split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// The trace records that show at least one Deployment.
pub(crate) fn records(out: &RunOutput) -> Vec<TraceRecord> {
    out.tracer
        .records
        .iter()
        .filter(|r| !r.deployments.is_empty())
        .cloned()
        .collect()
}

/// The Deployment `name` in a record.
pub(crate) fn dep<'a>(r: &'a TraceRecord, name: &str) -> &'a DeploymentTrace {
    r.deployments
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no deployment {name} at {}s", r.time))
}

/// The traced state at virtual second `t` (the last record at or before it).
pub(crate) fn at(recs: &[TraceRecord], t: f64) -> &TraceRecord {
    recs.iter()
        .rev()
        .find(|r| r.time <= t)
        .unwrap_or_else(|| panic!("nothing traced before {t}s"))
}

/// `(type, status, reason)` of a Deployment's condition.
pub(crate) fn condition(d: &DeploymentTrace, type_: &str) -> Option<(String, String)> {
    d.conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

/// Spec sizes of a Deployment's ReplicaSets, by revision.
pub(crate) fn sizes(d: &DeploymentTrace) -> Vec<(i64, i32)> {
    d.replica_sets
        .iter()
        .map(|rs| (rs.revision, rs.replicas))
        .collect()
}

/// A cluster driven one command at a time, for flows that go on after a failing command.
pub(crate) struct Session {
    /// The simulated cluster.
    pub(crate) sim: Sim,
}

impl Session {
    /// A cluster as the script `builder` describes it (its steps are not run).
    pub(crate) fn new(builder: &ScriptBuilder) -> Session {
        let script = script::parse(&builder.build()).expect("test script parses");
        Session {
            sim: script::build_sim(&script, &RunOptions::default()),
        }
    }

    /// Applies manifest text as `kubectl apply -f -`.
    pub(crate) fn apply(&mut self, yaml: &str) -> Output {
        let out = kubectl::apply_text(&mut self.sim, yaml, "STDIN", "default", false);
        self.sim.settle();
        out
    }

    /// Runs one kubectl command line.
    pub(crate) fn kubectl(&mut self, cmd: &str) -> Output {
        let out = kubectl::run(&mut self.sim, cmd, &NoFiles);
        self.sim.settle();
        out
    }

    /// Runs a kubectl command that must succeed and returns its standard output.
    pub(crate) fn ok(&mut self, cmd: &str) -> String {
        let out = self.kubectl(cmd);
        assert_eq!(out.code, 0, "`kubectl {cmd}` failed: {}", out.stderr);
        out.stdout
    }

    /// Runs a kubectl command that must fail and returns its standard error.
    pub(crate) fn fails(&mut self, cmd: &str) -> String {
        let out = self.kubectl(cmd);
        assert_ne!(out.code, 0, "`kubectl {cmd}` should fail: {}", out.stdout);
        out.stderr
    }

    /// Moves virtual time forward.
    pub(crate) fn advance(&mut self, secs: u64) {
        self.sim.advance(SimDuration::from_secs(secs));
    }

    /// The traced numbers of Deployment `name` now.
    pub(crate) fn dep(&self, name: &str) -> DeploymentTrace {
        sim_core::trace::snapshot(&self.sim)
            .into_iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no deployment {name}"))
    }
}

/// Compares `actual` with `tests/snapshots/NAME.txt`. Set `KUBESIM_UPDATE_SNAPSHOTS=1` to
/// (re)write the file instead; read the result before committing it.
pub(crate) fn assert_snapshot(name: &str, actual: &str) {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "snapshots"]
        .iter()
        .collect::<PathBuf>()
        .join(format!("{name}.txt"));
    if std::env::var_os("KUBESIM_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("snapshots folder"))
            .expect("create tests/snapshots");
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nrun with KUBESIM_UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let mut diff = String::new();
    let exp: Vec<&str> = expected.lines().collect();
    let act: Vec<&str> = actual.lines().collect();
    for i in 0..exp.len().max(act.len()) {
        match (exp.get(i), act.get(i)) {
            (Some(e), Some(a)) if e == a => diff.push_str(&format!("  {e}\n")),
            (e, a) => {
                if let Some(e) = e {
                    diff.push_str(&format!("- {e}\n"));
                }
                if let Some(a) = a {
                    diff.push_str(&format!("+ {a}\n"));
                }
            }
        }
    }
    panic!(
        "snapshot {} differs (- expected, + actual; KUBESIM_UPDATE_SNAPSHOTS=1 rewrites it):\n{diff}",
        path.display()
    );
}
