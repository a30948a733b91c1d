#pragma once
// A plain, one-token-at-a-time forward pass in the style of llama2.c's run.c:
// f32 everywhere, weights dequantized up front, no batching, no threads. The
// oracle the batched forward pass is compared with.
#include "qes/model.hpp"

#include <vector>

namespace qes::testing {

class ReferenceForward {
 public:
  explicit ReferenceForward(const Model& model);
  // Feeds the token at the next position; returns the logits.
  const std::vector<float>& step(int32_t token);

 private:
  struct Mat {
    int rows = 0, cols = 0;
    std::vector<float> w;
  };
  static Mat dequant(const QuantMatrix& m);
  static void matvec(const Mat& m, const float* x, float* y);

  ModelConfig c_;
  const Model& model_;
  Mat embd_, out_;
  std::vector<Mat> wq_, wk_, wv_, wo_, wg_, wu_, wd_;
  std::vector<std::vector<float>> kcache_, vcache_;  // per layer, [pos][kv_dim]
  std::vector<float> x_, xb_, xb2_, q_, k_, v_, att_, hb_, hb2_, logits_;
  int pos_ = 0;
};

}  // namespace qes::testing
