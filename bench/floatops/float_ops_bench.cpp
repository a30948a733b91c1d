// Float ops per ISA variant on decode-step shapes (head_dim 128, 1024 cached
// keys, hidden 4096, FFN 11008), and prefill attention as per-query loops
// against two sgemm calls (where OpenBLAS starts to win).
//   build/release/bench/floatops/bench_floatops --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "float_ops_table.hpp"
#include "qes/float_ops.hpp"

namespace {

using qes::simd::FloatOps;

constexpr size_t kHeadDim = 128, kKeys = 1024, kHidden = 4096, kFfn = 11008, kHeads = 32;

struct Data {
  std::vector<float> q, k, scores, out, x, w, y, cos, sin;
  std::vector<uint16_t> k_f16;
  Data() {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    auto fill = [&](std::vector<float>& v, size_t n) {
      v.resize(n);
      for (float& f : v) f = normal(rng);
    };
    fill(q, kHeadDim);
    fill(k, kKeys * kHeadDim);
    fill(scores, kKeys);
    fill(out, kHeadDim);
    fill(x, kFfn);
    fill(w, kFfn);
    fill(y, kFfn);
    k_f16.resize(k.size());
    for (uint16_t& h : k_f16) h = static_cast<uint16_t>(0x3000 + (rng() & 0x0fff)) ^ (rng() & 0x8000);
    cos.resize(kHeadDim / 2);
    sin.resize(kHeadDim / 2);
    qes::ops::rope_angles(cos.data(), sin.data(), kHeadDim, 777, 10000.0f);
  }
};
Data& data() {
  static Data d;
  return d;
}

void register_variant(const FloatOps& o) {
  const std::string isa = o.isa;
  auto reg = [&](const std::string& name, auto fn, double bytes) {
    benchmark::RegisterBenchmark((name + "/" + isa).c_str(), [fn, bytes](benchmark::State& st) {
      for (auto _ : st) fn();
      st.SetBytesProcessed(static_cast<int64_t>(bytes * st.iterations()));
    });
  };
  Data& d = data();
  reg("attn_scores_f32_1024x128", [&o, &d] { o.attn_scores_f32(d.scores.data(), kKeys, d.q.data(), 1, d.k.data(), kHeadDim, kKeys, kHeadDim, 0.1f); benchmark::ClobberMemory(); }, 4.0 * kKeys * kHeadDim);
  reg("attn_scores_f16_1024x128", [&o, &d] { o.attn_scores_f16(d.scores.data(), kKeys, d.q.data(), 1, d.k_f16.data(), kHeadDim, kKeys, kHeadDim, 0.1f); benchmark::ClobberMemory(); }, 2.0 * kKeys * kHeadDim);
  reg("attn_weighted_sum_f32_1024x128", [&o, &d] { o.attn_weighted_sum_f32(d.out.data(), d.scores.data(), kKeys, 1, d.k.data(), kHeadDim, kKeys, kHeadDim); benchmark::ClobberMemory(); }, 4.0 * kKeys * kHeadDim);
  reg("attn_weighted_sum_f16_1024x128", [&o, &d] { o.attn_weighted_sum_f16(d.out.data(), d.scores.data(), kKeys, 1, d.k_f16.data(), kHeadDim, kKeys, kHeadDim); benchmark::ClobberMemory(); }, 2.0 * kKeys * kHeadDim);
  reg("softmax_1024", [&o, &d] { o.softmax(d.scores.data(), kKeys); benchmark::ClobberMemory(); }, 4.0 * kKeys);
  reg("rmsnorm_4096", [&o, &d] { o.rmsnorm(d.y.data(), d.x.data(), d.w.data(), kHidden, 1e-5f); benchmark::ClobberMemory(); }, 12.0 * kHidden);
  reg("silu_mul_11008", [&o, &d] { o.silu_mul(d.y.data(), d.x.data(), d.w.data(), kFfn); benchmark::ClobberMemory(); }, 12.0 * kFfn);
  reg("rope_interleaved_32x128", [&o, &d] { o.rope_apply(d.y.data(), kHeads, kHeadDim, kHeadDim, d.cos.data(), d.sin.data(), qes::ops::RopeStyle::Interleaved); benchmark::ClobberMemory(); }, 4.0 * kHeads * kHeadDim);
  reg("rope_half_split_32x128", [&o, &d] { o.rope_apply(d.y.data(), kHeads, kHeadDim, kHeadDim, d.cos.data(), d.sin.data(), qes::ops::RopeStyle::HalfSplit); benchmark::ClobberMemory(); }, 4.0 * kHeads * kHeadDim);
}

// Prefill attention of n query positions over n keys, one head (no mask).
void prefill(benchmark::State& st, bool use_sgemm) {
  const size_t n = static_cast<size_t>(st.range(0)), dim = kHeadDim;
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  std::vector<float> q(n * dim), k(n * dim), v(n * dim), s(n * n), out(n * dim);
  for (auto* m : {&q, &k, &v})
    for (float& f : *m) f = normal(rng);
  for (auto _ : st) {
    if (use_sgemm) {
      qes::ops::attn_scores_batch(s.data(), n, q.data(), dim, k.data(), dim, n, n, dim, 0.1f);
      qes::ops::attn_weighted_sum_batch(out.data(), dim, s.data(), n, v.data(), dim, n, n, dim);
    } else {
      for (size_t i = 0; i < n; i++) {
        qes::ops::attn_scores(s.data() + i * n, q.data() + i * dim, k.data(), dim, n, dim, 0.1f);
        qes::ops::attn_weighted_sum(out.data() + i * dim, s.data() + i * n, v.data(), dim, n, dim);
      }
    }
    benchmark::ClobberMemory();
  }
  st.counters["GFLOPS"] = benchmark::Counter(4.0 * n * n * dim * st.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

}  // namespace

int main(int argc, char** argv) {
  for (const auto& v : qes::simd::float_ops_variants()) {
    if (qes::cpu_supports(v.isa)) register_variant(*v.ops);
  }
  benchmark::RegisterBenchmark("prefill_attention_loops", [](benchmark::State& st) { prefill(st, false); })->Arg(32)->Arg(128)->Arg(512);
  benchmark::RegisterBenchmark("prefill_attention_sgemm", [](benchmark::State& st) { prefill(st, true); })->Arg(32)->Arg(128)->Arg(512);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
