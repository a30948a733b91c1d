// `qes bench generate`: prefill and decode speed of batched generation for a
// range of batch sizes (prompts of --prompt-tokens tokens, --new-tokens new
// tokens each, every sequence running to its limit), and the peak RSS.
#include "command_registry.hpp"
#include "qes/bandwidth.hpp"
#include "qes/core_speed.hpp"
#include "qes/generate_text.hpp"
#include "qes/matmul.hpp"
#include "qes/memory.hpp"
#include "qes/model_file.hpp"
#include "qes/topology.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct BenchArgs {
  std::string model, tokenizer, batches = "1,4,16,32,64", kv = "f16";
  int prompt_tokens = 64, new_tokens = 64, threads = 0, step_rows = 256, bandwidth_rounds = 1;
  bool bandwidth = false;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::vector<int> parse_batches(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const int b = std::stoi(item);
    if (b < 1) throw std::runtime_error("--batches: batch sizes must be positive, got " + item);
    out.push_back(b);
  }
  if (out.empty()) throw std::runtime_error("--batches: no batch sizes");
  return out;
}

// Deterministic prompts of ordinary tokens (the middle of the vocabulary, away
// from control tokens), different for every sequence.
std::vector<qes::GenerationRequest> bench_requests(const qes::ModelConfig& c, int n, int prompt_tokens, int new_tokens) {
  std::vector<qes::GenerationRequest> reqs(n);
  uint64_t state = 12345;
  for (int i = 0; i < n; i++) {
    reqs[i].prompt.push_back(c.bos_id);
    while (static_cast<int>(reqs[i].prompt.size()) < prompt_tokens) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      reqs[i].prompt.push_back(static_cast<int32_t>(c.vocab_size / 8 + (state >> 33) % (c.vocab_size / 2)));
    }
    reqs[i].max_tokens = new_tokens;
    reqs[i].ignore_eos = true;
  }
  return reqs;
}

qes::GeneratorOptions generator_options(const BenchArgs& a, int batch) {
  qes::GeneratorOptions opt;
  opt.kv_type = a.kv == "f32" ? qes::KvType::F32 : qes::KvType::F16;
  opt.max_step_rows = a.step_rows;
  opt.batch = batch;
  return opt;
}

// The read-bandwidth probe and the batch-1 decode bound it gives: tokens/s if
// every token's weights were read at that rate.
struct DecodeBound {
  double gbs, tokens_per_s;
};
DecodeBound decode_bound(const qes::Model& model) {
  const double gbs = qes::measure_read_bandwidth_gbs(qes::thread_count(), size_t{1} << 29, 3);
  return {gbs, gbs * 1e9 / static_cast<double>(model.weight_bytes_per_token())};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The cores' speeds as "1.00/0.63", and the slowest.
std::string format_speeds(const std::vector<double>& speeds) {
  std::string out;
  char buf[16];
  for (double s : speeds) {
    std::snprintf(buf, sizeof buf, "%s%.2f", out.empty() ? "" : "/", s);
    out += buf;
  }
  return out;
}
double slowest(const std::vector<double>& speeds) { return *std::min_element(speeds.begin(), speeds.end()); }

// Batch-1 decode and the read-bandwidth probe, back to back, several times:
// on a machine whose bandwidth changes from minute to minute (a shared VM) a
// decode run and a probe minutes apart are not comparable; each round's pair
// is, and the median of the rounds' ratios is the figure to quote. Each round
// also checks the cores' speed before and after (measure_core_speeds): the
// probe cannot see a core slowed by another guest, the decode can, so the
// rounds where every core ran at full speed are summarized apart.
void bandwidth_rounds(const BenchArgs& a, const qes::Model& model) {
  constexpr double kFullSpeed = 0.9;
  const auto requests = bench_requests(model.config, 1, a.prompt_tokens, a.new_tokens);
  std::vector<double> ratios, full_speed_ratios;
  for (int r = 1; r <= a.bandwidth_rounds; r++) {
    const std::vector<double> before = qes::measure_core_speeds(qes::thread_count());
    qes::Generator gen(model, generator_options(a, 1));
    qes::GenerationStats st;
    gen.generate(requests, &st);
    const DecodeBound bound = decode_bound(model);
    const std::vector<double> after = qes::measure_core_speeds(qes::thread_count());
    ratios.push_back(st.decode_tokens_per_s() / bound.tokens_per_s);
    if (std::min(slowest(before), slowest(after)) >= kFullSpeed) full_speed_ratios.push_back(ratios.back());
    std::printf("round %d: batch-1 decode %.2f tokens/s, read bandwidth %.2f GB/s, bound %.2f: %.2f of the bound; "
                "core speeds %s before, %s after\n",
                r, st.decode_tokens_per_s(), bound.gbs, bound.tokens_per_s, ratios.back(), format_speeds(before).c_str(),
                format_speeds(after).c_str());
    std::fflush(stdout);
  }
  const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
  std::printf("batch-1 decode over %d rounds: median %.2f of the bound (%.2f..%.2f)\n", a.bandwidth_rounds,
              median(ratios), *lo, *hi);
  if (full_speed_ratios.empty()) {
    std::printf("rounds with every core at >= %.2f of full speed before and after: none\n", kFullSpeed);
  } else {
    const auto [flo, fhi] = std::minmax_element(full_speed_ratios.begin(), full_speed_ratios.end());
    std::printf("rounds with every core at >= %.2f of full speed before and after: %zu, median %.2f of the bound (%.2f..%.2f)\n",
                kFullSpeed, full_speed_ratios.size(), median(full_speed_ratios), *flo, *fhi);
  }
}

void run_bench(const BenchArgs& a) {
  qes::set_threads(a.threads);
  // No tokenizer: prompts are token ids, and a 150k-token vocabulary would count in the RSS.
  qes::LoadOptions lo;
  lo.tokenizer_path = a.tokenizer;
  const qes::ModelFile file = qes::load_model_file(a.model, lo);
  const qes::Model model = qes::build_model(file);
  const size_t file_bytes = std::filesystem::file_size(a.model);
  const qes::ModelConfig& c = model.config;
  const std::vector<int> batches = parse_batches(a.batches);
  std::fprintf(stderr, "model %s: %s, %d layers, dim %d, vocab %d; weights read per token %s; kernels %s\n",
               a.model.c_str(), c.arch == qes::Arch::Qwen2 ? "qwen2" : "llama", c.n_layers, c.dim, c.vocab_size,
               qes::format_bytes(model.weight_bytes_per_token()).c_str(),
               qes::kernel_name(model.weights.layers[0].wq.type, 4).c_str());

  {
    // Warm-up: fault the mapped weights in.
    qes::Generator warm(model, generator_options(a, 1));
    warm.generate(bench_requests(c, 1, 4, 2));
  }
  std::printf("threads %d, prompts of %d tokens, %d new tokens each\n", qes::thread_count(), a.prompt_tokens, a.new_tokens);
  // CPU share: CPU time of the process over (wall time x threads). On a machine
  // shared with other jobs it says how much of the asked-for cores the run got.
  std::printf("%6s %14s %14s %16s %10s %10s %8s\n", "batch", "prefill tok/s", "decode tok/s", "generated tok/s", "KV MiB",
              "RSS MiB", "CPU %");
  double batch1_decode = 0;
  size_t largest_kv = 0;
  for (int b : batches) {
    qes::Generator gen(model, generator_options(a, b));
    qes::GenerationStats st;
    const auto requests = bench_requests(c, b, a.prompt_tokens, a.new_tokens);
    const double cpu0 = cpu_seconds();
    gen.generate(requests, &st);
    const double cpu_share = (cpu_seconds() - cpu0) / (st.total_seconds * qes::thread_count());
    if (b == 1) batch1_decode = st.decode_tokens_per_s();
    largest_kv = std::max(largest_kv, st.kv_cache_bytes);
    std::printf("%6d %14.1f %14.2f %16.2f %10.1f %10.1f %8.0f\n", b, st.prefill_tokens_per_s(), st.decode_tokens_per_s(),
                st.generated_tokens_per_s(), st.kv_cache_bytes / 1048576.0, qes::current_rss_bytes() / 1048576.0,
                100.0 * cpu_share);
    std::fflush(stdout);
  }
  const size_t peak = qes::peak_rss_bytes();
  std::printf("peak RSS %.1f MiB; model file %.1f MiB + largest KV cache %.1f MiB = %.1f MiB (ratio %.2f)\n",
              peak / 1048576.0, file_bytes / 1048576.0, largest_kv / 1048576.0, (file_bytes + largest_kv) / 1048576.0,
              static_cast<double>(peak) / static_cast<double>(file_bytes + largest_kv));
  if (a.bandwidth) {
    // Measured last: its buffer would otherwise count in the peak RSS above.
    const DecodeBound bound = decode_bound(model);
    std::printf("read bandwidth %.2f GB/s (%d threads): batch-1 decode bound %.2f tokens/s", bound.gbs,
                qes::thread_count(), bound.tokens_per_s);
    if (batch1_decode > 0)
      std::printf(", measured %.2f = %.2f of the bound", batch1_decode, batch1_decode / bound.tokens_per_s);
    std::printf("\n");
    if (a.bandwidth_rounds > 1) bandwidth_rounds(a, model);
  }
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  CLI::App* bench = nullptr;
  try {
    bench = app.get_subcommand("bench");
  } catch (const CLI::OptionNotFound&) {
    bench = app.add_subcommand("bench", "Benchmarks");
    bench->require_subcommand(1);
  }
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = bench->add_subcommand("generate", "Prefill / decode tokens/s of batched generation per batch size, and peak RSS");
  cmd->add_option("--model,-m", args->model, "GGUF model or llama2.c checkpoint")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "llama2.c tokenizer .bin (for a llama2.c checkpoint)");
  cmd->add_option("--batches", args->batches, "comma-separated batch sizes")->capture_default_str();
  cmd->add_option("--prompt-tokens", args->prompt_tokens, "prompt length")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--new-tokens", args->new_tokens, "tokens generated per sequence")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", args->threads, "threads (0 = one per physical core)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--kv", args->kv, "KV cache type: f16 or f32")->check(CLI::IsMember({"f16", "f32"}));
  cmd->add_option("--step-rows", args->step_rows, "tokens per forward step (prefill chunking)")->capture_default_str();
  cmd->add_flag("--bandwidth", args->bandwidth, "also measure read bandwidth and the batch-1 decode bound");
  cmd->add_option("--bandwidth-rounds", args->bandwidth_rounds,
                  "with --bandwidth: then this many rounds of a batch-1 decode run and a probe back to back, "
                  "and the median of their ratios (for machines whose bandwidth drifts)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->callback([args] { run_bench(*args); });
});

}  // namespace
