//! The `kubesim` command: run a script against a simulated cluster and print what happened.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sim_core::kubectl::FileSource;
use sim_core::script::{self, RunOptions};

/// mimalloc instead of glibc's malloc (see Cargo.toml): the simulator's many small, short-lived
/// allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod bench_workers;
mod live;
mod play;
mod scenario;
mod terminal;

/// A local, deterministic Kubernetes learning sandbox.
#[derive(Parser)]
#[command(name = "kubesim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script: apply manifests, run kubectl commands, move virtual time.
    Run {
        /// The script (YAML).
        script: PathBuf,
        /// Seed of the run's random generator (overrides the script's).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the JSON Lines trace here (`-` for standard output).
        #[arg(long)]
        trace: Option<String>,
        /// Run every probe period as an event instead of only the moments that change.
        #[arg(long)]
        every_probe: bool,
        /// Print each controller decision, with the numbers behind it, after the step that caused it.
        #[arg(long)]
        why: bool,
        /// Run every request of `traffic` steps in wasm, not only one sample per pod and
        /// second (slower; the trace is the same).
        #[arg(long)]
        every_request: bool,
        /// Add (or replace) a worker module: NAME=FILE.wasm (see docs/worker-abi.md); an image
        /// in the script's `images:` block runs it with `module: NAME`.
        #[arg(long = "module", value_name = "NAME=FILE")]
        modules: Vec<String>,
    },
    /// Inside a scenario script's sandbox: listen on LISTEN, run the command, and forward
    /// each connection to the server's API on SOCKET (used by `kubesim serve`, not by hand).
    #[command(hide = true)]
    SandboxRelay {
        /// The loopback address the script's kubeconfig names.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// The server's API socket.
        #[arg(long)]
        socket: PathBuf,
        /// The command to run.
        #[arg(last = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
    /// Serve the sandbox in the browser (the default demo unless --scenario is given).
    Serve {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// A scenario: a kubesim run script whose steps set the sandbox up.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Seed of the run's random generator.
        #[arg(long)]
        seed: Option<u64>,
        /// Virtual seconds per wall second at start (0 starts paused).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// A folder of scenario files to serve at /scenarios instead of the built-in course
        /// (re-read when a file changes).
        #[arg(long, value_name = "DIR")]
        scenarios: Option<PathBuf>,
        /// Also accept requests whose Host is NAME (or NAME:PORT): the name students use for
        /// this machine. Others are refused (DNS rebinding). Repeatable.
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_hosts: Vec<String>,
        /// The secret every request must carry (required when --addr is not loopback): the
        /// API takes it as a bearer token, the pages from the join URL `/?token=TOKEN`.
        #[arg(long, conflicts_with = "token_file")]
        token: Option<String>,
        /// Read the token from this file (its first line), so it stays out of `ps`.
        #[arg(long, value_name = "PATH")]
        token_file: Option<PathBuf>,
        /// At most N pods in the sandbox (default and most: 150,000); beyond it ReplicaSets
        /// report FailedCreate as at a full ResourceQuota. Kept in an exported run.
        #[arg(long, value_name = "N")]
        max_pods: Option<usize>,
        /// At most N nodes in the sandbox (default and most: 5,000).
        #[arg(long, value_name = "N")]
        max_nodes: Option<usize>,
        /// Where the ingress controller answers (`curl -H 'Host: api.local'
        /// http://127.0.0.1:8081/predict`); loopback by default; `off` for nowhere.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
        ingress_addr: String,
    },
    /// Print a kubeconfig for the real kubectl against a running `kubesim serve`
    /// (`kubesim kubeconfig > kubesim.yaml; export KUBECONFIG=$PWD/kubesim.yaml`).
    Kubeconfig {
        /// The server's URL, as `kubesim serve` printed it.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// A scenario's cluster instead of the sandbox (its id, as in `/scenarios/ID`).
        #[arg(long, value_name = "ID")]
        scenario: Option<String>,
        /// The server's token (`serve --token`), sent as a bearer token.
        #[arg(long)]
        token: Option<String>,
    },
    /// List the images a sandbox runs without declaring them, and what each does
    /// (`kubesim serve` shows the same at /images).
    Images,
    /// Instructor tools for course scenarios: validate, test, list.
    Scenario {
        #[command(subcommand)]
        command: scenario::ScenarioCommand,
    },
    /// Run the fixed benchmark scenarios and report speed and memory.
    Bench {
        /// Only these workloads (S1, S2, S3).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Run every probe period as an event.
        #[arg(long)]
        every_probe: bool,
        /// Measure the web UI instead (first page, update latency, rendering at scale).
        #[arg(long)]
        web: bool,
        /// Measure the inference workers instead (wasm against native, instantiation, cold
        /// start, a 100-pod rollout under traffic).
        #[arg(long)]
        workers: bool,
        /// Internal: run one workload in this process and print its measurement.
        #[arg(long, hide = true)]
        child: Option<String>,
    },
}

/// Reads `-f` paths relative to the script's folder.
struct Dir(PathBuf);

impl FileSource for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        let p = if Path::new(path).is_absolute() {
            PathBuf::from(path)
        } else {
            self.0.join(path)
        };
        std::fs::read_to_string(&p)
            .map_err(|e| format!("the path {:?} cannot be read: {e}", p.display().to_string()))
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kubesim: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// A script's error as compilers print theirs: `FILE:LINE: MESSAGE`.
fn located(path: &Path, e: &script::ScriptError) -> String {
    match e.located() {
        (Some(line), message) => format!("{}:{line}: {message}", path.display()),
        (None, message) => format!("{}: {message}", path.display()),
    }
}

fn real_main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            script: path,
            seed,
            trace,
            every_probe,
            why,
            every_request,
            modules,
        } => {
            let mut programs = inference_worker::Builtin::new();
            for m in &modules {
                let (name, file) = m
                    .split_once('=')
                    .with_context(|| format!("--module takes NAME=FILE.wasm, not {m:?}"))?;
                let bytes =
                    std::fs::read(file).with_context(|| format!("cannot read module {file}"))?;
                programs = programs.with_module(name, &bytes);
            }
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read script {}", path.display()))?;
            let text = match script::from_utf8(&bytes) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{}", located(&path, &e));
                    return Ok(ExitCode::from(1));
                }
            };
            let dir = Dir(path.parent().map(Path::to_path_buf).unwrap_or_default());
            let opts = RunOptions {
                seed,
                probe_mode: if every_probe {
                    sim_core::ProbeMode::EveryTick
                } else {
                    sim_core::ProbeMode::Standing
                },
                why,
                epoch_unix_ms: None,
                programs: Some(std::sync::Arc::new(programs)),
                every_request,
            };
            let (out, err) = match script::run(text, opts, &dir) {
                Ok(out) => (out, None),
                Err((out, e)) => (out, Some(e)),
            };
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(out.transcript.as_bytes())?;
            if let Some(t) = trace {
                let jsonl = out.tracer.to_jsonl();
                if t == "-" {
                    stdout.write_all(jsonl.as_bytes())?;
                } else {
                    std::fs::write(&t, jsonl).with_context(|| format!("cannot write trace {t}"))?;
                }
            }
            stdout.flush()?;
            if let Some(e) = err {
                eprintln!("{}", located(&path, &e));
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::SandboxRelay {
            listen,
            socket,
            command,
        } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the relay's runtime")?;
            let code = rt
                .block_on(web_ui::relay::sandbox_relay(listen, socket, command))
                .with_context(|| format!("the sandbox relay on {listen} failed"))?;
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        Command::Serve {
            addr,
            scenario,
            seed,
            speed,
            scenarios,
            allow_hosts,
            token,
            token_file,
            max_pods,
            max_nodes,
            ingress_addr,
        } => {
            let ingress_addr = match ingress_addr.as_str() {
                "off" => None,
                a => Some(a.parse::<std::net::SocketAddr>().with_context(|| {
                    format!(
                        "--ingress-addr {a:?} is not an address such as 127.0.0.1:8081 (or off)"
                    )
                })?),
            };
            let token = match token_file {
                Some(p) => Some(
                    std::fs::read_to_string(&p)
                        .with_context(|| format!("cannot read the token file {}", p.display()))?
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                ),
                None => token,
            };
            let title = scenario
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned());
            let scenario = match scenario {
                Some(p) => Some(
                    std::fs::read_to_string(&p)
                        .with_context(|| format!("cannot read scenario {}", p.display()))?,
                ),
                None => None,
            };
            // Limits belong to the run (a replay must meet the same full cluster), so they
            // go into the scenario the sandbox starts from.
            let scenario = if max_pods.is_some() || max_nodes.is_some() {
                let text = scenario.as_deref().unwrap_or(web_ui::DEMO);
                let limits = sim_core::script::LimitsSpec {
                    pods: max_pods,
                    nodes: max_nodes,
                };
                Some(
                    sim_core::script::with_limits(text, limits)
                        .map_err(|e| anyhow::anyhow!("{e}"))
                        .context("--max-pods/--max-nodes")?,
                )
            } else {
                scenario
            };
            let opts = web_ui::ServeOptions {
                addr,
                scenario,
                seed,
                speed,
                title,
                scenarios,
                guard: web_ui::guard::Guard {
                    allow_hosts: allow_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
                    token,
                },
                ingress_addr,
            };
            let join = opts.guard.token.clone();
            let ingress = opts.ingress_addr;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            rt.block_on(web_ui::serve(opts, |addr| {
                // Whoever started the server may stop reading (`kubesim serve | head -1`, a
                // script that wanted the address): the server keeps serving.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "kubesim is serving the sandbox on http://{addr}/ (Ctrl-C to stop)"
                );
                let _ = writeln!(out, "scenarios: http://{addr}/scenarios");
                if let Some(i) = ingress {
                    let _ = writeln!(
                        out,
                        "ingress: http://{i}/ (the Ingresses' rules route it: curl -H 'Host: HOST' http://{i}/PATH)"
                    );
                }
                if let Some(t) = &join {
                    let _ = writeln!(
                        out,
                        "join URL (give it to students; replace {} by this machine's name or IP if needed): http://{addr}/?token={t}",
                        addr.ip()
                    );
                    let _ = writeln!(
                        out,
                        "kubectl: kubesim kubeconfig --server http://{addr} --token TOKEN, or GET /kubeconfig with the token"
                    );
                }
                let _ = out.flush();
            }))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Images => {
            // `kubesim images | head` closes stdout early: not an error.
            let _ = std::io::stdout().write_all(sim_core::images::render_text().as_bytes());
            Ok(ExitCode::SUCCESS)
        }
        Command::Scenario { command } => scenario::run(command),
        Command::Kubeconfig {
            server,
            scenario,
            token,
        } => {
            print!(
                "{}",
                web_ui::kube_api::kubeconfig(&server, scenario.as_deref(), token.as_deref())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            only,
            every_probe,
            web,
            workers,
            child,
        } => {
            if workers {
                bench_workers::workers()?;
                return Ok(ExitCode::SUCCESS);
            }
            if web {
                bench::web()?;
                return Ok(ExitCode::SUCCESS);
            }
            match child {
                Some(name) => bench::child(&name, every_probe)?,
                None => bench::run(&only, every_probe)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
