//! A student's progress in each scenario, kept on disk so that stopping `kubesim serve`
//! (closing the laptop, a new terminal) loses nothing: the run's log (what moved it), the
//! revealed hints and the passed steps. The next visit replays the log, which gives the same
//! cluster since runs are deterministic. A file is tied to the scenario's text by a hash, so
//! an edited scenario starts afresh instead of replaying a log written for another version.
//!
//! Where: `$KUBESIM_STATE_DIR` (empty: nothing is kept), else
//! `$XDG_STATE_HOME/kubesim/progress`, else `$HOME/.local/state/kubesim/progress`.
//!
//! A file is a journal, one JSON line per record: each log entry as it happens, and the
//! hints and passed steps whenever they change (the last such line counts). Every
//! acknowledged action is appended and `fsync`ed before the answer goes out, so `kill -9`
//! loses nothing acknowledged. A journal whose log was cut back (reset step) is rewritten
//! whole, aside and renamed, and so is one just loaded (compaction). A last line cut short by
//! a crash mid-write is ignored, with a note on stderr.

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

/// What a save writes ([`Progress::plan`]).
pub(crate) struct Plan {
    path: PathBuf,
    rewrite: bool,
    out: Vec<u8>,
    now: Written,
}

/// What a file held before it was a journal (`ID-HASH.json`); still read.
#[derive(Debug, Serialize, Deserialize)]
struct File {
    log: Vec<SavedEntry>,
    hints: Vec<usize>,
    passed: Vec<usize>,
}

/// One line of a journal (`ID-HASH.jsonl`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "camelCase")]
enum Line {
    /// The next entry of the run's log.
    Entry { entry: SavedEntry },
    /// Hints revealed and steps passed, as of this line.
    Marks {
        hints: Vec<usize>,
        passed: Vec<usize>,
    },
}

/// What a journal holds on disk, so the next save appends only what is new.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Written {
    /// Log entries written.
    len: usize,
    /// The last of them (a log cut back and grown again differs here).
    last: Option<Entry>,
    /// Hints and passed steps last written.
    marks: (Vec<usize>, Vec<usize>),
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

    /// The folder.
    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.dir
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
        self.dir.join(format!("{id}-{hash:016x}.jsonl"))
    }

    /// What must be written to bring `run`'s journal up to date: what is new since
    /// `written` (what the last save left on disk), or the whole journal when there is no
    /// `written` or the log was cut back. Computed under the run's lock; [`Progress::write`]
    /// writes it after the lock is released, so the run never waits for the disk.
    pub(crate) fn plan(
        &self,
        id: &str,
        run: &ScenarioRun,
        written: Option<&Written>,
    ) -> std::io::Result<Plan> {
        let marks = (run.hints.clone(), run.passed.iter().copied().collect());
        let now = Written {
            len: run.log.len(),
            last: run.log.last().cloned(),
            marks: marks.clone(),
        };
        let path = self.path(id, &run.text);
        let appendable = written.filter(|w| {
            w.len <= run.log.len()
                && (w.len == 0 || run.log.get(w.len - 1) == w.last.as_ref())
                && path.is_file()
        });
        let mut out = Vec::new();
        let Some(w) = appendable else {
            for e in &run.log {
                line(&mut out, &Line::Entry { entry: e.into() })?;
            }
            line(
                &mut out,
                &Line::Marks {
                    hints: marks.0,
                    passed: marks.1,
                },
            )?;
            return Ok(Plan {
                path,
                rewrite: true,
                out,
                now,
            });
        };
        for e in &run.log[w.len..] {
            line(&mut out, &Line::Entry { entry: e.into() })?;
        }
        if w.marks != marks {
            line(
                &mut out,
                &Line::Marks {
                    hints: marks.0,
                    passed: marks.1,
                },
            )?;
        }
        Ok(Plan {
            path,
            rewrite: false,
            out,
            now,
        })
    }

    /// Writes a [`Plan`] and `fsync`s it: appended, or (a rewrite) aside, `fsync`ed, then
    /// renamed over the old journal, so a crash leaves one or the other, never half of one.
    /// Returns what is on disk now.
    pub(crate) fn write(&self, plan: Plan) -> std::io::Result<Written> {
        use std::io::Write;
        if !plan.rewrite {
            if !plan.out.is_empty() {
                let mut f = std::fs::OpenOptions::new().append(true).open(&plan.path)?;
                f.write_all(&plan.out)?;
                f.sync_data()?;
            }
            return Ok(plan.now);
        }
        std::fs::create_dir_all(&self.dir)?;
        let tmp = plan.path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&plan.out)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &plan.path)?;
        // The rename itself is durable once the folder is.
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        let _ = std::fs::remove_file(plan.path.with_extension("json"));
        Ok(plan.now)
    }

    /// The progress saved for this version of scenario `id`, if any (an unreadable file is
    /// no progress; a torn last line is ignored with a note on stderr).
    pub(crate) fn load(&self, id: &str, text: &str) -> Option<Saved> {
        let path = self.path(id, text);
        let Ok(bytes) = std::fs::read(&path) else {
            // A file from before journals.
            let bytes = std::fs::read(path.with_extension("json")).ok()?;
            let file: File = serde_json::from_slice(&bytes).ok()?;
            return Some(Saved {
                log: file.log.into_iter().map(Entry::from).collect(),
                hints: file.hints,
                passed: file.passed.into_iter().collect(),
            });
        };
        let (saved, torn) = read_journal(&bytes)?;
        if torn {
            eprintln!(
                "kubesim: {}: the last line was cut short (the server stopped while writing it) and is ignored; what was acknowledged before it is kept",
                path.display()
            );
        }
        Some(saved)
    }

    /// Forgets the progress of this version of scenario `id` ("restart scenario").
    pub(crate) fn forget(&self, id: &str, text: &str) {
        let path = self.path(id, text);
        let _ = std::fs::remove_file(path.with_extension("json"));
        let _ = std::fs::remove_file(path);
    }
}

/// Appends one record and its newline to `out`.
fn line(out: &mut Vec<u8>, l: &Line) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, l).map_err(std::io::Error::other)?;
    out.push(b'\n');
    Ok(())
}

/// A journal's progress, and whether its last line was torn (and ignored). A bad line
/// before the last makes the whole file unreadable: that is not a crash mid-write.
fn read_journal(bytes: &[u8]) -> Option<(Saved, bool)> {
    let mut saved = Saved {
        log: Vec::new(),
        hints: Vec::new(),
        passed: BTreeSet::new(),
    };
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let mut torn = false;
    for (i, l) in lines.iter().enumerate() {
        if l.is_empty() {
            continue;
        }
        // Only the last line can be cut short: each append is one write of whole lines.
        let last = i + 1 == lines.len();
        match serde_json::from_slice::<Line>(l) {
            Ok(Line::Entry { entry }) => saved.log.push(entry.into()),
            Ok(Line::Marks { hints, passed }) => {
                saved.hints = hints;
                saved.passed = passed.into_iter().collect();
            }
            Err(_) if last => torn = true,
            Err(_) => return None,
        }
    }
    Some((saved, torn))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(lines: &[Line]) -> Vec<u8> {
        let mut out = Vec::new();
        for l in lines {
            line(&mut out, l).unwrap();
        }
        out
    }

    /// A server killed in the middle of an append: the next one restores every acknowledged
    /// action, ignores the torn line and compacts the journal.
    #[tokio::test]
    async fn a_torn_journal_restores_what_was_acknowledged_and_is_compacted() {
        use axum::body::Body;
        use axum::http::{Request, header};
        use tower::ServiceExt;

        let dir = std::env::temp_dir().join(format!("kubesim-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = "01-pods-and-labels";
        let post = |uri: String, body: &str| {
            Request::post(uri)
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        let server = || {
            let st = crate::AppState::new(
                crate::sandbox::Sandbox::new(crate::DEMO, None).unwrap(),
                "t",
            );
            st.scenarios.keep_progress(Some(Progress::in_dir(&dir)));
            (crate::router(st.clone()), st)
        };
        let (app, st) = server();
        for (uri, body) in [
            (format!("/scenarios/{id}/start"), ""),
            (
                format!("/scenarios/{id}/kubectl"),
                "cmd=run+one+--image%3Dnginx",
            ),
            (
                format!("/scenarios/{id}/kubectl"),
                "cmd=run+two+--image%3Dnginx",
            ),
        ] {
            let res = app.clone().oneshot(post(uri, body)).await.unwrap();
            assert!(res.status().is_success());
        }
        let log = st.scenarios.slot(id).unwrap().lock().log.clone();
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .expect("a journal");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("run two"),
            "acknowledged means on disk: {text}"
        );
        // `kill -9` half-way through the next append.
        std::fs::write(
            &file,
            format!("{text}{{\"line\":\"entry\",\"entry\":{{\"type\":\"ac"),
        )
        .unwrap();

        let (app, st) = server();
        let res = app
            .clone()
            .oneshot(post(format!("/scenarios/{id}/start"), ""))
            .await
            .unwrap();
        assert!(res.status().is_success());
        assert_eq!(st.scenarios.slot(id).unwrap().lock().log, log);
        let compacted = std::fs::read_to_string(&file).unwrap();
        assert!(
            compacted.ends_with('\n') && !compacted.contains("\"ac\n"),
            "{compacted}"
        );
        assert_eq!(read_journal(compacted.as_bytes()).unwrap().0.log, log);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_journal_reads_back_and_its_torn_last_line_is_ignored() {
        let full = journal(&[
            Line::Entry {
                entry: SavedEntry::Enter { step: 0 },
            },
            Line::Entry {
                entry: SavedEntry::Act {
                    action: Action::Kubectl("get pods".into()),
                },
            },
            Line::Marks {
                hints: vec![1],
                passed: vec![],
            },
            Line::Entry {
                entry: SavedEntry::Enter { step: 1 },
            },
            Line::Marks {
                hints: vec![1, 0],
                passed: vec![0],
            },
        ]);
        let (saved, torn) = read_journal(&full).unwrap();
        assert!(!torn);
        assert_eq!(
            saved.log,
            [
                Entry::Enter(0),
                Entry::Act(Action::Kubectl("get pods".into())),
                Entry::Enter(1)
            ]
        );
        assert_eq!(
            (saved.hints, saved.passed),
            (vec![1, 0], BTreeSet::from([0]))
        );

        // Cut just before the final newline: the record is whole, and kept.
        let (saved, torn) = read_journal(&full[..full.len() - 1]).unwrap();
        assert!(!torn);
        assert_eq!(saved.hints, vec![1, 0]);
        // `kill -9` in the middle of the last append: every complete line is kept.
        for cut in 2..40 {
            let (saved, torn) = read_journal(&full[..full.len() - cut]).unwrap();
            assert!(torn, "cut {cut}");
            assert_eq!(saved.log.len(), 3, "cut {cut}");
            assert_eq!(
                saved.hints,
                vec![1],
                "the marks before the torn line, cut {cut}"
            );
        }
        // Damage before the last line is not a torn write: no progress rather than a wrong one.
        let mut bad = full.clone();
        bad[3] = b'#';
        assert!(read_journal(&bad).is_none());
    }

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
