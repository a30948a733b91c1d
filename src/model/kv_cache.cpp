#include "kv_cache.hpp"

namespace qes {

KvCache::KvCache(const ModelConfig& config, int slots, int context, KvType type)
    : slots_(slots),
      context_(context),
      n_kv_heads_(config.n_kv_heads),
      head_dim_(config.head_dim),
      type_(type) {
  elements_ = static_cast<size_t>(config.n_layers) * slots * context * config.kv_dim();
  const size_t bytes_each = elements_ * (type == KvType::F16 ? 2 : 4);
  k_ = HugePageBuffer(bytes_each);
  v_ = HugePageBuffer(bytes_each);
}

size_t KvCache::bytes_for(const ModelConfig& config, int slots, int context, KvType type) {
  return 2 * static_cast<size_t>(config.n_layers) * slots * context * config.kv_dim() *
         (type == KvType::F16 ? 2 : 4);
}

}  // namespace qes
