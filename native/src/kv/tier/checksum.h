#pragma once
// A 64-bit checksum of a chunk's bytes, so that a disk record that was torn,
// truncated or overwritten is found out before its KV is served. Not
// cryptographic: it guards against accidents (partial writes, bit rot, a
// stray writer), not against someone who can write the cache directory.
// Four independent multiply-rotate lanes over 32-byte blocks keep it near
// memory speed (a chunk is hundreds of KiB); the tail and length fold in last.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "runtime/xxh64_round.h"

namespace chunkmesh {

inline uint64_t checksum_bytes(const void* data, size_t n, uint64_t seed = 0) {
  using xxh64::kP1, xxh64::kP2, xxh64::kP3, xxh64::rotl, xxh64::round;
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t lane[4] = {seed + kP1 + kP2, seed + kP2, seed, seed - kP1};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * l, 8);
      lane[l] = round(lane[l], w);
    }
  }
  uint64_t h = xxh64::merge_lanes(lane[0], lane[1], lane[2], lane[3]);
  for (int l = 0; l < 4; ++l) h = (h ^ round(0, lane[l])) * kP1 + kP3;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = rotl(h ^ round(0, w), 27) * kP1 + kP3;
  }
  for (; i < n; ++i) h = rotl(h ^ (p[i] * kP3), 11) * kP1;
  h ^= static_cast<uint64_t>(n);
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  return h ^ (h >> 32);
}

}  // namespace chunkmesh
