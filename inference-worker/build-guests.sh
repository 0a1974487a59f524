#!/usr/bin/env bash
# Builds kubesim's WebAssembly guests (inference-worker/guests/*) into inference-worker/modules/.
#
#   inference-worker/build-guests.sh           build every module (byte-reproducible)
#   inference-worker/build-guests.sh --check   build into a temp dir, compare with the committed
#                                              modules; exit 1 naming each stale one
#   inference-worker/build-guests.sh --test    run every guest's unit tests natively (any rustc),
#                                              then the wasm smoke test (node) if node is installed
#
# The modules are committed, so `cargo build` works where no wasm target exists. They are built by
# Debian's rustc (1.63) with its wasm32-wasi standard library, called directly (no cargo); the
# guests depend on std only. Another compiler (WASM_RUSTC=..., WASM_TARGET=wasm32-wasip1 for
# rustup's) builds working modules too, but not byte-identical ones, so --check would call them stale.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GUESTS_DIR="$HERE/guests"
MODULES_DIR="$HERE/modules"
GUESTS=(credit-scoring-api text-generator clothes-gateway clothes-model credit-scoring-api-services redis postgres)
WASM_RUSTC=${WASM_RUSTC:-/usr/bin/rustc}
WASM_TARGET=${WASM_TARGET:-wasm32-wasi}
NATIVE_RUSTC=${NATIVE_RUSTC:-rustc}
APT_HINT="apt-get install -y rustc libstd-rust-dev-wasm32 lld-14"

need_wasm_toolchain() {
    if [ ! -x "$WASM_RUSTC" ]; then
        echo "build-guests: $WASM_RUSTC not found; install Debian's Rust and its wasm32 std: $APT_HINT" >&2
        exit 2
    fi
    local sysroot
    sysroot=$("$WASM_RUSTC" --print sysroot)
    if [ ! -d "$sysroot/lib/rustlib/$WASM_TARGET/lib" ]; then
        echo "build-guests: $WASM_RUSTC has no $WASM_TARGET standard library; install it: $APT_HINT" >&2
        exit 2
    fi
}

# build_one NAME OUT_DIR: compiles guests/NAME/main.rs to OUT_DIR/NAME.wasm. Sources are passed as
# paths relative to guests/ and the prefix is remapped, so no checkout path reaches the module.
build_one() {
    local name=$1 out=$2
    (cd "$GUESTS_DIR" && env -u RUSTFLAGS "$WASM_RUSTC" --edition 2021 --target "$WASM_TARGET" \
        --crate-name "${name//-/_}" --crate-type bin \
        -C opt-level=3 -C lto=fat -C codegen-units=1 -C strip=symbols -C panic=abort \
        --remap-path-prefix="$GUESTS_DIR=guests" \
        -o "$out/$name.wasm" "$name/main.rs")
}

build_all() {
    local out=$1
    mkdir -p "$out"
    for name in "${GUESTS[@]}"; do
        build_one "$name" "$out"
    done
}

case "${1:-}" in
    "")
        need_wasm_toolchain
        build_all "$MODULES_DIR"
        for name in "${GUESTS[@]}"; do
            printf '%-24s %8d bytes\n' "$name.wasm" "$(wc -c < "$MODULES_DIR/$name.wasm")"
        done
        ;;
    --check)
        need_wasm_toolchain
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        build_all "$tmp"
        stale=0
        for name in "${GUESTS[@]}"; do
            if ! cmp -s "$tmp/$name.wasm" "$MODULES_DIR/$name.wasm"; then
                echo "build-guests: inference-worker/modules/$name.wasm is stale; run inference-worker/build-guests.sh and commit it" >&2
                stale=1
            fi
        done
        if [ "$stale" = 0 ]; then
            echo "build-guests: all ${#GUESTS[@]} modules are up to date"
        fi
        exit "$stale"
        ;;
    --test)
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        for name in "${GUESTS[@]}"; do
            echo "== $name (native unit tests, $NATIVE_RUSTC)"
            (cd "$GUESTS_DIR" && "$NATIVE_RUSTC" --edition 2021 --test -o "$tmp/$name" "$name/main.rs")
            "$tmp/$name" -q
        done
        if command -v node >/dev/null; then
            echo "== wasm smoke test (node's WASI)"
            node --no-warnings --expose-gc "$HERE/guests/smoke.mjs" "$MODULES_DIR"
        else
            echo "== wasm smoke test skipped: node is not installed"
        fi
        ;;
    *)
        echo "usage: $0 [--check | --test]" >&2
        exit 2
        ;;
esac
