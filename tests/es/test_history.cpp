// The seed history: JSON round trip, reproducing a run from the base model,
// resuming from a checkpoint, and clear errors on bad files.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "es_test_util.hpp"
#include "qes/es/fitness.hpp"
#include "qes/es/updater.hpp"

namespace qes::es {
namespace {
using testing::OwnedMatrix;
using testing::random_matrix;

std::vector<float> fitness_for(uint32_t n, uint32_t it) {
  CounterStream s(derive_stream_key({99, StreamPurpose::kTest, it, 0, 0, 0}));
  std::vector<float> r(n);
  for (float& x : r) x = float(s.uniform());
  return shape_fitness(r, {});
}

UpdateConfig config(ResidualMode mode) {
  UpdateConfig c;
  c.run_seed = 0xFEEDFACECAFEBEEFull;  // above 2^63: must survive JSON
  c.population = 10;
  c.mode = mode;
  c.window = 3;
  return c;
}

std::string temp_path(const char* name) { return ::testing::TempDir() + name; }

TEST(History, JsonRoundTripIsExact) {
  History h;
  h.config = config(ResidualMode::kReplay);
  h.config.gamma = 0.87f;
  for (uint32_t it = 0; it < 4; ++it) h.steps.push_back({it * 2, 0.01 + it * 1e-7, 0.3f + float(it) / 7, fitness_for(10, it)});
  const std::string path = temp_path("qes_history.json");
  h.save(path);
  const History g = History::load(path);
  EXPECT_EQ(g.config.run_seed, h.config.run_seed);
  EXPECT_EQ(g.config.gamma, h.config.gamma);
  EXPECT_EQ(g.config.window, 3u);
  ASSERT_EQ(g.steps.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(g.steps[i].iteration, h.steps[i].iteration);
    EXPECT_EQ(g.steps[i].sigma, h.steps[i].sigma);
    EXPECT_EQ(g.steps[i].alpha, h.steps[i].alpha);
    EXPECT_EQ(g.steps[i].fitness, h.steps[i].fitness);
  }
  std::remove(path.c_str());
}

TEST(History, BaseModelPlusHistoryReproducesTheRun) {
  for (ResidualMode mode : {ResidualMode::kReplay, ResidualMode::kFull, ResidualMode::kNone}) {
    const OwnedMatrix base = random_matrix(DType::Q4_0, 16, 512, 5, 0, 15);
    OwnedMatrix live = base;
    TrainableSet set;
    set.add("w", live.m);
    Updater u(set, config(mode));
    for (uint32_t it = 0; it < 8; ++it) u.step(it, 0.05, 1.0f, fitness_for(10, it));
    EXPECT_NE(live.bytes, base.bytes);
    const std::string text = u.history().to_json();

    OwnedMatrix again = base;
    TrainableSet set2;
    set2.add("w", again.m);
    Updater u2(set2, config(mode));
    u2.rerun(History::from_json(text));
    EXPECT_EQ(again.bytes, live.bytes) << residual_mode_name(mode);
  }
}

TEST(History, ResumeFromACheckpointContinuesExactly) {
  for (ResidualMode mode : {ResidualMode::kReplay, ResidualMode::kNone}) {
    const OwnedMatrix base = random_matrix(DType::Q8_0, 8, 1024, 6, -128, 127);
    OwnedMatrix straight = base;
    TrainableSet s1;
    s1.add("w", straight.m);
    Updater u1(s1, config(mode));
    for (uint32_t it = 0; it < 9; ++it) u1.step(it, 0.3, 0.8f, fitness_for(10, it));

    OwnedMatrix first = base;
    TrainableSet s2;
    s2.add("w", first.m);
    Updater u2(s2, config(mode));
    for (uint32_t it = 0; it < 5; ++it) u2.step(it, 0.3, 0.8f, fitness_for(10, it));
    const std::string checkpoint = u2.history().to_json();
    OwnedMatrix resumed = first;  // the checkpoint's codes
    TrainableSet s3;
    s3.add("w", resumed.m);
    Updater u3(s3, config(mode));
    u3.resume(History::from_json(checkpoint));
    for (uint32_t it = 5; it < 9; ++it) u3.step(it, 0.3, 0.8f, fitness_for(10, it));
    EXPECT_EQ(resumed.bytes, straight.bytes) << residual_mode_name(mode);
  }
  {  // full mode: the history plus the saved residual
    const OwnedMatrix base = random_matrix(DType::Q8_0, 8, 1024, 6, -128, 127);
    OwnedMatrix straight = base, first = base;
    TrainableSet s1, s2;
    s1.add("w", straight.m);
    s2.add("w", first.m);
    Updater u1(s1, config(ResidualMode::kFull)), u2(s2, config(ResidualMode::kFull));
    for (uint32_t it = 0; it < 9; ++it) u1.step(it, 0.3, 0.8f, fitness_for(10, it));
    for (uint32_t it = 0; it < 5; ++it) u2.step(it, 0.3, 0.8f, fitness_for(10, it));
    const std::vector<uint16_t> saved(u2.full_residual(0).begin(), u2.full_residual(0).end());
    OwnedMatrix resumed = first;
    TrainableSet s3;
    s3.add("w", resumed.m);
    Updater u3(s3, config(ResidualMode::kFull));
    EXPECT_THROW(u3.resume(u2.history()), std::invalid_argument);  // residual missing
    EXPECT_THROW(u3.set_full_residual(0, std::vector<uint16_t>(5)), std::invalid_argument);
    u3.set_full_residual(0, saved);
    u3.resume(u2.history());
    for (uint32_t it = 5; it < 9; ++it) u3.step(it, 0.3, 0.8f, fitness_for(10, it));
    EXPECT_EQ(resumed.bytes, straight.bytes) << "full";
  }
  OwnedMatrix m = random_matrix(DType::Q8_0, 1, 64, 6, -128, 127);
  TrainableSet s;
  s.add("w", m.m);
  Updater replay(s, config(ResidualMode::kReplay));
  History other = replay.history();
  other.config.run_seed += 1;
  EXPECT_THROW(replay.resume(other), std::invalid_argument);
}

TEST(History, BadFilesGiveClearErrors) {
  auto message = [](const std::string& text) {
    try {
      History::from_json(text, "ckpt/history.json");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{not json").find("ckpt/history.json"), std::string::npos);
  EXPECT_NE(message("{}").find("format"), std::string::npos);
  History h;
  h.config = config(ResidualMode::kReplay);
  h.steps.push_back({0, 0.01, 1.0f, std::vector<float>(9, 0.0f)});
  EXPECT_NE(message(h.to_json()).find("9 fitness values"), std::string::npos) << message(h.to_json());
  EXPECT_THROW(History::load(temp_path("does_not_exist.json")), std::runtime_error);
}

}  // namespace
}  // namespace qes::es
