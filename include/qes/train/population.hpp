#pragma once
// Evaluating the population (DESIGN.md §4 "Evaluating the population", §6).
//
// Three replaceable steps, each one call:
//  - which members this process evaluates  (PopulationPartition::local_members)
//  - evaluating them                       (PopulationEvaluator::evaluate)
//  - gathering every member's reward        (PopulationPartition::gather)
// One process evaluates everything today (LocalPartition); an MPI partition
// will give each rank a share and allgather the rewards, and every rank then
// applies the same deterministic update.
//
// The evaluator receives the whole list of its members at once, so an
// implementation may run several members in one batch over the shared weights
// with per-member sparse corrections (es::member_tile_noise gives each
// member's noise per tile); InPlaceEvaluator runs them one after another.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "qes/es/perturb.hpp"
#include "qes/es/trainable.hpp"
#include "qes/train/problem_runner.hpp"

namespace qes::train {

struct MemberOutcome {
  uint32_t member = 0;
  double reward = 0;            // mean task reward over the iteration's prompts
  double accuracy = 0;          // fraction correct
  int64_t generated_tokens = 0;
  int64_t applied = 0;          // codes the perturbation changed
  int64_t gated = 0;            // nonzero draws skipped at the range boundary
  double perturb_seconds = 0, evaluate_seconds = 0, restore_seconds = 0;
};

class PopulationEvaluator {
 public:
  virtual ~PopulationEvaluator() = default;
  // Evaluates `members` under the noise of `noise` (its iteration, sigma) on
  // training problems `problems`, appending one outcome per member in the order
  // given. `stop` is polled between members: when it returns true the call
  // returns early (fewer outcomes than members). The weights are the base
  // weights again when it returns or throws.
  virtual void evaluate(const es::NoiseParams& noise, std::span<const uint32_t> members,
                        std::span<const size_t> problems, const std::function<bool()>& stop,
                        std::vector<MemberOutcome>& out) = 0;
};

// Perturb the codes in place, generate, score, restore exactly; next member.
class InPlaceEvaluator final : public PopulationEvaluator {
 public:
  InPlaceEvaluator(es::TrainableSet& set, ProblemRunner& runner) : set_(set), runner_(runner) {}
  void evaluate(const es::NoiseParams& noise, std::span<const uint32_t> members, std::span<const size_t> problems,
                const std::function<bool()>& stop, std::vector<MemberOutcome>& out) override;

 private:
  es::TrainableSet& set_;
  ProblemRunner& runner_;
};

class PopulationPartition {
 public:
  virtual ~PopulationPartition() = default;
  virtual std::vector<uint32_t> local_members(uint32_t population) const = 0;
  // Every member's reward, indexed by member. Throws std::runtime_error when a
  // member is missing or duplicated, or a reward is NaN or infinite.
  virtual std::vector<float> gather(std::span<const MemberOutcome> local, uint32_t population) const = 0;
};

// One process evaluates the whole population.
class LocalPartition final : public PopulationPartition {
 public:
  std::vector<uint32_t> local_members(uint32_t population) const override;
  std::vector<float> gather(std::span<const MemberOutcome> local, uint32_t population) const override;
};

}  // namespace qes::train
