#!/usr/bin/env bash
# Builds .xsimd/ (git-ignored): a prefix with the header-only Debian packages
# (xsimd, nlohmann-json) and PCRE2's header + a pkg-config file, for building qes
# on a machine that lacks them (the lent accelerator machine, Ubuntu 24.04).
# Use it there with:
#   export CMAKE_PREFIX_PATH=$PWD/.xsimd PKG_CONFIG_PATH=$PWD/.xsimd/lib/pkgconfig
set -euo pipefail
cd "$(dirname "$0")/.."
p=.xsimd
rm -rf "$p"
mkdir -p "$p/include" "$p/lib/x86_64-linux-gnu/cmake" "$p/share/cmake" "$p/lib/pkgconfig"
cp -r /usr/include/xsimd /usr/include/nlohmann /usr/include/pcre2.h "$p/include/"
cp -r /usr/lib/x86_64-linux-gnu/cmake/xsimd "$p/lib/x86_64-linux-gnu/cmake/"
cp -r /usr/share/cmake/nlohmann_json "$p/share/cmake/"
# The runtime library libpcre2-8.so.0 is on every Ubuntu/Debian system; only the
# development symlink is missing, so link it by its soname.
cat > "$p/lib/pkgconfig/libpcre2-8.pc" <<PC
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
Name: libpcre2-8
Description: PCRE2 (headers carried, runtime from the system)
Version: 10.42
Libs: -l:libpcre2-8.so.0
Cflags: -I\${includedir}
PC
du -sh "$p"
