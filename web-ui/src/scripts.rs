//! A scenario's shell scripts (`verify`, `background`, `foreground`: a Killercoda step's
//! `verify.sh`, `background.sh` and `foreground.sh`, Katacoda's `courseData` and `code`),
//! run by the server with `bash` and the real `kubectl` pointed at the scenario's own
//! cluster, as Killercoda runs them on its VM. The script's kubectl calls come back through
//! the API (`/scenarios/{id}/k8s`), so what a script changes is recorded in the run like any
//! other kubectl command; the run is never locked while a script runs.
//!
//! Scripts are an instructor's code, often a stranger's (public scenario repositories), and
//! they write where a VM lets them (`/root`, `/opt`, `/usr/local/bin`). So each runs inside
//! bubblewrap (`bwrap`): the host's file system read-only, and a private `/root`, `/opt`,
//! `/usr/local/bin`, `/tmp` and `/var/tmp` per scenario (kept for the scenario's run, so the
//! setup's files are there when `verify.sh` looks; the scenario's `assets` copied in when it
//! starts); its own network namespace with nothing but loopback, where a relay (the
//! `kubesim sandbox-relay` command, this binary) listens on the server's port and forwards
//! to the server's API over a Unix socket; its own PID namespace, so killing it kills all
//! it started; the host name `controlplane`; an environment of `HOME` and `PATH` only; killed
//! after [`TIMEOUT`]. Where bubblewrap or the relay is missing, scripts are refused with the
//! reason, never run on the host. Never from a GET (starting a scenario and checking a step
//! are POSTs; see `guard.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use scenarios::format::Asset;

/// How long a verify script may run (wall time) before it is stopped and counted as
/// failed: the student waits for its answer.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// How long a background or foreground script may run: setups wait for rollouts
/// (`kubectl wait --timeout=120s`), which take virtual time at the scenario's speed.
pub(crate) const SETUP_TIMEOUT: Duration = Duration::from_secs(180);

/// The most of a script's output kept.
const MAX_OUTPUT: usize = 16 * 1024;

/// The paths a script may write, each a private folder of its scenario's.
const PRIVATE: &[(&str, &str)] = &[
    ("/root", "root"),
    ("/opt", "opt"),
    ("/usr/local/bin", "usr-local-bin"),
    ("/tmp", "tmp"),
    ("/var/tmp", "var-tmp"),
];

/// Where the server's files live inside the sandbox.
const INSIDE: &str = "/run/kubesim";

/// How a script ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ran {
    /// It exited 0.
    pub passed: bool,
    /// What it printed (stdout, then stderr), or why it could not run.
    pub output: String,
}

impl Ran {
    fn failed(output: String) -> Ran {
        Ran {
            passed: false,
            output,
        }
    }
}

/// What a script needs from the server: where its API is and how to reach it.
#[derive(Clone, Debug)]
pub(crate) struct Host {
    /// The server's address (the kubeconfig's, inside the sandbox too).
    pub server: SocketAddr,
    /// The server's token, if it has one.
    pub token: Option<String>,
    /// The `kubesim` binary, which relays the sandbox's loopback port to `socket`.
    pub kubesim: Option<PathBuf>,
    /// The server's API on a Unix socket.
    pub socket: Option<PathBuf>,
    /// The server's folder of scenario file systems ([`BaseDir`]).
    pub base: PathBuf,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A folder for one server's scenario file systems and API socket (a process may run
/// several servers: tests do), removed with what is in it when the server's last handle
/// on it goes.
#[derive(Debug)]
pub(crate) struct BaseDir(PathBuf);

impl BaseDir {
    /// A new, not yet created, folder under the system's temporary folder.
    pub(crate) fn new() -> BaseDir {
        BaseDir(std::env::temp_dir().join(format!(
            "kubesim-sandbox-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )))
    }
}

impl std::ops::Deref for BaseDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for BaseDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The private file system of scenario `id`'s scripts, in server folder `base`.
fn scenario_dir(base: &Path, id: &str) -> PathBuf {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.join("scenarios").join(safe)
}

/// Makes scenario `id`'s private file system: afresh (`fresh`, when the scenario starts)
/// or only if it is missing (a server restarted with the run's progress), with `assets`
/// written in.
pub(crate) fn prepare(base: &Path, id: &str, assets: &[Asset], fresh: bool) -> std::io::Result<()> {
    let dir = scenario_dir(base, id);
    if fresh {
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    } else if dir.join(".prepared").exists() {
        return Ok(());
    }
    for (_, sub) in PRIVATE {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    std::fs::create_dir_all(dir.join("root/.kube"))?;
    for a in assets {
        let Some(path) = private_path(&dir, &a.path) else {
            continue;
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &a.content)?;
        if a.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    std::fs::write(dir.join(".prepared"), "")
}

/// Where absolute path `path` of the sandbox is in scenario folder `dir`, if it is under one
/// of the private paths (assets elsewhere cannot be written: the rest is the host's,
/// read-only).
fn private_path(dir: &Path, path: &str) -> Option<PathBuf> {
    if path.split('/').any(|c| c == "..") {
        return None;
    }
    PRIVATE.iter().find_map(|(at, sub)| {
        let rest = path.strip_prefix(at)?;
        let rest = rest.strip_prefix('/').or(rest.is_empty().then_some(""))?;
        Some(dir.join(sub).join(rest))
    })
}

/// Serves the API on a Unix socket in the server's sandbox folder for the scripts' relay,
/// and tells the scenarios where it is.
pub(crate) fn listen(state: &crate::AppState) -> std::io::Result<()> {
    let dir = state.scenarios.sandbox_base.to_path_buf();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("api.sock");
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    let _ = state.scenarios.socket.set(path);
    tokio::spawn(crate::conn::serve_unix(
        listener,
        crate::router(state.clone()),
        (*state.conn).clone(),
    ));
    Ok(())
}

/// Runs `script` with bash inside scenario `id`'s sandbox, with kubectl pointed at the
/// scenario's cluster on `host`; `folder` (a Killercoda folder) is readable at
/// `/run/kubesim/scenario`.
pub(crate) async fn run(
    host: &Host,
    script: &str,
    id: &str,
    folder: Option<&Path>,
    timeout: Duration,
) -> Ran {
    run_for(host, script, id, folder, timeout).await
}

async fn run_for(
    host: &Host,
    script: &str,
    id: &str,
    folder: Option<&Path>,
    timeout: Duration,
) -> Ran {
    let Some(bwrap) = which("bwrap") else {
        return Ran::failed(
            "kubesim runs a scenario's scripts inside bubblewrap, which this machine lacks: install it (Debian: `apt install bubblewrap`). Scripts are never run on the host.".into(),
        );
    };
    let dir = scenario_dir(&host.base, id);
    if let Err(e) = prepare(&host.base, id, &[], false) {
        return Ran::failed(format!(
            "the scenario's files could not be made in {}: {e}",
            dir.display()
        ));
    }
    let run_dir = host
        .base
        .join(format!("run-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    let ran = run_in(&bwrap, &run_dir, &dir, host, script, id, folder, timeout).await;
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(run_dir)).await;
    ran
}

#[allow(clippy::too_many_arguments)]
async fn run_in(
    bwrap: &Path,
    run_dir: &Path,
    dir: &Path,
    host: &Host,
    script: &str,
    id: &str,
    folder: Option<&Path>,
    timeout: Duration,
) -> Ran {
    let file = run_dir.join("script.sh");
    let kubeconfig = crate::kube_api::kubeconfig(
        &format!("http://{}", host.server),
        Some(id),
        host.token.as_deref(),
    );
    let written = std::fs::create_dir_all(run_dir)
        .and_then(|()| std::fs::write(&file, script))
        .and_then(|()| std::fs::write(dir.join("root/.kube/config"), kubeconfig));
    if let Err(e) = written {
        return Ran::failed(format!(
            "the script could not be written to {}: {e}",
            run_dir.display()
        ));
    }
    let mut command = tokio::process::Command::new(bwrap);
    command
        .args(["--die-with-parent", "--new-session"])
        .args(["--unshare-all", "--hostname", "controlplane"])
        .args(["--ro-bind", "/", "/"])
        .args(["--dev", "/dev", "--proc", "/proc"])
        .args(["--tmpfs", "/run", "--tmpfs", "/home"]);
    for (at, sub) in PRIVATE {
        if Path::new(at).is_dir() {
            command.arg("--bind").arg(dir.join(sub)).arg(at);
        }
    }
    command
        .arg("--ro-bind")
        .arg(&file)
        .arg(format!("{INSIDE}/script.sh"));
    if let Some(f) = folder {
        command
            .arg("--ro-bind")
            .arg(f)
            .arg(format!("{INSIDE}/scenario"));
    }
    // The real kubectl, wherever the server found it (a pip install under $HOME is hidden
    // by the private /root), where a VM has it.
    let kubectl = which("kubectl");
    if let Some(k) = &kubectl {
        command
            .arg("--ro-bind")
            .arg(k)
            .arg("/usr/local/bin/kubectl");
    }
    command.args([
        "--setenv",
        "HOME",
        "/root",
        "--setenv",
        "PATH",
        DEFAULT_PATH,
        "--chdir",
        "/root",
    ]);
    let bash = ["bash".to_string(), format!("{INSIDE}/script.sh")];
    match (&host.kubesim, &host.socket) {
        (Some(kubesim), Some(socket)) => {
            command
                .arg("--ro-bind")
                .arg(kubesim)
                .arg(format!("{INSIDE}/kubesim"))
                .arg("--bind")
                .arg(socket)
                .arg(format!("{INSIDE}/api.sock"))
                .arg(format!("{INSIDE}/kubesim"))
                .args(["sandbox-relay", "--listen"])
                .arg(format!("127.0.0.1:{}", host.server.port()))
                .args(["--socket", &format!("{INSIDE}/api.sock"), "--"])
                .args(bash);
        }
        // No relay: the script runs, but kubectl reaches nothing (unit tests).
        _ => {
            command.args(bash);
        }
    }
    command
        // Nothing of the server's environment (tokens, cloud credentials) reaches the
        // instructor's script.
        .env_clear()
        // Its own process group, so a timeout stops bubblewrap and, with it, its PID
        // namespace.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return Ran::failed(format!("bubblewrap could not be started: {e}")),
    };
    let group = child.id();
    let finished = tokio::time::timeout(timeout, child.wait_with_output()).await;
    if let Some(pgid) = group {
        kill_group(pgid).await;
    }
    match finished {
        Err(_) => Ran::failed(format!(
            "the script did not finish within {} s and was stopped",
            timeout.as_secs()
        )),
        Ok(Err(e)) => Ran::failed(format!("the script could not be run: {e}")),
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
            if out.status.code() == Some(127)
                && output.contains("kubectl: command not found")
                && kubectl.is_none()
            {
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

/// The executable file `name` on the server's `PATH`, links resolved.
///
/// A shell script found first (a pyenv or asdf shim, which runs its manager from under the
/// private `/root`) cannot run inside the sandbox: the first executable that is not a script
/// is taken instead.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let not_a_script = |p: &PathBuf| {
        use std::io::Read;
        let mut head = [0u8; 2];
        std::fs::File::open(p)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| &head != b"#!")
    };
    std::env::split_paths(&path)
        .filter_map(|d| d.join(name).canonicalize().ok())
        .find(|p| p.is_file() && not_a_script(p))
}

/// The scripts' `PATH`, a Debian machine's.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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

    fn host() -> Host {
        Host {
            server: "127.0.0.1:9".parse().unwrap(),
            token: None,
            kubesim: None,
            socket: None,
            base: std::env::temp_dir().join(format!("kubesim-sandbox-test-{}", std::process::id())),
        }
    }

    fn id() -> String {
        format!("test-{}", NEXT.fetch_add(1, Ordering::Relaxed))
    }

    #[tokio::test]
    async fn a_script_sees_only_path_and_home() {
        let ran = run_for(&host(), "env", &id(), None, TIMEOUT).await;
        assert!(ran.passed, "{}", ran.output);
        let mut names: Vec<&str> = ran
            .output
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .filter(|k| !matches!(*k, "PWD" | "SHLVL" | "_" | "OLDPWD"))
            .collect();
        names.sort();
        assert_eq!(names, ["HOME", "PATH"], "{}", ran.output);
        assert!(ran.output.contains("HOME=/root\n"), "{}", ran.output);
    }

    /// What a script writes where a VM lets it lands in its scenario's own folders, stays
    /// there for the scenario's next script, and never on the host; the rest is read-only.
    #[tokio::test]
    async fn writes_stay_in_the_scenarios_private_file_system() {
        let id = id();
        let assets = [Asset {
            path: "/root/assets/pod.yaml".into(),
            content: "kind: Pod\n".into(),
            executable: false,
        }];
        prepare(&host().base, &id, &assets, true).unwrap();
        let marker = format!("kubesim-test-{id}");
        let script = format!(
            "set -e\ncat /root/assets/pod.yaml\necho one > /root/{marker}\nmkdir -p /opt/course\necho two > /opt/course/{marker}\necho three > /usr/local/bin/{marker}\nhostname\nif echo x > /etc/{marker} 2>/dev/null; then echo wrote-etc; fi\n"
        );
        let ran = run_for(&host(), &script, &id, None, TIMEOUT).await;
        assert!(ran.passed, "{}", ran.output);
        assert!(ran.output.contains("kind: Pod"), "{}", ran.output);
        assert!(ran.output.contains("controlplane"), "{}", ran.output);
        assert!(!ran.output.contains("wrote-etc"), "{}", ran.output);
        for host_path in [
            format!("/root/{marker}"),
            format!("/opt/course/{marker}"),
            format!("/usr/local/bin/{marker}"),
            format!("/etc/{marker}"),
        ] {
            assert!(!Path::new(&host_path).exists(), "{host_path} on the host");
        }
        let dir = scenario_dir(&host().base, &id);
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("opt/course/{marker}"))).unwrap(),
            "two\n"
        );
        // The next script of the scenario finds them; another scenario does not.
        let again = run_for(&host(), &format!("cat /root/{marker}"), &id, None, TIMEOUT).await;
        assert_eq!(again.output, "one\n");
        let other = run_for(
            &host(),
            &format!("cat /root/{marker}"),
            &self::id(),
            None,
            TIMEOUT,
        )
        .await;
        assert!(!other.passed, "{}", other.output);
        // A scenario started again starts from its assets alone.
        prepare(&host().base, &id, &assets, true).unwrap();
        let fresh = run_for(&host(), "ls /root /root/assets", &id, None, TIMEOUT).await;
        assert!(!fresh.output.contains(&marker), "{}", fresh.output);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Only loopback inside: a port the server's machine listens on is not reachable.
    #[tokio::test]
    async fn a_script_has_no_network() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = format!(
            "if (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo reached; else echo refused; fi"
        );
        let ran = run_for(&host(), &script, &id(), None, TIMEOUT).await;
        assert_eq!(ran.output.trim(), "refused", "{}", ran.output);
    }

    #[tokio::test]
    async fn a_script_past_its_timeout_is_killed_with_what_it_started() {
        // A sleep with a length no other process has, to look for it in /proc afterwards.
        let secs = format!(
            "300.{}{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let script = format!("sleep {secs} &\nwait\n");
        let ran = run_for(&host(), &script, &id(), None, Duration::from_secs(1)).await;
        assert!(!ran.passed);
        assert!(
            ran.output.contains("did not finish within 1 s"),
            "{}",
            ran.output
        );
        let running = || {
            std::fs::read_dir("/proc")
                .unwrap()
                .filter_map(Result::ok)
                .any(|e| {
                    std::fs::read(e.path().join("cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&secs))
                })
        };
        // Killing bubblewrap ends its PID namespace: poll a bounded number of times.
        let gone = (0..200).any(|_| {
            let alive = running();
            if alive {
                std::thread::sleep(Duration::from_millis(25));
            }
            !alive
        });
        assert!(gone, "the background sleep {secs} was killed");
    }

    #[test]
    fn asset_paths_outside_the_private_folders_are_not_written() {
        let d = Path::new("/x");
        assert_eq!(private_path(d, "/root/a.yaml"), Some(d.join("root/a.yaml")));
        assert_eq!(
            private_path(d, "/usr/local/bin/w"),
            Some(d.join("usr-local-bin/w"))
        );
        assert_eq!(private_path(d, "/etc/passwd"), None);
        assert_eq!(private_path(d, "/rootkit/x"), None);
        assert_eq!(private_path(d, "/root/../etc/x"), None);
    }
}
