// `qes generate`: text from a model, one prompt or a file of them, decoded in batches.
// The generated text alone goes to stdout; statistics go to stderr.
#include "command_registry.hpp"
#include "qes/chat_template.hpp"
#include "qes/generate_text.hpp"
#include "qes/memory.hpp"
#include "qes/topology.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct GenerateArgs {
  std::string model, tokenizer, prompt, prompts_file, kv = "f16", chat_template;
  std::vector<std::string> stop;
  int batch = 16, max_tokens = 256, top_k = 0, threads = 0, context = 0;
  float temperature = 0.0f, top_p = 1.0f;
  uint64_t seed = 0;
  bool chat = false;
};

// One prompt per line; a line holding a JSON string or an object with "prompt"
// is decoded (so prompts may contain newlines). Blank lines are skipped.
std::vector<std::string> read_prompts(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the prompts file");
  std::vector<std::string> prompts;
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!line.empty() && (line[0] == '{' || line[0] == '"')) {
      try {
        const auto j = nlohmann::json::parse(line);
        prompts.push_back(j.is_string() ? j.get<std::string>() : j.at("prompt").get<std::string>());
        continue;
      } catch (const std::exception& e) {
        throw std::runtime_error(path + ":" + std::to_string(n) + ": not a JSON prompt: " + e.what());
      }
    }
    prompts.push_back(line);
  }
  if (prompts.empty()) throw std::runtime_error(path + ": no prompts");
  return prompts;
}

void run_generate(const GenerateArgs& a) {
  qes::set_threads(a.threads);
  qes::ModelBundle bundle = qes::load_model_bundle(a.model, a.tokenizer, /*need_tokenizer=*/true);
  const qes::Tokenizer& tok = *bundle.tokenizer;

  std::vector<std::string> texts;
  const bool many = !a.prompts_file.empty();
  if (many) texts = read_prompts(a.prompts_file);
  else texts.push_back(a.prompt);

  qes::ChatTemplate chat;
  if (a.chat || !a.chat_template.empty()) chat = qes::chat_template_for(tok, a.chat_template);
  std::vector<qes::GenerationRequest> requests;
  for (size_t i = 0; i < texts.size(); i++) {
    qes::GenerationRequest r;
    if (a.chat || !a.chat_template.empty()) {
      const std::vector<qes::ChatMessage> conversation{{"user", texts[i]}};
      r.prompt = qes::encode_chat(tok, chat, conversation, qes::ChatEnding::GenerationPrompt);
    } else {
      r.prompt = qes::encode_prompt(tok, texts[i]);
    }
    r.max_tokens = a.max_tokens;
    r.stop = a.stop;
    r.sampling = {a.temperature, a.top_k, a.top_p, a.seed + i};
    requests.push_back(std::move(r));
  }

  size_t longest = 0;
  for (const auto& r : requests) longest = std::max(longest, r.prompt.size() + static_cast<size_t>(a.max_tokens));
  const int trained = bundle.model.config.context_length;
  if (trained > 0 && static_cast<int>(std::max<size_t>(longest, a.context)) > trained)
    std::fprintf(stderr, "qes generate: warning: sequences of up to %zu positions exceed the model's context_length %d\n",
                 std::max<size_t>(longest, a.context), trained);

  qes::GeneratorOptions opt;
  opt.batch = a.batch;
  opt.max_context = a.context;
  if (a.kv == "f32") opt.kv_type = qes::KvType::F32;
  else if (a.kv != "f16") throw std::runtime_error("--kv must be f16 or f32, not '" + a.kv + "'");
  qes::Generator gen(bundle.model, opt);
  qes::TokenizerDecoder decoder(tok);
  qes::GenerationStats st;
  const auto results = gen.generate(requests, &st, &decoder);

  for (size_t i = 0; i < results.size(); i++) {
    const std::string text = qes::sanitize_utf8(results[i].text);
    if (!many) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fputc('\n', stdout);
      continue;
    }
    nlohmann::json j{{"index", i},
                     {"prompt", qes::sanitize_utf8(texts[i])},
                     {"text", text},
                     {"prompt_tokens", results[i].prompt_tokens},
                     {"tokens", results[i].tokens.size()},
                     {"finish", qes::finish_reason_name(results[i].finish)}};
    std::puts(j.dump().c_str());
  }
  std::fflush(stdout);

  std::fprintf(stderr,
               "qes generate: %zu sequence(s), batch %d, %d thread(s)\n"
               "  prefill: %lld tokens, %.1f tokens/s\n"
               "  decode:  %lld tokens, %.1f tokens/s\n"
               "  generated: %lld tokens in %.3f s (%.1f tokens/s overall)\n"
               "  KV cache: %s (%s), buffers %s, weights %s, peak RSS %s\n",
               results.size(), a.batch, qes::thread_count(), static_cast<long long>(st.prefill_tokens),
               st.prefill_tokens_per_s(), static_cast<long long>(st.decode_tokens), st.decode_tokens_per_s(),
               static_cast<long long>(st.generated_tokens), st.total_seconds, st.generated_tokens_per_s(),
               qes::format_bytes(st.kv_cache_bytes).c_str(), a.kv.c_str(), qes::format_bytes(st.activation_bytes).c_str(),
               qes::format_bytes(bundle.model.weight_bytes()).c_str(), qes::format_bytes(qes::peak_rss_bytes()).c_str());
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Generate text (batched): stdout gets the text, stderr the statistics");
  cmd->add_option("--model,-m", args->model, "GGUF model or llama2.c checkpoint")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "llama2.c tokenizer .bin, tokenizer.json, or a GGUF with a vocabulary");
  auto* p = cmd->add_option("--prompt,-p", args->prompt, "prompt text (none: start from BOS)");
  auto* pf = cmd->add_option("--prompts", args->prompts_file, "file of prompts, one per line (or JSON strings / {\"prompt\":...}); prints one JSON line per prompt");
  p->excludes(pf);
  cmd->add_option("--batch,-b", args->batch, "sequences decoded at once")->check(CLI::Range(1, 4096));
  cmd->add_option("--max-tokens,-n", args->max_tokens, "new tokens per sequence at most")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--temperature,-t", args->temperature, "0 = greedy")->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--top-k", args->top_k, "keep the k most probable tokens (0 = off)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", args->top_p, "nucleus sampling mass (1 = off)")->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--seed", args->seed, "sampling seed; sequence i uses seed + i");
  cmd->add_option("--stop", args->stop, "stop string (repeatable); not included in the output");
  cmd->add_flag("--chat", args->chat, "wrap each prompt as a user turn in the model's chat template (ChatML or llama-2)");
  cmd->add_option("--chat-template", args->chat_template, "chatml or llama2, instead of the one the model's metadata names (implies --chat)");
  cmd->add_option("--threads", args->threads, "threads (0 = one per physical core)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--kv", args->kv, "KV cache type: f16 or f32");
  cmd->add_option("--context", args->context, "positions per sequence (0 = prompt + max tokens, capped at the model's)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args] { run_generate(*args); });
});

}  // namespace
