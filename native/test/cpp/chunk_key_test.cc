// Chunk keys: golden values (the same ones native/test/chunk-keys.property.test.ts
// pins through the addon, so router and worker agree), and the optimised
// four-lane digest against a plain reference written from the spec in
// kv/chunk_key.h (one token at a time, lane by index, no unrolling) over
// random tokens and chunk sizes.
#include "kv/chunk_key.h"

#include <cstdint>
#include <string>
#include <vector>

#include "harness.h"

namespace cmtest {
namespace {

using chunkmesh::chunk_key_next;
using chunkmesh::chunk_key_root;

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t reference_digest(const std::vector<int32_t>& t) {
  uint64_t v[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull};
  for (size_t i = 0; i < t.size(); ++i) {
    // Token i is the low (even i) or high (odd i) half of word i / 2; a word's round runs once
    // both halves are known, or at the end for a lone last token.
    if (i % 2 == 1 || i + 1 == t.size()) {
      const size_t k = i / 2;
      const uint64_t lo = static_cast<uint32_t>(t[2 * k]);
      const uint64_t hi = i % 2 == 1 ? static_cast<uint32_t>(t[i]) : 0;
      v[k % 4] = rotl(v[k % 4] + (lo | hi << 32) * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
    }
  }
  const uint64_t d = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
  return mix64(d ^ (static_cast<uint64_t>(t.size()) * 0x165667b19e3779f9ull));
}

CM_TEST(chunk_key_golden_values) {
  // Changing these silently breaks every deployed index: bump kChunkKeyFormat instead.
  CHECK_EQ(chunkmesh::kChunkKeyFormat, 2);
  uint64_t key = chunk_key_root("stories260K", 64, "");
  CHECK_EQ(key, 0xa49a9f10539d1c36ull);
  std::vector<int32_t> tokens(128);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>(i);
  key = chunk_key_next(key, tokens.data(), 64);
  CHECK_EQ(key, 0x4d369950e12632bdull);
  CHECK_EQ(chunk_key_next(key, tokens.data() + 64, 64), 0xb89752a38a2b1b31ull);

  const std::vector<int32_t> odd = {0x7fffffff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  key = chunk_key_root("m", 7, "tenant-a");
  CHECK_EQ(key, 0x0bab5411ce086ee8ull);
  key = chunk_key_next(key, odd.data(), 7);
  CHECK_EQ(key, 0x7f5991072d6e77a1ull);
  CHECK_EQ(chunk_key_next(key, odd.data() + 7, 7), 0x31a234fcb9f88bcfull);
}

CM_TEST(chunk_key_matches_reference) {
  for_each_seed(50, [](uint64_t seed) {
    Rng rng(seed);
    const int n = rng.range(1, 300 * scale());
    const int vocab = rng.chance(0.5) ? 32000 : 0x7fffffff;
    const std::vector<int32_t> tokens = rng.tokens(static_cast<size_t>(n), vocab);
    const uint64_t parent = rng.next();
    CHECK_MSG(chunk_key_next(parent, tokens.data(), tokens.size()) == mix64(parent ^ reference_digest(tokens)),
              "n = " << n);
  });
}

CM_TEST(chunk_key_binds_salt_and_every_token) {
  std::vector<int32_t> tokens(64);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>(i * 7);
  const uint64_t root = chunk_key_root("m", 64, "a");
  CHECK(root != chunk_key_root("m", 64, "b"));
  CHECK(root != chunk_key_root("m", 32, "a"));
  CHECK(root != chunk_key_root("n", 64, "a"));
  const uint64_t key = chunk_key_next(root, tokens.data(), tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::vector<int32_t> changed = tokens;
    changed[i] ^= 1;
    CHECK_MSG(chunk_key_next(root, changed.data(), changed.size()) != key, "token " << i);
  }
}

}  // namespace
}  // namespace cmtest
