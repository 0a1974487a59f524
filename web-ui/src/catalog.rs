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
const MAX_FILE: u64 = scenarios::folder::MAX_FILE;

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
            read_inside(dir, name)
        }
    };
    stamps
        .iter()
        .filter_map(|(name, _, len)| {
            if let Some(sub) = name.strip_suffix("/index.json") {
                if sub.contains('/') {
                    return None;
                }
                // Paths are resolved from `dir`, so a sub-folder that is itself a link out
                // is refused too.
                let text = scenarios::killercoda::import(
                    &|path: &str| read_inside(dir, &format!("{sub}/{path}")),
                    &|path: &str| {
                        scenarios::folder::list_inside(dir, &format!("{sub}/{path}"))
                            .map_err(|e| e.to_string())
                    },
                )
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

/// A file of a scenario folder, by the path `index.json` gives (or a top-level file's name);
/// never outside the folder, symlinks included.
fn read_inside(folder: &FsPath, path: &str) -> Result<String, String> {
    scenarios::folder::read_inside(folder, path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Killercoda step whose text is a link to a file outside the folder is listed as an
    /// error, and the file is never read (it was shown as step text before).
    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_folder_is_not_followed() {
        let base = std::env::temp_dir().join(format!("kubesim-catalog-{}", std::process::id()));
        let dir = base.join("course");
        let kc = dir.join("kc");
        std::fs::create_dir_all(kc.join("step1")).unwrap();
        std::fs::write(base.join("passwd"), "root:x:0:0").unwrap();
        std::fs::write(
            kc.join("index.json"),
            r#"{"title": "T", "details": {"steps": [{"title": "S", "text": "step1/text.md"}]}}"#,
        )
        .unwrap();
        std::os::unix::fs::symlink(base.join("passwd"), kc.join("step1/text.md")).unwrap();
        std::os::unix::fs::symlink(base.join("passwd"), dir.join("linked.yaml")).unwrap();
        let stamps = stamps(&dir).unwrap();
        let files = read_files(&dir, &stamps);
        let _ = std::fs::remove_dir_all(&base);
        let (_, text) = files
            .iter()
            .find(|(n, _)| n == "kc/index.json")
            .expect("listed");
        let e = text.as_ref().unwrap_err();
        assert!(e.contains("outside the scenario's folder"), "{e}");
        assert!(
            files
                .iter()
                .all(|(_, t)| !t.as_deref().unwrap_or("").contains("root:x")),
            "{files:?}"
        );
    }
}
