//! A scenario's shell scripts (`verify`, `background`: a Killercoda step's `verify.sh` and
//! `background.sh`), run by the server with `bash` and the real `kubectl` pointed at the
//! scenario's own cluster, as Killercoda runs them on its VM. The script's kubectl calls come
//! back through the API (`/scenarios/{id}/k8s`), so what a script changes is recorded in the
//! run like any other kubectl command; the run is never locked while a script runs.
//!
//! Scripts run as the server's user, so they are kept on a short leash: a clean environment
//! (only `PATH`, `HOME` (a folder of this server's own) and `KUBECONFIG`), their own process
//! group, killed as a whole after [`TIMEOUT`], and never from a GET (starting a scenario and
//! checking a step are POSTs; see `guard.rs`).

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
    let ran = run_in(&dir, script, (server, token), id, cwd, TIMEOUT).await;
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    ran
}

async fn run_in(
    dir: &Path,
    script: &str,
    (server, token): (SocketAddr, Option<&str>),
    id: &str,
    cwd: Option<&Path>,
    timeout: Duration,
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
    let home = home_dir();
    let _ = std::fs::create_dir_all(&home);
    let mut command = tokio::process::Command::new("bash");
    command
        .arg(&file)
        .current_dir(cwd.map_or_else(|| dir.to_path_buf(), PathBuf::from))
        // Nothing of the server's environment (tokens, cloud credentials) reaches the
        // instructor's script but where to find programs.
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
        )
        // kubectl keeps its discovery cache under $HOME/.kube, shared by this server's scripts.
        .env("HOME", &home)
        .env("KUBECONFIG", &kubeconfig)
        // Its own process group, so a timeout stops what it started too (`sleep 1000 &`).
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("bash could not be started: {e}")),
    };
    let group = child.id();
    let finished = tokio::time::timeout(timeout, child.wait_with_output()).await;
    // Whatever is left of the group (children it put in the background, or all of it after
    // a timeout) is killed.
    if let Some(pgid) = group {
        kill_group(pgid).await;
    }
    match finished {
        Err(_) => failed(format!(
            "the script did not finish within {} s and was stopped",
            timeout.as_secs()
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

/// `PATH` when the server has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The scripts' `HOME`: a folder of this server's, not the user's.
fn home_dir() -> PathBuf {
    std::env::temp_dir().join(format!("kubesim-script-home-{}", std::process::id()))
}

/// Sends SIGKILL to process group `pgid` (with `kill`, as the workspace forbids `unsafe`).
async fn kill_group(pgid: u32) {
    let _ = tokio::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run_for(script: &str, timeout: Duration) -> Ran {
        let dir = std::env::temp_dir().join(format!(
            "kubesim-script-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let server = "127.0.0.1:9".parse().unwrap();
        let ran = run_in(&dir, script, (server, None), "t", None, timeout).await;
        let _ = std::fs::remove_dir_all(&dir);
        ran
    }

    #[tokio::test]
    async fn a_script_sees_only_path_home_and_kubeconfig() {
        let ran = run_for("env", TIMEOUT).await;
        assert!(ran.passed, "{}", ran.output);
        let names: Vec<&str> = ran
            .output
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .filter(|k| !matches!(*k, "PWD" | "SHLVL" | "_"))
            .collect();
        let mut names = names;
        names.sort();
        assert_eq!(names, ["HOME", "KUBECONFIG", "PATH"], "{}", ran.output);
        assert!(
            ran.output
                .contains(&format!("HOME={}", home_dir().display()))
        );
    }

    #[tokio::test]
    async fn a_script_past_its_timeout_is_killed_with_what_it_started() {
        let pid_file = std::env::temp_dir().join(format!(
            "kubesim-script-pid-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let script = format!("sleep 300 &\necho $! > {}\nwait\n", pid_file.display());
        let ran = run_for(&script, Duration::from_secs(1)).await;
        assert!(!ran.passed);
        assert!(
            ran.output.contains("did not finish within 1 s"),
            "{}",
            ran.output
        );
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let _ = std::fs::remove_file(&pid_file);
        // SIGKILL has been sent to the group; the orphaned `sleep` is gone (or a zombie
        // waiting for init) once the kernel has delivered it: poll a bounded number of times.
        let status = format!("/proc/{}/status", pid.trim());
        let gone = (0..200).any(|_| {
            let alive = std::fs::read_to_string(&status).is_ok_and(|s| {
                !s.lines()
                    .any(|l| l.starts_with("State:") && l.contains('Z'))
            });
            if alive {
                std::thread::sleep(Duration::from_millis(25));
            }
            !alive
        });
        assert!(gone, "the background sleep {} was killed", pid.trim());
    }
}
