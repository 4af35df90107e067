#!/usr/bin/env bash
# Builds the browser SDK into npm/dist/:
#   clausum.wasm  sdk-wasm (profile `sdk`: opt-level z, LTO, abort on panic),
#                 through the installed wasm-bindgen (the Cargo.lock version)
#                 and binaryen's wasm-opt -Oz (npm package `binaryen`), with
#                 short import/export names (npm/build-tools/short-wasm-names.mjs);
#   clausum.mjs   the ES module build       (esbuild, minified);
#   clausum.js    the script-tag build      (esbuild IIFE, minified; defines
#                 window.Clausum and starts from data-clausum-key).
# Needs `npm ci --prefix npm` first (scripts/test.sh runs it).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
cargo build --locked -p clausum-sdk-wasm --target wasm32-unknown-unknown --profile sdk
rm -rf npm/build npm/dist
mkdir -p npm/build/wasm npm/dist
wasm-bindgen --target web --no-typescript --out-dir npm/build/wasm --out-name clausum \
  "$target/wasm32-unknown-unknown/sdk/clausum_sdk_wasm.wasm"
# The features rustc enables by default for wasm32-unknown-unknown.
features=(--enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue)
npm/node_modules/.bin/wasm-opt -Oz --converge --strip-debug --strip-producers "${features[@]}" \
  npm/build/wasm/clausum_bg.wasm -o npm/build/wasm/clausum_opt.wasm
# Short import and export names (wasm-bindgen's carry incompressible
# hashes), then the same renaming in the JavaScript glue.
npm/node_modules/.bin/wasm-opt --minify-imports-and-exports-and-modules "${features[@]}" \
  npm/build/wasm/clausum_opt.wasm -o npm/dist/clausum.wasm > npm/build/wasm/names.json
node npm/build-tools/short-wasm-names.mjs npm/build/wasm/names.json npm/dist/clausum.wasm \
  npm/build/wasm/clausum.js
esbuild=npm/node_modules/.bin/esbuild
common=(--bundle --minify --target=es2020 --legal-comments=none --log-level=warning)
"$esbuild" npm/src/sdk/esm.js "${common[@]}" --format=esm --outfile=npm/dist/clausum.mjs
# The IIFE finds its wasm from the script's own URL; import.meta is unused there.
"$esbuild" npm/src/sdk/script-tag.js "${common[@]}" --format=iife \
  --log-override:empty-import-meta=silent --outfile=npm/dist/clausum.js
for f in clausum.js clausum.mjs clausum.wasm; do
  printf '%-13s %7d bytes, %6d gzipped\n' "$f" "$(wc -c < "npm/dist/$f")" "$(gzip -9c "npm/dist/$f" | wc -c)"
done
