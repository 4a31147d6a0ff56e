#include "kv/kv_cache.h"

#include <cmath>
#include <cstring>

#include "runtime/error.h"
#include "runtime/half.h"

namespace chunkmesh {

KvShape validate_shape(const KvShape& s) {
  if (s.layers < 1) throw_invalid("layers must be >= 1");
  if (s.kv_heads < 1) throw_invalid("kvHeads must be >= 1");
  if (s.head_dim < 1 || s.head_dim > 1024) throw_invalid("headDim must be in [1, 1024]");
  if (s.chunk_tokens < 1 || s.chunk_tokens > 4096) throw_invalid("chunkTokens must be in [1, 4096]");
  return s;
}

KvCache::KvCache(const KvCacheOptions& o)
    : device_(make_cpu_device(o.threads > 0 ? o.threads : default_thread_count())),
      pool_(validate_shape(o.shape), o.capacity_chunks, *device_),
      tree_(pool_, o.model_id, o.vocab_size) {}

void KvCache::check_layer(int layer) const {
  if (layer < 0 || layer >= shape().layers) {
    throw_invalid("layer " + std::to_string(layer) + " is outside [0, " + std::to_string(shape().layers) + ")");
  }
}

void KvCache::check_heads(int n_heads) const {
  if (n_heads < 1 || n_heads % shape().kv_heads != 0) {
    throw_invalid("query heads (" + std::to_string(n_heads) + ") must be a positive multiple of kvHeads (" +
                  std::to_string(shape().kv_heads) + ")");
  }
}

namespace {

void check_span(const Sequence& seq, size_t pos, size_t n) {
  if (pos + n > seq.length || pos + n < pos) {
    throw_invalid("positions [" + std::to_string(pos) + ", " + std::to_string(pos + n) + ") are past the sequence's " +
                  std::to_string(seq.length) + " tokens");
  }
}

}  // namespace

void KvCache::write_kv(uint32_t seq_id, int layer, size_t pos, size_t n, const float* k, const float* v) {
  check_layer(layer);
  check_span(tree_.sequence(seq_id), pos, n);
  const KvShape& s = shape();
  const size_t c = s.chunk_tokens;
  const size_t d = s.head_dim;
  for (size_t t = 0; t < n; ++t) {
    const size_t p = pos + t;
    uint8_t* chunk = pool_.chunk_data(tree_.chunk_at(seq_id, p));
    for (int h = 0; h < s.kv_heads; ++h) {
      const float* src[2] = {k + (t * s.kv_heads + h) * d, v + (t * s.kv_heads + h) * d};
      for (int kv = 0; kv < 2; ++kv) {
        const size_t off = s.block_offset(layer, kv, h) + (p % c) * d;
        if (s.dtype == DType::kF32) {
          std::memcpy(reinterpret_cast<float*>(chunk) + off, src[kv], d * sizeof(float));
        } else {
          float_to_half_n(src[kv], reinterpret_cast<uint16_t*>(chunk) + off, d);
        }
      }
    }
  }
}

void KvCache::read_kv(uint32_t seq_id, int layer, size_t pos, size_t n, float* k, float* v) const {
  check_layer(layer);
  check_span(tree_.sequence(seq_id), pos, n);
  const KvShape& s = shape();
  const size_t c = s.chunk_tokens;
  const size_t d = s.head_dim;
  for (size_t t = 0; t < n; ++t) {
    const size_t p = pos + t;
    const uint8_t* chunk = pool_.chunk_data(tree_.chunk_at(seq_id, p));
    for (int h = 0; h < s.kv_heads; ++h) {
      float* dst[2] = {k + (t * s.kv_heads + h) * d, v + (t * s.kv_heads + h) * d};
      for (int kv = 0; kv < 2; ++kv) {
        const size_t off = s.block_offset(layer, kv, h) + (p % c) * d;
        if (s.dtype == DType::kF32) {
          std::memcpy(dst[kv], reinterpret_cast<const float*>(chunk) + off, d * sizeof(float));
        } else {
          half_to_float_n(reinterpret_cast<const uint16_t*>(chunk) + off, dst[kv], d);
        }
      }
    }
  }
}

void KvCache::decode(const uint32_t* seq_ids, size_t batch, int layer, int n_heads, const float* q, float* out,
                     DecodeMode mode) {
  check_layer(layer);
  check_heads(n_heads);
  const DecodePlan plan = plan_decode(tree_, seq_ids, batch);
  const AttentionCall call{&pool_, layer, n_heads, 1.f / std::sqrt(static_cast<float>(shape().head_dim)), q, out};
  device_->decode(plan, call, mode);
}

void KvCache::prefill(uint32_t seq_id, int layer, int n_heads, size_t n_new, const float* q, float* out) {
  check_layer(layer);
  check_heads(n_heads);
  const Sequence& seq = tree_.sequence(seq_id);
  if (n_new == 0 || n_new > seq.length) {
    throw_invalid("prefill of " + std::to_string(n_new) + " tokens on a sequence of " + std::to_string(seq.length));
  }
  std::vector<uint32_t> chunks = seq.path;
  chunks.insert(chunks.end(), seq.tail_chunks.begin(), seq.tail_chunks.end());
  const AttentionCall call{&pool_, layer, n_heads, 1.f / std::sqrt(static_cast<float>(shape().head_dim)), q, out};
  device_->prefill(chunks, seq.length, n_new, call);
}

}  // namespace chunkmesh
