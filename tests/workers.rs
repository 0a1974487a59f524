//! Pods that run the real inference workers (WebAssembly in wasmtime): predictions through
//! Services, probes answered by the program, the course's crash loop, OOM kills, bad modules,
//! and what a rollout costs under traffic.

use std::sync::Arc;

use sim_core::kubectl::NoFiles;
use sim_core::script::{self, RunOptions, RunOutput};
use sim_core::traffic::ServiceSecond;

use crate::support::{indent, records, rows, section};

/// Runs a script with the built-in worker modules plus `extra` modules (name, bytes).
fn run_workers(text: &str, extra: &[(&str, &[u8])]) -> RunOutput {
    let mut programs = inference_worker::Builtin::new();
    for (name, bytes) in extra {
        programs = programs.with_module(name, bytes);
    }
    let opts = RunOptions {
        programs: Some(Arc::new(programs)),
        ..RunOptions::default()
    };
    match script::run(text, opts, &NoFiles) {
        Ok(out) => out,
        Err((out, e)) => panic!(
            "the run failed: {e}\n--- transcript ---\n{}",
            out.transcript
        ),
    }
}

/// A Deployment with one container `api` running `image` (probe on /healthz every 2 s) and
/// a Service in front of it.
fn app(name: &str, image: &str, replicas: i32, container_extra: &str) -> String {
    app_on(name, image, replicas, container_extra, 80)
}

/// [`app`] with the Service on `port`.
fn app_on(name: &str, image: &str, replicas: i32, container_extra: &str, port: i32) -> String {
    let extra = indent(container_extra, 14);
    format!(
        r#"  - apply: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {{name: {name}}}
      spec:
        replicas: {replicas}
        selector: {{matchLabels: {{app: {name}}}}}
        template:
          metadata: {{labels: {{app: {name}}}}}
          spec:
            containers:
            - name: api
              image: {image}
              readinessProbe: {{httpGet: {{path: /healthz, port: 8000}}, periodSeconds: 2}}
{extra}  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {{name: {name}}}
      spec: {{selector: {{app: {name}}}, ports: [{{port: {port}, targetPort: 8000}}]}}
"#
    )
}

const APPLICANT_OK: &str = r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#;
const APPLICANT_RISKY: &str = r#"{"age":23,"income":18000,"loan_amount":40000,"loan_term_months":72,"credit_history_years":1,"existing_debt":15000}"#;

#[test]
fn the_credit_scorer_answers_through_its_service() {
    let text = format!(
        "seed: 1\nsteps:\n{}  - advance: 20s\n  - request: {{service: credit, path: /predict, body: '{APPLICANT_OK}'}}\n  - request: {{service: credit, path: /predict, body: '{APPLICANT_RISKY}'}}\n  - request: {{service: credit, path: /predict, body: {{age: 35, income: x}}}}\n  - request: {{service: credit, path: /nope}}\n  - kubectl: logs deploy/credit\n",
        app("credit", "registry.local/credit-scoring-api:single", 1, "")
    );
    let out = run_workers(&text, &[]);
    // The same numbers the guest gives when compiled natively (docs/models.md).
    assert!(
        out.transcript
            .contains("\n200 {\"probability_of_default\":0.139101,\"decision\":\"approve\"}\n"),
        "{}",
        out.transcript
    );
    assert!(
        out.transcript
            .contains("\n200 {\"probability_of_default\":0.997122,\"decision\":\"reject\"}\n")
    );
    // FastAPI's 422, naming the field.
    assert!(out.transcript.contains(
        "422 {\"detail\":[{\"loc\":[\"body\",\"income\"],\"msg\":\"value is not a valid float\""
    ));
    assert!(
        out.transcript
            .contains("\n404 {\"detail\":\"Not Found\"}\n")
    );
    // The program's own log: uvicorn's start lines, then access lines.
    let logs = section(&out.transcript, "kubectl logs deploy/credit");
    assert!(
        logs.contains("INFO:     Application startup complete."),
        "{logs}"
    );
    assert!(logs.contains("\"POST /predict HTTP/1.1\" 200 OK"), "{logs}");
    // Each answer is in the trace, with the pod that gave it.
    let answered: Vec<_> = records(&out)
        .into_iter()
        .filter_map(|r| r.request)
        .collect();
    assert_eq!(answered.len(), 4);
    assert_eq!(answered[0].status, 200);
    assert!(
        answered[0]
            .pod
            .as_deref()
            .unwrap_or("")
            .starts_with("credit-")
    );
}

#[test]
fn the_text_generator_continues_a_prompt_the_same_way_for_a_seed() {
    let text = format!(
        "seed: 1\nsteps:\n{}  - advance: 20s\n  - request: {{service: gen, path: /generate, body: {{prompt: Kubernetes, seed: 1}}}}\n  - request: {{service: gen, path: /generate, body: {{prompt: 5}}}}\n",
        app("gen", "registry.local/text-generator:v1", 1, "")
    );
    let out = run_workers(&text, &[]);
    assert!(
        out.transcript
            .contains("\n200 {\"text\":\"Kubernetes value is a resize i\",\"tokens\":20}\n"),
        "{}",
        out.transcript
    );
    assert!(out.transcript.contains("\n422 "), "{}", out.transcript);
}

/// Held-out digit 0 of the training split (a "one"), scaled to grey levels 0..255.
fn digit_one_image() -> String {
    let v = [
        0, 0, 8, 16, 15, 8, 0, 0, 0, 1, 16, 16, 16, 2, 0, 0, 0, 2, 16, 16, 10, 0, 0, 0, 0, 2, 16,
        16, 12, 0, 0, 0, 0, 6, 16, 16, 13, 0, 0, 0, 0, 1, 16, 16, 11, 0, 0, 0, 0, 0, 16, 16, 10, 0,
        0, 0, 0, 0, 7, 15, 15, 0, 0, 0,
    ];
    let rows: Vec<String> = v
        .chunks(8)
        .map(|r| {
            let px: Vec<String> = r.iter().map(|x| (x * 255 / 16).to_string()).collect();
            format!("[{}]", px.join(","))
        })
        .collect();
    format!("{{\"image\":[{}]}}", rows.join(","))
}

#[test]
fn the_gateway_calls_the_model_service_and_fails_clearly_without_it() {
    let text = format!(
        "seed: 2\nsteps:\n{}{}  - advance: 20s\n  - request: {{service: gateway, path: /predict, body: '{img}'}}\n  - kubectl: delete service clothes-model\n  - request: {{service: gateway, path: /predict, body: '{img}'}}\n",
        // TF Serving's REST port, where the gateway sends its requests.
        app_on(
            "clothes-model",
            "registry.local/clothes-model:v1",
            1,
            "",
            8501
        ),
        app("gateway", "registry.local/clothes-gateway:v1", 1, ""),
        img = digit_one_image()
    );
    let out = run_workers(&text, &[]);
    let answers: Vec<_> = records(&out)
        .into_iter()
        .filter_map(|r| r.request)
        .collect();
    assert_eq!(answers[0].status, 200, "{}", out.transcript);
    assert!(
        answers[0].body.contains("\"label\":\"one\""),
        "{}",
        answers[0].body
    );
    // The gateway's latency includes the model's.
    assert!(answers[0].latency_ms.unwrap_or(0.0) > 1.0);
    assert_eq!(answers[1].status, 503, "{}", answers[1].body);
}

#[test]
fn readiness_is_what_the_program_answers() {
    // The slow-start image answers 503 "model loading" for its first 45 s.
    let text = format!(
        "seed: 3\nsteps:\n{}  - advance: 30s\n  - kubectl: get pods\n  - kubectl: describe pods\n  - advance: 30s\n  - kubectl: get pods\n",
        app(
            "slow",
            "registry.local/credit-scoring-api:slow-start",
            1,
            ""
        )
    );
    let out = run_workers(&text, &[]);
    let before = rows(section(&out.transcript, "kubectl get pods"));
    assert_eq!(before[0][1], "0/1", "{}", out.transcript);
    let describe = section(&out.transcript, "kubectl describe pods");
    assert!(
        describe.contains("Readiness probe failed: HTTP probe failed with statuscode: 503"),
        "{describe}"
    );
    let after = crate::support::sections(&out.transcript, "kubectl get pods");
    assert_eq!(rows(after[1])[0][1], "1/1", "{}", out.transcript);
}

/// A Deployment of `image` named `name` with a Service on `port`, and `env` for its container.
fn backing_service(name: &str, image: &str, port: i32, env: &str) -> String {
    format!(
        "  - apply: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{name: {name}}}\n      spec:\n        replicas: 1\n        selector: {{matchLabels: {{app: {name}}}}}\n        template:\n          metadata: {{labels: {{app: {name}}}}}\n          spec:\n            containers: [{{name: {name}, image: \"{image}\", env: [{env}], ports: [{{containerPort: {port}}}]}}]\n      ---\n      apiVersion: v1\n      kind: Service\n      metadata: {{name: {name}}}\n      spec: {{selector: {{app: {name}}}, ports: [{{port: {port}}}]}}\n"
    )
}

#[test]
fn with_services_crash_loops_until_redis_and_postgres_answer() {
    // First no Service at all (the resolver's error), then Services with no endpoint (a
    // refused connection), then the stand-in servers behind them: the next restart connects.
    let text = format!(
        "seed: 4\nsteps:\n{}  - advance: 90s\n  - kubectl: get pods\n  - kubectl: logs deploy/api\n{}{}  - advance: 3m\n  - kubectl: logs deploy/api\n{}{}  - advance: 6m\n  - kubectl: get pods\n  - kubectl: logs deploy/api\n  - kubectl: logs deploy/postgres\n",
        app(
            "api",
            "registry.local/credit-scoring-api:with-services",
            1,
            ""
        ),
        "  - apply: |\n      apiVersion: v1\n      kind: Service\n      metadata: {name: redis}\n      spec: {ports: [{port: 6379}]}\n",
        "  - apply: |\n      apiVersion: v1\n      kind: Service\n      metadata: {name: postgres}\n      spec: {ports: [{port: 5432}]}\n",
        backing_service("redis", "redis:7", 6379, ""),
        backing_service(
            "postgres",
            "docker.io/library/postgres:16",
            5432,
            "{name: POSTGRES_PASSWORD, value: example}"
        ),
    );
    let out = run_workers(&text, &[]);
    let first = rows(section(&out.transcript, "kubectl get pods"));
    assert_eq!(first[0][2], "CrashLoopBackOff", "{}", out.transcript);
    let logs = crate::support::sections(&out.transcript, "kubectl logs deploy/api");
    assert!(
        logs[0].contains("redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known.\nERROR:    RedisConnectionError: "),
        "{}",
        logs[0]
    );
    assert!(
        logs[1].contains("redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.\n"),
        "{}",
        logs[1]
    );
    // Both answer now: it connects, then starts serving.
    let last = crate::support::sections(&out.transcript, "kubectl get pods");
    let api = rows(last[1])
        .into_iter()
        .find(|r| r[0].starts_with("api-"))
        .unwrap_or_else(|| panic!("no api pod\n{}", out.transcript));
    assert_eq!(
        (api[1].as_str(), api[2].as_str()),
        ("1/1", "Running"),
        "{}",
        out.transcript
    );
    assert!(
        logs[2].contains("INFO:     Connected to Redis at redis:6379\nINFO:     Connected to PostgreSQL at postgres:5432 (database postgres)\n"),
        "{}",
        logs[2]
    );
    assert!(logs[2].contains("Uvicorn running on"), "{}", logs[2]);
    let pg = section(&out.transcript, "kubectl logs deploy/postgres");
    assert!(
        pg.contains("LOG:  database system is ready to accept connections"),
        "{pg}"
    );
    // The connections at start are part of the run: it replays byte for byte.
    assert_eq!(run_workers(&text, &[]).transcript, out.transcript);
}

#[test]
fn a_leaking_worker_is_oomkilled_under_traffic_and_restarted() {
    let text = format!(
        "seed: 5\nsteps:\n{}  - advance: 20s\n  - traffic: {{service: leaky, rps: 20, path: /predict, body: '{APPLICANT_OK}', duration: 5m}}\n  - advance: 3m\n  - kubectl: describe pods\n",
        app(
            "leaky",
            "registry.local/credit-scoring-api:leaky",
            1,
            "resources: {limits: {memory: 64Mi}}\n"
        )
    );
    let out = run_workers(&text, &[]);
    let describe = section(&out.transcript, "kubectl describe pods");
    assert!(describe.contains("Reason:       OOMKilled"), "{describe}");
    assert!(describe.contains("Exit Code:    137"), "{describe}");
    assert!(!describe.contains("Restart Count:  0"), "{describe}");
}

/// Starts fine; every request loops forever.
const SPIN_ON_REQUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
  (memory (export "memory") 4)
  (data (i32.const 0) "REQUEST_METHOD=")
  (func $is_request (result i32) (local $size i32) (local $i i32) (local $j i32) (local $ok i32)
    (drop (call $sizes (i32.const 64) (i32.const 68)))
    (local.set $size (i32.load (i32.const 68)))
    (drop (call $get (i32.const 1024) (i32.const 8192)))
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $i) (local.get $size)))
        (local.set $j (i32.const 0))
        (local.set $ok (i32.const 1))
        (block $cmpdone
          (loop $cmp
            (br_if $cmpdone (i32.ge_u (local.get $j) (i32.const 15)))
            (if (i32.ne (i32.load8_u (i32.add (i32.const 8192) (i32.add (local.get $i) (local.get $j))))
                        (i32.load8_u (local.get $j)))
              (then (local.set $ok (i32.const 0)) (br $cmpdone)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cmp)))
        (if (local.get $ok) (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const 0))
  (func (export "_start")
    (if (call $is_request) (then (loop $l (br $l))))))"#;

/// A Pod manifest running `image`, with a readiness probe and a memory limit.
fn pod(name: &str, image: &str, memory: &str) -> String {
    format!(
        "  - apply: |\n      apiVersion: v1\n      kind: Pod\n      metadata: {{name: {name}}}\n      spec:\n        containers:\n        - name: {name}\n          image: {image}\n          resources: {{limits: {{memory: {memory}}}}}\n          readinessProbe: {{httpGet: {{path: /healthz, port: 80}}, periodSeconds: 5, timeoutSeconds: 1}}\n"
    )
}

#[test]
fn purpose_built_bad_modules_fail_as_pods_do() {
    let text = format!(
        "seed: 6\nimages:\n  registry.local/spin:v1: {{module: spin}}\n  registry.local/garbage:v1: {{module: garbage}}\n  registry.local/hog:v1: {{module: hog}}\nsteps:\n{}{}{}  - advance: 2m\n  - kubectl: get pods\n  - kubectl: describe pod spin\n  - kubectl: describe pod garbage\n  - kubectl: describe pod hog\n",
        pod("spin", "registry.local/spin:v1", "64Mi"),
        pod("garbage", "registry.local/garbage:v1", "64Mi"),
        pod("hog", "registry.local/hog:v1", "1Mi"),
    );
    let hog = b"(module (memory (export \"memory\") 64) (func (export \"_start\")))";
    let out = run_workers(
        &text,
        &[
            ("spin", SPIN_ON_REQUEST.as_bytes()),
            ("garbage", b"this is not wasm"),
            ("hog", hog),
        ],
    );
    let table = rows(section(&out.transcript, "kubectl get pods"));
    let status = |name: &str| {
        table
            .iter()
            .find(|r| r[0] == name)
            .map(|r| (r[1].clone(), r[2].clone()))
            .unwrap_or_default()
    };
    // A request that never ends times out the probe; the simulator carries on.
    assert_eq!(
        status("spin"),
        ("0/1".into(), "Running".into()),
        "{}",
        out.transcript
    );
    let spin = section(&out.transcript, "kubectl describe pod spin");
    assert!(
        spin.contains("context deadline exceeded (Client.Timeout exceeded while awaiting headers)"),
        "{spin}"
    );
    // Not WebAssembly: the container cannot start, and describe says why.
    assert!(
        status("garbage").1.contains("CrashLoopBackOff") || status("garbage").1 == "StartError"
    );
    let garbage = section(&out.transcript, "kubectl describe pod garbage");
    assert!(
        garbage.contains("exec format error: not a valid WebAssembly module"),
        "{garbage}"
    );
    assert!(garbage.contains("StartError"), "{garbage}");
    // Needs 4 MiB at start with a 1 MiB limit.
    let hog = section(&out.transcript, "kubectl describe pod hog");
    assert!(hog.contains("OOMKilled"), "{hog}");
}

/// Virtual milliseconds one prediction takes on one core: what the model's fuel costs.
fn prediction_ms() -> f64 {
    let text = format!(
        "seed: 1\nsteps:\n{}  - advance: 20s\n  - request: {{service: credit, path: /predict, body: '{APPLICANT_OK}'}}\n",
        app(
            "credit",
            "registry.local/credit-scoring-api:v1",
            1,
            "resources: {limits: {cpu: \"1\"}}\n"
        )
    );
    let out = run_workers(&text, &[]);
    records(&out)
        .into_iter()
        .find_map(|r| r.request.and_then(|q| q.latency_ms))
        .unwrap_or_else(|| panic!("no answer\n{}", out.transcript))
}

/// Ten replicas with one core each under traffic at three quarters of their capacity, then
/// `set image` to v2 with `strategy`; the per-second traffic records from the start of the
/// traffic (20 s before the change) to the end of the rollout.
fn rollout_under_traffic(strategy: &str, real_requests: bool) -> (Vec<ServiceSecond>, String) {
    rollout_compiled(strategy, real_requests, inference_worker::Builtin::new())
}

/// [`rollout_under_traffic`] with the built-in modules of `programs`.
fn rollout_compiled(
    strategy: &str,
    real_requests: bool,
    programs: inference_worker::Builtin,
) -> (Vec<ServiceSecond>, String) {
    let rps = (0.75 * 10.0 * 1000.0 / prediction_ms()).round();
    let text = sim_core::workloads::traffic_rollout_script(10, 4, rps, strategy);
    let opts = RunOptions {
        programs: Some(Arc::new(programs)),
        ..RunOptions::default()
    };
    let opts = RunOptions {
        every_request: real_requests,
        ..opts
    };
    let out = match script::run(&text, opts, &NoFiles) {
        Ok(x) => x,
        Err((out, e)) => panic!("{e}\n{}", out.transcript),
    };
    let seconds: Vec<ServiceSecond> = records(&out).into_iter().flat_map(|r| r.services).collect();
    (seconds, out.tracer.to_jsonl())
}

/// Seconds before the image change (t < 20 s after traffic starts) and after it.
fn split_at_change(s: &[ServiceSecond]) -> (Vec<&ServiceSecond>, Vec<&ServiceSecond>) {
    let start = s.first().map_or(0.0, |r| r.time);
    s.iter().partition(|r| r.time <= start + 19.0)
}

fn max_p99(s: &[&ServiceSecond]) -> f64 {
    s.iter().filter_map(|r| r.p99_ms).fold(0.0, f64::max)
}

#[test]
fn recreate_under_traffic_drops_requests() {
    let (s, _) = rollout_under_traffic("{type: Recreate}", false);
    let (before, during) = split_at_change(&s);
    // The traffic starts as the first rollout completes, part-way through a second (pods
    // become ready at their own instants), so the first traced second is a partial one.
    let rps = before[1].requests;
    assert!(before.iter().all(|r| r.errors == 0), "{before:?}");
    assert!(before[1..].iter().all(|r| r.requests == rps), "{before:?}");
    let errors: u64 = during.iter().map(|r| r.errors).sum();
    assert!(errors > rps, "Recreate should fail requests: {errors}");
    assert!(during.iter().any(|r| r.endpoints == 0));
}

#[test]
fn max_unavailable_two_raises_latency_and_zero_keeps_it_flat() {
    let (s, _) = rollout_under_traffic(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 2}}",
        false,
    );
    let (before, during) = split_at_change(&s);
    let base = max_p99(&before);
    assert!(base > 0.0);
    assert_eq!(during.iter().map(|r| r.errors).sum::<u64>(), 0);
    assert!(
        max_p99(&during) > 2.0 * base,
        "p99 {} vs {base}",
        max_p99(&during)
    );
    assert!(during.iter().any(|r| r.endpoints == 8));

    let (s, _) = rollout_under_traffic(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 2, maxUnavailable: 0}}",
        false,
    );
    let (before, during) = split_at_change(&s);
    assert_eq!(during.iter().map(|r| r.errors).sum::<u64>(), 0);
    assert!(during.iter().all(|r| r.endpoints >= 10));
    // The rollout itself costs nothing: never worse than the steady state before or after
    // (v2's pods started after the Service existed, so their environment, and so their
    // requests, are a little heavier).
    let after: Vec<&ServiceSecond> = during.iter().rev().take(5).copied().collect();
    let base = max_p99(&before).max(max_p99(&after));
    assert!(
        max_p99(&during) <= base * 1.02,
        "p99 {} vs {base}",
        max_p99(&during)
    );
}

#[test]
fn traffic_traces_are_deterministic_and_do_not_depend_on_sampling_or_compiler() {
    use inference_worker::{Builtin, Compiler};
    let strategy = "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}";
    let cranelift = || Builtin::new().with_compiler(Compiler::Cranelift);
    let (_, a) = rollout_compiled(strategy, false, cranelift());
    let (_, b) = rollout_compiled(strategy, false, cranelift());
    assert_eq!(a, b);
    // Running every request in wasm, not only one per pod and second, changes nothing.
    let (_, c) = rollout_compiled(strategy, true, cranelift());
    assert_eq!(a, c);
    // Nor does the compiler: a first start on a machine runs Winch's code (builtin.rs).
    let (_, d) = rollout_compiled(
        strategy,
        true,
        Builtin::new().with_compiler(Compiler::Winch),
    );
    assert_eq!(a, d);
    // Nor whether a container's requests run on the instance kept for it (`kubesim_handle`)
    // or each on a fresh one (`_start`): every request in wasm, the trace byte for byte.
    let (_, e) = rollout_compiled(strategy, true, cranelift().fresh_only());
    assert_eq!(a, e);
}

/// Runs one request through a built-in module directly (no cluster), returning the body.
fn invoke(module: &str, path: &str, body: &str) -> String {
    let out = invoke_with(&inference_worker::Builtin::new(), module, path, body);
    assert_eq!(out.exit, sim_core::program::Exit::Code(0));
    let r = sim_core::program::HttpResponse::from_cgi(&out.stdout).expect("a CGI response");
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

/// Runs one POST through `module` of `programs`: everything the invocation produced.
fn invoke_with(
    programs: &inference_worker::Builtin,
    module: &str,
    path: &str,
    body: &str,
) -> sim_core::program::Outcome {
    use sim_core::program::{Invocation, NoNetwork, Programs};
    let program = programs.program(module).expect("built-in module");
    let env: Vec<(String, String)> = [
        ("REQUEST_METHOD", "POST"),
        ("PATH_INFO", path),
        ("CONTENT_TYPE", "application/json"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([("CONTENT_LENGTH".to_string(), body.len().to_string())])
    .collect();
    let args = [module.to_string()];
    let inv = Invocation {
        args: &args,
        env: &env,
        stdin: body.as_bytes(),
        memory_limit: None,
        fuel: 1_000_000_000,
        clock_unix_ns: 0,
        seed: 1,
        files: &std::collections::BTreeMap::new(),
    };
    program.invoke(&inv, NoNetwork::boxed()).0
}

/// Rows of a held-out CSV written by `inference-worker/train/train.py`.
fn held_out(file: &str) -> Vec<Vec<f64>> {
    let path = format!(
        "{}/inference-worker/train/data/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("held-out data");
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().expect("a number")).collect())
        .collect()
}

#[test]
fn the_modules_score_as_trained_on_held_out_data() {
    // docs/models.md: credit 0.7747 (majority class 0.7160), digits 0.9867.
    let rows = held_out("credit-heldout.csv");
    let mut right = 0;
    for r in &rows {
        let body = format!(
            "{{\"age\":{},\"income\":{},\"loan_amount\":{},\"loan_term_months\":{},\"credit_history_years\":{},\"existing_debt\":{}}}",
            r[0], r[1], r[2], r[3], r[4], r[5]
        );
        let answer = invoke("credit-scoring-api", "/predict", &body);
        let rejected = answer.contains("\"reject\"");
        right += usize::from(rejected == (r[6] == 1.0));
    }
    let accuracy = right as f64 / rows.len() as f64;
    assert!(accuracy >= 0.77, "credit accuracy {accuracy}");

    let rows = held_out("digits-heldout.csv");
    let mut right = 0;
    for r in &rows {
        let pixels: Vec<String> = r[..64].iter().map(|v| v.to_string()).collect();
        let body = format!("{{\"instances\":[[{}]]}}", pixels.join(","));
        let answer = invoke("clothes-model", "/v1/models/clothes-model:predict", &body);
        let json: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
        let scores: Vec<f64> = json["predictions"][0]
            .as_array()
            .expect("scores")
            .iter()
            .map(|v| v.as_f64().unwrap_or(0.0))
            .collect();
        let best = (0..10)
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap_or(0);
        right += usize::from(best as f64 == r[64]);
    }
    let accuracy = right as f64 / rows.len() as f64;
    assert!(accuracy >= 0.98, "digits accuracy {accuracy}");
}

/// A first start on a machine runs Winch's code, later ones Cranelift's (builtin.rs): every
/// built-in model must answer byte for byte the same and burn the same fuel under both, for
/// the held-out data and for bad requests.
#[test]
fn the_modules_answer_and_burn_fuel_the_same_under_both_compilers() {
    use inference_worker::{Builtin, Compiler};
    let cranelift = Builtin::new().with_compiler(Compiler::Cranelift);
    let winch = Builtin::new().with_compiler(Compiler::Winch);
    // The models' requests, and the gateway's (it calls a Service, so it is never kept).
    let mut requests = model_requests();
    requests.push((
        "clothes-gateway",
        "/predict",
        r#"{"image":[[255,0],[0,255]]}"#.into(),
    ));
    for body in ["{", "[]", r#"{"instances":[[1e308,1e308]]}"#] {
        requests.push(("clothes-gateway", "/predict", body.into()));
    }
    for (module, path, body) in &requests {
        let a = invoke_with(&cranelift, module, path, body);
        let b = invoke_with(&winch, module, path, body);
        assert_eq!(a, b, "{module} {path} {body}");
        assert!(a.fuel > 0, "{module} ran: {a:?}");
    }
}

/// The held-out data and bad requests of every built-in model, as `(module, path, body)`.
fn model_requests() -> Vec<(&'static str, &'static str, String)> {
    let mut requests: Vec<(&str, &str, String)> = Vec::new();
    for r in held_out("credit-heldout.csv").iter().take(200) {
        let body = format!(
            "{{\"age\":{},\"income\":{},\"loan_amount\":{},\"loan_term_months\":{},\"credit_history_years\":{},\"existing_debt\":{}}}",
            r[0], r[1], r[2], r[3], r[4], r[5]
        );
        requests.push(("credit-scoring-api", "/predict", body));
    }
    for r in held_out("digits-heldout.csv").iter().take(100) {
        let pixels: Vec<String> = r[..64].iter().map(|v| v.to_string()).collect();
        let body = format!("{{\"instances\":[[{}]]}}", pixels.join(","));
        requests.push(("clothes-model", "/v1/models/clothes-model:predict", body));
    }
    for (prompt, seed) in [("Kubernetes", 1), ("rollout", 7), ("", 3)] {
        let body = format!("{{\"prompt\":\"{prompt}\",\"seed\":{seed},\"max_tokens\":12}}");
        requests.push(("text-generator", "/generate", body));
    }
    for module in ["credit-scoring-api", "clothes-model", "text-generator"] {
        for body in [
            "{",
            "[]",
            r#"{"age":1e999,"income":-1e999}"#,
            r#"{"instances":[[1e308,1e308]]}"#,
        ] {
            requests.push((module, "/predict", body.into()));
        }
    }
    requests
}

/// A module that exports `kubesim_handle` serves a container's requests from one kept
/// instance (inference-worker/src/process.rs). Every answer, log line and unit of fuel must be
/// what a fresh instance running `_start` gives, request by request, whatever the container
/// served before: the requests go to one process per model in order, then to a new one in
/// reverse order with each model's requests interleaved with the others' (one process per
/// model, as one per container), under both compilers.
#[test]
fn kept_instances_answer_and_burn_fuel_as_fresh_ones_in_any_order() {
    use inference_worker::{Builtin, Compiler};
    use sim_core::program::{Invocation, NoNetwork, Process, Programs};
    let requests = model_requests();
    let mut reversed = requests.clone();
    reversed.reverse();
    for compiler in [Compiler::Cranelift, Compiler::Winch] {
        let programs = Builtin::new().with_compiler(compiler);
        for order in [&requests, &reversed] {
            let mut processes: std::collections::BTreeMap<&str, Box<dyn Process>> =
                Default::default();
            for (i, (module, path, body)) in order.iter().enumerate() {
                let program = programs.program(module).expect("built-in module");
                let process = processes
                    .entry(module)
                    .or_insert_with(|| program.process().expect("a module that keeps instances"));
                let env: Vec<(String, String)> = [
                    ("HOSTNAME", format!("{module}-7c9f8d-abcde")),
                    ("KUBESIM_UPTIME_SECONDS", format!("{}.250", i / 3)),
                    ("KUBESIM_REQUESTS_SERVED", i.to_string()),
                    ("REQUEST_METHOD", "POST".into()),
                    ("PATH_INFO", path.to_string()),
                    ("CONTENT_TYPE", "application/json".into()),
                    ("CONTENT_LENGTH", body.len().to_string()),
                    ("REMOTE_ADDR", "10.244.0.1".into()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                let args = [module.to_string()];
                let inv = Invocation {
                    args: &args,
                    env: &env,
                    stdin: body.as_bytes(),
                    memory_limit: Some(256 << 20),
                    fuel: 1_000_000_000,
                    clock_unix_ns: 1_800_000_000_000_000_000 + i as u64 * 1_000_000,
                    seed: i as u64,
                    files: &std::collections::BTreeMap::new(),
                };
                let fresh = program.invoke(&inv, NoNetwork::boxed()).0;
                let kept = process.invoke(&inv, NoNetwork::boxed()).0;
                assert_eq!(kept, fresh, "{compiler:?} {module} {path} {body}");
                assert_eq!(fresh.exit, sim_core::program::Exit::Code(0));
            }
        }
    }
}

/// The very first `kubesim serve` on a machine runs Winch's code and compiles Cranelift's into
/// the cache in the background (builtin.rs); the next start finds it there. Both answer pages.
#[test]
fn a_first_start_leaves_cranelift_code_in_the_cache_for_the_next() {
    use std::io::{BufRead, Read, Write};
    let cache = std::env::temp_dir().join(format!("kubesim-first-start-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let serve = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("KUBESIM_CACHE_DIR", &cache)
            // Nothing of this machine's own sandbox journal is replayed.
            .env("KUBESIM_STATE_DIR", "")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kubesim serve starts");
        // Only the first line is read, then the pipe is closed: the server must not mind.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("a first line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        write!(
            s,
            "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut page = String::new();
        s.read_to_string(&mut page).expect("the page");
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(
            page.contains("credit-scoring"),
            "the demo's Deployment is on the page"
        );
        child
    };
    let marked = || {
        std::fs::read_dir(cache.join("cranelift-ready"))
            .map(|d| {
                d.filter_map(Result::ok).any(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("credit-scoring-api-")
                })
            })
            .unwrap_or(false)
    };
    // Checked before the start: after it, the background compile may already have finished on
    // a busy machine (it begins a second after the first page), so that check was a race.
    assert!(!marked(), "nothing was cached before the first start");
    let mut first = serve();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !marked() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = first.kill();
    let _ = first.wait();
    assert!(marked(), "Cranelift's code was never cached");
    let compiled: Vec<_> = std::fs::read_dir(cache.join("wasmtime").join("modules"))
        .and_then(|d| {
            d.flatten()
                .next()
                .ok_or(std::io::ErrorKind::NotFound.into())
        })
        .and_then(|v| std::fs::read_dir(v.path()))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(!compiled.is_empty(), "wasmtime's cache has the code");
    let mut second = serve();
    let _ = second.kill();
    let _ = second.wait();
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn the_redis_stand_in_keeps_its_keys_until_it_restarts() {
    let curl =
        |cmd: &str| format!("  - kubectl: exec deploy/toolbox -- curl -s -d '{cmd}' redis:6379\n");
    let text = format!(
        "seed: 3\nsteps:\n{}  - apply: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{name: toolbox}}\n      spec:\n        replicas: 1\n        selector: {{matchLabels: {{app: tb}}}}\n        template:\n          metadata: {{labels: {{app: tb}}}}\n          spec: {{containers: [{{name: sh, image: busybox, command: [sleep, infinity]}}]}}\n  - advance: 10s\n{}{}{}{}  - kubectl: rollout restart deployment/redis\n  - advance: 30s\n{}",
        backing_service("redis", "redis:7", 6379, ""),
        curl("INCR visits"),
        curl("INCR visits"),
        curl("SET session abc EX 30"),
        curl("GET visits"),
        curl("INCR visits"),
    );
    let out = run_workers(&text, &[]);
    let answers: Vec<&str> = crate::support::sections(&out.transcript, "redis:6379")
        .into_iter()
        .map(str::trim_end)
        .collect();
    // Each request is a new connection to the same Redis: the key space carries over, until
    // the pod is replaced (a Redis without persistence starts empty).
    assert_eq!(
        answers,
        [":1", ":2", "+OK", "$1\r\n2", ":1"],
        "{}",
        out.transcript
    );
}
