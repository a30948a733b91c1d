#!/usr/bin/env bash
# Installs the Debian 12 packages qes needs, only those missing. Run as root
# (or with sudo available). Cross toolchains and qemu-user are installed when
# called with --cross.
set -euo pipefail

packages=(build-essential cmake pkg-config git libopenblas-dev libxsimd-dev libhwloc-dev
          libcli11-dev libgtest-dev googletest libbenchmark-dev nlohmann-json3-dev libpcre2-dev)
if [[ "${1:-}" == "--cross" ]]; then
  packages+=(g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "qes: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
