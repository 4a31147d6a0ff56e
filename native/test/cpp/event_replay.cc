#include "event_replay.h"

#include "harness.h"

namespace cmtest {

using chunkmesh::KvEvent;
using chunkmesh::KvOp;
using chunkmesh::KvTier;

void EventReplay::apply(const KvEvent& e, std::vector<uint64_t>* left_device) {
  const int tier = static_cast<int>(e.tier);
  std::set<uint64_t>& keys = tiers_.at(tier);
  if (e.op == KvOp::kCleared) {
    CHECK_MSG(e.keys.empty(), "a clear of tier " << tier << " names keys");
    keys.clear();
    return;
  }
  for (uint64_t k : e.keys) {
    if (e.op == KvOp::kDemoted || e.op == KvOp::kPromoted) {
      const int from = static_cast<int>(e.from);
      CHECK_MSG(from != tier, "a move within tier " << tier);
      CHECK_MSG(tiers_.at(from).erase(k) == 1, "moved but not resident in tier " << from << ": " << k);
      CHECK_MSG(keys.insert(k).second, "moved into tier " << tier << " twice: " << k);
      if (e.from == KvTier::kDevice && left_device) left_device->push_back(k);
    } else if (e.op == KvOp::kStored) {
      CHECK_MSG(keys.insert(k).second, "stored twice in tier " << tier << ": " << k);
    } else {
      CHECK_MSG(keys.erase(k) == 1, "removed but not resident in tier " << tier << ": " << k);
      if (e.tier == KvTier::kDevice && left_device) left_device->push_back(k);
    }
  }
}

void EventReplay::catch_up(const std::vector<KvEvent>& events) {
  for (; applied_ < events.size(); ++applied_) apply(events[applied_]);
}

std::optional<KvTier> EventReplay::tier_of(uint64_t key) const {
  for (int t = 0; t < chunkmesh::kTierCount; ++t) {
    if (tiers_.at(t).count(key) > 0) return static_cast<KvTier>(t);
  }
  return std::nullopt;
}

bool EventReplay::same_as(const std::array<std::multiset<uint64_t>, chunkmesh::kTierCount>& listing) const {
  for (int t = 0; t < chunkmesh::kTierCount; ++t) {
    const std::set<uint64_t>& keys = tiers_.at(t);
    if (listing.at(t) != std::multiset<uint64_t>(keys.begin(), keys.end())) return false;
  }
  return true;
}

}  // namespace cmtest
