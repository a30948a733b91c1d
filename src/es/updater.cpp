#include "qes/es/updater.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace qes::es {
namespace {

// |u| beyond this always leaves every code range: clamping first keeps the
// float -> int conversion defined without changing the outcome.
constexpr float kUpdateLimit = 65536.0f;

float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t float_to_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Round half away from zero, exactly (no u + 0.5 trick, which misrounds
// 0.49999997), for |u| <= kUpdateLimit. Branch-free so the loops vectorize.
inline int round_half_away(float u) {
  const int t = static_cast<int>(u);     // toward zero
  const float r = u - static_cast<float>(t);  // exact
  return t + (r >= 0.5f ? 1 : 0) - (r <= -0.5f ? 1 : 0);
}

inline float clamp_float(float x, float lo, float hi) { return std::min(std::max(x, lo), hi); }

inline bool in_range(int v, int lo, int hi) { return v >= lo && v <= hi; }

// round_to_fp16 for finite |x| < 65504, branch-free.
inline float round_to_fp16_bounded(float x) {
  const int32_t b = std::bit_cast<int32_t>(x);
  const int32_t sign = b & int32_t(0x80000000u);
  const int32_t a = b & 0x7FFFFFFF;
  const int32_t normal = (a + 0x0FFF + ((a >> 13) & 1)) & ~0x1FFF;  // keep 10 mantissa bits, ties to even
  const int32_t subnormal = std::bit_cast<int32_t>((std::bit_cast<float>(a) + 0.5f) - 0.5f);  // multiples of 2^-24
  const int32_t is_normal = -static_cast<int32_t>(a >= 0x38800000);  // a mask, not a branch: vectorizes
  return std::bit_cast<float>(sign | (normal & is_normal) | (subnormal & ~is_normal));
}

// u = alpha * g + gamma * e, clamped to +-kUpdateLimit, into g. Clamping u
// itself changes nothing: beyond the limit round(u) leaves every code range,
// so Delta = 0 and e = clamp(u) = +-clamp either way. (A separate pass: GCC 12
// does not vectorize clamp and float->int conversion in one loop.)
inline void combine_into_g(uint32_t n, float* __restrict g, const float* __restrict e, float alpha, float gamma) {
  for (uint32_t i = 0; i < n; ++i) g[i] = clamp_float(alpha * g[i] + gamma * e[i], -kUpdateLimit, kUpdateLimit);
}

// One replayed step of the residual dynamics: e only; the codes are current
// and stay as they are (gating uses them). g holds u on entry, zeros on exit.
inline void replay_residual_step_body(const int16_t* __restrict q, uint32_t n, float* __restrict g, float alpha, float gamma,
                          float clamp, int lo, int hi, float* __restrict e) {
  combine_into_g(n, g, e, alpha, gamma);
  for (uint32_t i = 0; i < n; ++i) {
    const float u = g[i];
    g[i] = 0.0f;
    int d = round_half_away(u);
    const int nq = q[i] + d;
    d &= -static_cast<int>((nq >= lo) & (nq <= hi));  // gated: 0 where q + d leaves the range
    e[i] = round_to_fp16_bounded(clamp_float(u - static_cast<float>(d), -clamp, clamp));
  }
}

// The current step: the same arithmetic, plus Delta applied and counted.
void current_residual_step(int16_t* __restrict q, uint32_t n, float* __restrict g, float alpha, float gamma,
                           float clamp, int lo, int hi, float* __restrict e, int64_t& changed, int64_t& hits) {
  combine_into_g(n, g, e, alpha, gamma);
  for (uint32_t i = 0; i < n; ++i) {
    const float u = g[i];
    g[i] = 0.0f;
    int d = round_half_away(u);
    if (d != 0 && !in_range(q[i] + d, lo, hi)) {
      ++hits;
      d = 0;
    }
    e[i] = round_to_fp16_bounded(clamp_float(u - static_cast<float>(d), -clamp, clamp));
    if (d != 0) {
      q[i] = static_cast<int16_t>(q[i] + d);
      ++changed;
    }
  }
}

// The replayed step is the update's hot loop (K steps per tile). On x86-64 an
// AVX2 copy runs where the CPU has it: the same IEEE operations element by
// element (no FMA: -ffp-contract=off), so both copies give identical bits.
void replay_residual_step_portable(const int16_t* q, uint32_t n, float* g, float alpha, float gamma, float clamp,
                                   int lo, int hi, float* e) {
  replay_residual_step_body(q, n, g, alpha, gamma, clamp, lo, hi, e);
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) void replay_residual_step_avx2(const int16_t* q, uint32_t n, float* g, float alpha,
                                                                float gamma, float clamp, int lo, int hi, float* e) {
  replay_residual_step_body(q, n, g, alpha, gamma, clamp, lo, hi, e);
}
#endif

using ReplayStepFn = void (*)(const int16_t*, uint32_t, float*, float, float, float, int, int, float*);

ReplayStepFn best_replay_step() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2")) return replay_residual_step_avx2;
#endif
  return replay_residual_step_portable;
}

std::atomic<ReplayStepFn> g_replay_step{best_replay_step()};

}  // namespace

bool set_update_simd(bool allow) {
  g_replay_step.store(allow ? best_replay_step() : replay_residual_step_portable);
  return g_replay_step.load() != replay_residual_step_portable;
}

float round_to_fp16(float x) {
  const uint32_t b = float_to_bits(x);
  const uint32_t sign = b & 0x80000000u;
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return x;                                   // NaN
  if (a >= 0x477FF000u) return bits_to_float(sign | 0x7F800000u);  // rounds past 65504: inf
  return round_to_fp16_bounded(x);
}

Updater::Updater(TrainableSet& set, const UpdateConfig& config) : set_(set) {
  config.validate();
  history_.config = config;
  if (config.mode == ResidualMode::kFull) {
    residual_.resize(set_.size());
    residual_restored_.assign(set_.size(), false);
    for (size_t t = 0; t < set_.size(); ++t) residual_[t].resize(static_cast<size_t>(set_.tensors()[t].codes));
    const int64_t tiles = set_.total_tiles();
#pragma omp parallel
    {
      std::vector<float> e(kTileCodes);
#pragma omp for schedule(dynamic, 16)
      for (int64_t g = 0; g < tiles; ++g) {
        const TileRef ref = set_.tile(g);
        dither_tile(ref, e.data());
        uint16_t* store = residual_[ref.tensor].data() + ref.first;
        for (uint32_t i = 0; i < ref.len; ++i) store[i] = fp32_to_fp16(e[i]);
      }
    }
  }
}

NoiseParams Updater::noise_params(uint32_t iteration, double sigma) const {
  const UpdateConfig& c = history_.config;
  NoiseParams p;
  p.run_seed = c.run_seed;
  p.iteration = iteration;
  p.sigma = sigma;
  p.mirrored = c.mirrored;
  p.sampler = c.sampler;
  p.sparse_threshold = c.sparse_threshold;
  return p;
}

const TileNoiseSampler* Updater::sampler_for(double sigma) {
  for (const auto& s : samplers_)
    if (s->sigma() == sigma) return s.get();
  samplers_.push_back(std::make_unique<TileNoiseSampler>(sigma, history_.config.sampler, history_.config.sparse_threshold));
  return samplers_.back().get();
}

std::vector<Updater::WindowStep> Updater::window_for(size_t current_index, bool include_current) {
  const UpdateConfig& c = history_.config;
  size_t first = current_index;
  if (c.mode == ResidualMode::kReplay) first = current_index >= c.window ? current_index - c.window : 0;
  const size_t last = include_current ? current_index : current_index - 1;  // inclusive
  std::vector<WindowStep> w;
  for (size_t k = first; k <= last && k < history_.steps.size(); ++k) {
    const HistoryStep& s = history_.steps[k];
    WindowStep ws;
    ws.step = &s;
    ws.sampler = sampler_for(s.sigma);
    ws.coef.resize(s.fitness.size());
    const double scale = double(c.population) * s.sigma;
    for (size_t i = 0; i < s.fitness.size(); ++i) ws.coef[i] = static_cast<float>(double(s.fitness[i]) / scale);
    ws.current = include_current && k == current_index;
    w.push_back(std::move(ws));
  }
  return w;
}

void Updater::dither_tile(const TileRef& ref, float* e) const {
  const TrainableTensor& t = set_.tensors()[ref.tensor];
  const PhiloxKey key = derive_stream_key({history_.config.run_seed, StreamPurpose::kDither, 0, 0, t.id, ref.tile});
  for (uint32_t i = 0; i < ref.len; i += 4) {
    const PhiloxBlock b = stream_block(key, kRegionDense, i / 4);
    for (uint32_t w = 0; w < 4 && i + w < ref.len; ++w)
      e[i + w] = round_to_fp16(static_cast<float>(uniform32_open(b.w[w]) - 0.5));
  }
}

void Updater::run_tile(const TileRef& ref, const std::vector<WindowStep>& window, int16_t* q, float* e, float* g,
                       TileNoise& noise, int64_t& changed, int64_t& hits) const {
  const TrainableTensor& t = set_.tensors()[ref.tensor];
  const int lo = t.code_min, hi = t.code_max;
  const uint32_t n = ref.len;
  const UpdateConfig& c = history_.config;
  const uint32_t noises = c.mirrored ? c.population / 2 : c.population;
  const float gamma = c.gamma, clamp = c.residual_clamp;

  for (const WindowStep& ws : window) {
    const HistoryStep& s = *ws.step;
    // g = sum_i c_i * gated delta_i, members in index order.
    for (uint32_t j = 0; j < noises; ++j) {
      const float cp = c.mirrored ? ws.coef[2 * j] : ws.coef[j];
      const float cm = c.mirrored ? ws.coef[2 * j + 1] : 0.0f;
      if (cp == 0.0f && cm == 0.0f) continue;  // adds only zeros
      ws.sampler->sample(perturbation_key(c.run_seed, s.iteration, j, t.id, ref.tile), n, noise);
      const size_t nz = noise.size();
      if (c.mirrored) {
        for (size_t k = 0; k < nz; ++k) {  // same two additions in order, one load and one store
          const uint16_t p = noise.pos[k];
          const int d = noise.val[k];
          float acc = g[p];
          if (in_range(q[p] + d, lo, hi)) acc += cp * float(d);
          if (in_range(q[p] - d, lo, hi)) acc += cm * float(-d);
          g[p] = acc;
        }
      } else {
        for (size_t k = 0; k < nz; ++k) {
          const uint16_t p = noise.pos[k];
          const int d = noise.val[k];
          if (in_range(q[p] + d, lo, hi)) g[p] += cp * float(d);
        }
      }
    }

    const float alpha = s.alpha;
    if (c.mode == ResidualMode::kNone) {
      const PhiloxKey rk =
          derive_stream_key({c.run_seed, StreamPurpose::kUpdateRounding, s.iteration, 0, t.id, ref.tile});
      PhiloxBlock block{};
      uint32_t block_index = UINT32_MAX;
      for (uint32_t i = 0; i < n; ++i) {
        if (g[i] == 0.0f) continue;
        const float v = std::clamp(alpha * g[i], -kUpdateLimit, kUpdateLimit);
        g[i] = 0.0f;
        const float lower = std::floor(v);
        const float frac = v - lower;  // exact
        if (i / 4 != block_index) {
          block_index = i / 4;
          block = stream_block(rk, kRegionDense, block_index);
        }
        const int d = static_cast<int>(lower) + (double(block.w[i & 3]) < double(frac) * 0x1p32 ? 1 : 0);
        if (d == 0) continue;
        if (!in_range(q[i] + d, lo, hi)) {
          if (ws.current) ++hits;
          continue;
        }
        if (ws.current) {
          q[i] = static_cast<int16_t>(q[i] + d);
          ++changed;
        }
      }
      continue;
    }

    if (ws.current)
      current_residual_step(q, n, g, alpha, gamma, clamp, lo, hi, e, changed, hits);
    else
      g_replay_step.load(std::memory_order_relaxed)(q, n, g, alpha, gamma, clamp, lo, hi, e);
  }
}

UpdateStats Updater::step(uint32_t iteration, double sigma, float alpha, std::span<const float> fitness) {
  const auto start = std::chrono::steady_clock::now();
  const UpdateConfig& c = history_.config;
  if (fitness.size() != c.population)
    throw std::invalid_argument("update: got " + std::to_string(fitness.size()) + " fitness values, population is " +
                                std::to_string(c.population));
  for (size_t i = 0; i < fitness.size(); ++i)
    if (!std::isfinite(fitness[i]))
      throw std::invalid_argument("update: fitness of member " + std::to_string(i) + " is not finite");
  if (!std::isfinite(alpha)) throw std::invalid_argument("update: alpha is not finite");
  if (!history_.steps.empty() && iteration <= history_.steps.back().iteration)
    throw std::invalid_argument("update: iteration " + std::to_string(iteration) + " does not follow " +
                                std::to_string(history_.steps.back().iteration));
  sampler_for(sigma);  // validates sigma before the history changes

  history_.steps.push_back({iteration, sigma, alpha, std::vector<float>(fitness.begin(), fitness.end())});
  const std::vector<WindowStep> window = window_for(history_.steps.size() - 1, true);

  int64_t changed = 0, hits = 0;
  const int64_t tiles = set_.total_tiles();
  const ResidualMode mode = c.mode;
#pragma omp parallel reduction(+ : changed, hits) if (tiles >= 4)
  {
    std::vector<int16_t> q(kTileCodes);
    std::vector<float> e(kTileCodes), g(kTileCodes, 0.0f);
    TileNoise noise;
    noise.pos.reserve(kTileCodes);
    noise.val.reserve(kTileCodes);
#pragma omp for schedule(dynamic, 4)
    for (int64_t gt = 0; gt < tiles; ++gt) {
      const TileRef ref = set_.tile(gt);
      TrainableTensor& t = set_.tensors()[ref.tensor];
      read_tile(t, ref, q.data());
      uint16_t* store = mode == ResidualMode::kFull ? residual_[ref.tensor].data() + ref.first : nullptr;
      if (mode == ResidualMode::kReplay) dither_tile(ref, e.data());
      if (store)
        for (uint32_t i = 0; i < ref.len; ++i) e[i] = fp16_to_fp32(store[i]);
      int64_t tile_changed = 0;
      run_tile(ref, window, q.data(), e.data(), g.data(), noise, tile_changed, hits);
      if (tile_changed) write_tile(t, ref, q.data());
      changed += tile_changed;
      if (store)
        for (uint32_t i = 0; i < ref.len; ++i) store[i] = fp32_to_fp16(e[i]);
    }
  }
  UpdateStats st;
  st.iteration = iteration;
  st.codes = set_.total_codes();
  st.changed = changed;
  st.boundary_hits = hits;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return st;
}

void Updater::check_compatible(const History& h) const {
  const UpdateConfig &a = history_.config, &b = h.config;
  if (a.run_seed != b.run_seed || a.population != b.population || a.mirrored != b.mirrored || a.mode != b.mode ||
      a.window != b.window || a.gamma != b.gamma || a.residual_clamp != b.residual_clamp || a.sampler != b.sampler ||
      a.sparse_threshold != b.sparse_threshold)
    throw std::invalid_argument("seed history: its update configuration differs from this run's");
}

void Updater::resume(const History& h) {
  check_compatible(h);
  if (history_.config.mode == ResidualMode::kFull &&
      std::count(residual_restored_.begin(), residual_restored_.end(), true) != std::ptrdiff_t(set_.size()))
    throw std::invalid_argument(
        "seed history: full-residual mode resumes only with its residual (set_full_residual for every tensor) or by "
        "rerunning from the base model");
  history_.steps = h.steps;
}

const TileNoiseSampler& Updater::noise_sampler(double sigma) { return *sampler_for(sigma); }

std::span<const uint16_t> Updater::full_residual(uint32_t tensor_index) const {
  if (history_.config.mode != ResidualMode::kFull) throw std::logic_error("full_residual: not in full mode");
  return residual_.at(tensor_index);
}

void Updater::set_full_residual(uint32_t tensor_index, std::span<const uint16_t> bits) {
  if (history_.config.mode != ResidualMode::kFull) throw std::logic_error("set_full_residual: not in full mode");
  std::vector<uint16_t>& r = residual_.at(tensor_index);
  if (bits.size() != r.size())
    throw std::invalid_argument("full residual of '" + set_.tensors()[tensor_index].name + "': " +
                                std::to_string(bits.size()) + " values, the tensor has " + std::to_string(r.size()) +
                                " codes");
  r.assign(bits.begin(), bits.end());
  residual_restored_[tensor_index] = true;
}

void Updater::rerun(const History& h) {
  check_compatible(h);
  if (!history_.steps.empty()) throw std::logic_error("Updater::rerun needs a fresh updater on the base model");
  for (const HistoryStep& s : h.steps) step(s.iteration, s.sigma, s.alpha, s.fitness);
}

size_t Updater::residual_bytes() const {
  size_t b = 0;
  for (const auto& r : residual_) b += r.size() * sizeof(uint16_t);
  return b;
}

size_t Updater::scratch_bytes_per_thread() {
  // codes, residual and gradient tiles; the noise list (positions, values) and the sampler's stamps.
  return kTileCodes * (sizeof(int16_t) + 2 * sizeof(float) + sizeof(uint16_t) + sizeof(int16_t) + sizeof(uint16_t));
}

std::vector<float> Updater::residuals(uint32_t tensor_index) {
  const UpdateConfig& c = history_.config;
  const TrainableTensor& t = set_.tensors().at(tensor_index);
  std::vector<float> out(static_cast<size_t>(t.codes), 0.0f);
  if (c.mode == ResidualMode::kNone) return out;
  if (c.mode == ResidualMode::kFull) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = fp16_to_fp32(residual_[tensor_index][i]);
    return out;
  }
  // The residual after the last step: replay the last K steps, none of them current.
  const std::vector<WindowStep> window = window_for(history_.steps.size(), false);
  std::vector<int16_t> q(kTileCodes);
  std::vector<float> g(kTileCodes, 0.0f);
  TileNoise noise;
  for (uint32_t tile = 0; tile < t.tiles; ++tile) {
    const TileRef ref = set_.tile(t.first_tile + tile);
    float* e = out.data() + ref.first;
    read_tile(t, ref, q.data());
    dither_tile(ref, e);
    int64_t changed = 0, hits = 0;
    run_tile(ref, window, q.data(), e, g.data(), noise, changed, hits);
  }
  return out;
}

}  // namespace qes::es
