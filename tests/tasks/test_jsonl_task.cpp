// The JSONL task: answer matching (exact, numeric, regex), splits, prompts,
// and errors that name the file and the line.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "qes/tasks/jsonl_task.hpp"

namespace qes::tasks {
namespace {

TEST(AnswerMatcher, Exact) {
  AnswerMatcher m(MatchKind::exact, " 42\n");
  EXPECT_TRUE(m.matches("42"));
  EXPECT_TRUE(m.matches("\t42  \r\n"));
  EXPECT_FALSE(m.matches("42."));
  EXPECT_FALSE(m.matches("The answer is 42"));
  EXPECT_FALSE(m.matches(""));
  EXPECT_TRUE(AnswerMatcher(MatchKind::exact, "").matches("  "));
}

TEST(AnswerMatcher, NumericTakesTheLastNumber) {
  AnswerMatcher m(MatchKind::numeric, "42");
  EXPECT_TRUE(m.matches("42"));
  EXPECT_TRUE(m.matches("6 * 7 = 42"));
  EXPECT_TRUE(m.matches("The answer is 42.0."));
  EXPECT_TRUE(m.matches("4.2e1"));
  EXPECT_FALSE(m.matches("42 is not it, 41 is"));
  EXPECT_FALSE(m.matches("no number"));
  EXPECT_FALSE(m.matches(""));
  EXPECT_TRUE(AnswerMatcher(MatchKind::numeric, "-2.5").matches("x = -2.5"));
  EXPECT_FALSE(AnswerMatcher(MatchKind::numeric, "-2.5").matches("x = 2.5"));
  EXPECT_TRUE(AnswerMatcher(MatchKind::numeric, "0.1").matches(".1"));
  // Tolerance 1e-6 relative to the answer (absolute below 1).
  EXPECT_TRUE(AnswerMatcher(MatchKind::numeric, "1000000").matches("1000000.5"));
  EXPECT_FALSE(AnswerMatcher(MatchKind::numeric, "1000000").matches("1000002"));
  EXPECT_FALSE(AnswerMatcher(MatchKind::numeric, "0.5").matches("0.50001"));
  EXPECT_THROW(AnswerMatcher(MatchKind::numeric, "forty-two"), std::invalid_argument);
  EXPECT_THROW(AnswerMatcher(MatchKind::numeric, "inf"), std::invalid_argument);
  EXPECT_EQ(last_number_in("a1b22c-3.5d"), -3.5);
  EXPECT_EQ(last_number_in("5e"), 5.0);
  EXPECT_FALSE(last_number_in("...").has_value());
}

TEST(AnswerMatcher, RegexSearchesTheOutput) {
  AnswerMatcher m(MatchKind::regex, R"(\b(2|3|5|7)\b)");
  EXPECT_TRUE(m.matches("I pick 7."));
  EXPECT_FALSE(m.matches("I pick 9."));
  AnswerMatcher whole(MatchKind::regex, R"(^\s*yes\s*\z)");
  EXPECT_TRUE(whole.matches(" yes\n"));
  EXPECT_FALSE(whole.matches("yes, no"));
  AnswerMatcher unicode(MatchKind::regex, "^caf\u00e9.$");
  EXPECT_TRUE(unicode.matches("caf\u00e9\u00e9"));  // '.' is one code point in UTF mode
  EXPECT_FALSE(AnswerMatcher(MatchKind::regex, "x").matches(""));
  EXPECT_TRUE(AnswerMatcher(MatchKind::regex, "^$").matches(""));
  // Broken UTF-8 from a model is matched around, never an error.
  EXPECT_TRUE(AnswerMatcher(MatchKind::regex, "ok").matches("\xff\xfe ok \xc3"));
  try {
    AnswerMatcher(MatchKind::regex, "(unclosed");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not compile"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("offset 9"), std::string::npos) << e.what();
  }
}

TEST(AnswerMatcher, RegexIsSafeAcrossThreads) {
  const AnswerMatcher m(MatchKind::regex, R"(answer:\s*(\d+)\s*$)");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const bool expect = (i + t) % 2 == 0;
        const std::string text = expect ? "so the answer: " + std::to_string(i) : "no answer here";
        if (m.matches(text) != expect) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

class JsonlFiles : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::path(::testing::TempDir()) / ("qes_jsonl_" + name + ".jsonl");
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string error_of(const std::filesystem::path& path, const JsonlTask::Options& options = {}) {
    try {
      JsonlTask::load(path, options);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(JsonlFiles, LoadsPromptsAndScores) {
  const auto path = write("basic",
                          "\xEF\xBB\xBF{\"prompt\": \"What is 6 * 7?\", \"answer\": \"42\", \"match\": \"numeric\"}\r\n"
                          "\n"
                          "{\"prompt\": \"Say yes.\", \"answer\": \"yes\", \"system\": \"Be brief.\"}\n"
                          "   \n"
                          "{\"prompt\": \"A prime?\", \"answer\": \"\\\\b(2|3|5|7)\\\\b\", \"match\": \"regex\", \"id\": 9}\n"
                          "{\"prompt\": \"Half?\", \"answer\": 0.5, \"match\": \"numeric\"}");
  JsonlTask::Options options;
  options.system_prompt = "You are helpful.";
  const JsonlTask task = JsonlTask::load(path, options);
  ASSERT_EQ(task.size(Split::train), 4u);  // no split fields, no train count: all train
  EXPECT_EQ(task.size(Split::test), 0u);
  EXPECT_EQ(task.name(), "jsonl");

  EXPECT_EQ(task.rendered_prompt(Split::train, 0),
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 6 * 7?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(task.prompt(Split::train, 1).system, "Be brief.");
  EXPECT_EQ(task.problem(Split::train, 1).line, 3u);
  EXPECT_EQ(task.problem(Split::train, 2).line, 5u);

  EXPECT_EQ(task.reward(Split::train, 0, "It is 42."), 1.0);
  EXPECT_EQ(task.reward(Split::train, 0, "It is 43."), 0.0);
  EXPECT_TRUE(task.correct(Split::train, 1, " yes "));
  EXPECT_FALSE(task.correct(Split::train, 1, "Yes"));
  const Score prime = task.score(Split::train, 2, "5, of course");
  EXPECT_EQ(prime.reward, 1.0);
  EXPECT_EQ(prime.answer, 1.0);
  EXPECT_EQ(prime.format, 0.0);
  EXPECT_EQ(task.reward(Split::train, 3, "0.5"), 1.0);
  EXPECT_THROW(task.score(Split::test, 0, ""), std::out_of_range);
}

TEST_F(JsonlFiles, Splits) {
  const std::string lines =
      "{\"prompt\": \"a\", \"answer\": \"1\"}\n{\"prompt\": \"b\", \"answer\": \"2\"}\n"
      "{\"prompt\": \"c\", \"answer\": \"3\"}\n";
  const auto plain = write("plain", lines);
  JsonlTask::Options two;
  two.train_count = 2;
  const JsonlTask first_two = JsonlTask::load(plain, two);
  EXPECT_EQ(first_two.size(Split::train), 2u);
  ASSERT_EQ(first_two.size(Split::test), 1u);
  EXPECT_EQ(first_two.prompt(Split::test, 0).user, "c");
  two.train_count = 4;
  EXPECT_NE(error_of(plain, two).find("asked for 4 training problems, the file has 3"), std::string::npos);

  const auto split = write("split",
                           "{\"prompt\": \"a\", \"answer\": \"1\", \"split\": \"test\"}\n"
                           "{\"prompt\": \"b\", \"answer\": \"2\", \"split\": \"train\"}\n"
                           "{\"prompt\": \"c\", \"answer\": \"3\", \"split\": \"test\"}\n");
  const JsonlTask by_field = JsonlTask::load(split);
  ASSERT_EQ(by_field.size(Split::train), 1u);
  ASSERT_EQ(by_field.size(Split::test), 2u);
  EXPECT_EQ(by_field.prompt(Split::train, 0).user, "b");
  EXPECT_EQ(by_field.prompt(Split::test, 1).user, "c");
  JsonlTask::Options count;
  count.train_count = 1;
  EXPECT_NE(error_of(split, count).find("cannot also be given"), std::string::npos);

  const auto mixed = write("mixed",
                           "{\"prompt\": \"a\", \"answer\": \"1\", \"split\": \"test\"}\n"
                           "{\"prompt\": \"b\", \"answer\": \"2\"}\n");
  EXPECT_NE(error_of(mixed).find(mixed.string() + ":2: missing \"split\""), std::string::npos) << error_of(mixed);

  const JsonlTask two_files = JsonlTask::load_splits(plain, split, "sys");
  EXPECT_EQ(two_files.size(Split::train), 3u);
  EXPECT_EQ(two_files.size(Split::test), 3u);
  EXPECT_EQ(two_files.prompt(Split::test, 0).system, "sys");
}

TEST_F(JsonlFiles, ErrorsNameTheFileAndLine) {
  const std::string good = "{\"prompt\": \"p\", \"answer\": \"a\"}\n";
  struct Bad {
    const char* name;
    std::string text;
    const char* expect;  // after "<path>:<line>: "
    int line;
  } cases[] = {
      {"bad_json", good + good + "{\"prompt\": \"p\", \"answer\": \n", "not valid JSON", 3},
      {"not_object", good + "[1, 2]\n", "expected a JSON object, got array", 2},
      {"no_prompt", "{\"answer\": \"a\"}\n", "missing \"prompt\"", 1},
      {"prompt_type", "{\"prompt\": 5, \"answer\": \"a\"}\n", "\"prompt\" must be a string, got 5", 1},
      {"no_answer", good + "\n{\"prompt\": \"p\"}\n", "missing \"answer\"", 3},
      {"answer_type", "{\"prompt\": \"p\", \"answer\": [1]}\n", "\"answer\" must be a string or a number", 1},
      {"match_value", "{\"prompt\": \"p\", \"answer\": \"a\", \"match\": \"fuzzy\"}\n",
       "\"match\" must be \"exact\", \"numeric\" or \"regex\", got \"fuzzy\"", 1},
      {"bad_regex", good + "{\"prompt\": \"p\", \"answer\": \"a(b\", \"match\": \"regex\"}\n", "regex answer \"a(b\" does not compile: missing closing parenthesis at offset 3", 2},
      {"bad_numeric", "{\"prompt\": \"p\", \"answer\": \"x\", \"match\": \"numeric\"}\n", "numeric answer \"x\" is not a finite number", 1},
      {"split_value", "{\"prompt\": \"p\", \"answer\": \"a\", \"split\": \"dev\"}\n",
       "\"split\" must be \"train\" or \"test\", got \"dev\"", 1},
      {"system_type", "{\"prompt\": \"p\", \"answer\": \"a\", \"system\": 1}\n", "\"system\" must be a string", 1},
      {"invalid_utf8", "{\"prompt\": \"\xff\", \"answer\": \"a\"}\n", "not valid JSON", 1},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.name);
    const auto path = write(bad.name, bad.text);
    const std::string message = error_of(path);
    const std::string where = path.string() + ":" + std::to_string(bad.line) + ": ";
    EXPECT_NE(message.find(where + bad.expect), std::string::npos) << message;
  }
  const auto empty = write("empty", "\n\n");
  EXPECT_NE(error_of(empty).find(empty.string() + ": no problems"), std::string::npos);
  const auto missing = std::filesystem::path(::testing::TempDir()) / "qes_no_such_file.jsonl";
  EXPECT_NE(error_of(missing).find(missing.string() + ": cannot open"), std::string::npos);
}

}  // namespace
}  // namespace qes::tasks
