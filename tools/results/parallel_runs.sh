#!/usr/bin/env bash
# Runs many `qes train` runs side by side, each pinned with taskset to its own
# cores, and prints one summary line per run (accuracy before/after, time).
# Used for the results page (docs/RESULTS.md) and hyperparameter sweeps.
#
#   tools/results/parallel_runs.sh RUNS_FILE OUT_DIR [THREADS_PER_RUN]
#
# RUNS_FILE: one run per line, "name: extra qes train arguments" (# comments
# and blank lines skipped). Every run gets --threads, --out, --metrics, --svg
# and --checkpoint-dir inside OUT_DIR/name/. QES (env) is the qes binary
# (default ./build/release/qes); CONFIG (env) the base config
# (default configs/countdown-tiny.toml).
set -euo pipefail
runs_file=${1:?runs file}
out=${2:?output folder}
per=${3:-2}
qes=${QES:-./build/release/qes}
config=${CONFIG:-configs/countdown-tiny.toml}
cpus=$(nproc)
slots=$((cpus / per))
((slots >= 1)) || { echo "parallel_runs: $per threads per run, but only $cpus CPUs" >&2; exit 1; }
mkdir -p "$out"

names=() ; args=()
while IFS= read -r line || [[ -n $line ]]; do
  line=${line%%#*}
  [[ -z ${line//[[:space:]]/} ]] && continue
  names+=("$(echo "${line%%:*}" | xargs)")
  args+=("${line#*:}")
done < "$runs_file"

run_one() {  # index slot (no globbing: tensor patterns like blk.*.ffn_* pass through)
  set -f
  local i=$1 slot=$2 name=${names[$1]}
  local first=$((slot * per)) last=$((slot * per + per - 1))
  mkdir -p "$out/$name"
  # shellcheck disable=SC2086
  taskset -c "$first-$last" "$qes" train --config "$config" ${args[$i]} --threads "$per" -q \
    --out "$out/$name/model.gguf" --metrics "$out/$name/metrics.jsonl" --svg "$out/$name/curve.svg" \
    --checkpoint-dir "$out/$name/ckpt" --checkpoint-every 0 > "$out/$name/log.txt" 2>&1 ||
    echo "run failed (exit $?)" >> "$out/$name/log.txt"
  rm -f "$out/$name/model.gguf"  # the models are not needed for the table
}

declare -A busy=()  # slot -> pid
next=0
while ((next < ${#names[@]})) || ((${#busy[@]} > 0)); do
  for ((s = 0; s < slots; s++)); do
    if [[ -n ${busy[$s]:-} ]] && ! kill -0 "${busy[$s]}" 2>/dev/null; then unset "busy[$s]"; fi
    if [[ -z ${busy[$s]:-} ]] && ((next < ${#names[@]})); then
      run_one "$next" "$s" &
      busy[$s]=$!
      next=$((next + 1))
    fi
  done
  sleep 1
done
wait
for name in "${names[@]}"; do
  printf '%-28s %s\n' "$name" "$(grep -h 'accuracy before' "$out/$name/log.txt" || tail -n1 "$out/$name/log.txt")"
done | tee "$out/summary.txt"
