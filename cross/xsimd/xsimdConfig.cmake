# xsimd package for cross builds (see cross/debian-cross-common.cmake).
# The target's include directory holds a single link, xsimd -> the host's
# /usr/include/xsimd, so `#include <xsimd/xsimd.hpp>` works and nothing else
# from the host's /usr/include can shadow the target's headers.
set(_qes_xsimd_headers /usr/include/xsimd)
if(NOT EXISTS ${_qes_xsimd_headers}/xsimd.hpp)
  set(xsimd_FOUND FALSE)
  set(xsimd_NOT_FOUND_MESSAGE "xsimd headers not found in ${_qes_xsimd_headers} (apt-get install libxsimd-dev)")
  return()
endif()
set(_qes_xsimd_root ${CMAKE_BINARY_DIR}/cross-xsimd-include)
if(NOT EXISTS ${_qes_xsimd_root}/xsimd/xsimd.hpp)
  file(MAKE_DIRECTORY ${_qes_xsimd_root})
  file(CREATE_LINK ${_qes_xsimd_headers} ${_qes_xsimd_root}/xsimd SYMBOLIC)
endif()
if(NOT TARGET xsimd)
  add_library(xsimd INTERFACE IMPORTED)
  set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_qes_xsimd_root})
endif()
set(xsimd_VERSION 8.1.0)
set(xsimd_FOUND TRUE)
