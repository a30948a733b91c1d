#include "qes/train/population.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

namespace qes::train {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

void InPlaceEvaluator::evaluate(const es::NoiseParams& noise, std::span<const uint32_t> members,
                                std::span<const size_t> problems, const std::function<bool()>& stop,
                                std::vector<MemberOutcome>& out) {
  // One sampler per call: its tables depend only on sigma and the kind.
  const es::TileNoiseSampler sampler(noise.sigma, noise.sampler, noise.sparse_threshold);
  for (const uint32_t member : members) {
    if (stop && stop()) return;
    MemberOutcome o;
    o.member = member;
    auto t0 = std::chrono::steady_clock::now();
    const es::PerturbationRecord record = es::apply_member(set_, noise, sampler, member);
    o.perturb_seconds = seconds_since(t0);
    o.applied = record.applied;
    o.gated = record.gated;
    RunOutcome run;
    try {
      t0 = std::chrono::steady_clock::now();
      run = runner_.run(tasks::Split::train, problems, noise.iteration);
      o.evaluate_seconds = seconds_since(t0);
    } catch (...) {
      es::restore(set_, record);  // never leave the weights perturbed
      throw;
    }
    t0 = std::chrono::steady_clock::now();
    es::restore(set_, record);
    o.restore_seconds = seconds_since(t0);
    o.reward = run.mean_reward;
    o.accuracy = run.accuracy;
    o.generated_tokens = run.generated_tokens;
    out.push_back(o);
  }
}

std::vector<uint32_t> LocalPartition::local_members(uint32_t population) const {
  std::vector<uint32_t> m(population);
  for (uint32_t i = 0; i < population; i++) m[i] = i;
  return m;
}

std::vector<float> LocalPartition::gather(std::span<const MemberOutcome> local, uint32_t population) const {
  std::vector<float> rewards(population, 0.0f);
  std::vector<char> seen(population, 0);
  for (const MemberOutcome& o : local) {
    if (o.member >= population)
      throw std::runtime_error("member " + std::to_string(o.member) + " is outside the population of " +
                               std::to_string(population));
    if (seen[o.member]) throw std::runtime_error("member " + std::to_string(o.member) + " was evaluated twice");
    if (!std::isfinite(o.reward))
      throw std::runtime_error("member " + std::to_string(o.member) + ": reward is " + std::to_string(o.reward) +
                               " (NaN or infinite rewards cannot be shaped)");
    seen[o.member] = 1;
    rewards[o.member] = static_cast<float>(o.reward);
  }
  for (uint32_t i = 0; i < population; i++)
    if (!seen[i]) throw std::runtime_error("member " + std::to_string(i) + " has no reward");
  return rewards;
}

}  // namespace qes::train
