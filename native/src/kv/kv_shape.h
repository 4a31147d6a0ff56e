#pragma once
// Geometry of the KV cache: what one chunk holds and how it is laid out.
// A chunk is [layers][2 (K, V)][kv_heads][chunk_tokens][head_dim]: a layer's K
// and V of one head are each one contiguous [c][d] block the kernels stream.
#include <cstddef>
#include <cstdint>

namespace chunkmesh {

enum class DType : int { kF32 = 0, kF16 = 1, kBF16 = 2 };

inline size_t dtype_size(DType t) { return t == DType::kF32 ? 4 : 2; }
inline const char* dtype_name(DType t) { return t == DType::kF32 ? "f32" : t == DType::kF16 ? "f16" : "bf16"; }

struct KvShape {
  int layers = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int chunk_tokens = 0;
  DType dtype = DType::kF32;

  size_t head_block_elems() const { return static_cast<size_t>(chunk_tokens) * head_dim; }
  size_t chunk_elems() const { return static_cast<size_t>(layers) * 2 * kv_heads * head_block_elems(); }
  size_t chunk_bytes() const { return chunk_elems() * dtype_size(dtype); }
  // Bytes of K and V for one token in every layer: the unit of logical KV size.
  size_t token_bytes() const { return static_cast<size_t>(layers) * 2 * kv_heads * head_dim * dtype_size(dtype); }
  // A chunk as it travels between workers (kv_transfer.h): per layer, K then V of its rows, each
  // [chunk_tokens][kv_heads][head_dim] fp32 whatever the pool's dtype. One such K (or V) block:
  size_t record_block_bytes() const { return static_cast<size_t>(chunk_tokens) * kv_heads * head_dim * sizeof(float); }
  size_t record_bytes() const { return record_block_bytes() * 2 * layers; }
  // Element offset of the K (kv = 0) or V (kv = 1) block of (layer, head) in a chunk.
  size_t block_offset(int layer, int kv, int head) const {
    return ((static_cast<size_t>(layer) * 2 + kv) * kv_heads + head) * head_block_elems();
  }
};

// Throws kInvalidArgument naming the first field out of range.
KvShape validate_shape(const KvShape& shape);

}  // namespace chunkmesh
