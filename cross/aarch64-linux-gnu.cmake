# Cross toolchain: aarch64 Linux with Debian's g++-aarch64-linux-gnu; tests run
# under qemu-user (see cross/README.md). Use: cmake --preset aarch64
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(QES_CROSS_TRIPLE aarch64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross-common.cmake)

# Debian's qemu-user finds the target's dynamic loader and libc under -L.
# The CPU model is left to the QEMU_CPU environment variable (max, cortex-a53, ...).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
