#pragma once
// What the tree tells the cluster about where chunks live:
//   stored    keys became resident in `tier` (new on the device);
//   removed   keys stopped being resident in `tier` (dropped);
//   demoted   keys moved down from `from` to `tier` (device->host, host->disk);
//   promoted  keys moved up from `from` to `tier` (host->device, disk->host);
//   cleared   every key of `tier` at once.
// A key is resident in exactly one tier at a time.
#include <cstdint>
#include <vector>

namespace chunkmesh {

enum class KvOp : int { kStored = 0, kRemoved = 1, kCleared = 2, kDemoted = 3, kPromoted = 4 };
enum class KvTier : int { kDevice = 0, kHost = 1, kDisk = 2 };
constexpr int kTierCount = 3;

struct KvEvent {
  KvOp op;
  KvTier tier;
  std::vector<uint64_t> keys;     // empty for kCleared
  KvTier from = KvTier::kDevice;  // kDemoted, kPromoted: the tier the keys left
};

}  // namespace chunkmesh
