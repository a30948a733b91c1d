#!/usr/bin/env bash
# Rebuilds docs/results/tables.md and the curve charts from the run folders under
# docs/results/<table>/<run>/{log.txt,metrics.jsonl} (copied there from the OUT
# folders of parallel_runs.sh). docs/RESULTS.md quotes these tables.
#
#   tools/results/tables.sh [RESULTS_DIR]   (default docs/results)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=${1:-docs/results}
summarize=tools/results/summarize.py
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for table in "$root"/*/; do
  name=$(basename "$table")
  echo "## $name"
  case $name in
    table1-*) python3 "$summarize" "$table" --labels "none-${name#table1-},none-a14-${name#table1-},full-${name#table1-},replay-${name#table1-}" \
                --svg "$root/curves-$name.svg" --title "Countdown, embedded model ${name#table1-}: none / full / replay"
              # Q8_0 also ran full and replay at none's alpha (tools/results/alpha7-q8_0.txt).
              if compgen -G "$table/full-a7-*" > /dev/null; then
                echo "### ${name#table1-} at none's alpha 7"
                python3 "$summarize" "$table" --labels "none-${name#table1-},full-a7-${name#table1-},replay-a7-${name#table1-}"
              fi ;;
    table2-*) python3 "$summarize" "$table" --svg "$root/curves-$name.svg" \
                --title "Countdown, ${name#table2-}: replay window K and gamma" ;;
    small-step-*) python3 "$summarize" "$table" --svg "$root/curves-$name.svg" \
                --title "Countdown, ${name#small-step-}, alpha 0.01: none / full / replay" ;;
    *) python3 "$summarize" "$table" ;;
  esac
done > "$tmp"
mv "$tmp" "$root/tables.md"
trap - EXIT
cat "$root/tables.md"
