#!/usr/bin/env bash
# Fuzzes the parsers that meet untrusted input, each for a bounded time:
#   scripts/fuzz.sh [seconds per target, default 60] [target …]
# Targets (fuzz/fuzz_targets/): assess_json, payout_json, rules,
# signature_header, keys. Not part of scripts/test.sh.
#
# Runs on the stable toolchain: cargo-fuzz with `--sanitizer none` (libFuzzer's
# coverage guidance without AddressSanitizer, which needs nightly; the code
# under test has no `unsafe`). cargo-fuzz is installed at the pinned version
# when missing; libfuzzer-sys builds libFuzzer with the system C++ compiler.
# A crash leaves its input under fuzz/artifacts/<target>/ and fails the run:
# reproduce it with `cargo fuzz run -s none <target> <file>` (in fuzz/), fix
# it, and add the input as a regression test beside the code it broke.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(assess_json payout_json rules signature_header keys)

cd fuzz
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  # Seed inputs, when the target has some, start the search from real requests.
  seeds=()
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  printf '\n==> fuzz %s for %ss\n' "$t" "$seconds"
  cargo fuzz run --sanitizer none "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1
done
