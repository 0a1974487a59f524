//! `kubesim scenario validate|test|list`: the instructor's tools, reading files and printing
//! what the `scenarios` crate found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Subcommand;
use sim_core::script::RunOptions;

use crate::Dir;

/// What to do with scenario files.
#[derive(Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Check the schema and every CEL expression; problems are printed as FILE:LINE:COL.
    Validate {
        /// Scenario files (YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `real`: also list what `scenario play` would skip on a real cluster, and refuse
        /// what it may not write there (an undeclared namespace, a cluster-scoped object).
        #[arg(long, value_enum)]
        target: Option<ValidateTarget>,
    },
    /// Play a scenario on a real cluster (kind, minikube, GKE...) as a terminal tutor: each
    /// step's text, its setup applied (server-side, field manager `kubesim`, only in the
    /// scenario's namespaces), then its checks turning green as you work in your own shell.
    Play {
        /// The scenario file or Killercoda folder.
        file: PathBuf,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Play in this namespace instead of the scenario's (a shared cluster where you own
        /// one namespace): its objects, kubectl lines and checks move there.
        #[arg(long, short = 'n')]
        namespace: Option<String>,
        /// Allow play to write to the cluster (the setup's objects, the steps' actions).
        #[arg(long)]
        yes: bool,
        /// Show what play would write, checked by the server (`dryRun=All`); change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Start at this step (1-based); the setup runs only from step 1.
        #[arg(long, default_value_t = 1)]
        step: usize,
        /// Divide every wait by this: for a kubesim sandbox whose clock runs faster than the
        /// wall clock (`serve --speed`). A real cluster refuses it.
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
    },
    /// Play each step's reference solution with the real workers; every check must fail
    /// before its step's solution and pass after it.
    Test {
        /// Scenario files (YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the transcript of each run.
        #[arg(long)]
        transcript: bool,
    },
    /// List the scenarios in a folder.
    List {
        /// The folder.
        dir: PathBuf,
    },
    /// Check one step against a real cluster (kind, minikube, GKE...): its checks, once, with
    /// the sandbox's messages, and its verify script with the given kubeconfig. Exits 0
    /// when all pass, 1 otherwise. Reads only; writes nothing to the cluster.
    Check {
        /// The scenario file or Killercoda folder.
        file: PathBuf,
        /// The step (1-based).
        #[arg(long)]
        step: usize,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// A namespace to list objects in when the cluster refuses listing them
        /// cluster-wide (the scenario's `setup.namespace` is tried too).
        #[arg(long, short = 'n')]
        namespace: Option<String>,
    },
    /// Convert a Killercoda scenario folder (index.json, step texts, verify.sh and
    /// background.sh) into a kubesim scenario file. `serve --scenarios`, `validate` and
    /// `test` also take such folders as they are.
    Import {
        /// The folder holding index.json.
        dir: PathBuf,
        /// Write the scenario here instead of printing it.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// Which cluster, as kubectl's flags say it.
#[derive(clap::Args)]
pub(crate) struct ClusterArgs {
    /// The kubeconfig of the cluster (kind, minikube, GKE, or another `kubesim serve`).
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The kubeconfig's context (its current one by default).
    #[arg(long)]
    context: Option<String>,
}

impl ClusterArgs {
    fn target(self, namespace: Option<String>) -> crate::live::Target {
        crate::live::Target {
            kubeconfig: self.kubeconfig,
            context: self.context,
            namespace,
        }
    }
}

/// Where a validated scenario is meant to run.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum ValidateTarget {
    /// kubesim's sandbox (the default: no more checks).
    Sandbox,
    /// A real cluster, through `scenario play`.
    Real,
}

/// A Killercoda folder (one with an index.json) as a kubesim scenario, and what did not
/// carry over.
fn import(dir: &Path) -> Result<scenarios::killercoda::Imported> {
    let read = |rel: &str| -> Result<String, String> {
        scenarios::folder::read_inside(dir, rel).map_err(|e| e.to_string())
    };
    let list = |rel: &str| -> Result<Vec<String>, String> {
        scenarios::folder::list_inside(dir, rel).map_err(|e| e.to_string())
    };
    scenarios::killercoda::import(&read, &list)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
}

/// A scenario's text: a file as it is, a Killercoda folder converted.
fn scenario_text(path: &Path) -> Result<String> {
    if path.join("index.json").is_file() {
        return Ok(import(path)?.yaml);
    }
    read(path)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn dir_of(path: &Path) -> Box<Dir> {
    Box::new(Dir(path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()))
}

pub(crate) fn run(cmd: ScenarioCommand) -> Result<ExitCode> {
    match cmd {
        ScenarioCommand::Validate { files, target } => {
            let mut failed = false;
            for path in &files {
                let (scenario, diags) = scenarios::validate(&scenario_text(path)?);
                let mut bad = false;
                for d in &diags {
                    bad |= d.error;
                    println!("{}:{d}", path.display());
                }
                let real = match (&scenario, target) {
                    (Some(s), Some(ValidateTarget::Real)) => Some(scenarios::real::plan(s)),
                    _ => None,
                };
                match real {
                    Some(Err(e)) => {
                        bad = true;
                        println!("{}: on a real cluster: {e}", path.display());
                    }
                    Some(Ok(plan)) => {
                        for line in plan.skipped() {
                            println!("{}: on a real cluster: {line}", path.display());
                        }
                    }
                    None => {}
                }
                if !bad {
                    println!("{}: ok", path.display());
                }
                failed |= bad;
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        ScenarioCommand::Test { files, transcript } => {
            // One set of programs for every file: each module compiles once per process.
            let programs: Arc<dyn sim_core::program::Programs> =
                Arc::new(inference_worker::Builtin::new());
            let mut failed = 0;
            for path in &files {
                let opts = RunOptions {
                    programs: Some(programs.clone()),
                    ..RunOptions::default()
                };
                let text = scenario_text(path)?;
                let files = if path.is_dir() {
                    Box::new(Dir(path.clone()))
                } else {
                    dir_of(path)
                };
                let report = scenarios::test(&text, opts, files);
                if transcript {
                    print!("{}", report.transcript);
                }
                print!("{}", report.render(&path.display().to_string()));
                if !report.passed() {
                    failed += 1;
                }
            }
            println!("{} passed, {} failed", files.len() - failed, failed);
            Ok(if failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        ScenarioCommand::List { dir } => {
            let mut texts = BTreeMap::new();
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("cannot read folder {}", dir.display()))?;
            for e in entries {
                let p = e?.path();
                let killercoda = p.join("index.json").is_file();
                if killercoda
                    || matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                {
                    let name = p
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    let text = if killercoda {
                        match import(&p) {
                            Ok(i) => i.yaml,
                            Err(e) => format!("# {e}"),
                        }
                    } else {
                        read(&p)?
                    };
                    texts.insert(name, text);
                }
            }
            for l in scenarios::list(&texts) {
                match l.summary {
                    Ok((title, level, minutes, steps)) => println!(
                        "{:<36} {:<13} {:>6} {:>3} steps  {title}",
                        l.file,
                        level,
                        minutes.map(|m| format!("{m} min")).unwrap_or_default(),
                        steps
                    ),
                    Err(e) => println!("{:<36} invalid: {e}", l.file),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ScenarioCommand::Check {
            file,
            step,
            cluster,
            namespace,
        } => {
            let text = scenario_text(&file)?;
            let target = cluster.target(namespace);
            crate::live::check(&file, &text, step, &target)
        }
        ScenarioCommand::Play {
            file,
            cluster,
            namespace,
            yes,
            dry_run,
            step,
            time_scale,
        } => {
            let text = scenario_text(&file)?;
            let target = cluster.target(namespace);
            let opts = crate::play::PlayOptions {
                yes,
                dry_run,
                time_scale,
                from_step: step,
            };
            crate::play::play(&file, &text, &target, &opts)
        }
        ScenarioCommand::Import { dir, output } => {
            let imported = import(&dir)?;
            for w in &imported.warnings {
                eprintln!("note: {w}");
            }
            match output {
                Some(out) => std::fs::write(&out, &imported.yaml)
                    .with_context(|| format!("cannot write {}", out.display()))?,
                None => print!("{}", imported.yaml),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
