#pragma once
// qes::es — the optimizer's math core (DESIGN.md §4), independent of the model.
//
// How a trainer uses it, per run:
//   TrainableSet set = TrainableSet::select(model_matrices);          // trainable.hpp
//   Updater upd(set, UpdateConfig{.run_seed = seed, .population = N, // updater.hpp
//                                  .mode = ResidualMode::kReplay, .window = K, .gamma = 0.9f});
//   (resume: upd.resume(History::load(path)) with the checkpoint's codes loaded;
//    reproduce from the base model: upd.rerun(History::load(path)).)
// per iteration t:
//   NoiseParams np = upd.noise_params(t, sigma);                      // perturb.hpp
//   const TileNoiseSampler& smp = upd.noise_sampler(sigma);
//   for each member i (in place, one at a time; all cores inside apply/restore):
//     PerturbationRecord rec = apply_member(set, np, smp, i);         // gated, mirrored
//     rewards[i] = evaluate(model);                                   // the model sees perturbed codes
//     restore(set, rec);                                              // bit-exact
//   std::vector<float> F = shape_fitness(rewards, ShapingConfig{});   // fitness.hpp; throws on NaN/inf
//   UpdateStats st = upd.step(t, sigma, alpha_t, F);                  // codes updated in place
//   log st.update_ratio(), st.boundary_hit_ratio(), st.seconds
//   checkpoint: upd.history().save(path) (+ the codes; + full_residual() in full mode)
// A batched evaluator can get each member's sparse correction per tile with
// member_tile_noise() (ungated; gate with the current codes as apply_member does).
#include "qes/es/distributions.hpp"
#include "qes/es/fitness.hpp"
#include "qes/es/history.hpp"
#include "qes/es/perturb.hpp"
#include "qes/es/perturbation.hpp"
#include "qes/es/philox.hpp"
#include "qes/es/trainable.hpp"
#include "qes/es/updater.hpp"
