#!/bin/sh
# Cross-ISA determinism check (DESIGN.md §5): builds the optimizer tests for
# aarch64 and armhf with the Debian cross compilers, runs the golden-hash and
# thread/SIMD identity tests under qemu-user, which must pass with the hashes
# recorded on x86-64. The top-level CMake builds only the kernels when cross
# compiling, so this compiles the few sources directly.
#   tests/es/cross_golden.sh [build dir=/tmp/qes_es_cross]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/qes_es_cross}
mkdir -p "$out/include"
ln -sfn /usr/include/nlohmann "$out/include/nlohmann"  # header-only, arch-independent
gtest=/usr/src/googletest/googletest
for target in aarch64-linux-gnu:qemu-aarch64 arm-linux-gnueabihf:qemu-arm; do
  triple=${target%%:*}
  qemu=${target##*:}
  dir="$out/$triple"
  mkdir -p "$dir"
  cxx="$triple-g++ -std=c++20 -O2 -fopenmp -ffp-contract=off -Wall -Wextra -Wno-unused-parameter"
  inc="-I$root/include -I$root/tests/es -I$out/include -I$gtest/include -I$gtest"
  objs=""
  for src in "$root"/src/es/*.cpp "$root"/src/quant/*.cpp "$root"/tests/es/test_*.cpp "$gtest/src/gtest-all.cc" "$gtest/src/gtest_main.cc"; do
    obj="$dir/$(basename "$src").o"
    # Rebuild when the source or any header is newer than the object.
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
       [ -n "$(find "$root/include" "$root/tests/es" -name '*.hpp' -newer "$obj" | head -1)" ]; then
      $cxx $inc -DQES_SHARED_DATA=\"/nonexistent\" -c "$src" -o "$obj" &
    fi
    objs="$objs $obj"
  done
  wait
  $cxx -static $objs -o "$dir/test_es" -lpthread
  echo "== $triple under $qemu"
  "$qemu" "$dir/test_es" --gtest_filter='Golden.*:Perturb.SameCodesForAnyThreadCount:Update.BitIdentical*:Philox.*:DetMath.*:PerturbationPmf.Sums*'
done
