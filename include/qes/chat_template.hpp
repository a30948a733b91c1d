#pragma once
// Chat prompts in the two formats qes's models use, written out in C++ (no Jinja engine):
//
//   ChatML (Qwen):  <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n
//                   <|im_start|>assistant\n
//   llama-2:        <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s>
//                   <s>[INST] {user} [/INST]
//
// The style is detected from the model's tokenizer.chat_template ("<|im_start|>" or "[INST]")
// or forced by name. Encode the rendered text with encode_chat (or encode(text, false, true)) so
// the markers become their control tokens.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qes/tokenizer.hpp"

namespace qes {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class ChatStyle { ChatML, Llama2 };

struct ChatTemplate {
  ChatStyle style = ChatStyle::ChatML;
  // ChatML: the system turn some templates insert when the conversation has none (Qwen2.5:
  // "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."). Empty: none.
  std::string default_system;
  // llama-2: each exchange is wrapped in the vocabulary's BOS and EOS texts.
  std::string bos_text = "<s>";
  std::string eos_text = "</s>";
};

enum class ChatEnding {
  Closed,               // every turn closed, nothing after the last
  GenerationPrompt,     // then open an assistant turn for the model to write
  ContinueLastMessage,  // leave the last message open: the model continues it (a prompt that
                        // ends "<|im_start|>assistant\nLet me solve this step by step.\n<think>")
};

// From a Jinja chat template's source; nullopt when it is neither ChatML nor llama-2 style.
std::optional<ChatTemplate> detect_chat_template(std::string_view jinja_source);

// "chatml" (also "qwen", "qwen2") or "llama2" (also "llama-2"); throws for any other name.
ChatTemplate chat_template_by_name(std::string_view name);

// The forced name if given, else detected from tokenizer.vocab().chat_template; BOS/EOS texts
// from the vocabulary. Throws when neither gives a template.
ChatTemplate chat_template_for(const Tokenizer& tokenizer, std::string_view forced_name = {});

// Throws std::invalid_argument for an empty conversation, or (llama-2) turns that do not
// alternate user/assistant after an optional leading system message.
std::string render_chat(const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                        ChatEnding ending);

// render_chat, then encode with the markers parsed as special tokens; adds BOS when the
// vocabulary wants one and the rendered text does not already start with it.
std::vector<TokenId> encode_chat(const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                 std::span<const ChatMessage> messages, ChatEnding ending);

}  // namespace qes
