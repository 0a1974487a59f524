//! A scenario's shell scripts (`verify`, `background`: a Killercoda step's `verify.sh` and
//! `background.sh`), run by the server with `bash` and the real `kubectl` pointed at the
//! scenario's own cluster, as Killercoda runs them on its VM. The script's kubectl calls come
//! back through the API (`/scenarios/{id}/k8s`), so what a script changes is recorded in the
//! run like any other kubectl command; the run is never locked while a script runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a script may run (wall time) before it is stopped and counted as failed.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// The most of a script's output kept.
const MAX_OUTPUT: usize = 16 * 1024;

/// How a script ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ran {
    /// It exited 0.
    pub passed: bool,
    /// What it printed (stdout, then stderr), or why it could not run.
    pub output: String,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Runs `script` with bash in `cwd` (a temporary folder if `None`), `KUBECONFIG` naming a
/// kubeconfig for scenario `id` on the server at `server` (with the server's `token`, if any).
pub(crate) async fn run(
    script: &str,
    server: SocketAddr,
    token: Option<&str>,
    id: &str,
    cwd: Option<&Path>,
) -> Ran {
    let dir = std::env::temp_dir().join(format!(
        "kubesim-script-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let ran = run_in(&dir, script, (server, token), id, cwd).await;
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    ran
}

async fn run_in(
    dir: &Path,
    script: &str,
    (server, token): (SocketAddr, Option<&str>),
    id: &str,
    cwd: Option<&Path>,
) -> Ran {
    let failed = |output: String| Ran {
        passed: false,
        output,
    };
    let kubeconfig = dir.join("kubeconfig");
    let file = dir.join("script.sh");
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| {
            std::fs::write(
                &kubeconfig,
                crate::kube_api::kubeconfig(&format!("http://{server}"), Some(id), token),
            )
        })
        .and_then(|()| std::fs::write(&file, script));
    if let Err(e) = written {
        return failed(format!(
            "the script could not be written to {}: {e}",
            dir.display()
        ));
    }
    let child = tokio::process::Command::new("bash")
        .arg(&file)
        .current_dir(cwd.map_or_else(|| dir.to_path_buf(), PathBuf::from))
        .env("KUBECONFIG", &kubeconfig)
        // kubectl's discovery cache, shared by this server's scripts.
        .env("KUBECACHEDIR", cache_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => return failed(format!("bash could not be started: {e}")),
    };
    match tokio::time::timeout(TIMEOUT, child.wait_with_output()).await {
        Err(_) => failed(format!(
            "the script did not finish within {} s and was stopped",
            TIMEOUT.as_secs()
        )),
        Ok(Err(e)) => failed(format!("the script could not be run: {e}")),
        Ok(Ok(out)) => {
            let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
            output.push_str(&String::from_utf8_lossy(&out.stderr));
            if output.len() > MAX_OUTPUT {
                let mut cut = MAX_OUTPUT;
                while !output.is_char_boundary(cut) {
                    cut -= 1;
                }
                output.truncate(cut);
                output.push_str("\n[output cut]");
            }
            if out.status.code() == Some(127) && output.contains("kubectl: command not found") {
                output.push_str(
                    "\nkubesim runs a scenario's scripts with the real kubectl: install it on this machine's PATH.",
                );
            }
            Ran {
                passed: out.status.success(),
                output,
            }
        }
    }
}

fn cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!("kubesim-kubectl-cache-{}", std::process::id()))
}
