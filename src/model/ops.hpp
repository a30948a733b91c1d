#pragma once
// The numeric operations the forward pass needs, as one narrow interface over
// the kernels (qes/matmul.hpp) and the float operations (qes/float_ops.hpp).
// The forward pass calls only these, so it reads like the algorithm.
#include "qes/model.hpp"

#include <cstdint>

namespace qes::model_ops {

// y[r][o] = sum_c W[o][c] * x[r][c] for r < n (x: n x W.cols, y: n x W.rows, row-major).
// Every output element depends only on its own row of x: batch composition never
// changes a result.
void linear(const QuantMatrix& w, const float* x, int n, float* y);

// out = x / rms(x) * weight over `dim` elements.
void rmsnorm(float* out, const float* x, const float* weight, int dim, float eps);

// Rotates the first rope_dim dimensions of one head vector at the position whose
// cos/sin table row is given (rope_dim/2 entries each).
void rope(float* head, int rope_dim, const float* cos, const float* sin, RopeStyle style);

// x = exp(x - max) / sum, in place.
void softmax(float* x, int n);

// gate[i] = silu(gate[i]) * up[i].
void silu_mul(float* gate, const float* up, int n);

float dot_f32(const float* a, const float* b, int n);
float dot_f16(const float* a, const uint16_t* b, int n);
// out[i] += a * v[i]
void axpy_f32(float* out, float a, const float* v, int n);
void axpy_f16(float* out, float a, const uint16_t* v, int n);

void f32_to_f16(const float* in, uint16_t* out, int n);

// Row `row` of any matrix (the token embedding) as floats.
void embedding_row(const QuantMatrix& m, int64_t row, float* out);

}  // namespace qes::model_ops
