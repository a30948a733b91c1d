#pragma once
// Produces a tensor's bytes row by row: rows are made as floats, converted with
// quantize_row and emitted in chunks of about 4 MiB, so no tensor is ever held
// whole in float. Rows of a chunk are made in parallel (OpenMP) when the chunk is
// big enough to pay for the threads; make_row must depend only on its row index.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "qes/gguf.hpp"
#include "qes/quant.hpp"

namespace qes::gguf {

// `make_row(r, floats)` fills row r's `cols` floats.
template <class MakeRow>
void emit_rows(DType to, int64_t rows, int64_t cols, const gguf::EmitBytes& emit, MakeRow make_row) {
  const size_t out_row = row_bytes(to, cols);
  const int64_t chunk = std::max<int64_t>(1, static_cast<int64_t>((size_t{4} << 20) / std::max<size_t>(out_row, 1)));
  std::vector<uint8_t> out(static_cast<size_t>(std::min(chunk, rows)) * out_row);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
#pragma omp parallel if (n * cols >= (int64_t{1} << 20))  // threads only pay off on big chunks
    {
      std::vector<float> tmp(static_cast<size_t>(cols));
#pragma omp for schedule(static)
      for (int64_t i = 0; i < n; ++i) {
        make_row(r0 + i, tmp.data());
        quantize_row(to, tmp.data(), out.data() + static_cast<size_t>(i) * out_row, cols);
      }
    }
    emit(out.data(), static_cast<size_t>(n) * out_row);
  }
}


}  // namespace qes::gguf
