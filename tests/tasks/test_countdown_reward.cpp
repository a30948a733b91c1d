// Countdown prompt and reward: one row per branch of the reference's checks,
// and 1500 random completions scored by the reference rules in Python.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qes/tasks/countdown.hpp"
#include "test_paths.hpp"

namespace qes::tasks {
namespace {

using countdown::AnswerVerdict;

struct Row {
  const char* what;
  std::string completion;  // the model's text; scored as kResponsePrompt + completion
  std::vector<int64_t> numbers;
  const char* target;
  double format;
  AnswerVerdict verdict;
};

const std::vector<int64_t> k3{44, 19, 35};  // target 98: 44 + 19 + 35

std::vector<Row> rows() {
  using V = AnswerVerdict;
  return {
      {"full format, correct", "I add them.</think>\n<answer>(44 + 19) + 35</answer>", k3, "98", 1.0, V::correct},
      {"model repeats <think>", "<think>I add them.</think>\n<answer>44 + 19 + 35</answer>", k3, "98", 1.0, V::correct},
      {"missing </think>", "I add them.\n<answer>44 + 19 + 35</answer>", k3, "98", 0.5, V::correct},
      {"missing answer", "I add them.</think>\nThe answer is 98.", k3, "98", 0.1, V::no_answer},
      {"missing both", "98", k3, "98", 0.0, V::no_answer},
      {"empty completion", "", k3, "98", 0.0, V::no_answer},
      {"unclosed answer", "x</think>\n<answer>44 + 19 + 35", k3, "98", 0.1, V::no_answer},
      {"text after the answer", "x</think>\n<answer>44 + 19 + 35</answer> Done.", k3, "98", 0.6, V::correct},
      {"one final newline is still full", "x</think>\n<answer>44 + 19 + 35</answer>\n", k3, "98", 1.0, V::correct},
      {"two final newlines are not", "x</think>\n<answer>44 + 19 + 35</answer>\n\n", k3, "98", 0.6, V::correct},
      {"stop token left in the text", "x</think>\n<answer>44 + 19 + 35</answer><|im_end|>", k3, "98", 0.6, V::correct},
      {"no newline between tags", "x</think><answer>44 + 19 + 35</answer>", k3, "98", 0.6, V::correct},
      {"space before the newline", "x</think> \n<answer>44 + 19 + 35</answer>", k3, "98", 0.6, V::correct},
      {"two answers, last wins (correct)", "x</think>\n<answer>1 + 2</answer> so <answer>44 + 19 + 35</answer>", k3, "98", 1.0, V::correct},
      {"two answers, last wins (wrong)", "x</think>\n<answer>44 + 19 + 35</answer> no: <answer>44 + 19 - 35</answer>", k3, "98", 1.0, V::wrong_value},
      {"last complete pair wins", "x</think>\n<answer>1 + 2</answer> <answer>44 + 19 + 35", k3, "98", 0.6, V::wrong_numbers},
      {"nested opening tag", "x</think>\n<answer><answer>44 + 19 + 35</answer>", k3, "98", 1.0, V::illegal_characters},
      {"empty answer", "x</think>\n<answer></answer>", k3, "98", 1.0, V::empty_answer},
      {"equation with =", "x</think>\n<answer>44 + 19 + 35 = 98</answer>", k3, "98", 1.0, V::illegal_characters},
      {"letter x for times", "x</think>\n<answer>44 x 19 + 35</answer>", k3, "98", 1.0, V::illegal_characters},
      {"unicode minus", "x</think>\n<answer>44 \xe2\x88\x92 19 + 35</answer>", k3, "98", 1.0, V::illegal_characters},
      {"fullwidth digits", "x</think>\n<answer>\xef\xbc\x94\xef\xbc\x94 + 19 + 35</answer>", k3, "98", 1.0, V::illegal_characters},
      {"tab inside", "x</think>\n<answer>44\t+ 19 + 35</answer>", k3, "98", 1.0, V::illegal_characters},
      {"leading newline inside", "x</think>\n<answer>\n44 + 19 + 35</answer>", k3, "98", 1.0, V::illegal_characters},
      {"final newline inside is allowed", "x</think>\n<answer>44 + 19 + 35\n</answer>", k3, "98", 1.0, V::correct},
      {"spaces around", "x</think>\n<answer>   44+19 +35  </answer>", k3, "98", 1.0, V::correct},
      {"unicode junk in the reasoning", "\xe6\x80\x9d\xe8\x80\x83 \xf0\x9f\xa4\x94</think>\n<answer>44 + 19 + 35</answer>", k3, "98", 1.0, V::correct},
      {"unicode junk after", "x</think>\n<answer>44 + 19 + 35</answer>\xf0\x9f\x8e\x89", k3, "98", 0.6, V::correct},
      {"invalid UTF-8 bytes", "\xff\xfe</think>\n<answer>44 + 19 + 35</answer>", k3, "98", 1.0, V::correct},
      {"number missing", "x</think>\n<answer>44 + 19</answer>", k3, "98", 1.0, V::wrong_numbers},
      {"extra number", "x</think>\n<answer>44 + 19 + 35 + 0</answer>", k3, "98", 1.0, V::wrong_numbers},
      {"number reused", "x</think>\n<answer>44 + 19 + 35 + 35 - 35</answer>", k3, "98", 1.0, V::wrong_numbers},
      {"wrong number", "x</think>\n<answer>45 + 19 + 34</answer>", k3, "98", 1.0, V::wrong_numbers},
      {"huge literal", "x</think>\n<answer>44 + 19 + 35 + 99999999999999999999999</answer>", k3, "98", 1.0, V::wrong_numbers},
      {"wrong value", "x</think>\n<answer>44 + 19 - 35</answer>", k3, "98", 1.0, V::wrong_value},
      {"unbalanced parenthesis", "x</think>\n<answer>(44 + 19 + 35</answer>", k3, "98", 1.0, V::invalid_expression},
      {"extra closing parenthesis", "x</think>\n<answer>44 + 19 + 35)</answer>", k3, "98", 1.0, V::invalid_expression},
      {"trailing operator", "x</think>\n<answer>44 + 19 + 35 +</answer>", k3, "98", 1.0, V::invalid_expression},
      {"missing operator", "x</think>\n<answer>44 19 + 35</answer>", k3, "98", 1.0, V::invalid_expression},
      {"leading zero literal", "x</think>\n<answer>044 + 19 + 35</answer>", k3, "98", 1.0, V::invalid_expression},
      {"implicit multiplication", "x</think>\n<answer>44(19) + 35</answer>", k3, "98", 1.0, V::invalid_expression},
      {"parentheses", "x</think>\n<answer>((63 - 95) + 96)</answer>", {63, 95, 96}, "64", 1.0, V::correct},
      {"division", "x</think>\n<answer>83 - 78 / 39 + 1</answer>", {83, 78, 39, 1}, "82", 1.0, V::correct},
      {"floor division as Python", "x</think>\n<answer>7 // 2 + 1</answer>", {7, 2, 1}, "4", 1.0, V::correct},
      {"power as Python", "x</think>\n<answer>2 ** 3 + 1</answer>", {2, 3, 1}, "9", 1.0, V::correct},
      {"division by zero", "x</think>\n<answer>3 / (5 - 5)</answer>", {5, 5, 3}, "3", 1.0, V::invalid_expression},
      {"non-integer target", "x</think>\n<answer>8 * 100 / 3</answer>", {8, 100, 3}, "266.6666666666667", 1.0, V::correct},
      {"non-integer target, other order", "x</think>\n<answer>100 / 3 * 8</answer>", {8, 100, 3}, "266.6666666666667", 1.0, V::correct},
      {"within 1e-5", "x</think>\n<answer>8 * 100 / 3</answer>", {8, 100, 3}, "266.66667", 1.0, V::correct},
      {"just outside 1e-5", "x</think>\n<answer>8 * 100 / 3</answer>", {8, 100, 3}, "266.66668", 1.0, V::wrong_value},
      {"negative target", "x</think>\n<answer>3 * 2 - 10</answer>", {3, 10, 2}, "-4", 1.0, V::correct},
      {"negative non-integer target", "x</think>\n<answer>(97 + 76) / (86 - 97 - 99 + 99)</answer>", {97, 76, 86, 97, 99, 99}, "-15.727272727272727", 1.0, V::correct},
      {"target that is not a number", "x</think>\n<answer>44 + 19 + 35</answer>", k3, "ninety-eight", 1.0, V::bad_target},
  };
}

TEST(CountdownReward, EveryBranch) {
  for (const Row& row : rows()) {
    SCOPED_TRACE(row.what);
    CountdownProblem problem{0, row.numbers, row.target, std::nullopt};
    const std::string response = std::string(countdown::kResponsePrompt) + row.completion;
    EXPECT_EQ(countdown::verdict_name(countdown::judge_answer(response, row.numbers, row.target)),
              countdown::verdict_name(row.verdict));
    const Score score = countdown::score_completion(row.completion, problem);
    EXPECT_EQ(score.format, row.format);
    const double answer = row.verdict == AnswerVerdict::correct ? 1.0 : 0.0;
    EXPECT_EQ(score.answer, answer);
    EXPECT_EQ(score.reward, row.format * 0.1 + answer);
    EXPECT_EQ(score.correct, row.verdict == AnswerVerdict::correct);
  }
}

TEST(CountdownReward, FormatRewardOnPrefixedText) {
  // format_reward sees "<think>" + response, as the reference's reward_function passes it.
  EXPECT_EQ(countdown::format_reward("<think>a</think>\n<answer>b</answer>"), 1.0);
  EXPECT_EQ(countdown::format_reward("<think></think>\n<answer></answer>"), 1.0);  // both parts may be empty
  EXPECT_EQ(countdown::format_reward(" <think>a</think>\n<answer>b</answer>"), 0.6);  // anchored at the start
  EXPECT_EQ(countdown::format_reward("<think>a</think>\n<answer>b</answer>\n"), 1.0);
  EXPECT_EQ(countdown::format_reward("</think><think>"), 0.0);       // closing before opening
  EXPECT_EQ(countdown::format_reward("</answer><answer>"), 0.0);
  EXPECT_EQ(countdown::format_reward("<think></think>"), 0.1);
  EXPECT_EQ(countdown::format_reward("<answer></answer>"), 0.5);
  EXPECT_EQ(countdown::format_reward("<think></think><answer></answer>"), 0.1 + 0.5);
  // The text between the tags may itself contain tags (non-greedy with backtracking).
  EXPECT_EQ(countdown::format_reward("<think>a</think>\n<answer>b</answer> c </answer>"), 1.0);
  EXPECT_EQ(countdown::format_reward("<think>a</think>\n<answer>"), 0.1);
  // "</think>\n<answer>" must end before the final "</answer>" begins.
  EXPECT_EQ(countdown::format_reward("<think></think>\n<answer>/answer>"), 0.1);
}

TEST(CountdownReward, LastAnswerIsFindallsLast) {
  EXPECT_EQ(countdown::last_answer("<answer>a</answer><answer>b</answer>"), "b");
  EXPECT_EQ(countdown::last_answer("<answer>a<answer>b</answer>"), "a<answer>b");
  EXPECT_EQ(countdown::last_answer("<answer>a</answer></answer>"), "a");
  EXPECT_EQ(countdown::last_answer("<answer>a</answer><answer>b"), "a");
  EXPECT_EQ(countdown::last_answer("<answer>multi\nline</answer>"), "multi\nline");
  EXPECT_FALSE(countdown::last_answer("no tags").has_value());
  EXPECT_FALSE(countdown::last_answer("</answer><answer>").has_value());
}

TEST(CountdownPrompt, UserMessageAndChatMLAsThePapersCode) {
  EXPECT_EQ(countdown::user_message(k3, "98"),
            "Using the numbers [44, 19, 35], create an equation that equals 98. You can use basic arithmetic "
            "operations (+, -, *, /) and each number can only be used once. Show your work in <think> </think> "
            "tags. And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 "
            "</answer>.");
  CountdownTask task({{0, k3, "98", "((44 + 19) + 35)"}}, {{1, {8, 100, 3}, "266.6666666666667", std::nullopt}});
  EXPECT_EQ(task.rendered_prompt(Split::train, 0),
            "<|im_start|>system\nYou are a helpful assistant. You first think about the reasoning process in your "
            "mind and then provide the user with the answer.<|im_end|>\n<|im_start|>user\nUsing the numbers "
            "[44, 19, 35], create an equation that equals 98. You can use basic arithmetic operations (+, -, *, /) "
            "and each number can only be used once. Show your work in <think> </think> tags. And return the final "
            "answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>.<|im_end|>\n"
            "<|im_start|>assistant\n");
  const ChatPrompt test_prompt = task.prompt(Split::test, 0);
  EXPECT_EQ(test_prompt.system, countdown::kSystemMessage);
  EXPECT_NE(test_prompt.user.find("[8, 100, 3]"), std::string::npos);
  EXPECT_NE(test_prompt.user.find("equals 266.6666666666667."), std::string::npos);
  EXPECT_TRUE(test_prompt.assistant_prefix.empty());

  CountdownTask prefilled({{0, k3, "98", std::nullopt}}, {}, CountdownTask::Options{true});
  EXPECT_TRUE(prefilled.rendered_prompt(Split::train, 0).ends_with("<|im_start|>assistant\nLet me solve this step by step.\n<think>"));
  // Scoring does not depend on the prefill: the reference always prepends the response prompt.
  EXPECT_EQ(prefilled.score(Split::train, 0, "</think>\n<answer>44+19+35</answer>").reward, 1.1);
  EXPECT_EQ(task.score(Split::train, 0, "</think>\n<answer>44+19+35</answer>").reward, 1.1);
  EXPECT_THROW(task.score(Split::test, 1, ""), std::out_of_range);
}

TEST(CountdownPrompt, ChatMLWithoutSystemMessage) {
  EXPECT_EQ(render_chatml({"", "hi", ""}), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render_chatml({"s", "u", "p"}),
            "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\np");
}

// 1500 random completions (good, broken, junk) with the reward the reference
// rules gave in Python (re + eval): ours must agree exactly on every one.
TEST(CountdownReward, MatchesPythonOracle) {
  std::ifstream in(test::fixture("countdown_oracle_cases.jsonl"));
  ASSERT_TRUE(in) << "missing fixture; regenerate with tests/tasks/make_countdown_oracle_cases.py";
  std::string line;
  int cases = 0, correct = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    CountdownProblem problem{0, c["numbers"].get<std::vector<int64_t>>(), c["target"].get<std::string>(), std::nullopt};
    const std::string completion = c["completion"];
    SCOPED_TRACE("completion: " + completion);
    const Score score = countdown::score_completion(completion, problem);
    ASSERT_EQ(score.format, c["format"].get<double>());
    ASSERT_EQ(score.answer, c["answer"].get<double>());
    ASSERT_EQ(score.reward, c["reward"].get<double>());
    // The "ES at scale" scoring (prompt prefilled with the response prompt, the
    // completion scored alone) gives the same numbers, so prefilling is safe.
    const Score alone = countdown::score_response(completion, problem.numbers, problem.target);
    ASSERT_EQ(alone.reward, score.reward);
    correct += score.correct;
    ++cases;
  }
  EXPECT_EQ(cases, 1500);
  EXPECT_GT(correct, 100);  // the fixture exercises the correct path, not only failures
}

}  // namespace
}  // namespace qes::tasks
