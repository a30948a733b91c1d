// The CLI: `qes countdown-data` (with --exclude) and `qes convert` then `qes quantize`.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "hf_fixture.hpp"
#include "qes/model_file.hpp"
#include "qes/tasks/arithmetic.hpp"
#include "qes/tasks/countdown.hpp"

namespace qes::test {
namespace {

namespace countdown = tasks::countdown;

std::pair<std::vector<int64_t>, double> key(const tasks::CountdownProblem& p) {
  auto n = p.numbers;
  std::sort(n.begin(), n.end());
  return {n, *tasks::parse_python_float(p.target)};
}

TEST(CountdownDataCli, WritesGeneratedProblemsInThePaperFormat) {
  TempDir dir;
  const auto out = dir / "p.json";
  const auto r = run_cli("countdown-data --seed 7 --count 300 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto written = countdown::load_json(out);
  const auto expected = countdown::generate(7, 300);
  ASSERT_EQ(written.size(), 300u);
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(written[i].id, static_cast<int64_t>(i));
    EXPECT_EQ(written[i].numbers, expected[i].numbers);
    EXPECT_EQ(written[i].target, expected[i].target);
    EXPECT_EQ(written[i].solution, expected[i].solution);
    // Every solution solves its problem under the task's own scoring.
    const auto s = countdown::score_completion("<think> x </think>\n<answer> " + *written[i].solution + " </answer>", written[i]);
    EXPECT_TRUE(s.correct) << *written[i].solution;
  }

  const auto three = dir / "three.json";
  ASSERT_EQ(run_cli("countdown-data --seed 7 --count 50 --numbers 3 --out " + three.string()).status, 0);
  for (const auto& p : countdown::load_json(three)) EXPECT_EQ(p.numbers.size(), 3u);
}

TEST(CountdownDataCli, ExcludeDropsProblemsOfTheGivenFile) {
  TempDir dir;
  // Exclude a file holding generated problems 10..59 (numbers shuffled, targets written as
  // floats): exactly those disappear and the next generated ones fill up the count.
  auto all = countdown::generate(3, 400);
  std::vector<tasks::CountdownProblem> held(all.begin() + 10, all.begin() + 60);
  for (auto& p : held) {
    std::reverse(p.numbers.begin(), p.numbers.end());
    p.target += ".0";
  }
  countdown::write_json(dir / "held.json", held);
  const auto out = dir / "p.json";
  const auto r = run_cli("countdown-data --seed 3 --count 200 --out " + out.string() + " --exclude " + (dir / "held.json").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "excluded")) << r.output;
  std::set<std::pair<std::vector<int64_t>, double>> held_keys;
  for (const auto& p : held) held_keys.insert(key(p));
  std::vector<tasks::CountdownProblem> expected;
  for (const auto& p : all)
    if (!held_keys.count(key(p)) && expected.size() < 200) expected.push_back(p);
  const auto written = countdown::load_json(out);
  ASSERT_EQ(written.size(), 200u);
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_FALSE(held_keys.count(key(written[i])));
    EXPECT_EQ(written[i].numbers, expected[i].numbers) << i;
    EXPECT_EQ(written[i].target, expected[i].target) << i;
  }
}

TEST(CountdownDataCli, ExcludesTheHeldOutTestSet) {
  const char* env = std::getenv("QES_SHARED_DATA");
  const std::string data = env && *env ? env : QES_SHARED_DATA;
  const auto test_set = std::filesystem::path(data) / "countdown.json";
  if (!std::filesystem::exists(test_set)) GTEST_SKIP() << "shared test data not found (set QES_SHARED_DATA to ../shared/data)";
  TempDir dir;
  const auto r = run_cli("countdown-data --seed 1 --count 3000 --out " + (dir / "p.json").string() + " --exclude " + test_set.string());
  ASSERT_EQ(r.status, 0) << r.output;
  std::set<std::pair<std::vector<int64_t>, double>> test_keys;
  for (const auto& p : countdown::load_json(test_set)) test_keys.insert(key(p));
  for (const auto& p : countdown::load_json(dir / "p.json")) ASSERT_FALSE(test_keys.count(key(p)));
}

TEST(CountdownDataCli, BadArguments) {
  TempDir dir;
  auto r = run_cli("countdown-data --count 5 --numbers 4-3 --out " + (dir / "p.json").string());
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(contains(r.output, "range is empty")) << r.output;
  r = run_cli("countdown-data --count 5 --numbers x --out " + (dir / "p.json").string());
  EXPECT_NE(r.status, 0);
  write_text(dir / "bad.json", "{\"not\": \"a list\"}");
  r = run_cli("countdown-data --count 5 --out " + (dir / "p.json").string() + " --exclude " + (dir / "bad.json").string());
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(contains(r.output, "bad.json")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "p.json"));
}

TEST(ConvertCli, ConvertThenQuantize) {
  TempDir dir;
  write_tiny_model(dir / "m", TinyShape{});
  auto r = run_cli("convert --hf " + (dir / "m").string() + " --out " + (dir / "m.gguf").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "pre-tokenizer 'qwen2'")) << r.output;
  r = run_cli("quantize " + (dir / "m.gguf").string() + " " + (dir / "m-q4_0.gguf").string() + " --type q4_0");
  ASSERT_EQ(r.status, 0) << r.output;
  const ModelFile q = load_model_file((dir / "m-q4_0.gguf").string());
  EXPECT_EQ(q.tensor("blk.0.attn_q.weight").type, static_cast<uint32_t>(DType::Q4_0));
  EXPECT_EQ(q.metadata.get_string("tokenizer.ggml.pre"), "qwen2");

  r = run_cli("convert --hf " + (dir / "m").string() + " --out " + (dir / "x.gguf").string() + " --type q4_0");
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(contains(r.output, "--type must be f32, f16 or bf16")) << r.output;
  r = run_cli("convert --hf " + (dir / "absent").string() + " --out " + (dir / "x.gguf").string());
  EXPECT_NE(r.status, 0);
}

}  // namespace
}  // namespace qes::test
