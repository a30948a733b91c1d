// The paper's countdown.json: its structure, its split, its prompt text (the
// "context" field was written by the reference's own prompt code), its
// solutions under our reward, and clear errors for broken files.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qes/tasks/countdown.hpp"
#include "test_paths.hpp"

namespace qes::tasks {
namespace {

#define REQUIRE_COUNTDOWN_JSON(var)                                                             \
  const auto var = test::shared_data_file("countdown.json");                                   \
  if (!var) GTEST_SKIP() << "countdown.json not found: set QES_SHARED_DATA to the shared data folder"

TEST(CountdownData, LoadsThePapersFile) {
  REQUIRE_COUNTDOWN_JSON(path);
  const auto problems = countdown::load_json(*path);
  ASSERT_EQ(problems.size(), 2200u);
  for (size_t i = 0; i < problems.size(); ++i) ASSERT_EQ(problems[i].id, static_cast<int64_t>(i));
  EXPECT_EQ(problems[0].numbers, (std::vector<int64_t>{44, 19, 35}));
  EXPECT_EQ(problems[0].target, "98");
  EXPECT_EQ(problems[0].solution, "((44 + 19) + 35)");
  EXPECT_EQ(problems[263].target, "-15.727272727272727");
  EXPECT_FALSE(problems[276].solution.has_value());  // the file has null solutions

  const CountdownTask task = CountdownTask::from_json(*path);
  ASSERT_EQ(task.size(Split::train), 200u);
  ASSERT_EQ(task.size(Split::test), 2000u);
  EXPECT_EQ(task.problem(Split::train, 199).id, 199);
  EXPECT_EQ(task.problem(Split::test, 0).id, 200);
  EXPECT_EQ(task.problem(Split::test, 0).numbers, (std::vector<int64_t>{48, 92, 54}));
  EXPECT_THROW(CountdownTask::from_json(*path, 2201), std::runtime_error);
}

// The file's "context" is system message + user message + response prompt,
// glued without a chat template and with numpy-printed numbers. That it equals
// ours on all 2200 problems pins every word of our prompt to the reference's
// (user_message differs from it only in printing the list as Python does).
TEST(CountdownData, PromptTextMatchesTheFilesContext) {
  REQUIRE_COUNTDOWN_JSON(path);
  std::ifstream in(*path);
  const auto raw = nlohmann::json::parse(in);
  const auto problems = countdown::load_json(*path);
  for (size_t i = 0; i < problems.size(); ++i)
    ASSERT_EQ(raw[i]["context"].get<std::string>(), countdown::raw_context(problems[i])) << "problem " << i;
  EXPECT_EQ(countdown::raw_context(problems[276]).find("[21 68  8 36]"), countdown::kSystemMessage.size() + 18);
}

// Reading and writing back gives the paper's file byte for byte.
TEST(CountdownData, WritesThePapersFormat) {
  REQUIRE_COUNTDOWN_JSON(path);
  const auto out = std::filesystem::path(::testing::TempDir()) / "qes_countdown_roundtrip.json";
  countdown::write_json(out, countdown::load_json(*path));
  auto bytes = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(out), bytes(*path));
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".tmp"));
}

// Every reference solution that uses the given numbers scores 1.1 (full
// format, correct); the 15 whose solution reuses a number fail the numbers check.
TEST(CountdownData, ReferenceSolutionsScore) {
  REQUIRE_COUNTDOWN_JSON(path);
  const auto problems = countdown::load_json(*path);
  int correct = 0, wrong_numbers = 0, without = 0;
  for (const auto& p : problems) {
    if (!p.solution) {
      ++without;
      continue;
    }
    const std::string completion = "Reasoning.</think>\n<answer>" + *p.solution + "</answer>";
    const Score score = countdown::score_completion(completion, p);
    EXPECT_EQ(score.format, 1.0);
    const auto verdict = countdown::judge_answer(std::string(countdown::kResponsePrompt) + completion, p.numbers, p.target);
    if (verdict == countdown::AnswerVerdict::correct) {
      EXPECT_EQ(score.reward, 1.1);
      ++correct;
    } else {
      EXPECT_EQ(verdict, countdown::AnswerVerdict::wrong_numbers) << "problem " << p.id;
      ++wrong_numbers;
    }
  }
  EXPECT_EQ(without, 19);
  EXPECT_EQ(wrong_numbers, 15);
  EXPECT_EQ(correct, 2166);
}

class CountdownBadFiles : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::path(::testing::TempDir()) / ("qes_countdown_" + name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Loads and returns the error message (empty if it loaded).
  std::string error_of(const std::filesystem::path& path) {
    try {
      countdown::load_json(path);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(CountdownBadFiles, NameTheFileAndTheProblem) {
  const auto missing = std::filesystem::path(::testing::TempDir()) / "qes_no_such_countdown.json";
  EXPECT_NE(error_of(missing).find(missing.string() + ": cannot open"), std::string::npos);

  const auto good = R"j({"id": 0, "numbers": [1, 2], "target": "3", "solution": "(1 + 2)"})j";
  struct Bad {
    const char* name;
    std::string text;
    const char* expect;
  } cases[] = {
      {"truncated", "[" + std::string(good) + ", {\"id\": 1, \"numb", "not valid JSON"},
      {"not_array", good, "expected a JSON array"},
      {"not_object", "[" + std::string(good) + ", 5]", "problem 1 is not an object"},
      {"no_numbers", R"([{"id": 7, "target": "3"}])", "problem 0 (id 7): \"numbers\" must be"},
      {"float_number", R"([{"numbers": [1.5, 2], "target": "3"}])", "number must be an integer, got 1.5"},
      {"no_target", R"([{"numbers": [1, 2]}])", "\"target\" is missing"},
      {"float_target", R"([{"numbers": [1, 2], "target": 3.5}])", "\"target\" must be a string"},
      {"word_target", R"([{"numbers": [1, 2], "target": "three"}])", "\"three\" is not a number"},
      {"bad_solution", R"([{"numbers": [1, 2], "target": "3", "solution": 3}])", "\"solution\" must be a string or null"},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.name);
    const auto path = write(std::string(bad.name) + ".json", bad.text);
    const std::string message = error_of(path);
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(bad.expect), std::string::npos) << message;
  }
  // An integer target is accepted and written as Python would.
  const auto integer_target = write("int_target.json", R"([{"numbers": [1, 2], "target": 3}])");
  EXPECT_EQ(countdown::load_json(integer_target).at(0).target, "3");
}

}  // namespace
}  // namespace qes::tasks
