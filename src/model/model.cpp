// Model shape checks, weight accounting, and random models for tests and speed runs.
#include "qes/model.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace qes {

void ModelConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& what) { throw std::runtime_error(source + ": " + what); };
  auto positive = [&](int v, const char* name) {
    if (v <= 0) fail(std::string(name) + " must be positive, got " + std::to_string(v));
  };
  positive(dim, "embedding_length");
  positive(n_layers, "block_count");
  positive(n_heads, "attention.head_count");
  positive(n_kv_heads, "attention.head_count_kv");
  positive(ffn_dim, "feed_forward_length");
  positive(vocab_size, "vocabulary size");
  if (dim % n_heads != 0)
    fail("embedding_length " + std::to_string(dim) + " is not a multiple of attention.head_count " + std::to_string(n_heads));
  if (n_heads % n_kv_heads != 0)
    fail("attention.head_count " + std::to_string(n_heads) + " is not a multiple of attention.head_count_kv " +
         std::to_string(n_kv_heads));
  if (head_dim <= 0) fail("head dimension must be positive");
  if (rope_dim <= 0 || rope_dim > head_dim || rope_dim % 2 != 0)
    fail("rope.dimension_count " + std::to_string(rope_dim) + " must be even and at most the head size " +
         std::to_string(head_dim));
  if (!(rms_eps > 0.0f) || !std::isfinite(rms_eps)) fail("attention.layer_norm_rms_epsilon must be positive");
  if (!(rope_base > 0.0f) || !std::isfinite(rope_base)) fail("rope.freq_base must be positive");
  if (context_length < 0) fail("context_length must not be negative");
}

static size_t matrix_bytes(const QuantMatrix& m) { return m.data ? m.size_bytes() : 0; }

size_t Model::weight_bytes_per_token() const {
  size_t total = matrix_bytes(weights.output);
  for (const auto& l : weights.layers)
    total += matrix_bytes(l.wq) + matrix_bytes(l.wk) + matrix_bytes(l.wv) + matrix_bytes(l.wo) + matrix_bytes(l.w_gate) +
             matrix_bytes(l.w_up) + matrix_bytes(l.w_down);
  return total;
}

size_t Model::weight_bytes() const {
  size_t total = weight_bytes_per_token();
  if (weights.token_embd.data != weights.output.data) total += matrix_bytes(weights.token_embd);
  return total;
}

namespace {

// Deterministic uniform numbers for random weights (splitmix64).
struct WeightRng {
  uint64_t state;
  float uniform_pm1() {  // [-1, 1)
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
  }
};

struct RandomStorage {
  std::vector<std::vector<uint8_t>> buffers;
};

}  // namespace

Model make_random_model(const ModelConfig& config, DType type, uint64_t seed, bool tied_output) {
  config.validate("random model");
  auto storage = std::make_shared<RandomStorage>();
  WeightRng rng{seed};
  std::vector<float> row;
  // A rows x cols matrix with entries uniform in +-sqrt(3/cols) (variance 1/cols,
  // so activations keep their scale), stored in `t` (float when cols does not fit blocks).
  auto matrix = [&](int64_t rows, int64_t cols, float gain = 1.0f) {
    DType t = cols % block_size(type) == 0 ? type : DType::F32;
    QuantMatrix m{t, rows, cols, nullptr};
    auto& buf = storage->buffers.emplace_back(m.size_bytes());
    m.data = buf.data();
    row.resize(static_cast<size_t>(cols));
    const float a = gain * std::sqrt(3.0f / static_cast<float>(cols));
    for (int64_t r = 0; r < rows; r++) {
      for (auto& v : row) v = a * rng.uniform_pm1();
      quantize_row(t, row.data(), m.row_ptr(r), cols);
    }
    return m;
  };
  auto vec = [&](int n, float center, float spread) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = center + spread * rng.uniform_pm1();
    return v;
  };

  Model model;
  model.config = config;
  model.source = "random model (seed " + std::to_string(seed) + ")";
  const ModelConfig& c = config;
  model.weights.token_embd = matrix(c.vocab_size, c.dim, std::sqrt(static_cast<float>(c.dim)) * 0.5f);
  for (int l = 0; l < c.n_layers; l++) {
    LayerWeights lw;
    lw.attn_norm = vec(c.dim, 1.0f, 0.1f);
    lw.wq = matrix(c.q_dim(), c.dim);
    lw.wk = matrix(c.kv_dim(), c.dim);
    lw.wv = matrix(c.kv_dim(), c.dim);
    if (c.qkv_bias) {
      lw.bq = vec(c.q_dim(), 0.0f, 0.1f);
      lw.bk = vec(c.kv_dim(), 0.0f, 0.1f);
      lw.bv = vec(c.kv_dim(), 0.0f, 0.1f);
    }
    lw.wo = matrix(c.dim, c.q_dim());
    lw.ffn_norm = vec(c.dim, 1.0f, 0.1f);
    lw.w_gate = matrix(c.ffn_dim, c.dim);
    lw.w_up = matrix(c.ffn_dim, c.dim);
    lw.w_down = matrix(c.dim, c.ffn_dim);
    model.weights.layers.push_back(std::move(lw));
  }
  model.weights.output_norm = vec(c.dim, 1.0f, 0.1f);
  model.weights.output = tied_output ? model.weights.token_embd : matrix(c.vocab_size, c.dim);
  model.storage = storage;
  return model;
}

}  // namespace qes
