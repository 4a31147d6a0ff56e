#include "kv/chunk_key.h"

#include "runtime/xxh64_round.h"

namespace chunkmesh {
namespace {

using xxh64::kP3;
using xxh64::rotl;
using xxh64::round;

// Lane starts: distinct, so equal words in different lanes differ.
constexpr uint64_t kLane[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull,
                               0x082efa98ec4e6c89ull};

uint64_t fnv1a64(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline uint64_t word(const int32_t* t, size_t k) {
  return static_cast<uint64_t>(static_cast<uint32_t>(t[2 * k])) |
         static_cast<uint64_t>(static_cast<uint32_t>(t[2 * k + 1])) << 32;
}

uint64_t digest(const int32_t* t, size_t n) {
  uint64_t v0 = kLane[0], v1 = kLane[1], v2 = kLane[2], v3 = kLane[3];
  const size_t words = n / 2;
  size_t k = 0;
  // Four words per step, one per lane: four independent dependency chains.
  for (; k + 4 <= words; k += 4) {
    v0 = round(v0, word(t, k));
    v1 = round(v1, word(t, k + 1));
    v2 = round(v2, word(t, k + 2));
    v3 = round(v3, word(t, k + 3));
  }
  uint64_t* lanes[4] = {&v0, &v1, &v2, &v3};
  for (; k < words; ++k) *lanes[k % 4] = round(*lanes[k % 4], word(t, k));
  if (n % 2 == 1) *lanes[k % 4] = round(*lanes[k % 4], static_cast<uint32_t>(t[n - 1]));
  const uint64_t d = xxh64::merge_lanes(v0, v1, v2, v3);
  return mix64(d ^ (static_cast<uint64_t>(n) * kP3));
}

}  // namespace

uint64_t chunk_key_root(const std::string& model_id, int chunk_tokens, const std::string& salt) {
  const std::string tag = "chunkmesh/v" + std::to_string(kChunkKeyFormat);
  const uint8_t zero = 0;
  const std::string c = std::to_string(chunk_tokens);
  uint64_t h = 0xcbf29ce484222325ull;
  h = fnv1a64(h, tag.data(), tag.size());
  h = fnv1a64(h, &zero, 1);
  h = fnv1a64(h, model_id.data(), model_id.size());
  h = fnv1a64(h, &zero, 1);
  h = fnv1a64(h, c.data(), c.size());
  h = fnv1a64(h, &zero, 1);
  return fnv1a64(h, salt.data(), salt.size());
}

uint64_t chunk_key_next(uint64_t parent, const int32_t* tokens, size_t n) { return mix64(parent ^ digest(tokens, n)); }

}  // namespace chunkmesh
