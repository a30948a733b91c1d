#!/usr/bin/env bash
# README's first command: install what is missing, build, run the main job.
# Until the trainer exists the main job is `qes info` and a short kernel benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/release/qes info
./build/release/qes bench kernels --quick
