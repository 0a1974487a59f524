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
        ScenarioCommand::Validate { files } => {
            let mut failed = false;
            for path in &files {
                let (_, diags) = scenarios::validate(&read(path)?);
                for d in &diags {
                    failed |= d.error;
                    println!("{}:{d}", path.display());
                }
                if !diags.iter().any(|d| d.error) {
                    println!("{}: ok", path.display());
                }
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
                let text = read(path)?;
                let report = scenarios::test(&text, opts, dir_of(path));
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
                if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                    let name = p
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    texts.insert(name, read(&p)?);
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
    }
}
