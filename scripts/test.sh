#!/usr/bin/env bash
# README's second command: install what is missing, build, run every test
# (native, then the kernel tests of the cross builds under qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --cross
bash scripts/build.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest --test-dir build/release --output-on-failure -j "$(nproc)" 2>&1 | tee "$log"
bash scripts/cross-test.sh
# One closing line for CI: the native ctest counts (cross-test.sh has already
# failed the script above if any emulated configuration failed).
total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
echo "tests: $((total - failed)) passed, ${failed} failed"
