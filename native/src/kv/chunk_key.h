#pragma once
// Chunk keys: the cluster-wide name of a chunk of prompt tokens. Defined once
// here; the worker's tree and the router's index both call these functions
// (the router through the addon), so equal prefixes get equal keys everywhere.
//
//   root  = fnv1a64("chunkmesh/v1" 0x00 model_id 0x00 decimal(chunk_tokens) 0x00 salt)
//   key_i = fold(key_{i-1}, tokens of chunk i), fold: h = mix64(h ^ (token + 0x9e3779b97f4a7c15))
//           per token, mix64 being SplitMix64's finaliser.
//
// Keys route; they never decide correctness (the tree compares token ids).
#include <cstddef>
#include <cstdint>
#include <string>

namespace chunkmesh {

uint64_t chunk_key_root(const std::string& model_id, int chunk_tokens, const std::string& salt);
uint64_t chunk_key_next(uint64_t parent, const int32_t* tokens, size_t n);

}  // namespace chunkmesh
