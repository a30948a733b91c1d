#pragma once
// One JSON object per line and iteration (iteration 0 is the model before
// training: only its evaluation). Fields of iteration t >= 1:
//   iteration, reward_mean, reward_std, reward_min, reward_max, train_accuracy,
//   alpha, sigma, update_ratio, boundary_hit_ratio, changed_codes, boundary_hits,
//   perturbed_codes (mean per member), gated (mean per member),
//   time_perturb, time_evaluate, time_restore, time_update, time_iteration
//   (seconds, wall, summed over members), update_share (time_update / time_iteration),
//   generated_tokens, tokens_per_s (generated tokens / time_evaluate), peak_rss_bytes,
//   and, when the held-out set was evaluated: eval_accuracy (fraction), eval_reward,
//   eval_n, eval_seconds, eval_tokens_per_s.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qes::train {

// The points of the training curve.
struct CurvePoint {
  int iteration = 0;
  bool has_reward = false;
  double reward_mean = 0;
  bool has_eval = false;
  double eval_accuracy = 0;
};

class MetricsLog {
 public:
  // Opens `path` for a run starting after iteration `resume_from`: lines of
  // later iterations (from an interrupted run) are dropped, the rest kept
  // (rewritten through a temporary file), then new lines are appended.
  // resume_from < 0: a fresh file.
  MetricsLog(const std::string& path, int resume_from);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void append(const nlohmann::json& line);  // written and flushed at once
  const std::vector<CurvePoint>& curve() const { return curve_; }
  const std::string& path() const { return path_; }

 private:
  void remember(const nlohmann::json& line);
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<CurvePoint> curve_;
};

// A small standalone SVG: mean training reward (line, left axis) and held-out
// accuracy (points joined by a line, right axis, %) against the iteration.
// Written to a temporary name, then renamed.
void write_curve_svg(const std::string& path, const std::vector<CurvePoint>& curve, const std::string& title);
std::string curve_svg(const std::vector<CurvePoint>& curve, const std::string& title);

}  // namespace qes::train
