//! `kubesim bench`: the fixed workloads of `sim_core::workloads`, each run in a child process
//! (so its peak memory is its own), timed with the wall clock, which lives here at the edge.

use std::io::{IsTerminal, Write};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sim_core::workloads::{self, Run, Workload};
use sim_core::{ProbeMode, SimDuration, SimTime};

/// One measured run.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Measure {
    name: String,
    wall_ms: f64,
    events: u64,
    virtual_seconds: f64,
    pods_created: u64,
    live_pods_end: usize,
    peak_rss_kib: u64,
    base_rss_kib: u64,
    rolled_out: bool,
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn find(name: &str) -> Result<Workload> {
    workloads::ALL
        .into_iter()
        .find(|w| w.name.eq_ignore_ascii_case(name))
        .with_context(|| format!("no workload {name:?}; choose S1, S2 or S3"))
}

/// Runs one workload in this process and prints its measurement as one JSON line.
pub(crate) fn child(name: &str, every_probe: bool) -> Result<()> {
    let w = find(name)?;
    let base = rss_kib("VmRSS:");
    let mode = if every_probe {
        ProbeMode::EveryTick
    } else {
        ProbeMode::Standing
    };
    let show = std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut run = Run::start(w, mode);
    let steps = 50u64;
    for i in 1..=steps {
        let t = SimTime(w.duration.millis() * i / steps);
        run.run_to(t);
        if show {
            let done = (i * 30 / steps) as usize;
            eprint!(
                "\r  {} [{}{}] {:>3}% of {} virtual",
                w.name,
                "=".repeat(done),
                " ".repeat(30 - done),
                i * 100 / steps,
                SimDuration(w.duration.millis())
            );
        }
    }
    run.finish();
    let wall = start.elapsed();
    if std::env::var_os("KUBESIM_BENCH_STATS").is_some() {
        eprintln!(
            "stats: events {} decisions {} pods {} rs {} timers {} nodes {}",
            run.sim.store.events.len(),
            run.sim.store.decisions.len(),
            run.sim.store.pods.len(),
            run.sim.store.replicasets.len(),
            run.sim.pending_timers(),
            run.sim.store.nodes.len()
        );
    }
    if show {
        eprintln!();
    }
    let m = Measure {
        name: w.name.into(),
        wall_ms: wall.as_secs_f64() * 1000.0,
        events: run.sim.events_processed,
        virtual_seconds: run.sim.now().as_secs_f64(),
        pods_created: run.sim.pods_created,
        live_pods_end: run.sim.store.pods.len(),
        peak_rss_kib: rss_kib("VmHWM:"),
        base_rss_kib: base,
        rolled_out: run.all_rolled_out(),
    };
    println!("{}", serde_json::to_string(&m)?);
    // The process ends here: freeing every object one by one would only time the allocator.
    std::mem::forget(run);
    Ok(())
}

/// Runs the chosen workloads (all by default), each in a child process, and prints a table.
pub(crate) fn run(only: &[String], every_probe: bool) -> Result<()> {
    let chosen: Vec<Workload> = if only.is_empty() {
        workloads::ALL.to_vec()
    } else {
        only.iter().map(|n| find(n)).collect::<Result<_>>()?
    };
    let exe = std::env::current_exe().context("cannot find the kubesim binary to re-run")?;
    let mut rows = Vec::new();
    for w in chosen {
        eprintln!("{}: {}", w.name, w.title);
        let mut cmd = Command::new(&exe);
        cmd.args(["bench", "--child", w.name]);
        if every_probe {
            cmd.arg("--every-probe");
        }
        let out = cmd
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("cannot start the benchmark child")?;
        if !out.status.success() {
            bail!(
                "{} failed: {}",
                w.name,
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let m: Measure =
            serde_json::from_slice(&out.stdout).context("cannot read the child's measurement")?;
        rows.push(m);
    }
    let mut so = std::io::stdout().lock();
    writeln!(
        so,
        "{:<4} {:>11} {:>12} {:>14} {:>14} {:>11} {:>11} {:>12} {:>9}  targets (issue 17)",
        "",
        "wall",
        "events",
        "events/s",
        "virtual/wall",
        "pods made",
        "peak RSS",
        "RSS/pod",
        "rolled"
    )?;
    for m in &rows {
        let secs = m.wall_ms / 1000.0;
        let per_pod = (m.peak_rss_kib.saturating_sub(m.base_rss_kib) * 1024) as f64
            / m.pods_created.max(1) as f64;
        writeln!(
            so,
            "{:<4} {:>9.1}ms {:>12} {:>14.0} {:>13.0}x {:>11} {:>8.1}MiB {:>10.0} B {:>9}  {}",
            m.name,
            m.wall_ms,
            m.events,
            m.events as f64 / secs.max(1e-9),
            m.virtual_seconds / secs.max(1e-9),
            m.pods_created,
            m.peak_rss_kib as f64 / 1024.0,
            per_pod,
            if m.rolled_out { "yes" } else { "NO" },
            verdict(m, per_pod)
        )?;
    }
    Ok(())
}

/// Issue 17's targets for one workload's row: each met, or missed by how much.
fn verdict(m: &Measure, per_pod: f64) -> String {
    let Ok(w) = find(&m.name) else {
        return String::new();
    };
    let judge = |got: f64, limit: f64, what: String| {
        if got <= limit {
            format!("{what} met")
        } else {
            format!("{what} MISSED ({:.1}x)", got / limit)
        }
    };
    let mut out = vec![judge(
        m.wall_ms,
        w.target_wall_ms as f64,
        format!("<= {} ms", w.target_wall_ms),
    )];
    if let Some(b) = w.target_bytes_per_pod {
        out.push(judge(per_pod, b as f64, format!("<= {b} B/pod")));
    }
    out.join(", ")
}

/// A scenario with `deployments` × `replicas` pods on `nodes` nodes, all rolled out.
fn big_scenario(nodes: u32, deployments: u32, replicas: u32) -> String {
    let mut s = "seed: 1\ncluster:\n  nodes:\n".to_string();
    for i in 1..=nodes {
        s.push_str(&format!(
            "    - {{name: node-{i}, cpu: \"64\", memory: 256Gi, pods: 250}}\n"
        ));
    }
    s.push_str("steps:\n  - apply: |\n      apiVersion: v1\n      kind: Namespace\n      metadata: {name: big}\n");
    for d in 0..deployments {
        s.push_str(&format!(
            "  - apply: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{name: app-{d:04}, namespace: big}}\n      spec:\n        replicas: {replicas}\n        selector: {{matchLabels: {{app: app-{d:04}}}}}\n        template:\n          metadata: {{labels: {{app: app-{d:04}}}}}\n          spec:\n            containers: [{{name: c, image: nginx:1.27}}]\n"
        ));
    }
    s.push_str("  - advance: 2m\n");
    s
}

/// Posts a form to the server and reads the answer.
/// The page's form token (its `kubesim-form` meta tag), which a form post from outside a
/// browser carries as `_form`, as the page's own forms do.
fn form_token(addr: &str) -> Result<String> {
    let page = http_get(addr, "/").context("reading the page for its form token")?;
    page.split(r#"<meta name="kubesim-form" content=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string)
        .context("the page has no form token")
}

/// A form post with the page's form token.
fn post(addr: &str, path: &str, body: &str) -> Result<()> {
    use std::io::Read;
    let body = format!(
        "{body}{}_form={}",
        if body.is_empty() { "" } else { "&" },
        form_token(addr)?
    );
    let mut s = std::net::TcpStream::connect(addr).with_context(|| format!("posting {path}"))?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    anyhow::ensure!(
        out.starts_with("HTTP/1.1 2"),
        "{path}: {}",
        out.lines().next().unwrap_or("")
    );
    Ok(())
}

fn http_get(addr: &str, path: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Starts `kubesim serve` on a free port with its module cache in `cache` and its journal in
/// `state`; the child, its address, and the time from the start to the first page.
fn start_serve(
    exe: &std::path::Path,
    cache: &std::path::Path,
    state: &std::path::Path,
) -> Result<(std::process::Child, String, std::time::Duration)> {
    let started = Instant::now();
    let (child, addr) = spawn_serve(exe, &[], Some(cache), state)?;
    let page = http_get(&addr, "/").context("the first page")?;
    let first_page = started.elapsed();
    if !page.starts_with("HTTP/1.1 200") {
        bail!("first page failed: {}", page.lines().next().unwrap_or(""));
    }
    Ok((child, addr, first_page))
}

/// Starts `kubesim serve ARGS` on a free port, its sandbox journal kept in `state` (never the
/// user's: a bench must neither replay nor add to the sandbox a student left); the child and
/// its address. What it prints is read to the end in a thread: a closed pipe would stop the
/// server at its next line.
fn spawn_serve(
    exe: &std::path::Path,
    args: &[&std::ffi::OsStr],
    cache: Option<&std::path::Path>,
    state: &std::path::Path,
) -> Result<(std::process::Child, String)> {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new(exe);
    cmd.args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env("KUBESIM_STATE_DIR", state);
    if let Some(c) = cache {
        cmd.env("KUBESIM_CACHE_DIR", c);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("cannot start kubesim serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut line)?;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .context("serve did not print its address")?
        .to_string();
    Ok((child, addr))
}

/// Measures the web UI: first page after start, update latency, panel rendering at scale.
pub(crate) fn web() -> Result<()> {
    use std::io::Read;
    let exe = std::env::current_exe().context("cannot find the kubesim binary")?;
    // 1. From process start to the first page: with an empty module cache (the first run
    // after installing: the credit model compiles with Winch), then with the cache it left.
    let scratch = std::env::temp_dir().join(format!("kubesim-bench-web-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let cache = scratch.join("cache");
    let state = |name: &str| scratch.join("state").join(name);
    let (mut cold_child, _, first_page_cold) = start_serve(&exe, &cache, &state("cold"))?;
    // That start ran Winch's code and compiles Cranelift's into the cache a second later
    // (inference-worker/src/builtin.rs): the next start is a usual one once it is there.
    let compiled = cache.join("cranelift-ready");
    let t = Instant::now();
    while std::fs::read_dir(&compiled).map_or(true, |mut d| d.next().is_none())
        && t.elapsed() < std::time::Duration::from_secs(30)
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = cold_child.kill();
    let _ = cold_child.wait();
    let (mut child, addr, first_page) = start_serve(&exe, &cache, &state("warm"))?;
    // 2. From an action to its panel on a tab's stream.
    let mut stream = std::net::TcpStream::connect(&addr).context("the stream")?;
    write!(stream, "GET /stream HTTP/1.1\r\nHost: {addr}\r\n\r\n")?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut buf = vec![0u8; 1 << 20];
    // Drain the initial panels.
    let t = Instant::now();
    while t.elapsed() < std::time::Duration::from_millis(300) {
        if stream.read(&mut buf).unwrap_or(0) == 0 {
            break;
        }
    }
    let mut latencies = Vec::new();
    let token = form_token(&addr)?;
    for i in 0..10 {
        let body = format!(
            "cmd=scale+deployment%2Fcredit-scoring-api+--replicas%3D{}+-n+live-coding&_form={token}",
            10 + i + 1
        );
        let sent = Instant::now();
        let mut post = std::net::TcpStream::connect(&addr).context("posting a kubectl command")?;
        write!(
            post,
            "POST /kubectl HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut acc = String::new();
        loop {
            let n = stream
                .read(&mut buf)
                .context("no update on the stream within 5 s")?;
            acc.push_str(&String::from_utf8_lossy(&buf[..n]));
            if acc.contains(&format!("{} desired", 10 + i + 1)) {
                break;
            }
        }
        latencies.push(sent.elapsed());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // What one tab receives while the demo rolls out at 30x: bytes and messages per second.
    post(&addr, "/control/play?speed=30", "")?;
    post(
        &addr,
        "/kubectl",
        "cmd=set+image+deployment%2Fcredit-scoring-api+credit-scoring-api%3Dcredit-scoring-api%3Av2+-n+live-coding",
    )?;
    stream.set_read_timeout(Some(std::time::Duration::from_millis(100)))?;
    let (mut wire, mut messages) = (0usize, 0usize);
    let t = Instant::now();
    while t.elapsed() < std::time::Duration::from_secs(5) {
        if let Ok(n) = stream.read(&mut buf) {
            wire += n;
            messages += String::from_utf8_lossy(&buf[..n])
                .matches("event: panels")
                .count();
        }
    }
    let wire_secs = t.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    // 2b. A restart: the server replays the journal those actions left before its first page.
    let journaled = journal_actions(&state("warm"));
    let (mut child, _, first_page_restart) = start_serve(&exe, &cache, &state("warm"))?;
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort();
    // 3. Rendering every panel of large clusters.
    let mut renders = Vec::new();
    for (nodes, deployments, replicas) in [(10u32, 10u32, 100u32), (150, 300, 100)] {
        let text = big_scenario(nodes, deployments, replicas);
        let sb = web_ui::sandbox::Sandbox::new(&text, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        let pods = sb.sim.store.pods.len();
        let t = Instant::now();
        let panels = web_ui::view::panels(&sb, None);
        let took = t.elapsed();
        let bytes: usize = panels.iter().map(|(_, h)| h.len()).sum();
        renders.push((pods, took, bytes));
    }
    // 4. Frames per second in headless chromium while the cluster changes.
    let mut fps = Vec::new();
    let e2e = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web-ui/e2e");
    if e2e.join("node_modules/playwright-core").exists()
        && std::path::Path::new("/usr/bin/chromium").exists()
    {
        for (nodes, deployments, replicas) in [(10u32, 10u32, 100u32), (150, 300, 100)] {
            let file =
                std::env::temp_dir().join(format!("kubesim-bench-{}.yaml", deployments * replicas));
            std::fs::write(&file, big_scenario(nodes, deployments, replicas))?;
            let (mut child, addr) = spawn_serve(
                &exe,
                &["--scenario".as_ref(), file.as_os_str()],
                None,
                &state("fps"),
            )?;
            let out = Command::new("node")
                .arg(e2e.join("fps.mjs"))
                .arg(format!("http://{addr}"))
                .output()?;
            let _ = child.kill();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if v["fps"].as_f64().unwrap_or(0.0) == 0.0 {
                eprintln!(
                    "fps.mjs at {} pods gave no measurement: {} {}",
                    deployments * replicas,
                    String::from_utf8_lossy(&out.stdout).trim(),
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
            }
            fps.push((
                deployments * replicas,
                v["fps"].as_f64().unwrap_or(0.0),
                v["updates"].as_u64().unwrap_or(0),
                v["long"].as_u64().unwrap_or(0),
                v["worst"].as_u64().unwrap_or(0),
            ));
        }
    }
    let mut so = std::io::stdout().lock();
    writeln!(so, "web UI")?;
    writeln!(
        so,
        "  first page after process start: {:.1} ms (first run, empty module cache: {:.1} ms)",
        first_page.as_secs_f64() * 1000.0,
        first_page_cold.as_secs_f64() * 1000.0
    )?;
    writeln!(
        so,
        "  first page after a restart that replays the sandbox's journal ({journaled} actions): {:.1} ms",
        first_page_restart.as_secs_f64() * 1000.0
    )?;
    writeln!(
        so,
        "  action -> panel on the stream: median {:.1} ms, max {:.1} ms (10 scale commands)",
        latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
        latencies[latencies.len() - 1].as_secs_f64() * 1000.0
    )?;
    writeln!(
        so,
        "  one tab's stream during the demo's rollout at 30x: {:.0} KiB/s in {:.0} messages/s",
        wire as f64 / 1024.0 / wire_secs,
        messages as f64 / wire_secs
    )?;
    for (pods, took, bytes) in renders {
        writeln!(
            so,
            "  render every panel at {pods} pods: {:.1} ms, {:.0} KiB of HTML",
            took.as_secs_f64() * 1000.0,
            bytes as f64 / 1024.0
        )?;
    }
    if fps.is_empty() {
        writeln!(
            so,
            "  browser frames: skipped (needs chromium and `npm ci --prefix web-ui/e2e`)"
        )?;
    }
    for (pods, f, updates, long, worst) in fps {
        writeln!(
            so,
            "  browser at {pods} pods, 30x, rolling: {f:.0} frames/s ({updates} DOM updates in 5 s; {long} frames over 20 ms, the longest {worst} ms)"
        )?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// How many actions the sandbox journals in `state` hold (a line each).
fn journal_actions(state: &std::path::Path) -> usize {
    std::fs::read_dir(state)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|text| text.matches("{\"line\":\"action\"").count())
        .sum()
}
