// `qes convert --hf DIR --out M.gguf [--type f32|f16|bf16]`: a Hugging Face
// qwen2/llama folder into GGUF (then `qes quantize M.gguf M-q4_0.gguf --type q4_0`).
#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "command_registry.hpp"
#include "qes/convert_hf.hpp"

namespace {

struct ConvertArgs {
  std::string hf_dir;
  std::string out;
  std::string type = "f32";
  std::string name;
  std::string pre;
  bool no_tokenizer = false;
};

void run(const ConvertArgs& a) {
  qes::convert::HfConvertOptions o;
  if (a.type == "f32") o.type = qes::DType::F32;
  else if (a.type == "f16") o.type = qes::DType::F16;
  else if (a.type == "bf16") o.type = qes::DType::BF16;
  else throw std::invalid_argument("--type must be f32, f16 or bf16, not '" + a.type + "'");
  o.name = a.name;
  o.pre = a.pre;
  o.tokenizer = !a.no_tokenizer;
  const auto r = qes::convert::convert_hf(a.hf_dir, a.out, o);
  std::fprintf(stderr, "wrote %s: %s, %zu tensors, %" PRIu64 " parameters, matrices in %s\n", a.out.c_str(), r.arch.c_str(),
               r.n_tensors, r.n_parameters, a.type.c_str());
  if (o.tokenizer) std::fprintf(stderr, "tokenizer: byte-level BPE, pre-tokenizer '%s'\n", r.pre.c_str());
  if (r.tokenizer_checked)
    std::fprintf(stderr, "tokenizer check: %zu texts of tokenizer_check.json encode to the Hugging Face ids\n", r.tokenizer_checked);
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  auto* cmd = app.add_subcommand("convert", "Convert a Hugging Face qwen2/llama folder (safetensors) into GGUF");
  cmd->add_option("--hf", args->hf_dir, "folder with config.json, model.safetensors and tokenizer.json")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", args->out, "GGUF file to write")->required();
  cmd->add_option("--type", args->type, "type of the matrices: f32, f16 or bf16 (1-D tensors stay f32)")->capture_default_str();
  cmd->add_option("--name", args->name, "general.name (default: the folder's name)");
  cmd->add_option("--pre", args->pre, "tokenizer.ggml.pre to write instead of the detected one (qwen2, llama-bpe, gpt-2, ...)");
  cmd->add_flag("--no-tokenizer", args->no_tokenizer, "write the weights alone (no tokenizer.json needed)");
  cmd->callback([args] { run(*args); });
});

}  // namespace
