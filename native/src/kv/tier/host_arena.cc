#include "kv/tier/host_arena.h"

#include "device/device.h"

namespace chunkmesh {

HostArena::HostArena(Device& device, size_t chunk_bytes, uint32_t slots)
    : device_(device),
      chunk_bytes_(chunk_bytes),
      slots_(slots),
      base_(static_cast<uint8_t*>(device.allocate_host(chunk_bytes * slots))) {
  free_.reserve(slots);
  for (uint32_t i = slots; i > 0; --i) free_.push_back(i - 1);
}

HostArena::~HostArena() { device_.release_host(base_); }

uint32_t HostArena::take() {
  const uint32_t s = free_.back();
  free_.pop_back();
  return s;
}

void HostArena::give(uint32_t slot) { free_.push_back(slot); }

}  // namespace chunkmesh
