#pragma once
// Reads one (chunk, layer, K|V, head) block of the pool as fp32: a direct
// pointer for fp32 pools, a conversion into the caller's buffer for fp16/bf16.
#include <cstdint>

#include "kv/kv_pool.h"
#include "runtime/half.h"

namespace chunkmesh {

class KvBlockReader {
 public:
  KvBlockReader(const KvPool& pool, int layer) : pool_(pool), layer_(layer) {}

  const float* read(uint32_t slot, int kv, int head, int tokens, float* buf) const {
    const KvShape& s = pool_.shape;
    const size_t off = s.block_offset(layer_, kv, head);
    const uint8_t* base = pool_.chunk(slot);
    const size_t n = static_cast<size_t>(tokens) * s.head_dim;
    switch (s.dtype) {
      case DType::kF32:
        return reinterpret_cast<const float*>(base) + off;
      case DType::kF16:
        half_to_float_n(reinterpret_cast<const uint16_t*>(base) + off, buf, n);
        return buf;
      case DType::kBF16:
        bf16_to_float_n(reinterpret_cast<const uint16_t*>(base) + off, buf, n);
        return buf;
    }
    return buf;
  }

 private:
  const KvPool& pool_;
  int layer_;
};

}  // namespace chunkmesh
