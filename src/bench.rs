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
        "{:<4} {:>11} {:>12} {:>14} {:>14} {:>11} {:>11} {:>12} {:>9}",
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
            "{:<4} {:>9.1}ms {:>12} {:>14.0} {:>13.0}x {:>11} {:>8.1}MiB {:>10.0} B {:>9}",
            m.name,
            m.wall_ms,
            m.events,
            m.events as f64 / secs.max(1e-9),
            m.virtual_seconds / secs.max(1e-9),
            m.pods_created,
            m.peak_rss_kib as f64 / 1024.0,
            per_pod,
            if m.rolled_out { "yes" } else { "NO" }
        )?;
    }
    Ok(())
}
