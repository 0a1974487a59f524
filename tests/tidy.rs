//! Architecture invariants as tests: sim-core stays pure (no async runtime, web or wasm
//! dependency; no wall clock, unordered maps or IO in its source), and no source file grows
//! past 1,200 lines before its tests.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn sim_core_has_no_io_dependencies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("sim-core/Cargo.toml")).unwrap();
    for dep in ["tokio", "axum", "wasmtime", "reqwest", "hyper"] {
        assert!(
            !manifest.lines().any(|l| l.trim_start().starts_with(dep)),
            "sim-core must not depend on {dep}"
        );
    }
}

#[test]
fn sim_core_source_has_no_wall_clock_unordered_maps_or_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim-core/src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 20, "found the sources");
    let banned = [
        "Instant::now",
        "SystemTime",
        "HashMap",
        "HashSet",
        "std::fs",
        "std::env",
        "thread::spawn",
        "TcpStream",
    ];
    let mut hits = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for b in banned {
                if code.contains(b) {
                    hits.push(format!("{}:{}: {b}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "sim-core must stay pure and deterministic:\n{}",
        hits.join("\n")
    );
}

/// Longest a source file may be, counting up to its `#[cfg(test)] mod tests` block.
const MAX_LINES: usize = 1200;

/// Files allowed over [`MAX_LINES`] for now, each with the reason. An entry must go once its
/// file is short enough (the test says so), so the list only shrinks.
const TOO_LONG_FOR_NOW: &[(&str, &str)] = &[];

/// Every `.rs` file of a crate's `src/`, relative to the workspace root: not test files (under
/// a `tests/` folder, or named `tests.rs`), not generated files, not the guests' code.
fn crate_sources(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                    walk(&p, out);
                }
            } else if name.ends_with(".rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut out: Vec<String> = files
        .iter()
        .filter_map(|p| p.strip_prefix(root).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .filter(|p| {
            let parts: Vec<&str> = p.split('/').collect();
            let name = parts.last().copied().unwrap_or("");
            parts.contains(&"src")
                && !parts.contains(&"tests")
                && name != "tests.rs"
                && !name.contains("generated")
                && !p.starts_with("inference-worker/guests/")
        })
        .collect();
    out.sort();
    out
}

/// Lines before the file's `#[cfg(test)] mod tests` block (all of them if it has none).
fn lines_before_tests(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.trim_end() != "#[cfg(test)]" {
            continue;
        }
        let next = lines[i + 1..]
            .iter()
            .find(|l| !l.trim().is_empty() && !l.starts_with("#["));
        if next.is_some_and(|n| n.starts_with("mod tests")) {
            return i;
        }
    }
    lines.len()
}

#[test]
fn source_files_stay_under_1200_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = crate_sources(root);
    assert!(
        files.iter().any(|f| f == "sim-core/src/sim.rs")
            && files.iter().any(|f| f == "web-ui/src/lib.rs")
            && files.iter().any(|f| f == "src/main.rs"),
        "found the sources: {files:?}"
    );
    let mut offenders = Vec::new();
    let mut stale = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        let n = lines_before_tests(&text);
        let allowed = TOO_LONG_FOR_NOW.iter().find(|(p, _)| p == f);
        match (n > MAX_LINES, allowed) {
            (true, None) => offenders.push(format!("{f}: {n} lines")),
            (false, Some((_, why))) => stale.push(format!("{f}: {n} lines now ({why})")),
            _ => {}
        }
    }
    for (p, _) in TOO_LONG_FOR_NOW {
        if !files.iter().any(|f| f == p) {
            stale.push(format!("{p}: no such file any more"));
        }
    }
    let mut report = String::new();
    if !offenders.is_empty() {
        report += &format!(
            "files over {MAX_LINES} lines (before their tests); split them by concern:\n{}\n",
            offenders.join("\n")
        );
    }
    if !stale.is_empty() {
        report += &format!(
            "take these out of TOO_LONG_FOR_NOW in tests/tidy.rs:\n{}\n",
            stale.join("\n")
        );
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn lines_are_counted_up_to_the_tests_block() {
    let text = "//! doc\nfn a() {}\n\n#[cfg(test)]\nmod fixtures;\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n";
    assert_eq!(lines_before_tests(text), 6);
    assert_eq!(lines_before_tests("fn a() {}\nfn b() {}\n"), 2);
    let text = "fn a() {}\n#[cfg(test)]\n#[allow(unused)]\nmod tests;\n";
    assert_eq!(lines_before_tests(text), 1);
}
