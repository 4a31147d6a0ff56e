#pragma once
// What the tree tells the cluster: chunk keys that became resident in a tier
// (stored), stopped being resident there (removed), or all of a tier at once
// (cleared). A chunk demoted from the device to a lower tier is removed from
// one tier and stored in the other.
#include <cstdint>
#include <vector>

namespace chunkmesh {

enum class KvOp : int { kStored = 0, kRemoved = 1, kCleared = 2 };
enum class KvTier : int { kDevice = 0, kHost = 1, kDisk = 2 };
constexpr int kTierCount = 3;

struct KvEvent {
  KvOp op;
  KvTier tier;
  std::vector<uint64_t> keys;  // empty for kCleared
};

}  // namespace chunkmesh
