# Shared part of the Debian cross toolchain files; the including file sets
# QES_CROSS_TRIPLE (aarch64-linux-gnu, arm-linux-gnueabihf).
set(CMAKE_C_COMPILER ${QES_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${QES_CROSS_TRIPLE}-g++)

# Libraries, headers and CMake packages come from the target's tree only, so a
# host (x86-64) GoogleTest or OpenBLAS can never be picked up by mistake;
# tests/CMakeLists.txt then builds GoogleTest from /usr/src/googletest.
set(CMAKE_FIND_ROOT_PATH /usr/${QES_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# xsimd is header-only, so the host's headers serve every target, but they sit
# in the host's /usr/include, which must never be on a cross compiler's include
# path. cross/xsimd/xsimdConfig.cmake exposes only /usr/include/xsimd.
set(xsimd_DIR ${CMAKE_CURRENT_LIST_DIR}/xsimd CACHE PATH "xsimd package for cross builds" FORCE)
