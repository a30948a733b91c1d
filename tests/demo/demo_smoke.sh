#!/usr/bin/env bash
# Issue 5 §4: a short version of README's main job, end to end on the embedded
# model: a few QES iterations with configs/countdown-tiny.toml, finite rewards,
# the before/after line, and a written model that loads and generates. It does
# not assert learning (bench/README.md and the results page show that).
# Usage: demo_smoke.sh QES_BINARY SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
qes=$1 src=$2 data=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src"

task=(--task-path "$data/countdown.json")
[[ -f $data/countdown.json ]] || task=(--task countdown-generated --task-seed 7 --test-count 16)
"$qes" train --config configs/countdown-tiny.toml "${task[@]}" --iterations 2 --population 4 \
  --prompts-per-iteration 4 --eval-problems 16 --max-new-tokens 48 --batch 16 --checkpoint-every 0 \
  --out "$work/tuned.gguf" --metrics "$work/metrics.jsonl" --svg "$work/curve.svg" \
  --checkpoint-dir "$work/ck" >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr"; exit 1; }

grep -Eq '^accuracy before: [0-9.]+% after: [0-9.]+% \(n=16\)$' "$work/stdout" ||
  { echo "no before/after line:"; cat "$work/stdout"; exit 1; }
grep -q "<svg" "$work/curve.svg" || { echo "no SVG curve"; exit 1; }
# Every iteration's mean reward is a finite number.
n=$(grep -c '"reward_mean"' "$work/metrics.jsonl")
[[ $n -eq 2 ]] || { echo "expected 2 iterations with rewards, got $n"; cat "$work/metrics.jsonl"; exit 1; }
if grep -Eq '"reward_mean": *(null|nan|inf|-inf)' "$work/metrics.jsonl"; then
  echo "non-finite reward"; cat "$work/metrics.jsonl"; exit 1
fi
# The fine-tuned model loads and generates.
"$qes" generate --model "$work/tuned.gguf" --chat --prompt "Using the numbers [3, 5, 7], create an equation that equals 22." \
  --max-tokens 16 --temperature 0 >"$work/gen" 2>"$work/gen.err" || { cat "$work/gen.err"; exit 1; }
[[ -s $work/gen ]] || { echo "the fine-tuned model generated nothing"; exit 1; }
echo "demo smoke: $(cat "$work/stdout" | head -1)"
