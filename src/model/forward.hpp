#pragma once
// The batched forward pass: any mix of rows (a token of some sequence slot at
// some position) goes through every layer together, so each weight matrix is
// read once per step for all of them. Prefill chunks and decode tokens of many
// sequences are just rows.
#include "kv_cache.hpp"
#include "ops.hpp"
#include "qes/model.hpp"
#include "spin_barrier.hpp"

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
  // The residual stream and the inputs of the linear layers. A step of many
  // rows keeps one set shared by all threads, each thread working on its own
  // rows, with a barrier before each linear layer. A step of a few rows (decode
  // at small batch) gives every thread its own set and has each compute all
  // rows redundantly (a few thousand floats per row), which saves those
  // barriers: four per layer remain, at the ends of the work-shared loops.
  struct Activations {
    std::vector<float> x, norm, act;  // rows x dim, rows x dim, rows x max(ffn, q_dim)
    model_ops::LinearInput in_dim, in_att, in_ffn, in_logits;
    explicit Activations(const ModelConfig& c, int rows);
    void prepare(const float* att, int n, int m, const ModelConfig& c);
  };
  struct Run {  // adjacent rows of one slot
    int first, count;
  };
  static constexpr int kRedundantRows = 8;

  void step(std::span<const StepRow> rows, float* logits, bool shared);
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
  std::vector<float> scores_;               // [thread][query heads per KV head][context]
  Activations shared_;
  std::vector<Activations> per_thread_;
  std::vector<int> logit_rows_;             // rows that want logits, in order
  std::vector<Run> runs_;
  std::vector<int64_t> run_cost_;           // positions attended over by each run's rows
  std::vector<int> run_order_;              // runs_, most costly first
  SpinBarrier barrier_;
  model_ops::RowShares shares_;             // decode rows of each linear layer, one share per thread
};

}  // namespace qes
