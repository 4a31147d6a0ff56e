#pragma once
// What the tree tells the cluster: chunk keys that became resident (stored),
// stopped being resident (removed), or all of them at once (cleared). The
// tier says where the chunk lives; today everything is in the device pool,
// the tiered store will add host and disk.
#include <cstdint>
#include <vector>

namespace chunkmesh {

enum class KvOp : int { kStored = 0, kRemoved = 1, kCleared = 2 };
enum class KvTier : int { kDevice = 0, kHost = 1, kDisk = 2 };

struct KvEvent {
  KvOp op;
  KvTier tier;
  std::vector<uint64_t> keys;  // empty for kCleared
};

}  // namespace chunkmesh
