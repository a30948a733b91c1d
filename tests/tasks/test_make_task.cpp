// make_task: every kind, and clear errors for bad specs.
#include <gtest/gtest.h>

#include <fstream>

#include "qes/tasks/make_task.hpp"
#include "test_paths.hpp"

namespace qes::tasks {
namespace {

TEST(MakeTask, EveryKind) {
  TaskSpec generated;
  generated.kind = "countdown-generated";
  generated.seed = 5;
  generated.train_count = 10;
  generated.test_count = 20;
  const auto g = make_task(generated);
  EXPECT_EQ(g->name(), "countdown");
  EXPECT_EQ(g->size(Split::train), 10u);
  EXPECT_EQ(g->size(Split::test), 20u);

  const auto jsonl_path = std::filesystem::path(::testing::TempDir()) / "qes_make_task.jsonl";
  std::ofstream(jsonl_path) << "{\"prompt\": \"a\", \"answer\": \"1\"}\n{\"prompt\": \"b\", \"answer\": \"2\"}\n";
  TaskSpec jsonl;
  jsonl.kind = "jsonl";
  jsonl.path = jsonl_path;
  jsonl.train_count = 1;
  jsonl.system_prompt = "S";
  const auto j = make_task(jsonl);
  EXPECT_EQ(j->size(Split::train), 1u);
  EXPECT_EQ(j->size(Split::test), 1u);
  EXPECT_EQ(j->prompt(Split::test, 0).system, "S");
  jsonl.test_path = jsonl_path;
  EXPECT_THROW(make_task(jsonl), std::invalid_argument);  // train count and a test file
  jsonl.train_count.reset();
  EXPECT_EQ(make_task(jsonl)->size(Split::test), 2u);

  TaskSpec unknown;
  unknown.kind = "chess";
  EXPECT_THROW(make_task(unknown), std::invalid_argument);
  TaskSpec no_path;
  EXPECT_THROW(make_task(no_path), std::invalid_argument);

  const auto data = test::shared_data_file("countdown.json");
  if (!data) GTEST_SKIP() << "countdown.json not found: set QES_SHARED_DATA to the shared data folder";
  TaskSpec paper;
  paper.path = *data;
  const auto p = make_task(paper);
  EXPECT_EQ(p->size(Split::train), 200u);
  EXPECT_EQ(p->size(Split::test), 2000u);
}

}  // namespace
}  // namespace qes::tasks
