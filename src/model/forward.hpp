#pragma once
// The batched forward pass: any mix of rows (a token of some sequence slot at
// some position) goes through every layer together, so each weight matrix is
// read once per step for all of them. Prefill chunks and decode tokens of many
// sequences are just rows.
#include "kv_cache.hpp"
#include "ops.hpp"
#include "qes/model.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace qes {

struct StepRow {
  int slot = 0;
  int pos = 0;          // position of this token in its sequence
  int32_t token = 0;
  bool want_logits = false;
};

class ForwardPass {
 public:
  // Buffers for up to max_rows rows per step, max_logit_rows of them wanting logits.
  ForwardPass(const Model& model, KvCache& cache, int max_rows, int max_logit_rows, double parallel_min_bytes = 4e6);

  // Writes each row's keys and values into its slot at its position, then
  // computes. Rows of one slot must come in increasing, gap-free positions, and
  // every earlier position of the slot must already be in the cache.
  // `logits` receives vocab floats per row with want_logits, in row order.
  void run(std::span<const StepRow> rows, float* logits);

  int max_rows() const { return max_rows_; }
  int max_logit_rows() const { return max_logit_rows_; }
  size_t buffer_bytes() const;

 private:
  void step(std::span<const StepRow> rows, float* logits);
  void attention(std::span<const StepRow> rows, int layer);

  const Model& model_;
  const ModelConfig& cfg_;
  KvCache& cache_;
  int max_rows_, max_logit_rows_;
  double parallel_min_bytes_;
  // Activations, max_rows rows each (row-major).
  std::vector<float> x_, xb_, q_, k_, v_, att_, hb_, hb2_, logit_in_;
  std::vector<float> rope_cos_, rope_sin_;  // [context][rope_dim/2]
  std::vector<float> scores_;               // [thread][context]
  model_ops::LinearInput in_;               // the current linear layers' input, quantized once for all their matrices
  std::vector<int> logit_rows_;             // rows that want logits, in order
};

}  // namespace qes
