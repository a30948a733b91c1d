#pragma once
// Fitness shaping: member rewards -> the coefficients F_i of the update
// g = (1/(N sigma)) sum_i F_i delta_i (DESIGN.md §4 step 3).
//
//  kPairZScore (default, mirrored populations): for pair j the difference
//    D_j = r_{2j} - r_{2j+1} is z-scored over the pairs, z_j = (D_j - mean D) / std D
//    (population std), clipped to +-clip; F_{2j} = z_j and F_{2j+1} = -z_j, so both
//    members of a pair push along z_j * noise_j.
//  kCenteredRank: ranks of all N rewards (ties share their mean rank) mapped to
//    [-0.5, 0.5]; with elite_fraction f < 1 only the ceil(f*N) best and the
//    ceil(f*N) worst keep their value (the middle gets 0), which keeps the mean 0.
//  kZScore (plain, any population): F_i = (r_i - mean r) / std r, clipped.
// A zero spread (all values equal) gives all F = 0: no information, no update.
// A NaN or infinite reward throws std::invalid_argument naming the member.
#include <span>
#include <string>
#include <vector>

namespace qes::es {

enum class Shaping { kPairZScore, kCenteredRank, kZScore };
const char* shaping_name(Shaping s);
bool shaping_from_name(const std::string& name, Shaping* out);

struct ShapingConfig {
  Shaping kind = Shaping::kPairZScore;
  double clip = 3.0;            // z-score clip (<= 0: no clip)
  double elite_fraction = 1.0;  // centered rank only, in (0, 1]
};

std::vector<float> shape_fitness(std::span<const float> rewards, const ShapingConfig& config);

}  // namespace qes::es
