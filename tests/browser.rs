//! The sandbox in a real browser: starts `kubesim serve`'s server on a loopback port and
//! drives Debian's chromium with playwright-core (`web-ui/e2e/e2e.mjs`): the demo and its
//! traffic chart, one request, stopping and starting traffic, a rollout of revision 2, pause,
//! pod tiles patched from the stream's per-pod data equal to a fresh server render, the
//! kubectl console, pod details, an apply error next to its line, the compare view (with
//! Recreate's failed requests and the live summary line), two tabs agreeing, and an exported
//! run opened with JavaScript switched off.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_sandbox_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let e2e = root.join("web-ui/e2e");
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
        })
        .unwrap();
        let state = web_ui::AppState::new(sandbox, "browser test");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        web_ui::spawn_driver(state.clone());
        tokio::spawn(async move { axum_serve(listener, state).await });
        addr
    });
    let mut child = Command::new("node")
        .arg(e2e.join("e2e.mjs"))
        .arg(format!("http://{addr}"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node must be installed");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("the browser test did not finish in 240 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(status.success(), "browser test failed:\n{text}");
    assert!(text.contains("ok: the browser saw"), "{text}");
    drop(rt);
}

async fn axum_serve(listener: tokio::net::TcpListener, state: web_ui::AppState) {
    let _ = web_ui::serve_on(listener, state).await;
}

/// The student's path through course scenario 5 (`web-ui/e2e/scenario.mjs`), served from a
/// folder as `kubesim serve --scenarios DIR` does; the script adds files to the folder and
/// sees them listed, and sees the scenario's traffic charted.
#[test]
fn a_student_follows_scenario_five_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let e2e = root.join("web-ui/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci --prefix web-ui/e2e` (and install Debian's chromium), as .ci/run does"
    );
    let dir =
        std::env::temp_dir().join(format!("kubesim-browser-scenarios-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        root.join("scenarios/course/05-broken-release.yaml"),
        dir.join("05-broken-release.yaml"),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let sandbox = web_ui::sandbox::Sandbox::new(web_ui::DEMO, None).unwrap();
        let state = web_ui::AppState::new(sandbox, "browser test");
        state.scenarios.use_dir(&dir).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        web_ui::spawn_driver(state.clone());
        tokio::spawn(async move { axum_serve(listener, state).await });
        addr
    });
    let mut child = Command::new("node")
        .arg(e2e.join("scenario.mjs"))
        .arg(format!("http://{addr}"))
        .arg(&dir)
        // Screenshots of the list, a green step and the end, for a look by eye.
        .args(std::env::var_os("KUBESIM_SCREENSHOTS"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node must be installed");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("the scenario browser test did not finish in 300 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "scenario browser test failed:\n{text}");
    assert!(
        text.contains("ok: the student followed scenario 5"),
        "{text}"
    );
    drop(rt);
}
