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
  // Buffers for up to max_rows rows per step, max_logit_rows of them wanting
  // logits. A step reading fewer than parallel_min_bytes of weights (weights per
  // token x rows) runs on one thread: tiny models are faster without barriers.
  ForwardPass(const Model& model, KvCache& cache, int max_rows, int max_logit_rows, double parallel_min_bytes = 4e6);

  // Writes each row's keys and values into its slot at its position, then
  // computes. A slot's rows must be adjacent, in increasing gap-free
  // positions, and every earlier position of the slot already in the cache.
  // `logits` receives vocab floats per row with want_logits, in row order.
  void run(std::span<const StepRow> rows, float* logits);

  int max_rows() const { return max_rows_; }
  int max_logit_rows() const { return max_logit_rows_; }
  size_t buffer_bytes() const;

 private:
  // What each thread keeps to itself: the residual stream and the inputs of
  // the linear layers, computed redundantly by every thread (a few thousand
  // floats per row) so that a layer needs only one barrier per matrix group.
  struct ThreadState {
    std::vector<float> x, norm, act;  // max_rows x dim, max_rows x dim, max_rows x ffn
    model_ops::LinearInput in;
  };
  struct Run {  // adjacent rows of one slot
    int first, count;
  };

  void step(std::span<const StepRow> rows, float* logits);
  void attention(std::span<const StepRow> rows, int layer);
  void ensure_threads(int threads);

  const Model& model_;
  const ModelConfig& cfg_;
  KvCache& cache_;
  int max_rows_, max_logit_rows_;
  double parallel_min_bytes_;
  // Shared between threads: outputs of the linear layers (each thread writes
  // its blocks of rows), attention.
  std::vector<float> q_, k_, v_, att_, o_, gate_, up_;
  std::vector<float> rope_cos_, rope_sin_;  // [context][rope_dim/2]
  std::vector<float> scores_;               // [thread][context]
  std::vector<ThreadState> threads_;
  std::vector<int> logit_rows_;             // rows that want logits, in order
  std::vector<Run> runs_;
};

}  // namespace qes
