#include "qes/chat_template.hpp"

#include <stdexcept>

namespace qes {
namespace {

std::string_view strip(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(first, last - first + 1);
}

std::string_view lstrip(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\n\r\f\v");
  return first == std::string_view::npos ? std::string_view{} : s.substr(first);
}

// Qwen2/2.5 templates spell their default system turn as one literal:
//   '<|im_start|>system\nYou are Qwen, ... assistant.<|im_end|>\n'
// (with "\n" written as backslash-n in the Jinja source). Templates that only open the system
// turn around messages[0].content have nothing between "system\n" and the closing quote.
std::string find_default_system(std::string_view src) {
  constexpr std::string_view open = "<|im_start|>system\\n";
  constexpr std::string_view close = "<|im_end|>";
  for (size_t pos = src.find(open); pos != std::string_view::npos; pos = src.find(open, pos + 1)) {
    const size_t start = pos + open.size();
    const size_t end = src.find(close, start);
    if (end == std::string_view::npos) break;
    const std::string_view literal = src.substr(start, end - start);
    if (literal.empty() || literal.find_first_of("'\"{}+") != std::string_view::npos) continue;
    std::string text;
    for (size_t i = 0; i < literal.size(); ++i) {
      if (literal[i] == '\\' && i + 1 < literal.size() && literal[i + 1] == 'n') {
        text += '\n';
        ++i;
      } else {
        text += literal[i];
      }
    }
    return text;
  }
  return {};
}

std::string render_chatml(const ChatTemplate& t, std::span<const ChatMessage> messages,
                          ChatEnding ending) {
  std::string out;
  if (!t.default_system.empty() && messages.front().role != "system") {
    out += "<|im_start|>system\n" + t.default_system + "<|im_end|>\n";
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    out += "<|im_start|>" + messages[i].role + "\n" + messages[i].content;
    const bool open = ending == ChatEnding::ContinueLastMessage && i + 1 == messages.size();
    if (!open) out += "<|im_end|>\n";
  }
  if (ending == ChatEnding::GenerationPrompt) out += "<|im_start|>assistant\n";
  return out;
}

// As Meta's reference template: the system message goes inside the first [INST] block, contents
// are stripped, each exchange is <s>[INST] user [/INST] assistant </s>.
std::string render_llama2(const ChatTemplate& t, std::span<const ChatMessage> messages,
                          ChatEnding ending) {
  std::string system;
  size_t first = 0;
  if (messages.front().role == "system") {
    system = std::string(strip(messages.front().content));
    first = 1;
  }
  std::string out;
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const bool user_turn = (i - first) % 2 == 0;
    if (m.role != (user_turn ? "user" : "assistant")) {
      throw std::invalid_argument("llama-2 chat: message " + std::to_string(i) + " has role '" + m.role +
                                  "' but turns must alternate user/assistant (after an optional system)");
    }
    if (user_turn) {
      std::string content(strip(m.content));
      if (i == first && first == 1) content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
      out += t.bos_text + "[INST] " + content + " [/INST]";
    } else if (ending == ChatEnding::ContinueLastMessage && i + 1 == messages.size()) {
      out += ' ';
      out += lstrip(m.content);  // open: keep its end exactly as given
    } else {
      out += ' ';
      out += strip(m.content);
      out += ' ';
      out += t.eos_text;
    }
  }
  if (first == 1 && messages.size() == 1) {  // only a system message
    out += t.bos_text + "[INST] <<SYS>>\n" + system + "\n<</SYS>>\n\n [/INST]";
  }
  return out;
}

}  // namespace

std::optional<ChatTemplate> detect_chat_template(std::string_view src) {
  if (src.find("<|im_start|>") != std::string_view::npos) {
    ChatTemplate t;
    t.style = ChatStyle::ChatML;
    t.default_system = find_default_system(src);
    return t;
  }
  if (src.find("[INST]") != std::string_view::npos) {
    ChatTemplate t;
    t.style = ChatStyle::Llama2;
    return t;
  }
  return std::nullopt;
}

ChatTemplate chat_template_by_name(std::string_view name) {
  ChatTemplate t;
  if (name == "chatml" || name == "qwen" || name == "qwen2") {
    t.style = ChatStyle::ChatML;
  } else if (name == "llama2" || name == "llama-2") {
    t.style = ChatStyle::Llama2;
  } else {
    throw std::invalid_argument("unknown chat template '" + std::string(name) +
                                "' (known: chatml, llama2)");
  }
  return t;
}

ChatTemplate chat_template_for(const Tokenizer& tokenizer, std::string_view forced_name) {
  const Vocab& v = tokenizer.vocab();
  ChatTemplate t;
  if (!forced_name.empty()) {
    t = chat_template_by_name(forced_name);
  } else if (auto detected = detect_chat_template(v.chat_template)) {
    t = *detected;
  } else {
    throw std::runtime_error(v.source + ": " +
                             (v.chat_template.empty() ? std::string("the model has no chat template")
                                                      : std::string("the chat template is neither ChatML nor llama-2 style")) +
                             "; choose one by name (chatml, llama2)");
  }
  if (t.style == ChatStyle::Llama2) {
    t.bos_text = v.bos == kNoToken ? "" : v.tokens[v.bos];
    t.eos_text = v.eos == kNoToken ? "" : v.tokens[v.eos];
  }
  return t;
}

std::string render_chat(const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                        ChatEnding ending) {
  if (messages.empty()) throw std::invalid_argument("chat template: the conversation is empty");
  return tmpl.style == ChatStyle::ChatML ? render_chatml(tmpl, messages, ending)
                                         : render_llama2(tmpl, messages, ending);
}

std::vector<TokenId> encode_chat(const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                 std::span<const ChatMessage> messages, ChatEnding ending) {
  const std::string text = render_chat(tmpl, messages, ending);
  std::vector<TokenId> ids;
  const Vocab& v = tokenizer.vocab();
  if (v.add_bos && v.bos != kNoToken && text.rfind(v.tokens[v.bos], 0) != 0) ids.push_back(v.bos);
  tokenizer.encode_append(text, ids, /*add_special=*/false, /*parse_special=*/true);
  return ids;
}

}  // namespace qes
