#pragma once
// Chunk keys: the cluster-wide name of a chunk of prompt tokens. Defined once
// here; the worker's tree and the router's index both call these functions
// (the router through the addon), so equal prefixes get equal keys everywhere.
//
// Spec, key format 2 (CHUNK_KEY_FORMAT; workers register it and routers place
// only on workers of their own format). All arithmetic is on uint64 mod 2^64;
// rotl is a 64-bit left rotation; tokens are read as uint32.
//
//   root  = fnv1a64("chunkmesh/v" decimal(format) 0x00 model_id 0x00 decimal(chunk_tokens) 0x00 salt)
//   key_i = mix64(key_{i-1} ^ digest(tokens of chunk i))
//
//   digest(t[0..n)):
//     word w_k = t[2k] | t[2k+1] << 32 for k < ceil(n/2) (a missing t[n] reads 0)
//     lanes v_0..v_3 start at L0..L3; word k goes to lane k mod 4:
//       v = rotl(v + w_k * P2, 31) * P1                (xxHash64's round)
//     d = rotl(v_0, 1) + rotl(v_1, 7) + rotl(v_2, 12) + rotl(v_3, 18)
//     digest = mix64(d ^ (n * P3))
//   mix64 is SplitMix64's finaliser; the constants are in chunk_key.cc.
//
// The four lanes are independent, so their multiplies overlap in the pipeline
// (format 1 made one dependent mix64 per token: ~7x slower). The salt (tenant)
// binds through the root, so every key of a chain carries it; the model id and
// chunk size bind the same way. Keys route; they never decide correctness (the
// tree compares token ids).
#include <cstddef>
#include <cstdint>
#include <string>

namespace chunkmesh {

// Bumped whenever any key changes for the same tokens: registered by workers,
// compared by routers (services/common ClusterConstants.keyFormat).
inline constexpr int kChunkKeyFormat = 2;

uint64_t chunk_key_root(const std::string& model_id, int chunk_tokens, const std::string& salt);
uint64_t chunk_key_next(uint64_t parent, const int32_t* tokens, size_t n);

}  // namespace chunkmesh
