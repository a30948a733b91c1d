# Float ops of a transformer decode (include/qes/float_ops.hpp): the scalar
# reference plus one xsimd unit per ISA of the target, each with its own flags.
# Included from simd/CMakeLists.txt.
set(_fo ${CMAKE_CURRENT_LIST_DIR})
add_library(qes_float_ops STATIC
  ${_fo}/float_ops.cpp
  ${_fo}/float_ops_dispatch.cpp
  ${_fo}/float_ops_ref.cpp)
target_include_directories(qes_float_ops PUBLIC ${PROJECT_SOURCE_DIR}/include
                                         PRIVATE ${_fo})
# qes_simd: the kernel path (active_isa, cpu_supports) the float ops follow.
target_link_libraries(qes_float_ops PUBLIC qes_simd qes_quant PRIVATE xsimd)

# qes_float_ops_variant(<isa> <flags...>): adds simd/float_ops_<isa>.cpp built
# with <flags> and tells the dispatch it exists.
function(qes_float_ops_variant isa)
  set(src ${_fo}/float_ops_${isa}.cpp)
  target_sources(qes_float_ops PRIVATE ${src})
  if(ARGN)
    set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${ARGN}")
  endif()
  string(TOUPPER ${isa} ISA)
  target_compile_definitions(qes_float_ops PRIVATE QES_FLOAT_OPS_${ISA})
endfunction()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  qes_float_ops_variant(avx2 -mavx2 -mfma -mf16c)
  # GCC 12 flags its own _mm512_undefined_* intrinsics as maybe-uninitialized.
  qes_float_ops_variant(avx512 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c
                        -Wno-maybe-uninitialized)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  qes_float_ops_variant(neon)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  qes_float_ops_variant(neon -mfpu=neon -mfloat-abi=hard)
endif()
set_property(GLOBAL APPEND PROPERTY QES_LIBS qes_float_ops)

# Prefill attention through OpenBLAS sgemm: full builds only (cross builds have
# no OpenBLAS for the target).
if(NOT QES_KERNELS_ONLY)
  add_library(qes_float_ops_blas STATIC ${_fo}/float_ops_blas.cpp)
  target_include_directories(qes_float_ops_blas PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(qes_float_ops_blas PUBLIC BLAS::BLAS)
  set_property(GLOBAL APPEND PROPERTY QES_LIBS qes_float_ops_blas)
endif()
