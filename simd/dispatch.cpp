// Runtime dispatch: which paths are compiled in, which the CPU runs, the
// active one (QES_ISA or the best), and one merged kernel table per path in
// which every op the path lacks is the scalar kernel.
#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"

namespace qes {

namespace {

constexpr std::array<std::string_view, 6> kIsaNames = {"scalar", "avx2", "avx512", "avx512vnni", "neon", "neondot"};

// The per-ISA tables compiled into this binary (CMake defines QES_HAVE_<ISA>
// for every ISA file it compiles).
// Whether `isa`'s file is compiled in. Deliberately does not touch its table:
// the table's initialiser is built with that ISA's flags and may itself use its
// instructions (GCC fills a static struct with zmm stores), so it must only run
// on a CPU that has them (qemu -cpu Haswell caught this).
bool is_compiled(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#ifdef QES_HAVE_AVX2
    case Isa::Avx2: return true;
#endif
#ifdef QES_HAVE_AVX512
    case Isa::Avx512: return true;
#endif
#ifdef QES_HAVE_AVX512VNNI
    case Isa::Avx512Vnni: return true;
#endif
#ifdef QES_HAVE_NEON
    case Isa::Neon: return true;
#endif
#ifdef QES_HAVE_NEONDOT
    case Isa::NeonDot: return true;
#endif
    default: return false;
  }
}

const simd::KernelTable* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return &simd::kernels_scalar();
#ifdef QES_HAVE_AVX2
    case Isa::Avx2: return &simd::kernels_avx2();
#endif
#ifdef QES_HAVE_AVX512
    case Isa::Avx512: return &simd::kernels_avx512();
#endif
#ifdef QES_HAVE_AVX512VNNI
    case Isa::Avx512Vnni: return &simd::kernels_avx512vnni();
#endif
#ifdef QES_HAVE_NEON
    case Isa::Neon: return &simd::kernels_neon();
#endif
#ifdef QES_HAVE_NEONDOT
    case Isa::NeonDot: return &simd::kernels_neondot();
#endif
    default: return nullptr;
  }
}

simd::DispatchTable merge(Isa isa) {
  const simd::KernelTable& base = simd::kernels_scalar();
  const simd::KernelTable* own = compiled_table(isa);
  simd::DispatchTable t{};
  t.isa = isa;
  for (int i = 0; i < simd::kQTypes; i++) {
    t.gemv[i] = {own->gemv[i] ? own->gemv[i] : base.gemv[i], own->gemv[i] ? isa : Isa::Scalar};
    t.gemm[i] = {own->gemm[i] ? own->gemm[i] : base.gemm[i], own->gemm[i] ? isa : Isa::Scalar};
  }
  for (int i = 0; i < simd::kFTypes; i++) {
    t.fgemv[i] = {own->fgemv[i] ? own->fgemv[i] : base.fgemv[i], own->fgemv[i] ? isa : Isa::Scalar};
    t.fgemm[i] = {own->fgemm[i] ? own->fgemm[i] : base.fgemm[i], own->fgemm[i] ? isa : Isa::Scalar};
  }
  return t;
}

void check_runnable(Isa isa) {
  if (!is_compiled(isa))
    throw std::runtime_error("kernel path '" + std::string(isa_name(isa)) + "' is not compiled into this binary");
  if (!cpu_supports(isa))
    throw std::runtime_error("kernel path '" + std::string(isa_name(isa)) + "' is not supported by this CPU");
}

Isa default_isa() {
  const char* env = std::getenv("QES_ISA");
  if (!env || !*env) return best_isa();
  Isa isa;
  if (!isa_from_name(env, &isa))
    throw std::runtime_error(std::string("QES_ISA=") + env +
                             ": unknown kernel path (scalar, avx2, avx512, avx512vnni, neon, neondot)");
  check_runnable(isa);
  return isa;
}

std::atomic<int> g_forced{-1};

}  // namespace

std::string_view isa_name(Isa isa) {
  const auto i = static_cast<size_t>(isa);
  return i < kIsaNames.size() ? kIsaNames[i] : "unknown";
}

bool isa_from_name(std::string_view name, Isa* out) {
  for (size_t i = 0; i < kIsaNames.size(); i++) {
    if (kIsaNames[i] == name) {
      *out = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

std::vector<Isa> compiled_isas() {
  std::vector<Isa> v;
  for (size_t i = 0; i < kIsaNames.size(); i++)
    if (is_compiled(static_cast<Isa>(i))) v.push_back(static_cast<Isa>(i));
  return v;
}

bool cpu_supports(Isa isa) { return simd::cpu_has(isa); }

std::vector<Isa> runnable_isas() {
  std::vector<Isa> v;
  for (Isa isa : compiled_isas())
    if (cpu_supports(isa)) v.push_back(isa);
  return v;
}

Isa best_isa() { return runnable_isas().back(); }

Isa active_isa() {
  const int forced = g_forced.load(std::memory_order_acquire);
  if (forced >= 0) return static_cast<Isa>(forced);
  static const Isa from_env = default_isa();  // throws (and retries next call) on a bad QES_ISA
  return from_env;
}

void force_isa(Isa isa) {
  check_runnable(isa);
  g_forced.store(static_cast<int>(isa), std::memory_order_release);
}

void force_isa(std::string_view name) {
  Isa isa;
  if (!isa_from_name(name, &isa))
    throw std::runtime_error("unknown kernel path '" + std::string(name) +
                             "' (scalar, avx2, avx512, avx512vnni, neon, neondot)");
  force_isa(isa);
}

namespace {
std::atomic<int> g_line_loads{static_cast<int>(LineLoads::Auto)};
}  // namespace

void set_line_loads(LineLoads mode) { g_line_loads.store(static_cast<int>(mode), std::memory_order_relaxed); }

bool whole_line_loads() {
  static const bool amd = simd::cpu_is_amd();
  switch (static_cast<LineLoads>(g_line_loads.load(std::memory_order_relaxed))) {
    case LineLoads::Whole: return true;
    case LineLoads::Split: return false;
    default: return amd;
  }
}

std::string kernel_name(DType wtype, int nb) { return kernel_name(wtype, nb, active_isa()); }

std::string kernel_name(DType wtype, int nb, Isa isa) {
  const simd::DispatchTable& t = simd::dispatch_table(isa);
  const char* op = nb == 1 ? "gemv" : "gemm";
  simd::QType q;
  simd::FType f;
  if (simd::qtype_of(wtype, &q)) {
    const auto& e = nb == 1 ? t.gemv[static_cast<int>(q)] : t.gemm[static_cast<int>(q)];
    return std::string(op) + "_" + std::string(simd::qtype_name(q)) + "_q8__" + std::string(isa_name(e.from));
  }
  if (simd::ftype_of(wtype, &f)) {
    const auto& e = nb == 1 ? t.fgemv[static_cast<int>(f)] : t.fgemm[static_cast<int>(f)];
    return std::string(op) + "_" + std::string(simd::ftype_name(f)) + "_f32__" + std::string(isa_name(e.from));
  }
  throw std::invalid_argument("no kernel for weight type " + std::string(dtype_name(wtype)));
}

namespace simd {

const DispatchTable& dispatch_table(Isa isa) {
  check_runnable(isa);
  // Filled once per path, on first use.
  static std::array<std::once_flag, kIsaNames.size()> once;
  static std::array<DispatchTable, kIsaNames.size()> tables;
  const auto i = static_cast<size_t>(isa);
  std::call_once(once[i], [&] { tables[i] = merge(isa); });
  return tables[i];
}

bool qtype_of(DType t, QType* out) {
  switch (t) {
    case DType::Q4_0: *out = QType::Q4_0; return true;
    case DType::Q4_1: *out = QType::Q4_1; return true;
    case DType::Q8_0: *out = QType::Q8_0; return true;
    case DType::I4_G32:
    case DType::I4_G64:
    case DType::I4_G128: *out = QType::I4; return true;
    default: return false;
  }
}

bool ftype_of(DType t, FType* out) {
  switch (t) {
    case DType::F32: *out = FType::F32; return true;
    case DType::F16: *out = FType::F16; return true;
    case DType::BF16: *out = FType::BF16; return true;
    default: return false;
  }
}

std::string_view qtype_name(QType t) {
  constexpr std::string_view names[] = {"q4_0", "q4_1", "q8_0", "i4"};
  return names[static_cast<int>(t)];
}

std::string_view ftype_name(FType t) {
  constexpr std::string_view names[] = {"f32", "f16", "bf16"};
  return names[static_cast<int>(t)];
}

}  // namespace simd
}  // namespace qes
