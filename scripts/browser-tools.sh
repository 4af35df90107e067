#!/usr/bin/env bash
# Installs what the browser SDK's builds and tests need, when missing:
#   - Debian's chromium and chromium-driver (headless tests; no tool may
#     download a browser of its own);
#   - Debian's firefox-esr (the dashboard's Firefox test, driven by
#     puppeteer-core over WebDriver BiDi);
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock
#     (the workspace pins it with "=x.y.z", so the two never drift).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing chromium and chromium-driver from Debian"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version

if ! command -v firefox-esr >/dev/null; then
  echo "installing firefox-esr from Debian"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq firefox-esr >/dev/null
fi
firefox-esr --version

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null; then
  echo "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # Not --locked: the lock file published with 0.2.130 names a webpki-roots
  # release the registry no longer offers, so a locked install fails.
  cargo install wasm-bindgen-cli --version "$want"
fi
wasm-bindgen --version
