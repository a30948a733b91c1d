// tokenizer.ggml.* metadata from a Hugging Face tokenizer.json, and the check that
// the GGUF's vocabulary encodes texts exactly as the Hugging Face tokenizer did.
#include <fstream>
#include <nlohmann/json.hpp>

#include "convert_internal.hpp"
#include "qes/gguf_vocab.hpp"
#include "qes/quantize_model.hpp"
#include "qes/tokenizer.hpp"

namespace qes::convert {
namespace {

using gguf::FormatError;

// Qwen2.5's template reduced to what ChatML is; chat_template.hpp recognises it by <|im_start|>.
constexpr const char* kChatMlTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// Text that separates the pre-tokenizers llama.cpp knows: digit runs (qwen2 splits
// single digits, llama-3 groups of three, gpt-2 whole runs), contractions in both
// cases, newlines after punctuation, runs of spaces, non-ASCII letters.
constexpr const char* kProbeText =
    "Hello world! It's 12345 apples,\n\n  and 3.14159 pears; I'LL  see\ttabs...\r\n"
    "    indented  line 2024-06-01: x=y+1 <tag> caf\xc3\xa9 na\xc3\xafve \xe4\xbd\xa0\xe5\xa5\xbd 987654321 'tis\n";

// The llama.cpp pre-tokenizer name whose expressions split like tokenizer.json's own
// pre-tokenizer, judged by the encodings of probe texts (the same vocabulary and merges
// make any difference in the split show).
std::string detect_pre(const Vocab& from_json, const std::string& arch) {
  const Tokenizer reference(from_json);
  std::vector<std::string> probes = {kProbeText};
  const std::vector<const char*> order =
      arch == "qwen2" ? std::vector<const char*>{"qwen2", "llama-bpe", "gpt-2", "smollm", "default"}
                      : std::vector<const char*>{"llama-bpe", "qwen2", "gpt-2", "smollm", "default"};
  for (const char* name : order) {
    Vocab v = from_json;
    v.pre = name;
    v.pre_regexes.clear();
    const Tokenizer candidate(std::move(v));
    bool same = true;
    for (const auto& p : probes) same = same && candidate.encode(p, false, true) == reference.encode(p, false, true);
    if (same) return name;
  }
  throw FormatError(from_json.source + ": its pre-tokenizer splits text unlike every pre-tokenizer qes knows "
                    "(qwen2, llama-bpe, gpt-2, smollm, default); name one with --pre");
}

int64_t find_token(const Vocab& v, std::string_view text) {
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.tokens[i] == text) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace

std::string add_tokenizer_metadata(gguf::Metadata& meta, const std::filesystem::path& dir, const HfModelConfig& config,
                                   const std::string& forced_pre) {
  const auto json_path = dir / "tokenizer.json";
  if (!std::filesystem::exists(json_path))
    throw FormatError(json_path.string() + ": missing (convert with --no-tokenizer to write the weights alone)");
  // Also reads tokenizer_config.json beside it: special tokens, add_bos, chat template.
  const Vocab hf = load_hf_tokenizer(json_path);
  if (hf.tokens.size() > config.vocab_size)
    throw FormatError(json_path.string() + ": " + std::to_string(hf.tokens.size()) + " tokens, more than config.json's vocab_size " +
                      std::to_string(config.vocab_size));
  const std::string pre = forced_pre.empty() ? detect_pre(hf, config.arch) : forced_pre;
  add_hf_bpe_tokenizer(meta, json_path.string(), config.vocab_size, config.arch, pre);

  // Special ids: tokenizer_config.json's tokens first when there is one (what the tokenizer
  // itself uses), then config.json's ids; add_hf_bpe_tokenizer already set qwen2's by their text.
  const bool has_tokenizer_config = std::filesystem::exists(dir / "tokenizer_config.json");
  auto set_id = [&](const char* key, TokenId from_tokenizer, int64_t from_config) {
    const int64_t id = has_tokenizer_config && from_tokenizer != kNoToken ? from_tokenizer : from_config;
    if (id < 0) return;
    if (id >= static_cast<int64_t>(config.vocab_size))
      throw FormatError(dir.string() + ": " + key + " " + std::to_string(id) + " is outside the vocabulary");
    meta.set(std::string("tokenizer.ggml.") + key, static_cast<uint32_t>(id));
  };
  set_id("bos_token_id", hf.bos, config.bos_token_id);
  set_id("eos_token_id", hf.eos, config.eos_token_id);
  set_id("padding_token_id", hf.pad, config.pad_token_id);
  if (config.arch == "llama") meta.set("tokenizer.ggml.add_bos_token", meta.has("tokenizer.ggml.bos_token_id"));

  if (!hf.chat_template.empty()) meta.set("tokenizer.chat_template", hf.chat_template);
  else if (find_token(hf, "<|im_start|>") >= 0 && find_token(hf, "<|im_end|>") >= 0)
    meta.set("tokenizer.chat_template", std::string(kChatMlTemplate));

  // The vocabulary as a GGUF reader will see it must split the probe like tokenizer.json does.
  const Tokenizer from_gguf(vocab_from_gguf(meta));
  const Tokenizer reference(hf);
  if (from_gguf.encode(kProbeText, false, true) != reference.encode(kProbeText, false, true))
    throw FormatError(json_path.string() + ": with tokenizer.ggml.pre '" + pre +
                      "' the converted vocabulary encodes text differently from tokenizer.json");
  return pre;
}

size_t verify_tokenizer_check(const gguf::Metadata& meta, const std::filesystem::path& check_json) {
  const std::string file = check_json.string();
  std::ifstream in(check_json);
  if (!in) throw FormatError(file + ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(file + ": not valid JSON: " + e.what());
  }
  if (!j.is_array()) throw FormatError(file + ": expected an array of {\"text\", \"ids\"}");
  const Tokenizer tok(vocab_from_gguf(meta));
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& item = j[i];
    if (!item.is_object() || !item.contains("text") || !item["text"].is_string() || !item.contains("ids") ||
        !item["ids"].is_array())
      throw FormatError(file + ": entry " + std::to_string(i) + " needs \"text\" (string) and \"ids\" (array)");
    const std::string text = item["text"].get<std::string>();
    std::vector<TokenId> expected;
    for (const auto& id : item["ids"]) {
      if (!id.is_number_integer()) throw FormatError(file + ": entry " + std::to_string(i) + ": ids must be integers");
      expected.push_back(id.get<TokenId>());
    }
    const std::vector<TokenId> got = tok.encode(text, /*add_special=*/false, /*parse_special=*/true);
    if (got != expected) {
      size_t at = 0;
      while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
      auto show = [&](const std::vector<TokenId>& ids) {
        std::string s;
        for (size_t k = at; k < ids.size() && k < at + 6; ++k) {
          if (!s.empty()) s += ' ';
          s += std::to_string(ids[k]);
        }
        return s.empty() ? std::string("(end)") : s;
      };
      throw FormatError(file + ": entry " + std::to_string(i) + ": the GGUF vocabulary encodes the text differently at token " +
                        std::to_string(at) + ": qes gives " + show(got) + ", Hugging Face gave " + show(expected) +
                        " (text starts \"" + text.substr(0, 60) + "\")");
    }
  }
  return j.size();
}

}  // namespace qes::convert
