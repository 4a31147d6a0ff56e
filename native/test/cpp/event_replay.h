#pragma once
// A tree's KV events applied as a reader of the stream applies them (the
// router's index, a worker's snapshot): per tier, the keys resident there.
// Each event is checked against those before it: storing a key its tier
// already holds, moving a key out of a tier that does not hold it or within
// one tier, removing a key its tier does not hold, or clearing with keys
// named, fails the test.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "kv/kv_event.h"

namespace cmtest {

class EventReplay {
 public:
  // Applies one event. Keys that left the device (moved below it, or removed from it) are
  // appended to `left_device` when given, in the order the events name them.
  void apply(const chunkmesh::KvEvent& e, std::vector<uint64_t>* left_device = nullptr);
  // Applies events[applied()..]: for a list of events that only grows.
  void catch_up(const std::vector<chunkmesh::KvEvent>& events);
  size_t applied() const { return applied_; }

  const std::set<uint64_t>& keys(chunkmesh::KvTier tier) const { return tiers_.at(static_cast<int>(tier)); }
  // The tier holding `key`, if any.
  std::optional<chunkmesh::KvTier> tier_of(uint64_t key) const;
  // The same keys as a tree's listing (PrefixTreeInspector::resident_keys), counted: a key the
  // listing names twice differs.
  bool same_as(const std::array<std::multiset<uint64_t>, chunkmesh::kTierCount>& listing) const;

 private:
  std::array<std::set<uint64_t>, chunkmesh::kTierCount> tiers_;
  size_t applied_ = 0;
};

}  // namespace cmtest
