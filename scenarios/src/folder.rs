//! Reading an instructor's scenario folder: a file is read only if it resolves inside the
//! folder (no absolute paths, no `..`, no symlink pointing out), and only up to a size.
//! This is the one place the crate touches the file system; the conversions
//! (`killercoda::import`) take a closure over it.

use std::path::{Component, Path, PathBuf};

/// The largest file read from a scenario folder.
pub const MAX_FILE: u64 = 1 << 20;

/// Why a file of a scenario folder was not read.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The path is absolute or climbs out (`..`).
    #[error("{0:?}: only paths inside the scenario's folder can be read")]
    Outside(String),
    /// The path resolves (through a symlink) to a file outside the folder.
    #[error("{0:?} is a link to a file outside the scenario's folder, which is not read")]
    LinksOut(String),
    /// Not a regular file.
    #[error("{0:?} is not a file")]
    NotAFile(String),
    /// Larger than [`MAX_FILE`].
    #[error("{0:?} is larger than {kib} KiB", kib = MAX_FILE / 1024)]
    TooLarge(String),
    /// The file system said no.
    #[error("{path:?} cannot be read: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The text of `rel` (a path relative to `folder`, as an `index.json` names it), if it
/// resolves inside `folder`.
pub fn read_inside(folder: &Path, rel: &str) -> Result<String, FolderError> {
    let io = |source| FolderError::Io {
        path: rel.to_string(),
        source,
    };
    let (_, resolved) = resolve_inside(folder, rel)?;
    // The resolved path has no links left: what was checked is what is read.
    let meta = std::fs::metadata(&resolved).map_err(io)?;
    if !meta.is_file() {
        return Err(FolderError::NotAFile(rel.to_string()));
    }
    if meta.len() > MAX_FILE {
        return Err(FolderError::TooLarge(rel.to_string()));
    }
    std::fs::read_to_string(&resolved).map_err(io)
}

/// The folder, and `rel` resolved in it (links followed), if `rel` is a relative path that
/// stays inside.
fn resolve_inside(folder: &Path, rel: &str) -> Result<(PathBuf, PathBuf), FolderError> {
    let io = |source| FolderError::Io {
        path: rel.to_string(),
        source,
    };
    let p = Path::new(rel);
    if p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(FolderError::Outside(rel.to_string()));
    }
    let root = folder.canonicalize().map_err(io)?;
    let resolved = folder.join(p).canonicalize().map_err(io)?;
    if !resolved.starts_with(&root) {
        return Err(FolderError::LinksOut(rel.to_string()));
    }
    Ok((root, resolved))
}

/// The most files [`list_inside`] lists.
pub const MAX_LISTED: usize = 200;

/// The files under `rel` (a folder relative to `folder`), as paths relative to `rel`,
/// sorted, sub-folders included; links are followed only if they resolve inside `folder`.
pub fn list_inside(folder: &Path, rel: &str) -> Result<Vec<String>, FolderError> {
    let io = |source| FolderError::Io {
        path: rel.to_string(),
        source,
    };
    let (root, start) = resolve_inside(folder, rel)?;
    let mut out = Vec::new();
    let mut todo = vec![(start.clone(), String::new(), 0)];
    while let Some((dir, prefix, depth)) = todo.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(resolved) = e.path().canonicalize() else {
                continue;
            };
            if !resolved.starts_with(&root) {
                continue;
            }
            let path = format!("{prefix}{name}");
            if resolved.is_dir() && depth < 4 {
                todo.push((resolved, format!("{path}/"), depth + 1));
            } else if resolved.is_file() {
                out.push(path);
            }
            if out.len() >= MAX_LISTED {
                out.sort();
                return Ok(out);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_folder_are_read() {
        let base = std::env::temp_dir().join(format!("kubesim-folder-{}", std::process::id()));
        let folder = base.join("scenario");
        std::fs::create_dir_all(folder.join("step1")).unwrap();
        std::fs::write(folder.join("step1/text.md"), "# Step 1").unwrap();
        std::fs::write(base.join("secret"), "not for students").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.join("secret"), folder.join("step1/out.md")).unwrap();
            std::os::unix::fs::symlink("text.md", folder.join("step1/in.md")).unwrap();
            std::os::unix::fs::symlink(&base, folder.join("up")).unwrap();
        }
        let read = |rel: &str| read_inside(&folder, rel);
        assert_eq!(read("step1/text.md").unwrap(), "# Step 1");
        assert_eq!(read("./step1/text.md").unwrap(), "# Step 1");
        assert!(matches!(read("../secret"), Err(FolderError::Outside(_))));
        assert!(matches!(
            read("step1/../../secret"),
            Err(FolderError::Outside(_))
        ));
        let abs = base.join("secret").display().to_string();
        assert!(matches!(read(&abs), Err(FolderError::Outside(_))));
        assert!(matches!(read("step1"), Err(FolderError::NotAFile(_))));
        assert!(matches!(read("missing.md"), Err(FolderError::Io { .. })));
        #[cfg(unix)]
        {
            assert_eq!(
                read("step1/in.md").unwrap(),
                "# Step 1",
                "a link inside is fine"
            );
            let e = read("step1/out.md").unwrap_err();
            assert!(matches!(e, FolderError::LinksOut(_)), "{e}");
            assert!(matches!(read("up/secret"), Err(FolderError::LinksOut(_))));
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
