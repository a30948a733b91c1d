// Loads a Hugging Face tokenizer.json (byte-level BPE) and, optionally, its tokenizer_config.json.
//
// The file of a large vocabulary is mostly model.vocab (token -> id) and model.merges. Building a
// JSON tree of those costs three times the parse itself, so a SAX handler takes them straight
// into the Vocab and builds a tree only of the small rest (added_tokens, pre_tokenizer, ...).
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "pretokenizer.hpp"
#include "qes/tokenizer.hpp"

namespace qes {
namespace {

using json = nlohmann::json;

std::string read_file(const std::filesystem::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error(path.string() + ": cannot open the " + what);
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(data.data(), static_cast<std::streamsize>(data.size()))) {
    throw std::runtime_error(path.string() + ": cannot read the " + what);
  }
  return data;
}

class TokenizerJsonHandler {
 public:
  explicit TokenizerJsonHandler(json& rest) : dom_(rest, true) {}

  std::vector<std::pair<int64_t, std::string>> vocab;  // (id, token) in file order
  std::vector<std::pair<std::string, std::string>> merges;
  std::string error;

  bool null() { return capture_ == Capture::None ? dom_.null() : bad("null"); }
  bool boolean(bool b) { return capture_ == Capture::None ? dom_.boolean(b) : bad("boolean"); }
  bool number_integer(json::number_integer_t n) {
    if (capture_ == Capture::Vocab) return add_vocab(n);
    return capture_ == Capture::None ? dom_.number_integer(n) : bad("number");
  }
  bool number_unsigned(json::number_unsigned_t n) {
    if (capture_ == Capture::Vocab) return add_vocab(static_cast<int64_t>(n));
    return capture_ == Capture::None ? dom_.number_unsigned(n) : bad("number");
  }
  bool number_float(json::number_float_t x, const json::string_t& s) {
    return capture_ == Capture::None ? dom_.number_float(x, s) : bad("number");
  }
  bool binary(json::binary_t& b) { return capture_ == Capture::None ? dom_.binary(b) : bad("binary"); }

  bool string(json::string_t& s) {
    if (capture_ == Capture::None) return dom_.string(s);
    if (capture_ != Capture::Merges) return bad("string");
    if (depth_ == capture_depth_) {  // "left right"
      const size_t space = s.find(' ', 1);
      if (space == std::string::npos) return fail("merge " + std::to_string(merges.size()) + " '" + s + "' is not two tokens");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else {  // ["left", "right"]
      pair_parts_.push_back(std::move(s));
    }
    return true;
  }

  bool key(json::string_t& k) {
    if (capture_ == Capture::Vocab) {
      pending_token_ = std::move(k);
      return true;
    }
    if (capture_ != Capture::None) return bad("key");
    // model.vocab and model.merges: depth 2, inside the "model" member of the root.
    if (depth_ == 2 && keys_[1] == "model" && (k == "vocab" || k == "merges")) {
      capture_ = k == "vocab" ? Capture::VocabStart : Capture::MergesStart;
      return true;
    }
    if (depth_ < kMaxTracked) keys_[depth_] = k;
    return dom_.key(k);
  }

  bool start_object(std::size_t n) {
    ++depth_;
    if (capture_ == Capture::VocabStart) {
      capture_ = Capture::Vocab;
      capture_depth_ = depth_;
      return true;
    }
    if (capture_ != Capture::None) return bad("object");
    return dom_.start_object(n);
  }
  bool end_object() {
    --depth_;
    if (capture_ == Capture::Vocab) {
      capture_ = Capture::None;
      return true;
    }
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    ++depth_;
    if (capture_ == Capture::MergesStart) {
      capture_ = Capture::Merges;
      capture_depth_ = depth_;
      return true;
    }
    if (capture_ == Capture::Merges && depth_ == capture_depth_ + 1) {
      pair_parts_.clear();
      return true;
    }
    if (capture_ != Capture::None) return bad("array");
    return dom_.start_array(n);
  }
  bool end_array() {
    --depth_;
    if (capture_ == Capture::Merges) {
      if (depth_ + 1 == capture_depth_) {
        capture_ = Capture::None;
        return true;
      }
      if (pair_parts_.size() != 2) {
        return fail("merge " + std::to_string(merges.size()) + " has " +
                    std::to_string(pair_parts_.size()) + " parts instead of 2");
      }
      merges.emplace_back(std::move(pair_parts_[0]), std::move(pair_parts_[1]));
      return true;
    }
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    return fail("invalid JSON at byte " + std::to_string(position) + ": " + e.what());
  }

 private:
  enum class Capture { None, VocabStart, Vocab, MergesStart, Merges };
  static constexpr int kMaxTracked = 8;

  bool add_vocab(int64_t id) {
    vocab.emplace_back(id, std::move(pending_token_));
    return true;
  }
  bool bad(const char* what) {
    return fail(std::string("unexpected ") + what + " inside model." +
                (capture_ == Capture::Vocab || capture_ == Capture::VocabStart ? "vocab" : "merges"));
  }
  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  Capture capture_ = Capture::None;
  int depth_ = 0, capture_depth_ = 0;
  std::string keys_[kMaxTracked];
  std::string pending_token_;
  std::vector<std::string> pair_parts_;
};

// The Split/ByteLevel/Digits pre-tokenizers as regular expressions, in order.
void collect_pre_tokenizer(const json& p, std::vector<std::string>& patterns, const std::string& file) {
  if (p.is_null()) return;
  const std::string type = p.value("type", "");
  if (type == "Sequence") {
    for (const json& sub : p.at("pretokenizers")) collect_pre_tokenizer(sub, patterns, file);
  } else if (type == "Split") {
    const json& pattern = p.at("pattern");
    const std::string behavior = p.value("behavior", "Isolated");
    if (behavior != "Isolated" || p.value("invert", false)) {
      throw std::runtime_error(file + ": unsupported Split pre-tokenizer behavior '" + behavior + "'");
    }
    if (pattern.contains("Regex")) {
      patterns.push_back(pattern.at("Regex").get<std::string>());
    } else {
      patterns.push_back("\\Q" + pattern.at("String").get<std::string>() + "\\E");
    }
  } else if (type == "ByteLevel") {
    if (p.value("add_prefix_space", false)) {
      throw std::runtime_error(file + ": ByteLevel pre-tokenizer with add_prefix_space is not supported");
    }
    if (p.value("use_regex", true)) patterns.push_back(kGpt2Pattern);
  } else if (type == "Digits") {
    patterns.push_back(p.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+");
  } else {
    throw std::runtime_error(file + ": unsupported pre-tokenizer type '" + type + "'");
  }
}

// A special token in tokenizer_config.json: a string, an AddedToken object, or null.
std::string config_token_text(const json& config, const char* key) {
  if (!config.contains(key)) return {};
  const json& t = config.at(key);
  if (t.is_string()) return t.get<std::string>();
  if (t.is_object() && t.contains("content")) return t.at("content").get<std::string>();
  return {};
}

std::filesystem::path find_config_beside(const std::filesystem::path& tokenizer_json) {
  const auto dir = tokenizer_json.parent_path();
  for (const auto& candidate : {dir / "tokenizer_config.json",
                                dir / (tokenizer_json.stem().string() + "_config.json")}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return {};
}

void apply_config(Vocab& v, const std::filesystem::path& path) {
  const std::string name = path.string();
  json config;
  try {
    config = json::parse(read_file(path, "tokenizer config"));
  } catch (const json::exception& e) {
    throw std::runtime_error(name + ": " + e.what());
  }
  auto id_of = [&](const char* key) -> TokenId {
    const std::string text = config_token_text(config, key);
    if (text.empty()) return kNoToken;
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      if (v.tokens[i] == text) return static_cast<TokenId>(i);
    }
    throw std::runtime_error(name + ": " + key + " '" + text + "' is not a token of the vocabulary");
  };
  if (config.contains("bos_token")) v.bos = id_of("bos_token");
  if (config.contains("eos_token")) v.eos = id_of("eos_token");
  if (config.contains("pad_token")) v.pad = id_of("pad_token");
  if (config.contains("unk_token")) v.unk = id_of("unk_token");
  if (config.value("add_bos_token", false) && v.bos != kNoToken) v.add_bos = true;
  if (config.value("add_eos_token", false) && v.eos != kNoToken) v.add_eos = true;
  if (config.contains("chat_template")) {
    const json& t = config.at("chat_template");
    if (t.is_string()) {
      v.chat_template = t.get<std::string>();
    } else if (t.is_array()) {  // [{name, template}, ...]: the default one
      for (const json& named : t) {
        if (named.value("name", "") == "default") v.chat_template = named.value("template", "");
      }
    }
  }
}

}  // namespace

Vocab load_hf_tokenizer(const std::filesystem::path& tokenizer_json,
                        const std::filesystem::path& tokenizer_config) {
  const std::string file = tokenizer_json.string();
  const std::string text = read_file(tokenizer_json, "tokenizer.json");

  json rest;
  TokenizerJsonHandler handler(rest);
  if (!json::sax_parse(text, &handler) || !handler.error.empty()) {
    throw std::runtime_error(file + ": " + (handler.error.empty() ? "invalid JSON" : handler.error));
  }

  Vocab v;
  v.model = VocabModel::Bpe;
  v.source = file;
  v.add_space_prefix = false;
  try {
    const json& model = rest.at("model");
    const std::string type = model.value("type", "");
    if (type != "BPE") throw std::runtime_error("model type '" + type + "' is not supported (only BPE)");
    if (model.value("byte_fallback", false)) throw std::runtime_error("BPE with byte_fallback is not supported");
    v.ignore_merges = model.value("ignore_merges", false);

    // Tokens by id: the model's vocab, then added tokens (which may also be in the vocab).
    constexpr int64_t kMaxTokens = 1 << 24;
    auto place = [&](int64_t id, std::string token, TokenType type) {
      if (id < 0 || id >= kMaxTokens) {
        throw std::runtime_error("token '" + token + "' has id " + std::to_string(id) + " out of range");
      }
      if (static_cast<size_t>(id) >= v.tokens.size()) {
        v.tokens.resize(id + 1);
        v.types.resize(id + 1, TokenType::Undefined);
      }
      if (v.types[id] != TokenType::Undefined && type == TokenType::Normal) {
        throw std::runtime_error("tokens '" + v.tokens[id] + "' and '" + token + "' share id " + std::to_string(id));
      }
      v.tokens[id] = std::move(token);
      v.types[id] = type;
    };
    v.tokens.reserve(handler.vocab.size() + 64);
    for (auto& [id, token] : handler.vocab) place(id, std::move(token), TokenType::Normal);
    if (rest.contains("added_tokens")) {
      for (const json& t : rest.at("added_tokens")) {
        const bool special = t.value("special", false);
        place(t.at("id").get<int64_t>(), t.at("content").get<std::string>(),
              special ? TokenType::Control : TokenType::UserDefined);
      }
    }
    for (size_t i = 0; i < v.types.size(); ++i) {
      if (v.types[i] == TokenType::Undefined) throw std::runtime_error("no token has id " + std::to_string(i));
    }
    v.merges = std::move(handler.merges);

    if (rest.contains("normalizer") && !rest.at("normalizer").is_null()) {
      // Qwen2 declares NFC; its test vectors (and most text) are already NFC, so it is not applied.
      const std::string type = rest.at("normalizer").value("type", "");
      if (type != "NFC") throw std::runtime_error("normalizer '" + type + "' is not supported");
    }
    if (rest.contains("pre_tokenizer")) collect_pre_tokenizer(rest.at("pre_tokenizer"), v.pre_regexes, file);
    if (v.pre_regexes.empty()) v.pre = "none";
  } catch (const json::exception& e) {
    throw std::runtime_error(file + ": " + e.what());
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    if (what.rfind(file, 0) == 0) throw;
    throw std::runtime_error(file + ": " + what);
  }

  // Without a config, the usual end-of-text token is the EOS.
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i] == "<|endoftext|>" && v.types[i] == TokenType::Control) v.eos = static_cast<TokenId>(i);
  }
  const auto config = tokenizer_config.empty() ? find_config_beside(tokenizer_json) : tokenizer_config;
  if (!config.empty()) apply_config(v, config);
  return v;
}

}  // namespace qes
