//! `kubesim bench --workers`: the inference workers' costs, measured with the wall clock here
//! at the edge. Each model's request in wasm (fuel on) against the very same guest source
//! compiled natively into this binary; instantiation; a pod's cold start to its first
//! answer; and simulated requests per wall second in a 100-pod rollout under traffic.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sim_core::program::{Invocation, NoNetwork, Program, Programs};
use sim_core::script::{self, RunOptions};

/// One model's request, as the bench sends it.
#[derive(Clone)]
struct Case {
    module: &'static str,
    method: &'static str,
    path: &'static str,
    body: String,
}

fn cases() -> Vec<Case> {
    let digit = "[0,0,8,16,15,8,0,0,0,1,16,16,16,2,0,0,0,2,16,16,10,0,0,0,0,2,16,16,12,0,0,0,0,6,16,16,13,0,0,0,0,1,16,16,11,0,0,0,0,0,16,16,10,0,0,0,0,0,7,15,15,0,0,0]";
    vec![
        Case {
            module: "credit-scoring-api",
            method: "POST",
            path: "/predict",
            body: r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#.into(),
        },
        Case {
            module: "clothes-model",
            method: "POST",
            path: "/v1/models/clothes-model:predict",
            body: format!("{{\"instances\":[{digit}]}}"),
        },
        Case {
            module: "text-generator",
            method: "POST",
            path: "/generate",
            body: r#"{"prompt":"Kubernetes","seed":1,"max_tokens":20}"#.into(),
        },
    ]
}

/// The median of `n` timings of `f`, after a warm-up.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..n.min(20) {
        f();
    }
    let mut v: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

fn cgi_env(c: &Case) -> Vec<(String, String)> {
    vec![
        ("HOSTNAME".into(), "bench-7c9f8d-abcde".into()),
        ("KUBERNETES_SERVICE_HOST".into(), "10.96.0.1".into()),
        ("KUBERNETES_SERVICE_PORT".into(), "443".into()),
        ("KUBESIM_UPTIME_SECONDS".into(), "60.000".into()),
        ("KUBESIM_REQUESTS_SERVED".into(), "1000".into()),
        ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
        ("REQUEST_METHOD".into(), c.method.into()),
        ("PATH_INFO".into(), c.path.into()),
        ("QUERY_STRING".into(), String::new()),
        ("CONTENT_TYPE".into(), "application/json".into()),
        ("CONTENT_LENGTH".into(), c.body.len().to_string()),
        ("REMOTE_ADDR".into(), "10.244.0.1".into()),
    ]
}

/// The same guest source compiled natively (`rustc -C opt-level=3 --cfg kubesim_bench`,
/// the compiler that builds kubesim), handling the same request in a loop: the median per
/// request, or why it could not be measured.
fn native_request(c: &Case, env: &[(String, String)], n: usize) -> Result<Duration, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join(format!("inference-worker/guests/{}/main.rs", c.module));
    if !src.exists() {
        return Err("needs the source tree".into());
    }
    let dir = std::env::temp_dir().join("kubesim-bench-native");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let exe = dir.join(c.module);
    let built = std::process::Command::new("rustc")
        .args([
            "--edition",
            "2021",
            "-C",
            "opt-level=3",
            "--cfg",
            "kubesim_bench",
            "-o",
        ])
        .arg(&exe)
        .arg(&src)
        .env_remove("RUSTFLAGS")
        .status()
        .map_err(|e| format!("rustc: {e}"))?;
    if !built.success() {
        return Err("rustc failed".into());
    }
    let mut child = std::process::Command::new(&exe)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("KUBESIM_BENCH_N", n.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(c.body.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let ns: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "no timing printed".to_string())?;
    Ok(Duration::from_nanos(ns))
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Runs the worker benchmarks and prints a table.
pub(crate) fn workers() -> Result<()> {
    use inference_worker::{Builtin, Compiler};
    let builtin = Builtin::new().with_compiler(Compiler::Cranelift);
    println!("kubesim bench --workers (release build; wall-clock medians)\n");
    println!(
        "{:<31} {:>10} {:>12} {:>12} {:>12} {:>8} {:>8} {:>10}",
        "model (compiler)", "load", "fresh", "kept", "native", "fresh×", "kept×", "fuel"
    );
    let args = vec!["worker".to_string()];
    let runs = cases()
        .into_iter()
        .flat_map(|c| [Compiler::Cranelift, Compiler::Winch].map(|compiler| (compiler, c.clone())));
    let mut native: Option<Result<Duration, String>> = None;
    for (compiler, c) in runs {
        let builtin = Builtin::new().with_compiler(compiler);
        let t = Instant::now();
        let program = builtin
            .program(c.module)
            .with_context(|| format!("no module {}", c.module))?;
        let compile = t.elapsed();
        let env = cgi_env(&c);
        let inv = Invocation {
            args: &args,
            env: &env,
            stdin: c.body.as_bytes(),
            memory_limit: Some(256 << 20),
            fuel: 1_000_000_000,
            clock_unix_ns: 0,
            seed: 1,
            files: &std::collections::BTreeMap::new(),
        };
        let (first, _) = program.invoke(&inv, Box::new(NoNetwork));
        anyhow::ensure!(
            first.exit == sim_core::program::Exit::Code(0),
            "{}: {:?}",
            c.module,
            first.exit
        );
        let wasm = median(2000, || {
            let _ = program.invoke(&inv, Box::new(NoNetwork));
        });
        // The same request on the instance kept for a container (`kubesim_handle`), which
        // must answer and burn fuel exactly as the fresh invocation does.
        let kept = match program.process() {
            Some(mut process) => {
                let (again, _) = process.invoke(&inv, Box::new(NoNetwork));
                anyhow::ensure!(again == first, "{}: kept != fresh", c.module);
                let (again, _) = process.invoke(&inv, Box::new(NoNetwork));
                anyhow::ensure!(again == first, "{}: kept != fresh", c.module);
                Some(median(2000, || {
                    let _ = process.invoke(&inv, Box::new(NoNetwork));
                }))
            }
            None => None,
        };
        // The native program is the same for both compilers: built and timed once per model.
        if compiler == Compiler::Cranelift {
            native = Some(native_request(&c, &env, 2000));
        }
        let ratio = |d: Duration, n: Duration| format!("{:.2}×", d.as_secs_f64() / n.as_secs_f64());
        let (native, fresh_ratio, kept_ratio) =
            match native.clone().unwrap_or(Err("not run".into())) {
                Ok(d) => (
                    format!("{:.1}µs", us(d)),
                    ratio(wasm, d),
                    kept.map_or_else(String::new, |k| ratio(k, d)),
                ),
                Err(why) => (format!("n/a ({why})"), String::new(), String::new()),
            };
        println!(
            "{:<31} {:>8.1}ms {:>10.1}µs {:>12} {:>12} {:>8} {:>8} {:>10}",
            format!("{} ({compiler:?})", c.module),
            compile.as_secs_f64() * 1e3,
            us(wasm),
            kept.map_or_else(|| "-".to_string(), |k| format!("{:.1}µs", us(k))),
            native,
            fresh_ratio,
            kept_ratio,
            first.fuel
        );
    }

    println!(
        "load: compile, or read the compiled code from wasmtime's cache (KUBESIM_CACHE_DIR= to always compile)"
    );
    println!(
        "fresh: a new instance and `_start` per request (the CGI path); kept: `kubesim_handle` on the container's instance (same answers and fuel)"
    );

    // An instance of a module that does nothing: Store, instantiate from InstancePre, call.
    let empty = inference_worker::WorkerModule::new(
        "empty",
        b"(module (memory (export \"memory\") 1) (func (export \"_start\")))",
    )?;
    let inv = Invocation {
        args: &args,
        env: &[],
        stdin: b"",
        memory_limit: None,
        fuel: 1_000_000,
        clock_unix_ns: 0,
        seed: 1,
        files: &std::collections::BTreeMap::new(),
    };
    let inst = median(20_000, || {
        let _ = empty.invoke(&inv, Box::new(NoNetwork));
    });
    println!(
        "\ninstantiate + call an empty module (pooling, InstancePre): {:.2} µs",
        us(inst)
    );

    // A pod's cold start: the start invocation, then its first request.
    let credit = builtin.program("credit-scoring-api").context("credit")?;
    let case = &cases()[0];
    let req_env = cgi_env(case);
    let start_env: Vec<(String, String)> = req_env
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "REQUEST_METHOD"
                    | "PATH_INFO"
                    | "QUERY_STRING"
                    | "CONTENT_TYPE"
                    | "CONTENT_LENGTH"
                    | "REMOTE_ADDR"
                    | "GATEWAY_INTERFACE"
            )
        })
        .cloned()
        .collect();
    let cold = median(2000, || {
        let s = Invocation {
            args: &args,
            env: &start_env,
            stdin: b"",
            memory_limit: Some(256 << 20),
            fuel: 1_000_000_000,
            clock_unix_ns: 0,
            seed: 1,
            files: &std::collections::BTreeMap::new(),
        };
        let _ = credit.invoke(&s, Box::new(NoNetwork));
        let r = Invocation {
            env: &req_env,
            stdin: case.body.as_bytes(),
            ..s
        };
        let _ = credit.invoke(&r, Box::new(NoNetwork));
    });
    println!(
        "pod cold start to first answer (credit-scoring-api): {:.1} µs",
        us(cold)
    );

    // A 100-pod rollout under traffic, simulated as fast as it goes.
    let text = sim_core::workloads::traffic_rollout_script(100, 20, 20_000.0, "{}");
    let opts = RunOptions {
        programs: Some(Arc::new(Builtin::new().with_compiler(Compiler::Cranelift))),
        ..RunOptions::default()
    };
    let t = Instant::now();
    let out = script::run(&text, opts, &sim_core::kubectl::NoFiles)
        .map_err(|(_, e)| anyhow::anyhow!("{e}"))?;
    let wall = t.elapsed();
    let (mut requests, mut sampled) = (0u64, 0u64);
    for r in out.tracer.records {
        for s in r.services {
            requests += s.requests;
            sampled += s.sampled;
        }
    }
    println!(
        "100-pod rollout under 20,000 req/s: {requests} simulated requests ({sampled} run in wasm) in {:.2} s wall = {:.0} simulated requests per wall second",
        wall.as_secs_f64(),
        requests as f64 / wall.as_secs_f64()
    );
    Ok(())
}
