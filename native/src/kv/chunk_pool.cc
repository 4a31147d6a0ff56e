#include "kv/chunk_pool.h"

#include <cstring>

#include "device/device.h"
#include "runtime/error.h"

namespace chunkmesh {

ChunkPool::ChunkPool(const KvShape& shape, uint32_t capacity, Device& device)
    : shape_(shape), capacity_(capacity), chunk_bytes_(shape.chunk_bytes()), device_(device) {
  if (capacity == 0) throw_invalid("capacity must be at least one chunk");
  base_ = static_cast<uint8_t*>(device_.allocate(chunk_bytes_ * capacity));
  free_.reserve(capacity);
  for (uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
}

ChunkPool::~ChunkPool() { device_.release(base_); }

uint32_t ChunkPool::take() {
  const uint32_t c = free_.back();
  free_.pop_back();
  return c;
}

void ChunkPool::give_back(uint32_t chunk) { free_.push_back(chunk); }

}  // namespace chunkmesh
