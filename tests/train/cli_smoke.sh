#!/bin/bash
# `qes train` and `qes eval` from the command line on stories260K with the
# committed config: the TOML keys, command-line overrides, the final lines the
# demo relies on, and a clear error (non-zero exit) for a bad config.
# Usage: cli_smoke.sh QES_BINARY SOURCE_DIR SHARED_DATA
set -u
qes=$1 src=$2 data=$3
if [ ! -f "$data/stories260K-f32.gguf" ]; then echo "SKIP: $data/stories260K-f32.gguf absent"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$src"
"$qes" quantize "$data/stories260K-f32.gguf" "$tmp/m.gguf" --type q4_0 > /dev/null || fail "quantize"

out=$("$qes" train --config configs/stories260k-jsonl.toml --model "$tmp/m.gguf" --out "$tmp/o.gguf" \
      --iterations 2 --population 4 --sigma 0.1 --prompts-per-iteration all --threads 2 2> "$tmp/err") || { cat "$tmp/err"; fail "train exited non-zero"; }
echo "$out"
echo "$out" | grep -Eq '^accuracy before: [0-9.]+% after: [0-9.]+% \(n=4\)$' || fail "no before/after line"
echo "$out" | grep -q "^model: $tmp/o.gguf$" || fail "no model line"
echo "$out" | grep -q "^curve: $tmp/o.gguf.curve.svg$" || fail "no curve line"
[ -s "$tmp/o.gguf" ] && [ -s "$tmp/o.gguf.curve.svg" ] && [ -s "$tmp/o.gguf.metrics.jsonl" ] || fail "outputs missing"
grep -q "N=4 mode replay, 2 thread(s)" "$tmp/err" || fail "command-line overrides not applied: $(head -3 "$tmp/err")"
[ "$(wc -l < "$tmp/o.gguf.metrics.jsonl")" = 3 ] || fail "metrics lines"

"$qes" eval --model "$tmp/o.gguf" --task jsonl --task-path configs/data/stories-regex.jsonl --chat-template plain \
  --max-new-tokens 24 | grep -Eq '^accuracy: [0-9.]+%  mean reward: [0-9.]+  n=4' || fail "eval output"

printf 'model = "%s"\ntask = "jsonl"\ntask_path = "configs/data/stories-regex.jsonl"\npopulaton = 4\n' "$tmp/m.gguf" > "$tmp/bad.toml"
if "$qes" train --config "$tmp/bad.toml" --out "$tmp/x.gguf" 2> "$tmp/err2"; then fail "bad key accepted"; fi
grep -q "bad.toml: unknown key 'populaton'" "$tmp/err2" || fail "unclear error: $(cat "$tmp/err2")"
if "$qes" train --config configs/stories260k-jsonl.toml --model "$tmp/m.gguf" --population 5 --out "$tmp/x.gguf" 2> "$tmp/err3"; then fail "odd population accepted"; fi
grep -q "population: must be even" "$tmp/err3" || fail "unclear error: $(cat "$tmp/err3")"
[ ! -e "$tmp/x.gguf" ] || fail "a model was written after an error"
# A real SIGINT: checkpoint + model written, exit 130; the resumed run ends
# with the same file as an uninterrupted one.
R="--config configs/stories260k-jsonl.toml --model $tmp/m.gguf --iterations 30 --sigma 0.1 --eval-every 0 --checkpoint-every 0 --threads 2 --quiet"
"$qes" train $R --out "$tmp/whole.gguf" > /dev/null 2>&1 || fail "uninterrupted run"
"$qes" train $R --out "$tmp/part.gguf" > /dev/null 2> "$tmp/err4" &
pid=$!
for _ in $(seq 1 300); do
  [ -f "$tmp/part.gguf.metrics.jsonl" ] && [ "$(wc -l < "$tmp/part.gguf.metrics.jsonl")" -ge 3 ] && break
  sleep 0.05
done
kill -INT $pid
wait $pid; rc=$?
[ $rc = 130 ] || fail "SIGINT: exit status $rc, expected 130 (the run may have finished first)"
[ -f "$tmp/part.gguf.ckpt/state.json" ] && [ -s "$tmp/part.gguf" ] || fail "no checkpoint or model after SIGINT"
"$qes" train $R --out "$tmp/part.gguf" --resume "$tmp/part.gguf.ckpt" > /dev/null 2>&1 || fail "resume"
cmp -s "$tmp/whole.gguf" "$tmp/part.gguf" || fail "resumed model differs from the uninterrupted one"
echo "SIGINT after iteration $(sed -n 's/.*"iteration": \([0-9]*\).*/\1/p' "$tmp/part.gguf.ckpt/state.json" | head -1), resumed: identical ($(sha256sum < "$tmp/whole.gguf" | cut -c1-16))"
echo "PASS"
