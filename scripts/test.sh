#!/usr/bin/env bash
# Runs every check and test of the workspace on a fresh machine, installing
# what it needs first. `.ci/run` calls exactly this.
#
#   scripts/test.sh            everything
#   SKIP_LINT=1 scripts/test.sh  tests only (faster local loop)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target, rustfmt, clippy"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "services: PostgreSQL"
scripts/services.sh

step "field data: GeoIP database (npm)"
scripts/fetch-geoip.sh

if [ -z "${SKIP_LINT:-}" ]; then
  step "format"
  cargo fmt --all -- --check

  step "clippy (native, all targets)"
  cargo clippy --workspace --all-targets --locked -- -D warnings

  step "clippy (wasm32: core, sdk-wasm, edge-worker)"
  cargo clippy --locked --target wasm32-unknown-unknown -p clausum-core -p clausum-sdk-wasm -p clausum-edge -- -D warnings
fi

step "build clausum-core for wasm32-unknown-unknown"
cargo build --locked --target wasm32-unknown-unknown -p clausum-core -p clausum-sdk-wasm -p clausum-edge

step "tests (SQLite and PostgreSQL)"
export CLAUSUM_TEST_POSTGRES_URL="${CLAUSUM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --workspace --locked

step "all checks passed"
