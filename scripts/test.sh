#!/usr/bin/env bash
# README's second command: install what is missing, build, run every test
# (native, then the cross builds under qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --cross
bash scripts/build.sh
ctest --test-dir build/release --output-on-failure -j "$(nproc)"
if [[ -f scripts/cross-test.sh ]]; then
  bash scripts/cross-test.sh
fi
