#pragma once
// Reads one (chunk, layer, K|V, head) block of the pool as fp32: a direct
// pointer for fp32 pools, a conversion into the caller's buffer for fp16.
#include <cstdint>

#include "kv/chunk_pool.h"
#include "runtime/half.h"

namespace chunkmesh {

class KvBlockReader {
 public:
  KvBlockReader(const ChunkPool& pool, int layer) : pool_(pool), shape_(pool.shape()), layer_(layer) {}

  const float* read(uint32_t chunk, int kv, int head, int tokens, float* buf) const {
    const size_t off = shape_.block_offset(layer_, kv, head);
    const uint8_t* base = pool_.chunk_data(chunk);
    if (shape_.dtype == DType::kF32) return reinterpret_cast<const float*>(base) + off;
    half_to_float_n(reinterpret_cast<const uint16_t*>(base) + off, buf, static_cast<size_t>(tokens) * shape_.head_dim);
    return buf;
  }

 private:
  const ChunkPool& pool_;
  const KvShape& shape_;
  int layer_;
};

}  // namespace chunkmesh
