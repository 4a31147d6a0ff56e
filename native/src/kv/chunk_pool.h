#pragma once
// Fixed-capacity storage for KV chunks, allocated once at creation. Chunks are
// named by index; the pool only tracks which are free. Who owns a used chunk
// (a tree node or a sequence's private tail) is the prefix tree's business.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kv/kv_shape.h"

namespace chunkmesh {

class Device;

class ChunkPool {
 public:
  ChunkPool(const KvShape& shape, uint32_t capacity, Device& device);
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  const KvShape& shape() const { return shape_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t free_count() const { return static_cast<uint32_t>(free_.size()); }

  // Returns a free chunk index; the caller must have checked free_count() > 0.
  uint32_t take();
  void give_back(uint32_t chunk);

  uint8_t* chunk_data(uint32_t chunk) { return base_ + static_cast<size_t>(chunk) * chunk_bytes_; }
  const uint8_t* chunk_data(uint32_t chunk) const { return base_ + static_cast<size_t>(chunk) * chunk_bytes_; }
  const uint8_t* base() const { return base_; }
  size_t chunk_bytes() const { return chunk_bytes_; }

 private:
  KvShape shape_;
  uint32_t capacity_;
  size_t chunk_bytes_;
  Device& device_;
  uint8_t* base_;
  std::vector<uint32_t> free_;  // stack: most recently freed first, warm in cache
};

}  // namespace chunkmesh
