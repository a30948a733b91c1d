#!/usr/bin/env bash
# README's second command: install what is missing, build, run every test
# (native, then the kernel tests of the cross builds under qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --cross
bash scripts/build.sh
# Real llama.cpp (prebuilt, from the node-llama-cpp npm packages) for the
# llamacpp_interop test, where Node >= 20 is there; without it the test skips.
if command -v npm > /dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' 2> /dev/null; then
  (cd tools/llamacpp_check && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund > /dev/null) ||
    echo "test.sh: npm ci in tools/llamacpp_check failed; llamacpp_interop will skip"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest --test-dir build/release --output-on-failure -j "$(nproc)" 2>&1 | tee "$log"
bash scripts/cross-test.sh
# One closing line for CI: the native ctest counts (cross-test.sh has already
# failed the script above if any emulated configuration failed).
total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
echo "tests: $((total - failed)) passed, ${failed} failed"
