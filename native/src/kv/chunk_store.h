#pragma once
// Where the bytes of every tree node live: node -> (tier, slot). The device
// tier is a fixed pool of slots allocated once on the Device; running
// sequences' private tails also hold device slots (taken and given back here).
// Lower tiers (host DRAM, local SSD) plug in below the device through
// LowerTier: evicting a node from the device then demotes it instead of
// dropping it, and a prefix hit on a demoted node promotes it back.
//
// The store moves bytes and keeps the map; which node to evict, and when to
// promote, is the prefix tree's decision.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kv/kv_event.h"
#include "kv/kv_pool.h"

namespace chunkmesh {

class Device;

// A tier below the device pool. Keyed by tree node id; each entry holds one
// chunk's bytes exactly as the device pool lays them out.
class LowerTier {
 public:
  virtual ~LowerTier() = default;
  virtual KvTier tier() const = 0;
  // Takes a copy of a chunk; false when the tier has no room (the chunk is then dropped).
  virtual bool put(uint32_t node, const uint8_t* bytes, size_t n) = 0;
  // Copies a held chunk back out.
  virtual void get(uint32_t node, uint8_t* bytes, size_t n) = 0;
  virtual void erase(uint32_t node) = 0;
};

class ChunkStore {
 public:
  ChunkStore(Device& device, const KvShape& shape, uint32_t device_slots);
  ~ChunkStore();
  ChunkStore(const ChunkStore&) = delete;
  ChunkStore& operator=(const ChunkStore&) = delete;

  const KvPool& pool() const { return pool_; }
  const KvShape& shape() const { return pool_.shape; }
  uint32_t capacity() const { return pool_.slots; }

  // ---- device slots ----
  uint32_t free_slots() const { return static_cast<uint32_t>(free_.size()); }
  // A free device slot; the caller has checked free_slots() > 0.
  uint32_t take_slot();
  void give_slot(uint32_t slot);
  void copy_slot(uint32_t dst, uint32_t src);

  // ---- node locations ----
  // The node's bytes are now in device slot `slot` (written there, or adopted); a lower-tier copy is dropped.
  void place(uint32_t node, uint32_t slot);
  KvTier tier_of(uint32_t node) const { return where_[node].tier; }
  bool on_device(uint32_t node) const { return where_[node].tier == KvTier::kDevice; }
  // The node's device slot; the node must be on the device.
  uint32_t slot_of(uint32_t node) const { return where_[node].slot; }
  // Moves a node off the device: into the lower tier when there is one with
  // room (returns that tier), else nowhere (nullopt: the bytes are dropped).
  // Its device slot is free afterwards either way.
  std::optional<KvTier> demote(uint32_t node);
  // Copies a demoted node back into device slot `slot`, taken by the caller.
  void promote(uint32_t node, uint32_t slot);
  // The node leaves the tree: its bytes are released wherever they are.
  void forget(uint32_t node);

  void attach_lower_tier(std::unique_ptr<LowerTier> tier);
  bool has_lower_tier() const { return lower_ != nullptr; }

 private:
  struct Location {
    KvTier tier = KvTier::kDevice;
    uint32_t slot = 0;  // device slot; unused on lower tiers
  };

  Device& device_;
  KvPool pool_;
  std::vector<uint32_t> free_;   // stack: most recently freed first, warm in cache
  std::vector<Location> where_;  // indexed by node id, grown as nodes appear
  std::unique_ptr<LowerTier> lower_;
  std::vector<uint8_t> staging_;  // one chunk in host memory, for moves between tiers
};

}  // namespace chunkmesh
