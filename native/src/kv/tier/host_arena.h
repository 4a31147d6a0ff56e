#pragma once
// The host tier's memory: `slots` chunk-sized slots in one allocation of the
// device's host memory (page-locked on a GPU, so tier copies run as DMA).
// Owned by the chunk store on the owner thread; an IO thread reads or writes a
// slot only while the store has lent it to that thread's job.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace chunkmesh {

class Device;

class HostArena {
 public:
  HostArena(Device& device, size_t chunk_bytes, uint32_t slots);
  ~HostArena();
  HostArena(const HostArena&) = delete;
  HostArena& operator=(const HostArena&) = delete;

  uint32_t capacity() const { return slots_; }
  uint32_t free_slots() const { return static_cast<uint32_t>(free_.size()); }
  // A free slot; the caller has checked free_slots() > 0.
  uint32_t take();
  void give(uint32_t slot);
  uint8_t* at(uint32_t slot) const { return base_ + static_cast<size_t>(slot) * chunk_bytes_; }

 private:
  Device& device_;
  size_t chunk_bytes_;
  uint32_t slots_;
  uint8_t* base_;
  std::vector<uint32_t> free_;
};

}  // namespace chunkmesh
