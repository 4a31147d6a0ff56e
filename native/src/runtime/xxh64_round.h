#pragma once
// The pieces of xxHash64 that chunkmesh's two hashes are built from: its
// primes, its round (one 64-bit word into an accumulator lane) and its merge
// of four lanes. The chunk-key digest (kv/chunk_key.cc) and the disk
// checksum (kv/tier/checksum.h) each run four independent lanes of rounds, so
// the multiplies of different lanes overlap. Changing anything here changes
// every chunk key: bump kChunkKeyFormat (kv/chunk_key.h).
#include <cstdint>

namespace chunkmesh::xxh64 {

// xxHash64's primes (odd, with well-spread bits).
inline constexpr uint64_t kP1 = 0x9e3779b185ebca87ull;
inline constexpr uint64_t kP2 = 0xc2b2ae3d27d4eb4full;
inline constexpr uint64_t kP3 = 0x165667b19e3779f9ull;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t round(uint64_t acc, uint64_t w) { return rotl(acc + w * kP2, 31) * kP1; }

inline uint64_t merge_lanes(uint64_t v0, uint64_t v1, uint64_t v2, uint64_t v3) {
  return rotl(v0, 1) + rotl(v1, 7) + rotl(v2, 12) + rotl(v3, 18);
}

}  // namespace chunkmesh::xxh64
