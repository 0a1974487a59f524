//! The worker modules: the committed `.wasm` files are exactly what their sources build to,
//! and every guest's own unit tests and the wasm smoke test pass.

use std::process::Command;

fn build_guests(flag: &str) -> (bool, String) {
    let out = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/inference-worker/build-guests.sh"
        ))
        .arg(flag)
        .output()
        .expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn committed_modules_are_what_the_guest_sources_build() {
    let (ok, text) = build_guests("--check");
    assert!(
        ok,
        "the committed modules are stale or cannot be rebuilt (run inference-worker/build-guests.sh):\n{text}"
    );
}

#[test]
fn guests_pass_their_own_tests_natively_and_in_wasm() {
    let (ok, text) = build_guests("--test");
    assert!(ok, "{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");
}
