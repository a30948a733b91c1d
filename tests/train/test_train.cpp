// The training loop end to end on a real model (stories260K, quantized to Q8_0
// in a temporary folder) with a JSONL regex task: perturb/restore exactness,
// resume == uninterrupted, thread-count independence, the written model, and
// the errors for bad input. A few tiny iterations each: seconds in total.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "qes/es/fitness.hpp"
#include "qes/es/perturb.hpp"
#include "qes/es/updater.hpp"
#include "qes/generate_text.hpp"
#include "qes/gguf.hpp"
#include "qes/model_file.hpp"
#include "qes/quantize_model.hpp"
#include "qes/tasks/make_task.hpp"
#include "qes/topology.hpp"
#include "qes/train/checkpoint.hpp"
#include "qes/train/config.hpp"
#include "qes/train/config_file.hpp"
#include "qes/train/interrupt.hpp"
#include "qes/train/metrics.hpp"
#include "qes/train/population.hpp"
#include "qes/train/trainer.hpp"

namespace qes::train {
namespace {

namespace fs = std::filesystem;

std::string shared_data() {
  if (const char* env = std::getenv("QES_SHARED_DATA")) return env;
  return QES_SHARED_DATA;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string sha256_of(const std::string& path) {
  std::string cmd = "sha256sum '" + path + "'";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "?";
  char buf[256] = {0};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, p);
  ::pclose(p);
  std::string s(buf, n);
  return s.substr(0, s.find(' '));
}

class TrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string src = shared_data() + "/stories260K-f32.gguf";
    if (!fs::exists(src)) return;
    dir_ = (fs::temp_directory_path() / ("qes_train_test_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    // Q4_0 (token_embd/output Q8_0, ffn_down F32): 16 levels, so small
    // perturbations change the greedy text and the rewards differ between members.
    model_ = dir_ + "/stories260K-q4_0.gguf";
    QuantizeOptions q;
    q.type = DType::Q4_0;
    quantize_model(load_model_file(src), model_, q);
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (model_.empty()) GTEST_SKIP() << "needs " << shared_data() << "/stories260K-f32.gguf (shared test data absent)";
    clear_interrupt();
  }

  // A tiny run: 8 members, 4 prompts, 16 new tokens.
  TrainConfig tiny(const std::string& name) const {
    TrainConfig c;
    c.model = model_;
    c.task = "jsonl";
    c.task_path = std::string(QES_SOURCE_DIR) + "/configs/data/stories-regex.jsonl";
    c.chat_template = "plain";
    c.seed = 7;
    c.population = 8;
    c.sigma = 0.1;  // P(d != 0) ~ 8%: the sparse sampler
    c.alpha = 0.8;
    c.window = 50;
    c.iterations = 4;
    c.prompts_per_iteration = 4;
    c.max_new_tokens = 16;
    c.batch = 4;
    c.eval_every = 2;
    c.eval_problems = 0;
    c.out = dir_ + "/" + name + ".gguf";
    c.quiet = true;
    return c;
  }

  static std::string dir_, model_;
};
std::string TrainTest::dir_, TrainTest::model_;

std::vector<es::NamedMatrix> quantized_tensors(const ModelFile& f) {
  std::vector<es::NamedMatrix> all;
  for (const TensorView& t : f.tensors)
    if (t.supported() && is_quantized(t.dtype())) all.push_back({t.name, t.matrix()});
  return all;
}

std::string tensor_bytes(const es::TrainableSet& set) {
  std::string s;
  for (const auto& t : set.tensors())
    s.append(static_cast<const char*>(t.matrix.data), t.matrix.size_bytes());
  return s;
}

TEST_F(TrainTest, PerturbThenRestoreIsBitIdenticalOverManyMembersAndChangesGeneration) {
  ModelBundle b = load_model_bundle(model_, "", true, gguf::MapMode::CopyOnWrite);
  es::TrainableSet set = es::TrainableSet::select(quantized_tensors(b.file));
  ASSERT_GT(set.total_codes(), 0);
  const std::string base = tensor_bytes(set);

  GeneratorOptions go;
  go.batch = 2;
  go.parallel_min_bytes = 0;
  Generator gen(b.model, go);
  GenerationRequest req;
  req.prompt = encode_prompt(*b.tokenizer, "Once upon a time");
  req.max_tokens = 12;
  const std::vector<int32_t> base_tokens = gen.generate({&req, 1})[0].tokens;
  ASSERT_FALSE(base_tokens.empty());
  const std::vector<float> base_logits = gen.prompt_logits(req.prompt);

  int changed_outputs = 0;
  for (uint32_t it = 0; it < 3; it++) {
    es::NoiseParams np;
    np.run_seed = 99;
    np.iteration = it;
    np.sigma = it == 0 ? 0.01 : 1.0;  // sparse and dense samplers
    for (uint32_t m = 0; m < 16; m++) {
      const es::PerturbationRecord r = es::apply_member(set, np, m);
      ASSERT_GT(r.applied, 0) << "member " << m;
      ASSERT_FALSE(tensor_bytes(set) == base) << "member " << m << " changed nothing";
      if (np.sigma >= 1 && gen.generate({&req, 1})[0].tokens != base_tokens) changed_outputs++;
      if (m == 0) {
        EXPECT_NE(gen.prompt_logits(req.prompt), base_logits) << "iteration " << it;
      }
      es::restore(set, r);
      ASSERT_TRUE(tensor_bytes(set) == base) << "restore is not exact: iteration " << it << " member " << m;
    }
  }
  // The generator reads the very codes we perturb (no private copy of the weights).
  EXPECT_GT(changed_outputs, 0);
  EXPECT_EQ(gen.generate({&req, 1})[0].tokens, base_tokens);
  // The file on disk is untouched (copy-on-write mapping).
  ModelBundle again = load_model_bundle(model_, "", true);
  EXPECT_TRUE(tensor_bytes(es::TrainableSet::select(quantized_tensors(again.file))) == base);
}

TEST_F(TrainTest, RunWritesModelMetricsCurveAndTheModelLoadsAndGenerates) {
  TrainConfig c = tiny("basic");
  const TrainResult r = run_training(c);
  EXPECT_EQ(r.iterations_done, 4);
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(r.eval_n, 4);
  EXPECT_TRUE(std::isfinite(r.accuracy_before) && std::isfinite(r.accuracy_after));
  std::printf("  %s\n", before_after_line(r).c_str());

  // Metrics: iteration 0 (the base evaluation) then one line per iteration.
  std::ifstream in(r.metrics_path);
  std::string line;
  int lines = 0, evals = 0, moved = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["iteration"].get<int>(), lines);
    if (lines > 0) {
      for (const char* k : {"reward_mean", "update_ratio", "boundary_hit_ratio", "time_perturb", "time_evaluate",
                            "time_restore", "time_update", "tokens_per_s", "peak_rss_bytes"})
        EXPECT_TRUE(j.contains(k)) << k;
      moved += j["update_ratio"].get<double>() > 0;
    }
    evals += j.contains("eval_accuracy");
    lines++;
  }
  EXPECT_EQ(lines, 5);
  EXPECT_EQ(evals, 3);  // before, 2, 4
  EXPECT_GT(moved, 0) << "sigma and alpha are large: some codes must move";
  const std::string svg = read_bytes(r.svg_path);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);

  // The written model: same tensor types as the input, different codes, loads and generates.
  const ModelFile in_file = load_model_file(model_), out_file = load_model_file(r.model_path);
  ASSERT_EQ(in_file.tensors.size(), out_file.tensors.size());
  bool any_diff = false;
  for (size_t i = 0; i < in_file.tensors.size(); i++) {
    EXPECT_EQ(in_file.tensors[i].type, out_file.tensors[i].type) << in_file.tensors[i].name;
    any_diff |= std::string_view(static_cast<const char*>(in_file.tensors[i].data), in_file.tensors[i].bytes) !=
                std::string_view(static_cast<const char*>(out_file.tensors[i].data), out_file.tensors[i].bytes);
  }
  EXPECT_TRUE(any_diff);
  EXPECT_EQ(in_file.metadata, out_file.metadata);
  ModelBundle b = load_model_bundle(r.model_path);
  Generator gen(b.model, {});
  GenerationRequest req;
  req.prompt = encode_prompt(*b.tokenizer, "Once upon a time");
  req.max_tokens = 20;
  req.ignore_eos = true;
  TokenizerDecoder dec(*b.tokenizer);
  const auto out = gen.generate({&req, 1}, nullptr, &dec);
  EXPECT_EQ(out[0].tokens.size(), 20u);
  EXPECT_FALSE(out[0].text.empty());
}

TEST_F(TrainTest, ResumedRunEndsWithTheSameFileAsAnUninterruptedOne) {
  for (const char* mode : {"replay", "full"}) {
    SCOPED_TRACE(mode);
    TrainConfig whole = tiny(std::string("whole-") + mode);
    whole.mode = mode;
    const TrainResult a = run_training(whole);

    // Interrupted after iteration 2 (as SIGINT does: the flag is polled), then resumed.
    TrainConfig part = tiny(std::string("part-") + mode);
    part.mode = mode;
    TrainHooks hooks;
    hooks.progress = nullptr;
    hooks.after_iteration = [](int t) {
      if (t == 2) request_interrupt();
    };
    const TrainResult b = run_training(part, hooks);
    EXPECT_TRUE(b.interrupted);
    EXPECT_EQ(b.iterations_done, 2);
    EXPECT_TRUE(fs::exists(b.model_path)) << "the model is saved on interrupt too";
    const CheckpointState st = load_checkpoint_state(b.checkpoint_dir);
    EXPECT_EQ(st.iteration, 2);
    {
      // The seed history and the base model alone reproduce the checkpoint's model.
      const es::History h = load_checkpoint_history(b.checkpoint_dir, st);
      ModelBundle base = load_model_bundle(model_, "", true, gguf::MapMode::CopyOnWrite);
      es::TrainableSet set = es::TrainableSet::select(quantized_tensors(base.file));
      es::Updater(set, h.config).rerun(h);
      ModelBundle saved = load_model_bundle(checkpoint_model_path(b.checkpoint_dir, st));
      EXPECT_TRUE(tensor_bytes(set) == tensor_bytes(es::TrainableSet::select(quantized_tensors(saved.file))));
      EXPECT_FALSE(tensor_bytes(set) == tensor_bytes(es::TrainableSet::select(quantized_tensors(load_model_file(model_)))));
    }

    TrainConfig rest = tiny(std::string("part-") + mode);
    rest.mode = mode;
    rest.resume = b.checkpoint_dir;
    const TrainResult c = run_training(rest);
    EXPECT_FALSE(c.interrupted);
    EXPECT_EQ(c.iterations_done, 4);
    EXPECT_EQ(c.accuracy_before, a.accuracy_before);
    EXPECT_EQ(c.accuracy_after, a.accuracy_after);
    const std::string fa = read_bytes(a.model_path), fc = read_bytes(c.model_path);
    ASSERT_FALSE(fa.empty());
    EXPECT_TRUE(fa == fc) << "uninterrupted " << sha256_of(a.model_path) << " vs resumed " << sha256_of(c.model_path);
    std::printf("  %s: uninterrupted %s  resumed %s\n", mode, sha256_of(a.model_path).c_str(),
                sha256_of(c.model_path).c_str());
    // The metrics of the resumed run continue those of the first part: 0..4, once each.
    std::ifstream in(c.metrics_path);
    std::string line;
    int expect = 0;
    while (std::getline(in, line)) EXPECT_EQ(nlohmann::json::parse(line)["iteration"].get<int>(), expect++);
    EXPECT_EQ(expect, 5);
  }
}

TEST_F(TrainTest, OneAndTwoThreadsWriteByteIdenticalModels) {
  std::string sums[2];
  std::string bytes[2];
  for (int threads : {1, 2}) {
    set_threads(threads);
    TrainConfig c = tiny("threads" + std::to_string(threads));
    c.iterations = 3;
    c.parallel_min_bytes = 0;  // generation steps on all threads too, not only the update
    const TrainResult r = run_training(c);
    bytes[threads - 1] = read_bytes(r.model_path);
    sums[threads - 1] = sha256_of(r.model_path);
    std::printf("  --threads %d: sha256 %s  %s\n", threads, sums[threads - 1].c_str(), before_after_line(r).c_str());
  }
  set_threads(0);
  ASSERT_FALSE(bytes[0].empty());
  EXPECT_TRUE(bytes[0] == bytes[1]) << sums[0] << " vs " << sums[1];
  EXPECT_FALSE(bytes[0] == read_bytes(model_)) << "the run changed nothing";
}

TEST_F(TrainTest, ResumeRefusesADifferentConfig) {
  TrainConfig c = tiny("refuse");
  c.iterations = 2;
  c.checkpoint_every = 1;
  const TrainResult r = run_training(c);
  TrainConfig other = tiny("refuse");
  other.sigma = 0.2;
  other.resume = r.checkpoint_dir;
  try {
    run_training(other);
    FAIL() << "resumed under another sigma";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("sigma"), std::string::npos) << e.what();
  }
}

TEST(TrainErrors, NanRewardsAreRejected) {
  std::vector<MemberOutcome> out(4);
  for (uint32_t i = 0; i < 4; i++) out[i].member = i, out[i].reward = 0.5;
  out[2].reward = std::nan("");
  LocalPartition p;
  try {
    p.gather(out, 4);
    FAIL() << "NaN accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("member 2"), std::string::npos) << e.what();
  }
  out[2].reward = 0.1;
  EXPECT_EQ(p.gather(out, 4).size(), 4u);
  out.pop_back();
  EXPECT_THROW(p.gather(out, 4), std::runtime_error);  // a member missing
  const std::vector<float> r = {0.1f, std::numeric_limits<float>::infinity()};
  EXPECT_THROW(es::shape_fitness(r, {}), std::invalid_argument);
}

TEST(TrainErrors, BadConfigsGiveClearErrors) {
  auto error_of = [](const TrainConfig& c) -> std::string {
    try {
      c.validate("x.toml");
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  TrainConfig c;
  EXPECT_NE(error_of(c).find("x.toml: model"), std::string::npos) << error_of(c);
  c.model = "m.gguf";
  c.task_path = "t.json";
  EXPECT_EQ(error_of(c), "");
  c.population = 7;
  EXPECT_NE(error_of(c).find("population"), std::string::npos);
  c.population = 8;
  c.mode = "fancy";
  EXPECT_NE(error_of(c).find("mode: 'fancy'"), std::string::npos) << error_of(c);
  c.mode = "none";
  c.sigma = -1;
  EXPECT_NE(error_of(c).find("sigma"), std::string::npos);
  c.sigma = 0.1;
  c.shaping = "best";
  EXPECT_NE(error_of(c).find("shaping"), std::string::npos);

  // A config file with an unknown key, and one with a bad value.
  const std::string dir = fs::temp_directory_path() / ("qes_cfg_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  CLI::App app;
  int population = 0;
  app.add_option("--population", population)->check(CLI::PositiveNumber);
  app.add_option("--max-new-tokens", population);
  {
    std::ofstream(dir + "/a.toml") << "population = 4\nsigmaa = 0.1\n";
    try {
      apply_config_file(&app, dir + "/a.toml");
      FAIL();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("a.toml: unknown key 'sigmaa'"), std::string::npos) << e.what();
    }
    EXPECT_EQ(population, 4);
  }
  {
    CLI::App app2;
    int pop = 0;
    app2.add_option("--population", pop)->check(CLI::PositiveNumber);
    std::ofstream(dir + "/b.toml") << "population = \"many\"\n";
    try {
      apply_config_file(&app2, dir + "/b.toml");
      FAIL();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("b.toml: key 'population'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(apply_config_file(&app, dir + "/missing.toml"), std::invalid_argument);
  fs::remove_all(dir);

  // A missing model file is named in the error.
  TrainConfig m;
  m.model = "/nonexistent/model.gguf";
  m.task = "jsonl";
  m.task_path = std::string(QES_SOURCE_DIR) + "/configs/data/stories-regex.jsonl";
  m.quiet = true;
  m.out = "/tmp/qes-never-written.gguf";
  try {
    run_training(m);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos) << e.what();
  }
}

TEST(TrainPrompts, SampledProblemsAreDistinctSeededAndInRange) {
  const auto a = sample_problems(5, 3, 10, 200), b = sample_problems(5, 3, 10, 200), c = sample_problems(5, 4, 10, 200);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<size_t> s = a;
  std::sort(s.begin(), s.end());
  EXPECT_EQ(std::unique(s.begin(), s.end()), s.end());
  for (size_t i : a) EXPECT_LT(i, 200u);
  EXPECT_EQ(sample_problems(5, 3, 0, 7).size(), 7u);
  EXPECT_EQ(sample_problems(5, 3, 9, 7).size(), 7u);
}

TEST(TrainCurve, SvgHasBothSeries) {
  std::vector<CurvePoint> pts;
  pts.push_back({0, false, 0, true, 0.1});
  for (int i = 1; i <= 10; i++) pts.push_back({i, true, 0.05 * i, i % 5 == 0, 0.02 * i});
  const std::string s = curve_svg(pts, "t <&>");
  EXPECT_NE(s.find("t &lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(s.find("<polyline"), s.rfind("<polyline"));  // two series
  size_t circles = 0;
  for (size_t p = s.find("<circle"); p != std::string::npos; p = s.find("<circle", p + 1)) circles++;
  EXPECT_EQ(circles, 3u);  // evaluations at 0, 5, 10
}

}  // namespace
}  // namespace qes::train
