//! Fuzzing the inputs a student or an instructor types: scripts and scenario files, manifests
//! and API bodies, patches, and console command lines, generated and mutated from real ones
//! (proptest, with shrinking to a minimal failing input). Whatever comes in, nothing panics,
//! a refused write leaves the cluster exactly as it was, and the cluster keeps running after
//! whatever was accepted.
//!
//! The generator is seeded, so CI sees the same cases every run; `PROPTEST_CASES=5000 cargo
//! test fuzz` runs a longer soak (figures in docs/reliability.md).

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Value, json};
use sim_core::apiserver::call::{ApiCall, Verb, WriteOptions};
use sim_core::apiserver::patch::PatchType;
use sim_core::kubectl::{self, NoFiles};
use sim_core::script::{self, RunOptions};
use sim_core::{Sim, SimDuration};

/// A runner with the fixed seed and `cases` cases (or `PROPTEST_CASES`).
fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

/// The small cluster every API and console case starts from.
const BASE: &str = r#"
seed: 3
cluster: {nodes: 2}
steps:
  - apply: |
      apiVersion: v1
      kind: Namespace
      metadata: {name: demo}
  - apply: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: demo, labels: {app: web}}
      spec:
        replicas: 3
        strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
              - name: web
                image: nginx:1.27
                ports: [{containerPort: 80}]
                readinessProbe: {httpGet: {port: 80, path: /}, periodSeconds: 5}
  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: demo}
      spec:
        type: NodePort
        selector: {app: web}
        ports: [{port: 80, targetPort: 80}]
  - advance: 30s
"#;

fn base() -> Sim {
    match script::run_keeping_sim(BASE, RunOptions::default(), &NoFiles) {
        Ok((_, sim)) => sim,
        Err((_, e)) => panic!("the base script runs: {e}"),
    }
}

/// Everything a student could see of the cluster, to tell whether a write changed it.
fn fingerprint(sim: &mut Sim) -> (u64, String) {
    let out = kubectl::run(
        sim,
        "get ns,deploy,rs,pods,svc,endpoints -A -o json",
        &NoFiles,
    );
    (sim.store.resource_version(), out.stdout)
}

/// Real texts to mutate: the course's scenarios and a few scripts.
fn samples() -> Vec<String> {
    let mut texts = vec![BASE.to_string()];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/course");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the course")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    texts.extend(files.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
    texts
}

/// Values that have broken parsers before: overflows, negatives, NaN, wrong types, odd
/// Unicode, deep nesting.
const NASTY: &[&str] = &[
    "99999999999999999999",
    "-1",
    "0",
    "1e308",
    ".nan",
    "-.inf",
    "{}",
    "[]",
    "null",
    "~",
    "''",
    "\"\"",
    "\u{10ffff}",
    "é",
    "[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]",
    "{a: {b: {c: {d: {e: {f: 1}}}}}}",
    "9223372036854775807",
    "-9223372036854775808",
    "2147483648",
    "1.5",
    "true",
    "5000000h",
    "0s",
    "-3s",
    "*anchor",
    "&a [1, *a]",
    "!!binary aGk=",
    "'unterminated",
    "\t",
];

/// One edit of a text, by line: (line, what, token).
type Edit = (prop::sample::Index, u8, usize, String);

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            0u8..7,
            0usize..NASTY.len(),
            "[ -~]{0,8}",
        ),
        1..5,
    )
}

/// Applies `edits` to `text`: a line deleted, duplicated, its value replaced by a nasty one or
/// by random text, a nasty value inserted, the text cut, a line re-indented.
fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (at, what, nasty, random) in edits {
        if lines.is_empty() {
            break;
        }
        let i = at.index(lines.len());
        let token = if random.is_empty() {
            NASTY[*nasty].to_string()
        } else if *what == 6 {
            random.clone()
        } else {
            NASTY[*nasty].to_string()
        };
        match what {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            2 | 6 => {
                if let Some((key, _)) = lines[i].split_once(": ") {
                    lines[i] = format!("{key}: {token}");
                } else {
                    lines[i].push_str(&token);
                }
            }
            3 => {
                let l = &lines[i];
                let cut = l
                    .char_indices()
                    .nth(l.len() / 2)
                    .map_or(l.len(), |(c, _)| c);
                lines[i] = format!("{}{token}{}", &l[..cut], &l[cut..]);
            }
            4 => lines.truncate(i + 1),
            _ => lines[i] = format!("  {}", lines[i]),
        }
    }
    lines.join("\n")
}

/// `kubesim run` and `/import` check a script before running it: a mutated script is parsed or
/// refused, never a panic; and one that parses runs within its budget to an end or an error.
#[test]
fn fuzz_scripts_parse_or_are_refused() {
    let samples = samples();
    let mut r = runner(200);
    r.run(
        &(0..samples.len(), edits(), any::<bool>()),
        |(which, edits, run)| {
            let text = mutate(&samples[which], &edits);
            if let Ok(parsed) = script::parse(&text)
                && run
                && which == 0
                && parsed.steps.len() < 20
            {
                let _ = script::run(&text, RunOptions::default(), &NoFiles);
            }
            Ok(())
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut r = runner(200);
    r.run(&"\\PC{0,300}", |text| {
        let _ = script::parse(&text);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

/// A scenario file an instructor is writing is validated with line numbers, never a panic.
#[test]
fn fuzz_scenario_files_validate_or_say_where() {
    let samples = samples();
    let mut r = runner(150);
    r.run(&(1..samples.len(), edits()), |(which, edits)| {
        let text = mutate(&samples[which], &edits);
        if std::env::var_os("FUZZ_DUMP").is_some() {
            let _ = std::fs::write("/tmp/fuzz-last.yaml", &text);
        }
        let _ = scenarios::format::parse(&text);
        let _ = scenarios::validate(&text);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

/// A JSON leaf or subtree that a careless or hostile client might send.
fn nasty_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(u64::MAX)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
        "[a-zA-Z0-9./:-]{0,70}".prop_map(Value::String),
        "\\PC{0,20}".prop_map(Value::String),
        Just(json!("99999999999999999999")),
        Just(json!("-1")),
        Just(json!("100%")),
        Just(json!("1e3Mi")),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z$]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Sets the value at a path chosen by `picks` (walking into objects and arrays) to `new`.
fn replace_at(v: &mut Value, picks: &[prop::sample::Index], new: Value) {
    let Some((p, rest)) = picks.split_first() else {
        *v = new;
        return;
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let i = p.index(m.len());
            if let Some(child) = m.values_mut().nth(i) {
                replace_at(child, rest, new);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = p.index(a.len());
            replace_at(&mut a[i], rest, new);
        }
        _ => *v = new,
    }
}

/// The objects a student creates, as the API receives them.
fn manifests() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "apps",
            "deployments",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api", "labels": {"app": "api"}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                    "strategy": {"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                    "template": {"metadata": {"labels": {"app": "api"}},
                        "spec": {"containers": [{"name": "api", "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                            "readinessProbe": {"httpGet": {"path": "/", "port": 80},
                                "periodSeconds": 5, "failureThreshold": 3}}]}}}}),
        ),
        (
            "",
            "services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
                "spec": {"type": "NodePort", "selector": {"app": "api"},
                    "ports": [{"port": 80, "targetPort": 80, "nodePort": 30100}]}}),
        ),
        (
            "",
            "pods",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "one"},
                "spec": {"containers": [{"name": "c", "image": "busybox",
                    "command": ["sh", "-c", "sleep 1"],
                    "livenessProbe": {"exec": {"command": ["true"]}}}]}}),
        ),
        (
            "apps",
            "replicasets",
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"x": "y"}},
                    "template": {"metadata": {"labels": {"x": "y"}},
                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
        ),
        (
            "",
            "namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
        ),
    ]
}

static ACCEPTED: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// Runs `call`; a refusal must leave the cluster as it was, an acceptance must leave a cluster
/// that keeps running.
fn write_is_atomic(sim: &mut Sim, call: &ApiCall) -> Result<(), TestCaseError> {
    let before = fingerprint(sim);
    match sim.api(call) {
        Err(e) => {
            REFUSED.fetch_add(1, Ordering::Relaxed);
            let after = fingerprint(sim);
            prop_assert!(
                before == after,
                "refused ({e}) but the cluster changed: {}",
                serde_json::to_string(&call.body).unwrap_or_default()
            );
        }
        Ok(_) => {
            ACCEPTED.fetch_add(1, Ordering::Relaxed);
            sim.advance(SimDuration::from_secs(90));
        }
    }
    Ok(())
}

/// Mutated objects created through the API: refused whole or accepted and run by the
/// controllers, the kubelet and the scheduler without a panic.
#[test]
fn fuzz_api_creates_are_atomic_and_the_cluster_survives_what_is_accepted() {
    let objects = manifests();
    let mut r = runner(160);
    r.run(
        &(
            0..objects.len(),
            prop::collection::vec(any::<prop::sample::Index>(), 1..6),
            nasty_json(),
            any::<bool>(),
        ),
        |(which, path, new, dry)| {
            let (group, resource, body) = &objects[which];
            let mut body = body.clone();
            replace_at(&mut body, &path, new);
            let namespaced = *resource != "namespaces";
            let call = ApiCall {
                verb: Verb::Create,
                resource: resource.to_string(),
                group: group.to_string(),
                namespace: namespaced.then(|| "demo".to_string()),
                name: None,
                subresource: None,
                patch_type: None,
                body,
                options: WriteOptions {
                    dry_run: dry,
                    ..WriteOptions::default()
                },
            };
            let mut sim = base();
            if dry {
                let before = fingerprint(&mut sim);
                let _ = sim.api(&call);
                prop_assert!(before == fingerprint(&mut sim), "a dry run changed nothing");
                return Ok(());
            }
            write_is_atomic(&mut sim, &call)
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "fuzz: writes so far: {} accepted and run for 90 s, {} refused with the cluster unchanged",
        ACCEPTED.load(Ordering::Relaxed),
        REFUSED.load(Ordering::Relaxed)
    );
}

/// Patches of every type with mutated bodies on the running Deployment and its scale.
#[test]
fn fuzz_patches_are_atomic_and_the_cluster_survives_them() {
    let patch_bases = [
        json!({"spec": {"replicas": 5, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.25"}]}}}}),
        json!({"metadata": {"labels": {"tier": "front"}}, "spec": {"paused": true}}),
        json!([{"op": "replace", "path": "/spec/replicas", "value": 4},
            {"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]),
        json!({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": null}}}),
        json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "web"}],
            "containers": [{"name": "web", "image": "nginx:1.27"}]}}}}),
    ];
    let mut r = runner(160);
    r.run(
        &(
            0..patch_bases.len(),
            prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            nasty_json(),
            0u8..4,
            any::<bool>(),
        ),
        |(which, path, new, kind, scale)| {
            let mut body = patch_bases[which].clone();
            replace_at(&mut body, &path, new);
            let patch_type = match kind {
                0 => PatchType::Json,
                1 => PatchType::Merge,
                2 => PatchType::Strategic,
                _ => PatchType::Apply,
            };
            let call = ApiCall {
                verb: Verb::Patch,
                resource: "deployments".into(),
                group: "apps".into(),
                namespace: Some("demo".into()),
                name: Some("web".into()),
                subresource: scale.then(|| "scale".to_string()),
                patch_type: Some(patch_type),
                body,
                options: WriteOptions {
                    field_manager: (patch_type == PatchType::Apply).then(|| "fuzz".to_string()),
                    ..WriteOptions::default()
                },
            };
            let mut sim = base();
            write_is_atomic(&mut sim, &call)
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "fuzz: writes so far: {} accepted and run for 90 s, {} refused with the cluster unchanged",
        ACCEPTED.load(Ordering::Relaxed),
        REFUSED.load(Ordering::Relaxed)
    );
}

/// Console command lines built from kubectl's words, flags and odd values: an answer or an
/// error, never a panic, and the cluster runs on afterwards; a read never changes anything.
#[test]
fn fuzz_console_command_lines() {
    const WORDS: &[&str] = &[
        "get",
        "describe",
        "apply",
        "create",
        "delete",
        "scale",
        "rollout",
        "undo",
        "status",
        "history",
        "pause",
        "resume",
        "restart",
        "set",
        "image",
        "label",
        "annotate",
        "cordon",
        "uncordon",
        "drain",
        "logs",
        "expose",
        "patch",
        "replace",
        "diff",
        "explain",
        "edit",
        "run",
        "deployment",
        "deploy/web",
        "web",
        "pods",
        "pod",
        "svc",
        "rs",
        "ns",
        "nodes",
        "node-1",
        "all",
        "-n",
        "demo",
        "-A",
        "-o",
        "yaml",
        "json",
        "wide",
        "name",
        "jsonpath={.items}",
        "--replicas=0",
        "--replicas=-1",
        "--replicas=99999999999",
        "--to-revision=0",
        "--to-revision=99",
        "-l",
        "app=web",
        "app!=",
        "--selector=a in (b)",
        "--field-selector",
        "status.phase=Running",
        "web=nginx:1.25",
        "*=busybox",
        "--dry-run=server",
        "--dry-run=client",
        "--type=merge",
        "-p",
        "{\"spec\":{\"replicas\":2}}",
        "[]",
        "{",
        "--force",
        "--grace-period=0",
        "--cascade=orphan",
        "--ignore-daemonsets",
        "-f",
        "-",
        "--all",
        "x=y",
        "x-",
        "--overwrite",
        "--image=nginx",
        "--port=80",
        "'",
        "\"",
        "--",
        "--from-literal=a=b",
        "--timeout=1s",
        "-w",
        "--watch",
        "é",
        "",
    ];
    let mut r = runner(300);
    r.run(&prop::collection::vec(0..WORDS.len(), 1..9), |picks| {
        let line: Vec<&str> = picks.iter().map(|&i| WORDS[i]).collect();
        let line = line.join(" ");
        let mut sim = base();
        let read_only = matches!(
            line.split_whitespace().next(),
            Some("get" | "describe" | "logs" | "explain")
        );
        let before = fingerprint(&mut sim);
        // The console's Tab, edit and watch read the same lines.
        let _ = kubectl::complete(&sim, &line, "demo");
        let _ = kubectl::edit(&sim, &line);
        let _ = kubectl::run(&mut sim, &line, &NoFiles);
        if read_only {
            prop_assert!(
                before == fingerprint(&mut sim),
                "{line} changed the cluster"
            );
        }
        if kubectl::is_watch(&line) {
            let _ = kubectl::watch_for(&mut sim, &line, SimDuration::from_secs(30));
        }
        sim.advance(SimDuration::from_secs(60));
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
}
