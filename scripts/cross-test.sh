#!/usr/bin/env bash
# Kernel tests on other CPUs through qemu-user (issue 2 §4, cross/README.md):
#   aarch64-max     qemu-aarch64 -cpu max         (NEON + dot product)
#   aarch64-a53     qemu-aarch64 -cpu cortex-a53  (NEON, no dot product)
#   x86-haswell     qemu-x86_64 -cpu Haswell      (AVX2+FMA, no AVX-512: those paths skip)
#   armhf           qemu-arm (default CPU)        (armv7: scalar + NEON)
# Only the kernel test folders (tests/kernels, tests/floatops) are built, with
# -j2, to fit CI's budget. Every configuration runs even when an earlier one
# failed; the script exits non-zero if any build or test failed.
# Usage: scripts/cross-test.sh [configuration ...]   (default: all four)
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=${QES_CROSS_JOBS:-2}
test_dirs=(kernels floatops)
configs=("$@")
((${#configs[@]})) || configs=(aarch64-max aarch64-a53 x86-haswell armhf)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

failures=()
script_start=$SECONDS

banner() { printf '\n==================== %s ====================\n' "$*"; }

# Configures a preset if needed and builds only its kernel test folders.
build_preset() {
  local preset=$1 dir=build/$1
  banner "build: preset $preset ($dir)"
  mkdir -p build
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    cmake --preset "$preset" >"$dir.configure.log" 2>&1 ||
      { cat "$dir.configure.log"; echo "cross-test: configure of $preset failed"; return 1; }
  fi
  local sub built=0
  for sub in "${test_dirs[@]}"; do
    [[ -d $dir/tests/$sub ]] || continue
    cmake --build "$dir/tests/$sub" -j "$jobs" || { echo "cross-test: build of $dir/tests/$sub failed"; return 1; }
    built=1
  done
  ((built)) || { echo "cross-test: preset $preset has none of tests/{${test_dirs[*]}}"; return 1; }
}

# Runs every test executable of the kernel test folders of build/<preset>
# under the given emulator command.
run_tests() {
  local name=$1 preset=$2; shift 2
  local dir=build/$preset exe status=0 t0=$SECONDS
  local exes=()
  for sub in "${test_dirs[@]}"; do
    [[ -d $dir/tests/$sub ]] || continue
    while IFS= read -r exe; do exes+=("$exe"); done < <(find "$dir/tests/$sub" -maxdepth 1 -type f -name 'test_*' -perm -u+x | sort)
  done
  if ((${#exes[@]} == 0)); then
    echo "cross-test: no test executables in $dir"; failures+=("$name (no tests)"); return
  fi
  for exe in "${exes[@]}"; do
    banner "run: $name: $* $exe"
    # qemu-x86_64 warns on stderr about each CPU-model feature TCG lacks (pcid, hle, ...).
    "$@" "$exe" --gtest_brief=1 2> >(grep -v "TCG doesn't support requested feature" >&2)
    local rc=$?
    if ((rc != 0)); then echo "cross-test: FAILED ($rc): $name: $exe"; failures+=("$name: $exe"); status=1; fi
  done
  echo "cross-test: $name finished in $((SECONDS - t0)) s (status $status)"
}

for cfg in "${configs[@]}"; do
  case $cfg in
    aarch64-max|aarch64-a53)
      [[ -n ${built_aarch64:-} ]] || { build_preset aarch64 || failures+=("build aarch64"); built_aarch64=1; }
      cpu=max; [[ $cfg == aarch64-a53 ]] && cpu=cortex-a53
      QEMU_CPU=$cpu run_tests "$cfg" aarch64 qemu-aarch64 -L /usr/aarch64-linux-gnu ;;
    x86-haswell)
      # The native release build (scripts/build.sh); only its kernel tests are built here.
      build_preset release || failures+=("build release")
      run_tests "$cfg" release qemu-x86_64 -cpu Haswell ;;
    armhf)
      build_preset armhf || failures+=("build armhf")
      run_tests "$cfg" armhf qemu-arm -L /usr/arm-linux-gnueabihf ;;
    *) echo "cross-test: unknown configuration '$cfg'"; exit 2 ;;
  esac
done

banner "cross-test summary ($((SECONDS - script_start)) s)"
if ((${#failures[@]})); then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "all passed: ${configs[*]}"
