#!/usr/bin/env bash
# The whole making of the embedded model in one call of the lent accelerator machine
# (`run`, carry [".tiny_data", ".xsimd"], timeout_s 600), from the repository root:
#
#   bash tools/tiny_model/device_run.sh [train.py options...]
#
# Builds qes there in the background (.xsimd from scripts/device-prefix.sh), smoke-tests
# train.py on 20 steps, trains for real with every passing evaluation saved as a
# candidate, then lets pick_candidate.sh choose the step by its Q4_0 accuracy on
# .tiny_data/select.json. Returns in $OUT (the machine gives back at most 8 files):
# train.log, build.log, candidates.txt, tiny.tar (the chosen Hugging Face folder),
# countdown-tiny-{q4_0,q8_0}.gguf, train_report.json (the whole run's history).
set -euo pipefail
export PYTHONUNBUFFERED=1
T=tools/tiny_model/train.py
D=.tiny_data
for f in $D/train.json.gz $D/countdown.json $D/select.json .xsimd; do
    [ -e $f ] || { echo "missing $f (see tools/tiny_model/README.md)" >&2; exit 2; }
done
(
    export CMAKE_PREFIX_PATH=$PWD/.xsimd PKG_CONFIG_PATH=$PWD/.xsimd/lib/pkgconfig
    cmake -S . -B build/dev -DCMAKE_BUILD_TYPE=Release -DQES_BUILD_TESTS=OFF &&
        cmake --build build/dev -j12 --target qes
) > "$OUT/build.log" 2>&1 &
build=$!
python3 $T --data $D/train.json.gz --test $D/countdown.json --test-count 16 --out /tmp/smoke \
    --max-steps 20 --eval-every 10 --valid-count 16 --tokenizer-texts 2000 \
    --accuracy-band 0 1 --min-format 0 --candidates-dir /tmp/smoke-candidates 2>&1 | tail -3
ls /tmp/smoke-candidates/step-00010/model.safetensors > /dev/null
python3 $T --data $D/train.json.gz --test $D/countdown.json --out /tmp/tiny \
    --candidates-dir /tmp/candidates "$@" 2>&1 | tee "$OUT/train.log"
cp /tmp/tiny/train_report.json "$OUT/"
wait $build || { tail -20 "$OUT/build.log"; exit 1; }
tools/tiny_model/pick_candidate.sh build/dev/qes /tmp/candidates $D/select.json /tmp/pick
cp /tmp/pick/candidates.txt /tmp/pick/countdown-tiny-q4_0.gguf /tmp/pick/countdown-tiny-q8_0.gguf "$OUT/"
tar -C /tmp/pick -cf "$OUT/tiny.tar" tiny
