// `qes inspect M`: what a model file holds (metadata, tensors, sizes).
#include <cinttypes>
#include <cstdio>

#include "command_registry.hpp"
#include "qes/model_file.hpp"

namespace {

std::string shape_of(const qes::TensorView& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.dims.size(); ++i) s += (i ? ", " : "") + std::to_string(t.dims[i]);
  return s + "]";
}

void inspect(const std::string& path, const std::string& tokenizer) {
  qes::LoadOptions opts;
  opts.tokenizer_path = tokenizer;
  qes::ModelFile mf = qes::load_model_file(path, opts);

  std::printf("file: %s\n", mf.path.c_str());
  if (mf.format == "gguf")
    std::printf("format: GGUF v%u, alignment %u, tensor data at offset %" PRIu64 "\n", mf.gguf_version, mf.alignment,
                mf.data_offset);
  else
    std::printf("format: %s checkpoint (shown as its GGUF conversion)\n", mf.format.c_str());

  std::printf("\nmetadata (%zu keys):\n", mf.metadata.size());
  for (const auto& [key, value] : mf.metadata.entries()) {
    std::string type(qes::gguf::value_type_name(value.type()));
    if (const auto* a = std::get_if<qes::gguf::MetaArray>(&value.v)) type += "<" + std::string(qes::gguf::value_type_name(a->type)) + ">";
    std::printf("  %-44s %-14s %s\n", key.c_str(), type.c_str(), qes::gguf::format_value(value, 6).c_str());
  }

  std::printf("\ntensors (%zu; shape in ggml order, row length first):\n", mf.tensors.size());
  int64_t params = 0;
  for (const auto& t : mf.tensors) {
    params += t.n_elements();
    std::printf("  %-36s %-8s %-20s %12" PRIu64 " bytes\n", t.name.c_str(), qes::gguf::ggml_type_name(t.type).c_str(),
                shape_of(t).c_str(), t.bytes);
  }
  const uint64_t total = mf.total_tensor_bytes();
  std::printf("\ntotal: %zu tensors, %" PRId64 " parameters, %" PRIu64 " bytes of tensor data (%.2f MiB)\n", mf.tensors.size(),
              params, total, static_cast<double>(total) / (1024.0 * 1024.0));
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show a model file's metadata, tensors and sizes (GGUF or llama2.c .bin)");
  auto path = std::make_shared<std::string>();
  auto tokenizer = std::make_shared<std::string>();
  cmd->add_option("model", *path, "model file (.gguf, or llama2.c .bin)")->required();
  cmd->add_option("--tokenizer", *tokenizer, "llama2.c tokenizer .bin (default: tokenizer.bin or tok512.bin beside the model)");
  cmd->callback([path, tokenizer] { inspect(*path, *tokenizer); });
});

}  // namespace
