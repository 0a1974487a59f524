//! A student's progress in each scenario, kept on disk so that stopping `kubesim serve`
//! (closing the laptop, a new terminal) loses nothing: the run's log (what moved it), the
//! revealed hints and the passed steps. The next visit replays the log, which gives the same
//! cluster since runs are deterministic. A file is tied to the scenario's text by a hash, so
//! an edited scenario starts afresh instead of replaying a log written for another version.
//!
//! Where: `$KUBESIM_STATE_DIR` (empty: nothing is kept), else
//! `$XDG_STATE_HOME/kubesim/progress`, else `$HOME/.local/state/kubesim/progress`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sim_core::SimTime;

use crate::scenario_run::{Entry, ScenarioRun};
use sim_core::action::{Action, Request};

/// Where progress files live.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    dir: PathBuf,
}

/// What a file holds.
#[derive(Debug, Serialize, Deserialize)]
struct File {
    log: Vec<SavedEntry>,
    hints: Vec<usize>,
    passed: Vec<usize>,
}

/// [`Entry`] as JSON. Files written before actions had one vocabulary hold `kubectl`,
/// `apply`, `replace`, `create`, `request` and `api` entries; they still load.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum SavedEntry {
    Advance {
        to_ms: u64,
        free: bool,
    },
    Act {
        action: Action,
    },
    Enter {
        step: usize,
    },
    Kubectl {
        line: String,
    },
    Apply {
        yaml: String,
    },
    Replace {
        yaml: String,
    },
    Create {
        yaml: String,
    },
    Request {
        namespace: String,
        service: String,
        method: String,
        path: String,
        body: String,
    },
    Api {
        call: Box<sim_core::apiserver::call::ApiCall>,
    },
}

impl From<&Entry> for SavedEntry {
    fn from(e: &Entry) -> SavedEntry {
        match e {
            Entry::Advance { to, free } => SavedEntry::Advance {
                to_ms: to.millis(),
                free: *free,
            },
            Entry::Act(action) => SavedEntry::Act {
                action: action.clone(),
            },
            Entry::Enter(step) => SavedEntry::Enter { step: *step },
        }
    }
}

impl From<SavedEntry> for Entry {
    fn from(e: SavedEntry) -> Entry {
        match e {
            SavedEntry::Advance { to_ms, free } => Entry::Advance {
                to: SimTime(to_ms),
                free,
            },
            SavedEntry::Act { action } => Entry::Act(action),
            SavedEntry::Enter { step } => Entry::Enter(step),
            SavedEntry::Kubectl { line } => Entry::Act(Action::Kubectl(line)),
            SavedEntry::Apply { yaml } => Entry::Act(Action::Apply(yaml)),
            SavedEntry::Replace { yaml } => Entry::Act(Action::Replace(yaml)),
            SavedEntry::Create { yaml } => Entry::Act(Action::Create(yaml)),
            SavedEntry::Request {
                namespace,
                service,
                method,
                path,
                body,
            } => Entry::Act(Action::Request(Request {
                namespace,
                service,
                method,
                path,
                body,
            })),
            SavedEntry::Api { call } => Entry::Act(Action::Api(call)),
        }
    }
}

/// A run's saved progress.
#[derive(Debug)]
pub(crate) struct Saved {
    /// What moved the run.
    pub log: Vec<Entry>,
    /// Hints revealed, per step.
    pub hints: Vec<usize>,
    /// Steps passed.
    pub passed: BTreeSet<usize>,
}

impl Progress {
    /// The folder the environment names, if any.
    pub(crate) fn from_env() -> Option<Progress> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let dir = match std::env::var_os("KUBESIM_STATE_DIR") {
            Some(v) if v.is_empty() => return None,
            Some(v) => PathBuf::from(v),
            None => env("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))?
                .join("kubesim")
                .join("progress"),
        };
        Some(Progress { dir })
    }

    /// Progress kept in `dir` (tests).
    #[cfg(test)]
    pub(crate) fn in_dir(dir: &std::path::Path) -> Progress {
        Progress {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, id: &str, text: &str) -> PathBuf {
        let hash = sim_core::rng::mix64(&text.bytes().map(u64::from).collect::<Vec<_>>());
        self.dir.join(format!("{id}-{hash:016x}.json"))
    }

    /// Writes `run`'s progress (aside, then renamed: a crash never leaves half a file).
    pub(crate) fn save(&self, id: &str, run: &ScenarioRun) -> std::io::Result<()> {
        let file = File {
            log: run.log.iter().map(SavedEntry::from).collect(),
            hints: run.hints.clone(),
            passed: run.passed.iter().copied().collect(),
        };
        let json = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(id, &run.text);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, &path)
    }

    /// The progress saved for this version of scenario `id`, if any (an unreadable file is
    /// no progress).
    pub(crate) fn load(&self, id: &str, text: &str) -> Option<Saved> {
        let bytes = std::fs::read(self.path(id, text)).ok()?;
        let file: File = serde_json::from_slice(&bytes).ok()?;
        Some(Saved {
            log: file.log.into_iter().map(Entry::from).collect(),
            hints: file.hints,
            passed: file.passed.into_iter().collect(),
        })
    }

    /// Forgets the progress of this version of scenario `id` ("restart scenario").
    pub(crate) fn forget(&self, id: &str, text: &str) {
        let _ = std::fs::remove_file(self.path(id, text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_saved_before_actions_had_one_vocabulary_still_loads() {
        let old = r#"{"log":[
            {"type":"kubectl","line":"scale deploy web --replicas=3"},
            {"type":"apply","yaml":"kind: Namespace\n"},
            {"type":"advance","to_ms":5000,"free":true},
            {"type":"request","namespace":"default","service":"web","method":"GET","path":"/","body":""},
            {"type":"enter","step":1}
        ],"hints":[0,1],"passed":[0]}"#;
        let file: File = serde_json::from_str(old).unwrap();
        let log: Vec<Entry> = file.log.into_iter().map(Entry::from).collect();
        assert_eq!(
            log[0],
            Entry::Act(Action::Kubectl("scale deploy web --replicas=3".into()))
        );
        assert_eq!(
            log[1],
            Entry::Act(Action::Apply("kind: Namespace\n".into()))
        );
        assert!(matches!(&log[3], Entry::Act(Action::Request(r)) if r.service == "web"));
        assert_eq!(log[4], Entry::Enter(1));
        // What is saved now reads back the same.
        let again: Vec<Entry> = log
            .iter()
            .map(SavedEntry::from)
            .map(|e| serde_json::to_string(&e).unwrap())
            .map(|j| Entry::from(serde_json::from_str::<SavedEntry>(&j).unwrap()))
            .collect();
        assert_eq!(again, log);
    }
}
