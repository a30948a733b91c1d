#!/usr/bin/env bash
# Kernel tests on other CPUs through qemu-user (issue 2 §4, cross/README.md):
#   aarch64-max     qemu-aarch64 -cpu max         (NEON + dot product)
#   aarch64-a53     qemu-aarch64 -cpu cortex-a53  (NEON, no dot product)
#   x86-haswell     qemu-x86_64 -cpu Haswell      (AVX2+FMA, no AVX-512: those paths skip)
#   armhf           qemu-arm (default CPU)        (armv7: scalar + NEON)
#   armhf-noneon    qemu-arm -cpu cortex-r5f      (armv7 without NEON: NEON must skip)
#   es-golden       tests/es/cross_golden.sh (when present): the optimizer's golden
#                   hashes under qemu-aarch64 and qemu-arm, bit-identical to x86-64
#   isa-scan        no emulator: disassembles the test binaries built above and
#                   fails if an ISA extension's instructions appear outside the
#                   functions of that ISA's path (DESIGN.md §3's one-definition
#                   hazard: an inline function or template compiled in an ISA
#                   unit and picked by the linker for generic code).
# Only the kernel test folders (tests/kernels, tests/floatops) are built, with
# -j2, to fit CI's budget. Every configuration runs even when an earlier one
# failed; the script exits non-zero if any build or test failed.
# Usage: scripts/cross-test.sh [configuration ...]   (default: all of them)
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=${QES_CROSS_JOBS:-2}
test_dirs=(kernels floatops)
configs=("$@")
if ((${#configs[@]} == 0)); then
  configs=(aarch64-max aarch64-a53 x86-haswell armhf armhf-noneon isa-scan)
  [[ -f tests/es/cross_golden.sh ]] && configs+=(es-golden)
fi
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
    banner "run: $name: ${QEMU_CPU:+QEMU_CPU=$QEMU_CPU }$* $exe"
    # qemu-x86_64 warns on stderr about each CPU-model feature TCG lacks (pcid, hle, ...).
    "$@" "$exe" --gtest_brief=1 2> >(grep -v "TCG doesn't support requested feature" >&2)
    local rc=$?
    if ((rc != 0)); then echo "cross-test: FAILED ($rc): $name: $exe"; failures+=("$name: $exe"); status=1; fi
  done
  echo "cross-test: $name finished in $((SECONDS - t0)) s (status $status)"
}

# Prints the functions of <binary> with an instruction matching <instr> whose
# (mangled) name does not match <allowed>; returns 1 if there is any.
leaked_functions() {
  local objdump=$1 binary=$2 instr=$3 allowed=$4
  "$objdump" -d --no-show-raw-insn "$binary" | awk -v instr="$instr" -v allowed="$allowed" '
    /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
    $0 ~ instr && fn !~ allowed && !(fn in seen) { seen[fn] = 1; print "  " fn ": " $0; found = 1 }
    END { exit found }' | c++filt
}

# <build dir> <objdump> <what> <instruction regex> <allowed function-name regex>
scan_build() {
  local dir=$1 objdump=$2 what=$3 instr=$4 allowed=$5 sub exe out
  for sub in "${test_dirs[@]}"; do
    for exe in build/$dir/tests/$sub/test_*; do
      [[ -f $exe && -x $exe ]] || continue
      if out=$(leaked_functions "$objdump" "$exe" "$instr" "$allowed"); then
        echo "ok: no $what outside its path in $exe"
      else
        echo "cross-test: $what outside its path in $exe:"
        echo "$out" | head -20
        failures+=("isa-scan: $what in $exe")
      fi
    done
  done
}

isa_scan() {
  banner "isa-scan: ISA-extension instructions outside their path's functions"
  scan_build release objdump "AVX-512 (zmm, mask registers)" '%zmm|%k[0-7]' 'avx512'
  scan_build release objdump "AVX2 (ymm)" '%ymm' 'avx2|avx512|fma3'
  scan_build aarch64 aarch64-linux-gnu-objdump "dot product (sdot/udot)" '\t(sdot|udot)\t' 'neondot'
  # Debian's GCC outlines atomics into libgcc's __aarch64_* helpers, which check for LSE at run time.
  scan_build aarch64 aarch64-linux-gnu-objdump "ARMv8.1 atomics (LSE)" \
    '\t(ldadd|ldclr|ldeor|ldset|swp|cas)[a-z]*\t' 'neondot|__aarch64_'
  scan_build armhf arm-linux-gnueabihf-objdump "NEON (q registers, integer vector types)" \
    '[\t ,]q([0-9]|1[0-5])([, ]|$)|\tv[a-z0-9]*[.](i|s|u|p)(8|16|32|64)\t' 'neon'
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
    armhf|armhf-noneon)
      [[ -n ${built_armhf:-} ]] || { build_preset armhf || failures+=("build armhf"); built_armhf=1; }
      # qemu-arm's default CPU has NEON; Cortex-R5F is an armv7 with VFPv3-D16 and no NEON.
      cpu=max; [[ $cfg == armhf-noneon ]] && cpu=cortex-r5f
      QEMU_CPU=$cpu run_tests "$cfg" armhf qemu-arm -L /usr/arm-linux-gnueabihf ;;
    isa-scan) isa_scan ;;
    es-golden)
      banner "es-golden: tests/es/cross_golden.sh (aarch64 and armhf under qemu-user)"
      t0=$SECONDS
      sh tests/es/cross_golden.sh build/es-cross || failures+=("es-golden")
      echo "cross-test: es-golden finished in $((SECONDS - t0)) s" ;;
    *) echo "cross-test: unknown configuration '$cfg'"; exit 2 ;;
  esac
done

banner "cross-test summary ($((SECONDS - script_start)) s)"
if ((${#failures[@]})); then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "all passed: ${configs[*]}"
