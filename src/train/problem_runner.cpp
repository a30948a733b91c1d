#include "qes/train/problem_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "qes/es/philox.hpp"
#include "qes/generate_text.hpp"

namespace qes::train {

std::string render_prompt(const tasks::Task& task, tasks::Split split, size_t index, bool chatml) {
  if (chatml) return task.rendered_prompt(split, index);
  const tasks::ChatPrompt p = task.prompt(split, index);
  std::string text;
  if (!p.system.empty()) text = p.system + "\n\n";
  return text + p.user + p.assistant_prefix;
}

ProblemRunner::ProblemRunner(const tasks::Task& task, const Tokenizer& tokenizer, const Model& model,
                             GeneratorOptions generator, const PromptOptions& options, size_t eval_count)
    : task_(task), tokenizer_(tokenizer), options_(options) {
  if (options.chat_template == "chatml") {
    chatml_ = true;
  } else if (options.chat_template.empty()) {
    chatml_ = tokenizer.find("<|im_start|>").has_value();
  }
  for (int32_t id = 0; id < tokenizer.n_tokens(); id++)
    if (tokenizer.is_end_of_generation(id)) stop_tokens_.push_back(id);

  train_prompts_.resize(task.size(tasks::Split::train));
  for (size_t i = 0; i < train_prompts_.size(); i++) train_prompts_[i] = encode(tasks::Split::train, i);
  size_t n_eval = task.size(tasks::Split::test);
  if (eval_count > 0) n_eval = std::min(n_eval, eval_count);
  eval_prompts_.resize(n_eval);
  for (size_t i = 0; i < n_eval; i++) eval_prompts_[i] = encode(tasks::Split::test, i);
  if (generator.max_context == 0) generator.max_context = longest_sequence();
  generator_ = std::make_unique<Generator>(model, generator);
}

std::vector<int32_t> ProblemRunner::encode(tasks::Split split, size_t index) const {
  return encode_prompt(tokenizer_, render_prompt(task_, split, index, chatml_));
}

const std::vector<int32_t>& ProblemRunner::prompt_tokens(tasks::Split split, size_t index) const {
  const auto& v = split == tasks::Split::train ? train_prompts_ : eval_prompts_;
  if (index >= v.size())
    throw std::out_of_range("problem " + std::to_string(index) + " of the " + std::string(tasks::split_name(split)) +
                            " split is not prepared (" + std::to_string(v.size()) + " are)");
  return v[index];
}

int ProblemRunner::longest_sequence() const {
  size_t longest = 0;
  for (const auto& p : train_prompts_) longest = std::max(longest, p.size());
  for (const auto& p : eval_prompts_) longest = std::max(longest, p.size());
  return static_cast<int>(longest) + options_.max_new_tokens;
}

RunOutcome ProblemRunner::run(tasks::Split split, std::span<const size_t> indices, uint64_t sampling_stream,
                              bool keep_texts) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<GenerationRequest> requests(indices.size());
  for (size_t k = 0; k < indices.size(); k++) {
    GenerationRequest& r = requests[k];
    r.prompt = prompt_tokens(split, indices[k]);
    r.max_tokens = options_.max_new_tokens;
    r.stop_tokens = stop_tokens_;
    r.sampling.temperature = static_cast<float>(options_.temperature);
    // One seed per (stream, split, problem): the same for every member.
    const es::PhiloxKey key = es::derive_stream_key({options_.sampling_seed, es::StreamPurpose::kTest,
                                                     static_cast<uint32_t>(sampling_stream),
                                                     static_cast<uint32_t>(split), 0x5A3u,
                                                     static_cast<uint32_t>(indices[k])});
    r.sampling.seed = (uint64_t(key.k1) << 32) | key.k0;
  }
  TokenizerDecoder decoder(tokenizer_);
  GenerationStats stats;
  const std::vector<GenerationResult> results = generator_->generate(requests, &stats, &decoder);

  RunOutcome out;
  out.n = indices.size();
  out.rewards.resize(indices.size());
  double sum = 0;
  size_t correct = 0;
  for (size_t k = 0; k < indices.size(); k++) {
    const tasks::Score s = task_.score(split, indices[k], results[k].text);
    if (!std::isfinite(s.reward))
      throw std::runtime_error("task " + std::string(task_.name()) + ": non-finite reward for problem " +
                               std::to_string(indices[k]));
    out.rewards[k] = s.reward;
    sum += s.reward;
    correct += s.correct ? 1 : 0;
    out.generated_tokens += static_cast<int64_t>(results[k].tokens.size());
    if (keep_texts) out.texts.push_back(results[k].text);
  }
  out.mean_reward = indices.empty() ? 0 : sum / double(indices.size());
  out.accuracy = indices.empty() ? 0 : double(correct) / double(indices.size());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

RunOutcome ProblemRunner::run_eval(bool keep_texts) {
  std::vector<size_t> idx(eval_prompts_.size());
  for (size_t i = 0; i < idx.size(); i++) idx[i] = i;
  return run(tasks::Split::test, idx, 0xE7A1u, keep_texts);
}

}  // namespace qes::train
