#include "kv/chunk_store.h"

#include <string>

#include "device/device.h"
#include "runtime/error.h"

namespace chunkmesh {

ChunkStore::ChunkStore(Device& device, const KvShape& shape, uint32_t device_slots) : device_(device) {
  if (device_slots == 0) throw_invalid("capacity must be at least one chunk");
  pool_.shape = shape;
  pool_.slots = device_slots;
  pool_.chunk_bytes = shape.chunk_bytes();
  pool_.base = static_cast<uint8_t*>(device_.allocate(pool_.chunk_bytes * device_slots));
  free_.reserve(device_slots);
  for (uint32_t i = device_slots; i > 0; --i) free_.push_back(i - 1);
}

ChunkStore::~ChunkStore() { device_.release(pool_.base); }

uint32_t ChunkStore::take_slot() {
  const uint32_t s = free_.back();
  free_.pop_back();
  return s;
}

void ChunkStore::give_slot(uint32_t slot) { free_.push_back(slot); }

void ChunkStore::copy_slot(uint32_t dst, uint32_t src) { device_.copy_chunk(pool_, dst, src); }

void ChunkStore::place(uint32_t node, uint32_t slot) {
  if (node >= where_.size()) where_.resize(node + 1);
  Location& at = where_[node];
  if (at.tier != KvTier::kDevice && lower_) lower_->erase(node);
  at = Location{KvTier::kDevice, slot};
}

std::optional<KvTier> ChunkStore::demote(uint32_t node) {
  Location& at = where_[node];
  const uint32_t slot = at.slot;
  std::optional<KvTier> kept;
  if (lower_) {
    staging_.resize(pool_.chunk_bytes);
    device_.read_chunk(pool_, slot, staging_.data());
    if (lower_->put(node, staging_.data(), staging_.size())) kept = lower_->tier();
  }
  give_slot(slot);
  at = Location{kept.value_or(KvTier::kDevice), 0};
  return kept;
}

void ChunkStore::promote(uint32_t node, uint32_t slot) {
  Location& at = where_[node];
  if (at.tier == KvTier::kDevice || !lower_) throw_invalid("promote: node " + std::to_string(node) + " is not demoted");
  staging_.resize(pool_.chunk_bytes);
  lower_->get(node, staging_.data(), staging_.size());
  device_.write_chunk(pool_, slot, staging_.data());
  lower_->erase(node);
  at = Location{KvTier::kDevice, slot};
}

void ChunkStore::forget(uint32_t node) {
  Location& at = where_[node];
  if (at.tier == KvTier::kDevice) {
    give_slot(at.slot);
  } else if (lower_) {
    lower_->erase(node);
  }
  at = Location{};
}

void ChunkStore::attach_lower_tier(std::unique_ptr<LowerTier> tier) { lower_ = std::move(tier); }

}  // namespace chunkmesh
