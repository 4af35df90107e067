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

step "prerequisites: Node.js ≥ 20.3 with npm, Python 3 with venv"
# The npm packages, the SDK's browser tests, workerd and the GeoIP fetch
# run on Node; Debian's own nodejs is too old for workerd, so it is not
# installed here but asked for.
node_ok=$(node -e 'const [a, b] = process.versions.node.split(".").map(Number); console.log(a > 20 || (a === 20 && b >= 3))' 2>/dev/null || true)
if [ "$node_ok" != "true" ] || ! command -v npm >/dev/null; then
  echo "Node.js 20.3 or later, with npm, is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  echo "installing python3-venv from Debian's packages (schemathesis runs in a venv)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
echo "node $(node --version), npm $(npm --version), $(python3 --version)"

step "services: PostgreSQL and Redis"
scripts/services.sh

step "field data: GeoIP database (npm)"
scripts/fetch-geoip.sh

step "browser tools: Debian chromium + chromium-driver, wasm-bindgen-cli as pinned in Cargo.lock"
scripts/browser-tools.sh

if [ -z "${SKIP_LINT:-}" ]; then
  step "format"
  cargo fmt --all -- --check

  step "clippy (native, all targets)"
  cargo clippy --workspace --all-targets --locked -- -D warnings

  step "clippy (wasm32: core, sdk-wasm, edge-worker)"
  cargo clippy --locked --target wasm32-unknown-unknown -p clausum-core -p clausum-sdk-wasm -p clausum-edge -- -D warnings
  cargo clippy --locked --target wasm32-unknown-unknown -p clausum-sdk-wasm --tests -- -D warnings
fi

step "build clausum-core for wasm32-unknown-unknown"
cargo build --locked --target wasm32-unknown-unknown -p clausum-core -p clausum-sdk-wasm -p clausum-edge

step "npm: install the package's dev tools (package-lock.json)"
npm ci --prefix npm --no-audit --no-fund

step "browser SDK: build npm/dist (wasm-bindgen, wasm-opt, esbuild)"
scripts/build-sdk.sh

step "tests (SQLite and PostgreSQL)"
export CLAUSUM_TEST_POSTGRES_URL="${CLAUSUM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --workspace --locked
# `cargo test` just built target/debug/clausum-origin (the CLI tests run
# it); the steps below use that binary. A separate `cargo build` would
# rebuild half the dependency tree with another feature set.
export CLAUSUM_ORIGIN_BUILT=1

step "sdk-wasm: collectors in headless Chromium (wasm-bindgen-test-runner + chromedriver)"
# webdriver.json (in sdk-wasm/) points ChromeDriver at /usr/bin/chromium, headless.
(cd sdk-wasm && CHROMEDRIVER=/usr/bin/chromedriver \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --locked --target wasm32-unknown-unknown -p clausum-sdk-wasm)

step "edge worker: offline build (worker-build 0.8.7, local wasm-bindgen/esbuild/wasm-opt) and wrangler.toml check"
# Installs the pinned wasm-bindgen-cli, worker-build and npm tools when missing.
scripts/build-edge.sh
edge_out="$(mktemp -d)"
(cd edge-worker && WRANGLER_SEND_METRICS=false npx --no-install wrangler deploy --dry-run --outdir "$edge_out" >/dev/null)
rm -rf "$edge_out"

step "edge worker under workerd (Miniflare) in front of a real origin on loopback"
timeout 900 node --test --test-timeout=300000 tests/edge/

step "npm: webhook verifier against the core's golden vectors"
npm test --prefix npm

step "browser SDK end to end: playwright-core + /usr/bin/chromium, a checkout page and a running origin"
# The dashboard tests leave screenshots (failed-*.png for a failing test)
# in target/dashboard-screenshots/: list them whatever the outcome, then
# stop here if the run failed.
e2e_status=0
npm run e2e --prefix npm || e2e_status=$?
shots=target/dashboard-screenshots
echo "screenshots in $shots/:"
if [ -d "$shots" ]; then
  find "$shots" -maxdepth 1 -type f -name '*.png' -printf '  %f\n' | sort
fi
if [ "$e2e_status" -ne 0 ]; then
  echo "browser end-to-end tests failed (exit $e2e_status)"
  exit "$e2e_status"
fi

step "npm pack: the package a checkout page installs"
(cd npm && npm pack --dry-run 2>&1 | tee /tmp/clausum-npm-pack.txt | grep -E "dist/clausum\.(js|mjs|wasm)|types/index\.d\.ts|total files")
for f in dist/clausum.js dist/clausum.mjs dist/clausum.wasm types/index.d.ts src/webhook.js; do
  grep -q "$f" /tmp/clausum-npm-pack.txt || { echo "npm pack lacks $f"; exit 1; }
done

step "schemathesis: the committed OpenAPI document against a running origin"
scripts/schemathesis.sh

step "all checks passed"
