# Cross toolchain: 32-bit ARM (armv7-a, hard float) Linux with Debian's
# g++-arm-linux-gnueabihf; tests run under qemu-arm (see cross/README.md).
# Use: cmake --preset armhf
#
# Debian's armhf baseline is armv7-a + VFPv3-D16 without NEON, so the build as
# a whole stays NEON-free; the NEON translation units add -mfpu=neon themselves
# and are only called when the CPU reports NEON (HWCAP).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(QES_CROSS_TRIPLE arm-linux-gnueabihf)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross-common.cmake)

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/arm-linux-gnueabihf)
