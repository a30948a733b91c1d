#!/usr/bin/env bash
# README's first command: install what is missing, build, then fine-tune the
# embedded Countdown model (models/countdown-tiny-q4_0.gguf) with QES on this
# CPU (configs/countdown-tiny.toml). Ends with
#   accuracy before: <x>% after: <y>% (n=<problems>)
# and the paths of the fine-tuned model and of the training curve (SVG).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/release/qes info | sed -n '1,3p'

# The paper's Countdown problems (first 200 train, the rest held out) when the
# shared data folder is beside the checkout; otherwise qes's seeded generator.
task=(--task-path ../shared/data/countdown.json)
if [[ ! -f ../shared/data/countdown.json ]]; then
  echo "qes demo: ../shared/data/countdown.json not found; using generated Countdown problems"
  task=(--task countdown-generated --task-seed 2026 --test-count 500)
fi
mkdir -p out
./build/release/qes train --config configs/countdown-tiny.toml "${task[@]}" "$@"
