//! The sandbox's action log on disk, so that `kill -9` loses nothing the user was told was
//! done: after every request that may have changed the sandbox, the actions it recorded are
//! appended as JSON lines and `fsync`ed before the answer goes out. The next `kubesim serve`
//! (same folder, same `--scenario` and `--seed`) replays the journal, which gives the same
//! cluster since runs are deterministic.
//!
//! The first line names the scenario and seed the actions start from (an imported run
//! replaces both); the file is rewritten whole (aside, then renamed) when the sandbox is
//! replaced, when a new action after a scrub back drops the old future, and when it is
//! loaded (compaction). A last line cut short by a crash is ignored, with a note on stderr.
//! It lives beside the scenarios' progress (`progress.rs`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sim_core::SimTime;

use crate::AppState;
use crate::sandbox::{Action, Logged, Revision, Sandbox, SandboxError};

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "camelCase")]
enum Line {
    /// What the actions start from.
    Start { scenario: String, seed: Option<u64> },
    /// One recorded action, with its virtual start and end.
    Action {
        at_ms: u64,
        end_ms: u64,
        action: Action,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        typed: Option<String>,
    },
}

/// The sandbox's journal and what it holds.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    /// The scenario and seed the server starts from: a sandbox still at them with no
    /// actions needs no file.
    startup: (String, Option<u64>),
    /// The sandbox, the number of actions and the last of them on disk (none: rewrite).
    written: Option<(Revision, usize, Option<Logged>)>,
}

/// A journal read back.
#[derive(Debug, PartialEq)]
pub(crate) struct Loaded {
    scenario: String,
    seed: Option<u64>,
    actions: Vec<Logged>,
    /// The last line was cut short and ignored.
    torn: bool,
}

impl Journal {
    /// The journal in `dir` for a sandbox started from `scenario` and `seed`.
    pub(crate) fn in_dir(dir: &Path, scenario: &str, seed: Option<u64>) -> Journal {
        let mut bytes: Vec<u64> = scenario.bytes().map(u64::from).collect();
        bytes.push(seed.map_or(u64::MAX, |s| s));
        let hash = sim_core::rng::mix64(&bytes);
        Journal {
            path: dir.join(format!("sandbox-{hash:016x}.jsonl")),
            startup: (scenario.to_string(), seed),
            written: None,
        }
    }

    /// The sandbox the journal holds, replayed (virtual time zero at `epoch`), if there is
    /// a journal.
    pub(crate) fn restore(&self, epoch: Option<i64>) -> Option<Result<Sandbox, SandboxError>> {
        let bytes = std::fs::read(&self.path).ok()?;
        let loaded = read(&bytes)?;
        if loaded.torn {
            eprintln!(
                "kubesim: {}: the last line was cut short (the server stopped while writing it) and is ignored; what was acknowledged before it is kept",
                self.path.display()
            );
        }
        Some(Sandbox::restore(
            &loaded.scenario,
            loaded.seed,
            epoch,
            loaded.actions,
        ))
    }

    /// What must be written to bring the journal up to date with `sb`: computed under the
    /// sandbox's lock (a copy of what is new), written after it is released ([`Journal::write`]),
    /// so the sandbox never waits for the disk.
    pub(crate) fn plan(&self, sb: &Sandbox) -> std::io::Result<Plan> {
        let rev = sb.revision();
        let actions = &sb.actions;
        let from = match &self.written {
            Some((r, n, last))
                if r.same_sandbox(rev)
                    && *n <= actions.len()
                    && (*n == 0 || actions.get(n - 1) == last.as_ref())
                    && self.path.is_file() =>
            {
                Some(*n)
            }
            _ => None,
        };
        let nothing =
            actions.is_empty() && sb.scenario() == self.startup.0 && sb.seed() == self.startup.1;
        let mut out = Vec::new();
        let how = match from {
            Some(n) if n == actions.len() => How::Nothing,
            // Nothing to keep: no file (a server that is only looked at writes nothing).
            None if nothing => How::Remove,
            Some(n) => {
                for a in &actions[n..] {
                    line(&mut out, a)?;
                }
                How::Append(out)
            }
            None => {
                let start = Line::Start {
                    scenario: sb.scenario().to_string(),
                    seed: sb.seed(),
                };
                serde_json::to_writer(&mut out, &start).map_err(std::io::Error::other)?;
                out.push(b'\n');
                for a in actions {
                    line(&mut out, a)?;
                }
                How::Rewrite(out)
            }
        };
        Ok(Plan {
            how,
            written: (rev, actions.len(), actions.last().cloned()),
        })
    }

    /// Writes a [`Plan`] and `fsync`s it.
    pub(crate) fn write(&mut self, plan: Plan) -> std::io::Result<()> {
        match plan.how {
            How::Nothing => {}
            How::Remove => match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            },
            How::Append(out) => {
                let mut f = std::fs::OpenOptions::new().append(true).open(&self.path)?;
                f.write_all(&out)?;
                f.sync_data()?;
            }
            How::Rewrite(out) => {
                if let Some(dir) = self.path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let tmp = self.path.with_extension("tmp");
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&out)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &self.path)?;
                if let Some(Ok(d)) = self.path.parent().map(std::fs::File::open) {
                    let _ = d.sync_all();
                }
            }
        }
        self.written = Some(plan.written);
        Ok(())
    }
}

/// What a sync writes ([`Journal::plan`]).
pub(crate) struct Plan {
    how: How,
    written: (Revision, usize, Option<Logged>),
}

enum How {
    Nothing,
    Remove,
    Append(Vec<u8>),
    Rewrite(Vec<u8>),
}

fn line(out: &mut Vec<u8>, a: &Logged) -> std::io::Result<()> {
    let l = Line::Action {
        at_ms: a.at.millis(),
        end_ms: a.end.millis(),
        action: a.action.clone(),
        typed: a.typed.clone(),
    };
    serde_json::to_writer(&mut *out, &l).map_err(std::io::Error::other)?;
    out.push(b'\n');
    Ok(())
}

/// A journal's contents; `None` if it has no start line or a bad line before the last.
fn read(bytes: &[u8]) -> Option<Loaded> {
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let mut start = None;
    let mut actions = Vec::new();
    let mut torn = false;
    for (i, l) in lines.iter().enumerate() {
        if l.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Line>(l) {
            Ok(Line::Start { scenario, seed }) if start.is_none() => start = Some((scenario, seed)),
            Ok(Line::Action {
                at_ms,
                end_ms,
                action,
                typed,
            }) if start.is_some() => actions.push(Logged {
                at: SimTime(at_ms),
                end: SimTime(end_ms),
                action,
                typed,
            }),
            Err(_) if i + 1 == lines.len() => torn = true,
            _ => return None,
        }
    }
    let (scenario, seed) = start?;
    Some(Loaded {
        scenario,
        seed,
        actions,
        torn,
    })
}

/// After every request that may have changed the sandbox (a POST, PUT, PATCH or DELETE
/// outside `/scenarios/`), its journal is brought up to date before the answer goes out.
pub(crate) async fn save_after(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !req.uri().path().starts_with("/scenarios/");
    let res = next.run(req).await;
    if let Some(journal) = st.journal.clone().filter(|_| writes) {
        let st = st.clone();
        let _ = tokio::task::spawn_blocking(move || sync(&st, &journal)).await;
    }
    res
}

/// Syncs `journal` with the sandbox (the sandbox locked only to copy what is new, the
/// journal for the whole sync, so syncs are in order); a failure is reported and the next
/// sync rewrites it.
pub(crate) fn sync(st: &AppState, journal: &Arc<Mutex<Journal>>) {
    let mut j = journal.lock().unwrap_or_else(|e| e.into_inner());
    let plan = j.plan(&st.sb());
    let result = plan.and_then(|p| j.write(p));
    if let Err(e) = result {
        eprintln!(
            "kubesim: the sandbox's journal {} could not be written: {e}",
            j.path.display()
        );
        j.written = None;
    }
}

#[cfg(test)]
mod tests;
