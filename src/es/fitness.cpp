#include "qes/es/fitness.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace qes::es {
namespace {

void check_rewards(std::span<const float> r) {
  for (size_t i = 0; i < r.size(); ++i)
    if (!std::isfinite(r[i]))
      throw std::invalid_argument("fitness shaping: reward of member " + std::to_string(i) + " is " +
                                  (std::isnan(r[i]) ? "NaN" : "infinite") +
                                  " (the task or the evaluation produced an invalid score)");
}

// z-scores of v in place (double accumulation in index order: deterministic), clipped.
void z_score(std::vector<double>& v, double clip) {
  const double n = double(v.size());
  double mean = 0;
  for (double x : v) mean += x;
  mean /= n;
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / n);
  for (double& x : v) {
    x = sd > 0 ? (x - mean) / sd : 0.0;
    if (clip > 0) x = std::clamp(x, -clip, clip);
  }
}

}  // namespace

const char* shaping_name(Shaping s) {
  switch (s) {
    case Shaping::kPairZScore: return "pair_zscore";
    case Shaping::kCenteredRank: return "centered_rank";
    case Shaping::kZScore: return "zscore";
  }
  return "?";
}

bool shaping_from_name(const std::string& name, Shaping* out) {
  for (Shaping s : {Shaping::kPairZScore, Shaping::kCenteredRank, Shaping::kZScore})
    if (name == shaping_name(s)) {
      *out = s;
      return true;
    }
  return false;
}

std::vector<float> shape_fitness(std::span<const float> rewards, const ShapingConfig& config) {
  check_rewards(rewards);
  const size_t n = rewards.size();
  if (n == 0) throw std::invalid_argument("fitness shaping: empty population");
  std::vector<float> out(n, 0.0f);
  switch (config.kind) {
    case Shaping::kPairZScore: {
      if (n % 2 != 0)
        throw std::invalid_argument("fitness shaping: pair z-score needs an even (mirrored) population, got " +
                                    std::to_string(n));
      std::vector<double> diff(n / 2);
      for (size_t j = 0; j < n / 2; ++j) diff[j] = double(rewards[2 * j]) - double(rewards[2 * j + 1]);
      z_score(diff, config.clip);
      for (size_t j = 0; j < n / 2; ++j) {
        out[2 * j] = static_cast<float>(diff[j]);
        out[2 * j + 1] = static_cast<float>(-diff[j]);
      }
      break;
    }
    case Shaping::kZScore: {
      std::vector<double> v(rewards.begin(), rewards.end());
      z_score(v, config.clip);
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(v[i]);
      break;
    }
    case Shaping::kCenteredRank: {
      if (!(config.elite_fraction > 0.0 && config.elite_fraction <= 1.0))
        throw std::invalid_argument("fitness shaping: elite fraction must be in (0, 1], got " +
                                    std::to_string(config.elite_fraction));
      if (n == 1) break;
      std::vector<size_t> order(n);
      std::iota(order.begin(), order.end(), size_t(0));
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rewards[a] < rewards[b]; });
      std::vector<double> rank(n);
      for (size_t i = 0; i < n;) {  // ties share the mean of their ranks
        size_t j = i;
        while (j + 1 < n && rewards[order[j + 1]] == rewards[order[i]]) ++j;
        const double r = 0.5 * double(i + j);
        for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
        i = j + 1;
      }
      const size_t keep = static_cast<size_t>(std::ceil(config.elite_fraction * double(n) - 1e-9));
      for (size_t i = 0; i < n; ++i) {
        const double r = rank[i];
        const bool elite = r >= double(n - keep) || r <= double(keep) - 1.0;
        out[i] = elite ? static_cast<float>(r / double(n - 1) - 0.5) : 0.0f;
      }
      break;
    }
  }
  return out;
}

}  // namespace qes::es
