// Chat templates: exact ChatML and llama-2 renderings, detection from template sources, the
// open assistant turn of the QES Countdown prompt, and encoding with the markers as tokens.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>

#include "qes/chat_template.hpp"
#include "qes/gguf.hpp"
#include "qes/gguf_vocab.hpp"
#include "qes/model_file.hpp"
#include "qes/tokenizer.hpp"
#include "test_data.hpp"

namespace qes {
namespace {

const std::vector<ChatMessage> kCountdown = {
    {"system", "You are a helpful assistant. You first think about the reasoning process in your mind "
               "and then provide the user with the answer."},
    {"user", "Using the numbers [44 19 35], create an equation that equals 98."},
    {"assistant", "Let me solve this step by step.\n<think>"}};

TEST(ChatTemplate, ChatMLGenerationPrompt) {
  const auto t = chat_template_by_name("chatml");
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi!"}};
  EXPECT_EQ(render_chat(t, msgs, ChatEnding::GenerationPrompt),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(t, msgs, ChatEnding::Closed),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n");
}

TEST(ChatTemplate, ChatMLContinuesAnOpenAssistantTurn) {
  const auto t = chat_template_by_name("qwen");
  EXPECT_EQ(render_chat(t, kCountdown, ChatEnding::ContinueLastMessage),
            "<|im_start|>system\n" + kCountdown[0].content + "<|im_end|>\n<|im_start|>user\n" +
                kCountdown[1].content + "<|im_end|>\n<|im_start|>assistant\n"
                "Let me solve this step by step.\n<think>");
}

TEST(ChatTemplate, DetectsStyleAndQwenDefaultSystem) {
  // Qwen2.5's template inserts its own system turn; Qwen3's (qwen2-tokenizer_config.json) does not.
  const std::string qwen25 =
      "{%- if messages[0]['role'] == 'system' %}\n{{- '<|im_start|>system\\n' + messages[0]['content'] + "
      "'<|im_end|>\\n' }}\n{%- else %}\n{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. "
      "You are a helpful assistant.<|im_end|>\\n' }}\n{%- endif %}";
  const auto t = detect_chat_template(qwen25);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->style, ChatStyle::ChatML);
  EXPECT_EQ(t->default_system, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  EXPECT_EQ(render_chat(*t, std::vector<ChatMessage>{{"user", "2+2?"}}, ChatEnding::GenerationPrompt),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");

  const std::string llama2 =
      "{% for message in messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + "
      "message['content'] + ' [/INST]' }}{% endif %}{% endfor %}";
  ASSERT_TRUE(detect_chat_template(llama2).has_value());
  EXPECT_EQ(detect_chat_template(llama2)->style, ChatStyle::Llama2);
  EXPECT_FALSE(detect_chat_template("{{ messages }}").has_value());
  EXPECT_FALSE(detect_chat_template("").has_value());

  QES_REQUIRE_SHARED_FILE(config, "tokenizer/qwen2-tokenizer_config.json");
  const auto j = nlohmann::json::parse(test::read_all(config));
  const auto qwen3 = detect_chat_template(j.at("chat_template").get<std::string>());
  ASSERT_TRUE(qwen3.has_value());
  EXPECT_EQ(qwen3->style, ChatStyle::ChatML);
  EXPECT_EQ(qwen3->default_system, "");
}

TEST(ChatTemplate, Llama2Rendering) {
  const auto t = chat_template_by_name("llama2");
  const std::vector<ChatMessage> msgs = {
      {"system", "Be brief."}, {"user", " Hi! "}, {"assistant", "Hello."}, {"user", "Bye"}};
  EXPECT_EQ(render_chat(t, msgs, ChatEnding::GenerationPrompt),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Bye [/INST]");
  const std::vector<ChatMessage> open = {{"user", "Count"}, {"assistant", "1, 2, "}};
  EXPECT_EQ(render_chat(t, open, ChatEnding::ContinueLastMessage), "<s>[INST] Count [/INST] 1, 2, ");
}

TEST(ChatTemplate, RejectsBadInput) {
  EXPECT_THROW(chat_template_by_name("zephyr"), std::invalid_argument);
  const auto t = chat_template_by_name("llama2");
  EXPECT_THROW(render_chat(t, std::vector<ChatMessage>{{"assistant", "x"}}, ChatEnding::Closed),
               std::invalid_argument);
  EXPECT_THROW(render_chat(t, std::vector<ChatMessage>{}, ChatEnding::Closed), std::invalid_argument);
}

TEST(ChatTemplate, EncodesQwenCountdownPrompt) {
  QES_REQUIRE_SHARED_FILE(json, "tokenizer/qwen2-tokenizer.json");
  const Tokenizer tok(load_hf_tokenizer(json));
  const auto t = chat_template_for(tok);  // detected from the config's template
  EXPECT_EQ(t.style, ChatStyle::ChatML);
  const auto ids = encode_chat(tok, t, kCountdown, ChatEnding::ContinueLastMessage);
  const TokenId im_start = *tok.find("<|im_start|>"), im_end = *tok.find("<|im_end|>");
  EXPECT_EQ(ids.front(), im_start);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), im_start), 3);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), im_end), 2);
  EXPECT_EQ(ids.back(), *tok.find("<think>"));  // an added token: split out as one
  EXPECT_EQ(tok.decode(ids, /*render_special=*/true), render_chat(t, kCountdown, ChatEnding::ContinueLastMessage));
}

TEST(ChatTemplate, EncodesLlama2WithOneBos) {
  QES_REQUIRE_SHARED_FILE(path, "tokenizer/ggml-vocab-llama-spm.gguf");
  const Tokenizer tok(vocab_from_gguf(gguf::read_gguf(path.string()).metadata));
  EXPECT_THROW(chat_template_for(tok), std::runtime_error);  // this vocab file has no template
  const auto t = chat_template_for(tok, "llama2");
  const std::vector<ChatMessage> msgs = {{"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}};
  const auto ids = encode_chat(tok, t, msgs, ChatEnding::GenerationPrompt);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 2);  // one BOS per exchange
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 1);  // one EOS closing the answered exchange
  // As llama.cpp: the text after BOS gets the SentencePiece space, "▁[INST]▁Hi▁[/INST]".
  const auto first = tok.encode("[INST] Hi [/INST]", /*add_special=*/false);
  ASSERT_GT(ids.size(), first.size());
  EXPECT_TRUE(std::equal(first.begin(), first.end(), ids.begin() + 1));
}

}  // namespace
}  // namespace qes

namespace qes {
namespace {

// The 2200 Countdown prompts of the QES paper as chat prompts with an open assistant turn:
// the encoding work of one evaluation pass over the whole set.
TEST(ChatTemplate, CountdownPromptsEncodeQuickly) {
  QES_REQUIRE_SHARED_FILE(json, "tokenizer/qwen2-tokenizer.json");
  QES_REQUIRE_SHARED_FILE(countdown, "countdown.json");
  const Tokenizer tok(load_hf_tokenizer(json));
  const auto tmpl = chat_template_for(tok);
  std::vector<std::vector<ChatMessage>> prompts;
  for (const auto& problem : nlohmann::json::parse(test::read_all(countdown))) {
    // context = system text + "Using the numbers ..." + "Let me solve this step by step.\n<think>"
    const std::string ctx = problem.at("context").get<std::string>();
    const size_t user = ctx.find("Using the numbers"), answer = ctx.find("Let me solve this step by step.");
    ASSERT_NE(user, std::string::npos);
    ASSERT_NE(answer, std::string::npos);
    prompts.push_back({{"system", ctx.substr(0, user)},
                       {"user", ctx.substr(user, answer - user)},
                       {"assistant", ctx.substr(answer)}});
  }
  ASSERT_EQ(prompts.size(), 2200u);
  const TokenId think = *tok.find("<think>");
  for (int pass = 1; pass <= 2; ++pass) {  // the second pass finds every word in the cache
    size_t tokens = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& p : prompts) {
      const auto ids = encode_chat(tok, tmpl, p, ChatEnding::ContinueLastMessage);
      ASSERT_EQ(ids.back(), think);
      tokens += ids.size();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ speed    ] qwen2 countdown pass %d: %zu prompts, %zu tokens in %.1f ms: %.0f prompts/s, %.2f M tokens/s\n",
                pass, prompts.size(), tokens, s * 1e3, prompts.size() / s, tokens / s / 1e6);
  }

  // The same prompts through the SPM encoder (llama vocabulary, llama-2 format).
  QES_REQUIRE_SHARED_FILE(spm_path, "tokenizer/ggml-vocab-llama-spm.gguf");
  const Tokenizer spm(vocab_from_gguf(gguf::read_gguf(spm_path.string()).metadata));
  const auto llama2 = chat_template_for(spm, "llama2");
  size_t tokens = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& p : prompts) tokens += encode_chat(spm, llama2, p, ChatEnding::ContinueLastMessage).size();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ speed    ] llama-spm countdown: %zu prompts, %zu tokens in %.1f ms: %.0f prompts/s, %.2f M tokens/s\n",
              prompts.size(), tokens, s * 1e3, prompts.size() / s, tokens / s / 1e6);
}

}  // namespace
}  // namespace qes
