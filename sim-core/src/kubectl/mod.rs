//! kubectl: the commands a `kubectl` step (and later the web console) accepts, executed
//! against a [`Sim`], with kubectl's output and error texts. Text in, text out; files are read
//! through a [`FileSource`] the caller provides, so there is no IO here.
//!
//! `args.rs` splits and parses the command line, `cmd/` holds one file per command, `list.rs`
//! reads the store as API objects, and `print/` renders what kubectl prints.

mod args;
mod cmd;
mod complete;
mod list;
pub mod print;
mod watch;

use crate::error::ApiError;
use crate::sim::Sim;
use crate::time::SimTime;
use args::Args;

pub use args::{parse_kind, split_words};
pub use cmd::apply::{apply_text, replace_text};
pub use cmd::describe::describe_pod;
pub use cmd::get::render;
pub use cmd::rollout::rollout_status;
pub use complete::{Edit, VERBS, complete, edit};
pub use list::{events_for, k8s_event, list};
pub use watch::{Polled, Watch, is_watch, run_for as watch_for, start as start_watch};

/// Reads the files named by `-f`.
pub trait FileSource {
    /// The text of `path`, or a message why not.
    fn read(&self, path: &str) -> Result<String, String>;
}

/// No files at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        Err(format!("the path {path:?} does not exist"))
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code (0 = success).
    pub code: i32,
}

impl Output {
    fn ok(s: impl Into<String>) -> Output {
        Output {
            stdout: s.into(),
            stderr: String::new(),
            code: 0,
        }
    }
    fn err(s: impl Into<String>) -> Output {
        let mut e: String = s.into();
        if !e.ends_with('\n') {
            e.push('\n');
        }
        Output {
            stdout: String::new(),
            stderr: e,
            code: 1,
        }
    }
    fn push(&mut self, other: Output) {
        self.stdout.push_str(&other.stdout);
        self.stderr.push_str(&other.stderr);
        self.code = self.code.max(other.code);
    }
}

pub(in crate::kubectl) fn unknown_kind(word: &str) -> Output {
    Output::err(format!(
        "error: the server doesn't have a resource type \"{word}\""
    ))
}

pub(in crate::kubectl) fn server_error(e: &ApiError) -> String {
    match e {
        ApiError::Invalid(i) => i.to_string(),
        e => format!("Error from server ({}): {e}", e.reason()),
    }
}

/// Whether a command (split into words, with or without `kubectl`) only reads the cluster:
/// `get`, `describe`, `logs`, `top`, `rollout status|history`.
pub fn is_read_only(words: &[String]) -> bool {
    let mut it = words.iter().map(String::as_str).filter(|w| *w != "kubectl");
    // A dry run writes nothing, whatever the verb.
    if words
        .iter()
        .any(|w| w.starts_with("--dry-run") && w != "--dry-run=none")
    {
        return true;
    }
    match it.next() {
        Some("get" | "describe" | "logs" | "diff" | "top") => true,
        Some("rollout") => !words
            .iter()
            .any(|w| matches!(w.as_str(), "undo" | "pause" | "resume" | "restart")),
        _ => false,
    }
}

/// Runs one kubectl command line (with or without the leading `kubectl`).
pub fn run(sim: &mut Sim, line: &str, files: &dyn FileSource) -> Output {
    run_with(sim, line, files, &mut SimClock)
}

/// How time passes while a command waits (`delete` until the objects are gone, `drain` until
/// its pods are evicted): the cluster just runs, or, in a scenario, its timed and conditional
/// events fire on the way, as they would while the student's real kubectl waits.
pub trait Clock {
    /// Runs `sim` until `until`, or until `done` holds; whether it held.
    fn run_until(
        &mut self,
        sim: &mut Sim,
        until: SimTime,
        done: &mut dyn FnMut(&Sim) -> bool,
    ) -> bool;
}

/// The cluster's own clock.
pub struct SimClock;

impl Clock for SimClock {
    fn run_until(
        &mut self,
        sim: &mut Sim,
        until: SimTime,
        done: &mut dyn FnMut(&Sim) -> bool,
    ) -> bool {
        sim.run_until(until, done)
    }
}

/// [`run`], with waits going through `clock`.
pub fn run_with(
    sim: &mut Sim,
    line: &str,
    files: &dyn FileSource,
    clock: &mut dyn Clock,
) -> Output {
    let words = match split_words(line) {
        Ok(w) => w,
        Err(e) => return Output::err(format!("error: {e}")),
    };
    let words: Vec<String> = if words.first().map(String::as_str) == Some("kubectl") {
        words[1..].to_vec()
    } else {
        words
    };
    let Some(verb) = words.first().cloned() else {
        return Output::err("error: no command given");
    };
    let args = Args::parse(&words[1..]);
    let ns = args
        .get(&["-n", "--namespace"])
        .unwrap_or("default")
        .to_string();
    match verb.as_str() {
        "apply" => cmd::apply::apply(sim, &args, &ns, files, false),
        "create" => cmd::create::create(sim, &args, &ns, files),
        "expose" => cmd::create::expose(sim, &args, &ns),
        "label" => cmd::label::label(sim, &args, &ns, false),
        "annotate" => cmd::label::label(sim, &args, &ns, true),
        "replace" => match (
            cmd::patch::dry_run(&args),
            cmd::apply::read_files(&args, files),
        ) {
            (Ok(dry), Ok(texts)) => {
                let mut out = Output::default();
                for (path, text) in texts {
                    out.push(cmd::apply::replace_text_with(sim, &text, &path, &ns, dry));
                }
                out
            }
            (Err(o), _) | (_, Err(o)) => o,
        },
        "delete" => cmd::delete::delete(sim, &args, &ns, files, clock),
        "get" => cmd::get::get(sim, &args, &ns),
        "describe" => cmd::describe::describe(sim, &args, &ns),
        "scale" => cmd::scale::scale(sim, &args, &ns),
        "patch" => cmd::patch::patch(sim, &args, &ns),
        "diff" => cmd::diff::diff(sim, &args, &ns, files),
        "set" => cmd::set::set_image(sim, &args, &ns),
        "rollout" => cmd::rollout::rollout(sim, &args, &ns),
        "logs" => cmd::logs::logs(sim, &args, &ns),
        "cordon" | "uncordon" => cmd::node::cordon(sim, &args, verb == "cordon"),
        "drain" => cmd::node::drain(sim, &args, clock),
        "taint" => cmd::taint::taint(sim, &args),
        "run" => cmd::run::run_pod(sim, &args, &ns),
        "autoscale" => cmd::autoscale::autoscale(sim, &args, &ns),
        "top" => cmd::top::top(sim, &args, &ns),
        "exec" => cmd::exec::exec(sim, &args, &ns),
        // kubectl edit opens $EDITOR; the pages open their YAML editor instead (`edit`).
        "edit" => Output::err(
            "error: kubectl edit needs an editor: in kubesim's pages it opens the object in the YAML editor; in a script, use apply or patch",
        ),
        other => Output::err(format!(
            "error: unknown command \"{other}\" for \"kubectl\"\nkubesim supports: apply, create, expose, label, annotate, replace, patch, delete, get, describe, scale, autoscale, top, set image, rollout, logs, cordon, uncordon, drain, run, exec"
        )),
    }
}
