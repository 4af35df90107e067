#!/usr/bin/env bash
# Builds the edge worker offline: worker-build 0.8.7 driven with local
# tools instead of the binaries it would download (we reach only the
# package registries). Output: edge-worker/build/index.js (the module
# wrangler.toml's `main` and the tests load) and its wasm, index_bg.wasm.
#
#   scripts/build-edge.sh           release build (what wrangler deploys)
#   EDGE_DEV=1 scripts/build-edge.sh  faster debug build
set -euo pipefail
cd "$(dirname "$0")/.."

# Exactly the versions Cargo.lock and edge-worker/package.json pin.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)
WORKER_BUILD_VERSION=0.8.7

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$WASM_BINDGEN_VERSION" ]; then
  # Not --locked: see scripts/browser-tools.sh.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi
if [ ! -x edge-worker/node_modules/.bin/miniflare ]; then
  npm ci --prefix edge-worker --no-audit --no-fund
fi

export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$PWD/edge-worker/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$PWD/edge-worker/node_modules/.bin/wasm-opt"
cd edge-worker
if [ -n "${EDGE_DEV:-}" ]; then
  worker-build --dev
else
  worker-build --release
fi
# worker-build 0.8 bundles into build/index.js (wrangler.toml's `main`, what
# tests/edge/harness.mjs loads), which imports the wasm beside it;
# build/worker/shim.mjs is only a backwards-compatible alias of index.js.
if [ ! -s build/index.js ] || ! compgen -G 'build/*.wasm' >/dev/null; then
  echo "build-edge: build/index.js or its wasm is missing; worker-build wrote:" >&2
  ls -lR build >&2 || true
  exit 1
fi
ls -l build/index.js build/*.wasm
