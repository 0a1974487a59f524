//! The scenarios on offer: the course embedded in the binary, or an instructor's folder
//! (`kubesim serve --scenarios DIR`) of scenario files and Killercoda folders, with the files'
//! modification times so that a change is noticed.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::markdown::markdown_inline;

/// The course, embedded in the binary.
#[derive(rust_embed::RustEmbed)]
#[folder = "../scenarios/course/"]
pub(crate) struct Course;

/// Largest scenario file read from a folder.
const MAX_FILE: u64 = 1 << 20;

/// One scenario file as listed.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The file's name.
    pub file: String,
    /// Its text.
    pub text: Arc<str>,
    /// Title, summary, level, minutes and steps; or the problems (`FILE:LINE:COL: error: ...`).
    pub summary: Result<Summary, Vec<String>>,
}

/// What the list shows of a valid scenario.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Title.
    pub title: String,
    /// One or two sentences, as HTML (Markdown rendered).
    pub summary: String,
    /// beginner, intermediate, advanced.
    pub level: &'static str,
    /// Estimated minutes.
    pub minutes: Option<u32>,
    /// Number of steps.
    pub steps: usize,
    /// Learning goals.
    pub goals: Vec<String>,
}

/// Where the scenarios come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Course,
    Dir(PathBuf),
}

/// The scenarios on offer, by id (the file name without `.yaml`).
#[derive(Debug)]
pub(crate) struct Catalog {
    pub(crate) source: Source,
    pub(crate) entries: BTreeMap<String, Listed>,
    /// (name, modification time, length) of each file, to notice changes.
    pub(crate) stamps: Vec<(String, Option<SystemTime>, u64)>,
    /// Bumped on every change (the list page polls it).
    pub(crate) version: u64,
    /// Why the folder could not be read, if it could not.
    pub(crate) error: Option<String>,
}

impl Catalog {
    pub(crate) fn fill(&mut self, files: Vec<(String, Result<String, String>)>) {
        self.entries.clear();
        for (file, text) in files {
            let Some(id) = file
                .strip_suffix(".yaml")
                .or_else(|| file.strip_suffix(".yml"))
                .or_else(|| file.strip_suffix("/index.json"))
                .map(str::to_string)
            else {
                continue;
            };
            let (text, summary) = match text {
                Ok(t) => {
                    let s = summarise(&file, &t);
                    (t, s)
                }
                Err(e) => (String::new(), Err(vec![format!("{file}: {e}")])),
            };
            let summary = if id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                summary
            } else {
                Err(vec![format!(
                    "{file}: the file name may only have letters, digits, '-', '_' and '.'"
                )])
            };
            self.entries.insert(
                id,
                Listed {
                    file,
                    text: text.into(),
                    summary,
                },
            );
        }
        self.version += 1;
    }
}

/// Validates a scenario for the list: its summary, or its errors as `FILE:LINE:COL: ...`.
fn summarise(file: &str, text: &str) -> Result<Summary, Vec<String>> {
    let (scenario, diags) = scenarios::validate(text);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.error)
        .map(|d| format!("{file}:{d}"))
        .collect();
    match scenario {
        Some(s) if errors.is_empty() => Ok(Summary {
            title: s.title,
            summary: markdown_inline(&s.summary),
            level: s.level.as_str(),
            minutes: s.minutes,
            steps: s.steps.len(),
            goals: s.goals,
        }),
        _ => Err(errors),
    }
}

/// The scenario files of `dir` with their modification time and length, by name: its
/// `*.yaml` files, and every file of each sub-folder that holds a Killercoda `index.json`
/// (as `sub/path`, so that editing a step's text or script is noticed too).
pub(crate) fn stamps(dir: &FsPath) -> Result<Vec<(String, Option<SystemTime>, u64)>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            out.push((name, meta.modified().ok(), meta.len()));
        } else if meta.is_dir() && e.path().join("index.json").is_file() {
            folder_stamps(&e.path(), &name, 0, &mut out);
        }
    }
    out.sort();
    Ok(out)
}

/// The files under a Killercoda folder, a few levels deep and a few hundred at most.
fn folder_stamps(
    dir: &FsPath,
    prefix: &str,
    depth: usize,
    out: &mut Vec<(String, Option<SystemTime>, u64)>,
) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || out.len() > 2000 {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        let path = format!("{prefix}/{name}");
        if meta.is_file() {
            out.push((path, meta.modified().ok(), meta.len()));
        } else if meta.is_dir() && depth < 3 {
            folder_stamps(&e.path(), &path, depth + 1, out);
        }
    }
}

/// The text of each scenario: a YAML file as it is, a Killercoda folder (`sub/index.json`)
/// converted to a kubesim scenario (its other files are read as the conversion names them).
pub(crate) fn read_files(
    dir: &FsPath,
    stamps: &[(String, Option<SystemTime>, u64)],
) -> Vec<(String, Result<String, String>)> {
    let read = |name: &str, len: u64| {
        if len > MAX_FILE {
            Err(format!("larger than {} KiB", MAX_FILE / 1024))
        } else {
            std::fs::read_to_string(dir.join(name)).map_err(|e| format!("cannot read: {e}"))
        }
    };
    stamps
        .iter()
        .filter_map(|(name, _, len)| {
            if let Some(sub) = name.strip_suffix("/index.json") {
                if sub.contains('/') {
                    return None;
                }
                let folder = dir.join(sub);
                let text = scenarios::killercoda::import(&|path: &str| read_inside(&folder, path))
                    .map(|i| i.yaml);
                return Some((name.clone(), text));
            }
            if name.contains('/') {
                return None;
            }
            Some((name.clone(), read(name, *len)))
        })
        .collect()
}

/// A file of a Killercoda folder, by the path `index.json` gives; never outside the folder.
fn read_inside(folder: &FsPath, path: &str) -> Result<String, String> {
    let rel = FsPath::new(path);
    if rel.is_absolute()
        || rel.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    {
        return Err("only paths inside the scenario's folder can be read".into());
    }
    let p = folder.join(rel);
    match std::fs::metadata(&p) {
        Ok(m) if m.len() > MAX_FILE => Err(format!("larger than {} KiB", MAX_FILE / 1024)),
        Ok(_) => std::fs::read_to_string(&p).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}
