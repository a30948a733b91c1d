// llama2.c checkpoints -> ModelFile with llama.cpp's names and metadata.
#include "qes/llama2c.hpp"

#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>

namespace qes {
namespace {

using gguf::FormatError;

std::vector<uint8_t> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::system_error(errno, std::generic_category(), path + ": cannot open");
  std::streamoff size = in.tellg();
  in.seekg(0);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw std::system_error(errno, std::generic_category(), path + ": read failed");
  return bytes;
}

// Number of floats the checkpoint must hold after its header, in llama2.c's order.
struct Llama2cLayout {
  int64_t kv_dim, head_size;
  int64_t total_floats;
};

Llama2cLayout layout_of(const Llama2cConfig& c) {
  Llama2cLayout l{};
  l.head_size = c.dim / c.n_heads;
  l.kv_dim = l.head_size * c.n_kv_heads;
  int64_t d = c.dim, h = c.hidden_dim, L = c.n_layers, v = c.vocab_size;
  l.total_floats = v * d                         // token embedding
                   + L * d                        // attention norms
                   + L * d * d                    // wq
                   + 2 * L * d * l.kv_dim         // wk, wv
                   + L * d * d                    // wo
                   + L * d                        // ffn norms
                   + 3 * L * d * h                // w1, w2, w3
                   + d                            // final norm
                   + int64_t{c.seq_len} * l.head_size  // freq_cis real + imag (seq_len x head_size/2 each)
                   + (c.shared_classifier ? 0 : v * d);
  return l;
}

Llama2cConfig parse_config(const uint8_t* bytes, size_t size, const std::string& path) {
  if (size >= 4 && std::memcmp(bytes, "24ka", 4) == 0)  // uint32 0x616b3432 "ak42" little-endian
    throw FormatError(path + ": llama2.c version 1/2 export (magic 'ak42') is not supported; export with the legacy (v0) format");
  if (size < 28)
    throw FormatError(path + ": not a GGUF file, and too short (" + std::to_string(size) +
                      " bytes) for a llama2.c checkpoint header (28 bytes)");
  int32_t f[7];
  std::memcpy(f, bytes, sizeof f);
  Llama2cConfig c;
  c.dim = f[0];
  c.hidden_dim = f[1];
  c.n_layers = f[2];
  c.n_heads = f[3];
  c.n_kv_heads = f[4];
  c.shared_classifier = f[5] > 0;
  c.vocab_size = f[5] == std::numeric_limits<int32_t>::min() ? 0 : (f[5] < 0 ? -f[5] : f[5]);
  c.seq_len = f[6];
  auto bad = [&](const std::string& problem) {
    throw FormatError(path + ": not a GGUF file, nor a valid llama2.c checkpoint: " + problem + " (header dim=" +
                      std::to_string(f[0]) + " hidden_dim=" + std::to_string(f[1]) + " n_layers=" + std::to_string(f[2]) +
                      " n_heads=" + std::to_string(f[3]) + " n_kv_heads=" + std::to_string(f[4]) +
                      " vocab_size=" + std::to_string(f[5]) + " seq_len=" + std::to_string(f[6]) + ")");
  };
  // Limits far above any llama2.c model, only there to keep the size arithmetic in range.
  constexpr int32_t kMax = 1 << 20;
  if (c.dim <= 0 || c.dim > kMax) bad("dim out of range");
  if (c.hidden_dim <= 0 || c.hidden_dim > kMax) bad("hidden_dim out of range");
  if (c.n_layers <= 0 || c.n_layers > 4096) bad("n_layers out of range");
  if (c.n_heads <= 0 || c.dim % c.n_heads != 0) bad("dim is not a multiple of n_heads");
  if (((c.dim / c.n_heads) % 2) != 0) bad("head size is odd");
  if (c.n_kv_heads <= 0 || c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0)
    bad("n_heads is not a multiple of n_kv_heads");
  if (c.vocab_size <= 0 || c.vocab_size > kMax) bad("vocab_size out of range");
  if (c.seq_len <= 0 || c.seq_len > kMax) bad("seq_len out of range");
  return c;
}

}  // namespace

Llama2cConfig read_llama2c_config(const std::string& model_path) {
  std::ifstream in(model_path, std::ios::binary);
  if (!in) throw std::system_error(errno, std::generic_category(), model_path + ": cannot open");
  uint8_t head[28] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  return parse_config(head, static_cast<size_t>(in.gcount()), model_path);
}

namespace {

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
};

// llama.cpp's token types (llama_token_type).
enum : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6 };

bool is_byte_token(const std::string& s) {
  auto hex = [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f'); };
  return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>' && hex(s[3]) && hex(s[4]);
}

// llama2.c's tokenizer export replaced SentencePiece's U+2581 with a space and
// wrapped <s> / </s> in newlines; llama.cpp's converter undoes both and types
// the tokens, and so do we.
Vocab read_llama2c_tokenizer(const std::string& path, int32_t vocab_size) {
  std::vector<uint8_t> b = read_whole_file(path);
  size_t pos = 0;
  auto take = [&](void* dst, size_t n, const std::string& what) {
    if (n > b.size() - pos)
      throw FormatError(path + ": llama2.c tokenizer: truncated file: " + what + " needs " + std::to_string(n) +
                        " bytes at offset " + std::to_string(pos) + " but the file ends at " + std::to_string(b.size()));
    std::memcpy(dst, b.data() + pos, n);
    pos += n;
  };
  int32_t max_token_length = 0;
  take(&max_token_length, 4, "max_token_length");
  if (max_token_length <= 0) throw FormatError(path + ": llama2.c tokenizer: max_token_length " + std::to_string(max_token_length) + " is not positive");
  Vocab v;
  v.tokens.reserve(vocab_size);
  for (int32_t i = 0; i < vocab_size; ++i) {
    std::string what = "token " + std::to_string(i);
    float score = 0;
    int32_t len = 0;
    take(&score, 4, what + " score");
    take(&len, 4, what + " length");
    if (len < 0 || len > max_token_length)
      throw FormatError(path + ": llama2.c tokenizer: " + what + " length " + std::to_string(len) +
                        " is outside [0, max_token_length=" + std::to_string(max_token_length) + "]");
    std::string text(static_cast<size_t>(len), '\0');
    take(text.data(), static_cast<size_t>(len), what + " bytes");
    int32_t type = kNormal;
    if (i == 0) {
      text = "<unk>";
      type = kUnknown;
    } else if (i == 1) {
      text = "<s>";
      type = kControl;
    } else if (i == 2) {
      text = "</s>";
      type = kControl;
    } else if (is_byte_token(text)) {
      type = kByte;
    } else {
      std::string spm;
      for (char ch : text) {
        if (ch == ' ') spm += "\xe2\x96\x81";
        else spm += ch;
      }
      text = std::move(spm);
    }
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (pos != b.size())
    throw FormatError(path + ": llama2.c tokenizer: " + std::to_string(b.size() - pos) + " bytes left after " +
                      std::to_string(vocab_size) + " tokens (tokenizer made for a different vocabulary size?)");
  return v;
}

}  // namespace

ModelFile load_llama2c(const std::string& model_path, const Llama2cOptions& options) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(read_whole_file(model_path));
  Llama2cConfig c = parse_config(bytes->data(), bytes->size(), model_path);
  Llama2cLayout l = layout_of(c);
  uint64_t expected = 28 + 4 * static_cast<uint64_t>(l.total_floats);
  if (bytes->size() != expected)
    throw FormatError(model_path + ": llama2.c checkpoint: its config needs " + std::to_string(expected) +
                      " bytes but the file has " + std::to_string(bytes->size()) +
                      (bytes->size() < expected ? " (truncated)" : " (not a v0 llama2.c checkpoint?)"));
  if (options.tokenizer_path.empty()) throw FormatError(model_path + ": llama2.c checkpoint needs a tokenizer file");
  Vocab vocab = read_llama2c_tokenizer(options.tokenizer_path, c.vocab_size);

  ModelFile mf;
  mf.path = model_path;
  mf.format = "llama2.c";
  mf.metadata.set_source(model_path);
  mf.storage = bytes;

  // Same keys, types and order as llama.cpp's convert-llama2c-to-ggml.
  auto& m = mf.metadata;
  m.set("tokenizer.ggml.tokens", gguf::make_string_array(vocab.tokens));
  m.set("tokenizer.ggml.scores", gguf::make_f32_array(vocab.scores));
  m.set("tokenizer.ggml.token_type", gguf::make_i32_array(vocab.types));
  m.set("tokenizer.ggml.model", "llama");
  m.set("general.architecture", "llama");
  m.set("general.name", "llama");
  m.set("tokenizer.ggml.unknown_token_id", uint32_t{0});
  m.set("tokenizer.ggml.bos_token_id", uint32_t{1});
  m.set("tokenizer.ggml.eos_token_id", uint32_t{2});
  m.set("tokenizer.ggml.seperator_token_id", uint32_t{0xFFFFFFFFu});  // sic: llama.cpp's key
  m.set("tokenizer.ggml.padding_token_id", uint32_t{0xFFFFFFFFu});
  m.set("llama.context_length", options.context_length ? options.context_length : static_cast<uint32_t>(c.seq_len));
  m.set("llama.embedding_length", static_cast<uint32_t>(c.dim));
  m.set("llama.feed_forward_length", static_cast<uint32_t>(c.hidden_dim));
  m.set("llama.attention.head_count", static_cast<uint32_t>(c.n_heads));
  m.set("llama.attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  m.set("llama.block_count", static_cast<uint32_t>(c.n_layers));
  m.set("llama.rope.dimension_count", static_cast<uint32_t>(l.head_size));
  m.set("llama.attention.layer_norm_rms_epsilon", 1e-5f);  // llama2.c's rmsnorm epsilon

  // Tensor ranges in the checkpoint, in its order.
  float* w = reinterpret_cast<float*>(bytes->data() + 28);
  int64_t d = c.dim, h = c.hidden_dim, L = c.n_layers, kv = l.kv_dim;
  float* p = w;
  auto take = [&](int64_t n) {
    float* r = p;
    p += n;
    return r;
  };
  float* emb = take(c.vocab_size * d);
  float* attn_norm = take(L * d);
  float* wq = take(L * d * d);
  float* wk = take(L * kv * d);
  float* wv = take(L * kv * d);
  float* wo = take(L * d * d);
  float* ffn_norm = take(L * d);
  float* w1 = take(L * h * d);
  float* w2 = take(L * d * h);
  float* w3 = take(L * h * d);
  float* final_norm = take(d);
  take(int64_t{c.seq_len} * l.head_size);  // freq_cis: RoPE tables, recomputed by the runtime
  float* wcls = c.shared_classifier ? emb : take(c.vocab_size * d);

  auto add = [&](std::string name, std::vector<int64_t> dims, float* data) {
    TensorView t;
    t.name = std::move(name);
    t.type = static_cast<uint32_t>(DType::F32);
    t.dims = std::move(dims);
    t.data = data;
    t.bytes = static_cast<uint64_t>(t.n_elements()) * 4;
    t.file = model_path;
    mf.tensors.push_back(std::move(t));
  };
  // With a shared classifier, output.weight aliases token_embd.weight (llama.cpp's
  // converter writes both; so do we).
  add("token_embd.weight", {d, c.vocab_size}, emb);
  add("output_norm.weight", {d}, final_norm);
  add("output.weight", {d, c.vocab_size}, wcls);
  for (int64_t i = 0; i < L; ++i) {
    std::string b = "blk." + std::to_string(i) + ".";
    add(b + "attn_q.weight", {d, d}, wq + i * d * d);
    add(b + "attn_k.weight", {d, kv}, wk + i * kv * d);
    add(b + "attn_v.weight", {d, kv}, wv + i * kv * d);
    add(b + "attn_output.weight", {d, d}, wo + i * d * d);
    add(b + "attn_norm.weight", {d}, attn_norm + i * d);
    add(b + "ffn_gate.weight", {d, h}, w1 + i * h * d);
    add(b + "ffn_down.weight", {h, d}, w2 + i * d * h);
    add(b + "ffn_up.weight", {d, h}, w3 + i * h * d);
    add(b + "ffn_norm.weight", {d}, ffn_norm + i * d);
  }
  return mf;
}

}  // namespace qes
