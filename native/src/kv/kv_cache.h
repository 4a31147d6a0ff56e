#pragma once
// The object the addon exposes: a device, its chunk pool and the prefix tree
// over it, plus the operations that move KV in and attention out, each
// checking its arguments before touching state.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attention/attention.h"
#include "device/device.h"
#include "kv/chunk_pool.h"
#include "kv/prefix_tree.h"

namespace chunkmesh {

struct KvCacheOptions {
  KvShape shape;
  uint32_t capacity_chunks = 0;
  std::string model_id;
  int32_t vocab_size = 0;  // 0: token ids are not range-checked beyond >= 0
  int threads = 0;         // 0: default_thread_count()
};

class KvCache {
 public:
  explicit KvCache(const KvCacheOptions& options);

  PrefixTree& tree() { return tree_; }
  const PrefixTree& tree() const { return tree_; }
  const KvShape& shape() const { return pool_.shape(); }
  Device& device() { return *device_; }

  // Writes K and V ([n][kv_heads][head_dim] fp32) of positions [pos, pos + n).
  void write_kv(uint32_t seq_id, int layer, size_t pos, size_t n, const float* k, const float* v);
  // Reads them back (for tests and debugging).
  void read_kv(uint32_t seq_id, int layer, size_t pos, size_t n, float* k, float* v) const;

  void decode(const uint32_t* seq_ids, size_t batch, int layer, int n_heads, const float* q, float* out,
              DecodeMode mode);
  // Attention of the sequence's last n_new tokens (already appended and written) over all of it.
  void prefill(uint32_t seq_id, int layer, int n_heads, size_t n_new, const float* q, float* out);

  void check_layer(int layer) const;
  void check_heads(int n_heads) const;

 private:
  std::unique_ptr<Device> device_;
  ChunkPool pool_;
  PrefixTree tree_;
};

KvShape validate_shape(const KvShape& shape);

}  // namespace chunkmesh
