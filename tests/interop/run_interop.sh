#!/usr/bin/env bash
# ctest llamacpp_interop: qes-written GGUF files against real llama.cpp (see compare.mjs).
# Skips (exit 77, ctest SKIP_RETURN_CODE) when node or the npm packages are not installed,
# so machines without them still pass: install with
#   (cd tools/llamacpp_check && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci)
set -euo pipefail
qes="$1"; source_dir="$2"; shared_data="${3:-}"
skip() { echo "SKIP llamacpp_interop: $*"; exit 77; }

command -v node >/dev/null 2>&1 || skip "node is not installed"
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 20 ] || skip "node $(node --version) is older than 20 (node-llama-cpp needs >= 20)"
modules="$source_dir/tools/llamacpp_check/node_modules"
[ -d "$modules/node-llama-cpp" ] ||
  skip "$modules/node-llama-cpp is absent (cd tools/llamacpp_check && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci)"
# The prebuilt llama.cpp for this platform comes in an optional npm package; without one
# node-llama-cpp would try to download or build llama.cpp, which we never want in a test.
platform="$(node -p '({linux: "linux", darwin: "mac", win32: "win"}[process.platform] ?? process.platform) + "-" +
                     ({arm: "armv7l"}[process.arch] ?? process.arch)')"
prebuilt=""
for dir in "$modules/@node-llama-cpp/$platform"*/bins; do  # e.g. linux-x64 (CPU), mac-arm64-metal
  [ -d "$dir" ] && prebuilt="$dir" && break
done
[ -n "$prebuilt" ] || skip "no prebuilt llama.cpp for $platform under $modules/@node-llama-cpp"

export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
exec node "$source_dir/tests/interop/compare.mjs" "$qes" "$source_dir" "$shared_data"
