// Throwaway timer: cost of one update (replay mode, full window) and of one
// member's perturb + restore, per million trainable codes.
//   es_update_timer [million codes=4] [K=50] [N=50] [sigma=0.01] [mode=replay]
// Uses a Q4_0 tensor of rows x 896 (Qwen2.5-0.5B's width) with random codes; the
// history window is filled with synthetic steps through resume(), so the timed
// step replays all K steps.
#include <omp.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "es_test_util.hpp"
#include "qes/es/fitness.hpp"
#include "qes/es/updater.hpp"

using namespace qes;
using namespace qes::es;

int main(int argc, char** argv) {
  const double mcodes = argc > 1 ? std::atof(argv[1]) : 4.0;
  const uint32_t K = argc > 2 ? uint32_t(std::atoi(argv[2])) : 50;
  const uint32_t N = argc > 3 ? uint32_t(std::atoi(argv[3])) : 50;
  const double sigma = argc > 4 ? std::atof(argv[4]) : 0.01;
  ResidualMode mode = ResidualMode::kReplay;
  if (argc > 5 && !residual_mode_from_name(argv[5], &mode)) return 2;
  const int64_t cols = 896;
  const int64_t rows = int64_t(mcodes * 1e6 / cols);
  testing::OwnedMatrix m = testing::random_matrix(DType::Q4_0, rows, cols, 1, 0, 15);
  TrainableSet set;
  set.add("blk.0.ffn_up.weight", m.m);
  UpdateConfig c;
  c.run_seed = 1;
  c.population = N;
  c.window = K;
  c.mode = mode;
  Updater u(set, c);
  auto fitness = [&](uint32_t it) {
    CounterStream s(derive_stream_key({2, StreamPurpose::kTest, it, 0, 0, 0}));
    std::vector<float> r(N);
    for (float& x : r) x = float(s.uniform());
    return shape_fitness(r, {});
  };
  const float alpha = 0.05f;
  if (mode != ResidualMode::kFull) {
    History h = u.history();
    for (uint32_t it = 0; it < K; ++it) h.steps.push_back({it, sigma, alpha, fitness(it)});
    u.resume(h);
  }
  const TileNoiseSampler sampler(sigma, c.sampler, c.sparse_threshold);
  std::printf("codes %.3f M, K %u, N %u, sigma %g (%s sampler, P(d!=0) %.5f), mode %s, threads %d\n",
              double(set.total_codes()) / 1e6, K, N, sigma, sampler.is_sparse() ? "sparse" : "dense",
              sampler.pmf().p_nonzero(), residual_mode_name(mode), omp_get_max_threads());
  auto cpu_seconds = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  };
  for (uint32_t it = K; it < K + 3; ++it) {
    const double c0 = cpu_seconds();
    const UpdateStats st = u.step(it, sigma, alpha, fitness(it));
    const double cpu = cpu_seconds() - c0;
    const double per = double(st.codes) / 1e6;
    std::printf(
        "update step %u: wall %.3f s = %.1f ms per million codes (CPU %.1f ms per million codes, all threads); "
        "update ratio %.5f, boundary-hit ratio %.6f\n",
        it, st.seconds, st.seconds * 1e3 / per, cpu * 1e3 / per, st.update_ratio(), st.boundary_hit_ratio());
  }
  if (mode == ResidualMode::kFull)
    std::printf("full mode residual store: %.1f MB (%.2f bytes per code)\n", double(u.residual_bytes()) / 1e6,
                double(u.residual_bytes()) / double(set.total_codes()));
  std::printf("scratch per thread: %zu bytes\n", Updater::scratch_bytes_per_thread());
  const NoiseParams p = u.noise_params(K + 3, sigma);
  auto t0 = std::chrono::steady_clock::now();
  const PerturbationRecord rec = apply_member(set, p, sampler, 0);
  auto t1 = std::chrono::steady_clock::now();
  restore(set, rec);
  auto t2 = std::chrono::steady_clock::now();
  const double per = double(set.total_codes()) / 1e6;
  std::printf("perturb %.2f ms, restore %.2f ms per million codes; %lld codes changed, record %zu bytes\n",
              std::chrono::duration<double>(t1 - t0).count() * 1e3 / per,
              std::chrono::duration<double>(t2 - t1).count() * 1e3 / per, (long long)rec.applied, rec.bytes());
  return 0;
}
