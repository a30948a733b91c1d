// `qes quantize IN OUT --type q4_0|q4_1|q8_0|f32|f16|bf16`, and
// `qes quantize --random-like NAME OUT --type q4_0 --seed S`.
#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "command_registry.hpp"
#include "qes/model_file.hpp"
#include "qes/quantize_model.hpp"

namespace {

struct QuantizeArgs {
  std::vector<std::string> files;
  std::string type = "q4_0";
  std::string tokenizer;
  std::string random_like;
  std::string tokenizer_json;
  uint64_t seed = 0;
  uint32_t context_length = 0;
  bool pure = false;
  bool verbose = false;
};

void print_summary(const std::vector<qes::TensorDecision>& decisions, bool verbose) {
  size_t quantized = 0;
  for (const auto& d : decisions) {
    if (qes::is_quantized(d.to)) ++quantized;
    // Without -v, list only the matrices that did not simply get --type.
    bool unusual = d.reason != "quantized" && d.reason != "converted" && d.reason.rfind("1-D", 0) != 0;
    if (verbose || unusual)
      std::fprintf(stderr, "  %-36s %s -> %s  (%s)\n", d.name.c_str(), qes::gguf::ggml_type_name(d.from).c_str(),
                   std::string(qes::dtype_name(d.to)).c_str(), d.reason.c_str());
  }
  std::fprintf(stderr, "%zu of %zu tensors in a block type\n", quantized, decisions.size());
}

void run(const QuantizeArgs& a) {
  qes::QuantizeOptions q;
  using qes::DType;
  if (!qes::dtype_from_name(a.type, &q.type) ||
      (q.type != DType::Q4_0 && q.type != DType::Q4_1 && q.type != DType::Q8_0 && q.type != DType::F32 &&
       q.type != DType::F16 && q.type != DType::BF16))
    throw std::invalid_argument("--type must be q4_0, q4_1, q8_0, f32, f16 or bf16, not '" + a.type + "'");
  q.pure = a.pure;

  if (!a.random_like.empty()) {
    if (a.files.size() != 1) throw std::invalid_argument("quantize --random-like NAME takes exactly one file: OUT");
    qes::RandomModelOptions r;
    r.quant = q;
    r.seed = a.seed;
    r.tokenizer_json = a.tokenizer_json;
    const qes::ModelShape& shape = qes::find_model_shape(a.random_like);
    auto decisions = qes::write_random_model(shape, a.files[0], r);
    std::fprintf(stderr, "wrote %s: random weights (seed %" PRIu64 ") with the shapes of %s\n", a.files[0].c_str(), a.seed,
                 shape.name.c_str());
    print_summary(decisions, a.verbose);
    return;
  }
  if (a.files.size() != 2) throw std::invalid_argument("quantize takes IN OUT (or --random-like NAME OUT)");
  qes::LoadOptions lo;
  lo.tokenizer_path = a.tokenizer;
  lo.llama2c_context_length = a.context_length;
  qes::ModelFile in = qes::load_model_file(a.files[0], lo);
  auto decisions = qes::quantize_model(in, a.files[1], q);
  std::fprintf(stderr, "wrote %s (%s)\n", a.files[1].c_str(), a.type.c_str());
  print_summary(decisions, a.verbose);
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  auto* cmd = app.add_subcommand("quantize", "Quantize a F32/F16/BF16 GGUF or llama2.c model to q4_0/q4_1/q8_0, "
                                             "or write a random-weight model shaped like a real one");
  cmd->add_option("files", args->files, "IN OUT, or OUT with --random-like")->required();
  cmd->add_option("--type", args->type,
                  "q4_0, q4_1 or q8_0; or f32, f16, bf16 to convert without quantizing (e.g. a llama2.c checkpoint)")
      ->capture_default_str();
  cmd->add_option("--tokenizer", args->tokenizer, "llama2.c tokenizer .bin for a llama2.c input");
  cmd->add_option("--context-length", args->context_length,
                  "llama2.c input: llama.context_length to record (default: its seq_len; llama.cpp's converter writes 128)");
  cmd->add_flag("--pure", args->pure, "quantize the output projection to --type too (llama.cpp's --pure)");
  cmd->add_option("--random-like", args->random_like,
                  "write random weights with the shapes and metadata of this model: qwen2.5-0.5b, qwen2.5-1.5b, "
                  "qwen2.5-3b, qwen2.5-7b, tinyllama-1.1b, smollm2-135m, llama-3.2-1b");
  cmd->add_option("--seed", args->seed, "seed of the random weights")->capture_default_str();
  cmd->add_option("--tokenizer-json", args->tokenizer_json,
                  "with --random-like: Hugging Face tokenizer.json whose vocabulary and merges go into the metadata");
  cmd->add_flag("-v,--verbose", args->verbose, "list the type chosen for every tensor");
  cmd->callback([args] { run(*args); });
});

}  // namespace
