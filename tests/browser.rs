//! The web UI in a real browser: each test serves a sandbox on a loopback port and drives
//! Debian's chromium with playwright-core (`web-ui/e2e/*.mjs`, sharing `harness.mjs`).
//! - `e2e.mjs`: the layout at 1280x720 and 1920x1080 (the first screen, nothing overlapping,
//!   sticking out or cut), the demo and its traffic chart, one request, stopping and starting traffic,
//!   a rollout of revision 2, pause, pod tiles patched from the stream's per-pod data equal to
//!   a fresh server render, the kubectl console, pod details, an apply error next to its
//!   line, the compare view (with Recreate's failed requests and the live summary line), two
//!   tabs agreeing, and an exported run opened with JavaScript switched off; the timeline
//!   after a rollback (its window holding the latest action, marker labels inside their chart
//!   and apart, one line per ReplicaSet, zoom, the whole run) and presenter mode at 1920x1080
//!   (no text under 24px, the compare summary on top, its keys, the SVG export); the
//!   console's streamed `get -w` stopped with Ctrl-C, `rollout status` to the end, `edit` and
//!   Tab, and no page wider than a 390 px phone.
//! - `scenario.mjs`: a student through course scenario 5, from a folder served as
//!   `--scenarios DIR` does, with the same console (namespace, Tab, watch, edit, scrollback).
//! - `killercoda.mjs`: a Killercoda folder, its Check button running verify.sh with the
//!   real kubectl.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Serves the demo sandbox (and the scenarios of `scenarios`, if given) on a loopback port.
fn serve(scenarios: Option<&Path>) -> (tokio::runtime::Runtime, std::net::SocketAddr) {
    let e2e = root().join("web-ui/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci --prefix web-ui/e2e` (and install Debian's chromium), as .ci/run does"
    );
    assert!(
        Path::new(&std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
            .exists(),
        "chromium is missing: `apt-get install chromium`, as .ci/run does"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let sandbox = web_ui::sandbox_for(&web_ui::ServeOptions {
            addr: "127.0.0.1:0".parse().unwrap(),
            scenario: None,
            seed: None,
            speed: 1.0,
            title: None,
            scenarios: None,
            guard: Default::default(),
            ingress_addr: None,
        })
        .unwrap();
        let state = web_ui::AppState::new(sandbox, "browser test");
        state
            .scenarios
            .use_kubesim_binary(env!("CARGO_BIN_EXE_kubesim").into());
        if let Some(dir) = scenarios {
            state.scenarios.use_dir(dir).unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        web_ui::spawn_driver(state.clone());
        tokio::spawn(async move {
            let _ = web_ui::serve_on(listener, state).await;
        });
        addr
    });
    (rt, addr)
}

/// One chromium at a time: three at once on a two-core machine starve each other's pages
/// past the scripts' waits (each script's own waits are what the tests check).
static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `node web-ui/e2e/SCRIPT BASE_URL ARGS...` and returns what it printed, failing the
/// test (with that text) if it fails, takes longer than `limit`, or does not print `ok`.
fn node(script: &str, addr: std::net::SocketAddr, args: &[OsString], limit: u64, ok: &str) {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let mut child = Command::new("node")
        .arg(root().join("web-ui/e2e").join(script))
        .arg(format!("http://{addr}"))
        .args(args)
        .env("KUBESIM_AGES", ages())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node must be installed");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(limit) {
            let _ = child.kill();
            panic!("{script} did not finish in {limit} s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(status.success(), "{script} failed:\n{text}");
    assert!(text.contains(ok), "{text}");
}

/// Ages as kubectl prints them (`[[ms, "2m5s"], …]`), one at each boundary of HumanDuration:
/// app.js computes the events panel's ages itself and must print the same.
fn ages() -> String {
    let ms: [i64; 19] = [
        0,
        999,
        1_000,
        59_000,
        119_999,
        120_000,
        125_000,
        600_000,
        601_000,
        10_800_000,
        10_860_000,
        28_800_000,
        172_800_000,
        176_400_000,
        691_200_000,
        63_072_000_000,
        63_158_400_000,
        252_288_000_000,
        300_000_000_000,
    ];
    let table: Vec<(i64, String)> = ms
        .iter()
        .map(|&m| {
            let d = sim_core::api::k8s_openapi::jiff::SignedDuration::from_millis(m);
            (m, sim_core::kubectl::print::human_duration(d))
        })
        .collect();
    serde_json::to_string(&table).unwrap()
}

#[test]
fn the_sandbox_works_in_a_real_browser() {
    let (rt, addr) = serve(None);
    // Screenshots of the first screen at 1280x720 and 1920x1080, a rollout, the compare view.
    let args: Vec<OsString> = std::env::var_os("KUBESIM_SCREENSHOTS")
        .into_iter()
        .collect();
    node("e2e.mjs", addr, &args, 240, "ok: the browser saw");
    drop(rt);
}

/// Scenario 5 from a folder; the script adds files to the folder and sees them listed, and
/// sees the scenario's traffic charted.
#[test]
fn a_student_follows_scenario_five_in_a_real_browser() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("kubesim-browser-scenarios-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        root().join("scenarios/course/05-broken-release.yaml"),
        dir.join("05-broken-release.yaml"),
    )
    .unwrap();
    let (rt, addr) = serve(Some(&dir));
    let mut args = vec![dir.clone().into_os_string()];
    // Screenshots of the list, a green step and the end, for a look by eye.
    args.extend(std::env::var_os("KUBESIM_SCREENSHOTS"));
    node(
        "scenario.mjs",
        addr,
        &args,
        300,
        "ok: the student followed scenario 5",
    );
    let _ = std::fs::remove_dir_all(&dir);
    drop(rt);
}

#[test]
fn a_killercoda_scenario_plays_in_a_real_browser() {
    let (rt, addr) = serve(Some(&root().join("scenarios/killercoda")));
    node(
        "killercoda.mjs",
        addr,
        &[],
        180,
        "ok: the browser played a Killercoda scenario",
    );
    drop(rt);
}
