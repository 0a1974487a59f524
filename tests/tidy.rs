//! Architecture invariants as tests: sim-core stays pure (no async runtime, web or wasm
//! dependency; no wall clock, unordered maps or IO in its source).

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
