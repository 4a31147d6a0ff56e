#include "kv/chunk_key.h"

namespace chunkmesh {
namespace {

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

}  // namespace

uint64_t chunk_key_root(const std::string& model_id, int chunk_tokens, const std::string& salt) {
  static const char kTag[] = "chunkmesh/v1";
  const uint8_t zero = 0;
  const std::string c = std::to_string(chunk_tokens);
  uint64_t h = 0xcbf29ce484222325ull;
  h = fnv1a64(h, kTag, sizeof kTag - 1);
  h = fnv1a64(h, &zero, 1);
  h = fnv1a64(h, model_id.data(), model_id.size());
  h = fnv1a64(h, &zero, 1);
  h = fnv1a64(h, c.data(), c.size());
  h = fnv1a64(h, &zero, 1);
  return fnv1a64(h, salt.data(), salt.size());
}

uint64_t chunk_key_next(uint64_t parent, const int32_t* tokens, size_t n) {
  uint64_t h = parent;
  for (size_t i = 0; i < n; ++i) {
    h = mix64(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(tokens[i])) + 0x9e3779b97f4a7c15ull));
  }
  return h;
}

}  // namespace chunkmesh
