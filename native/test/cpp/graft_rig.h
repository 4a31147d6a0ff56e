#pragma once
// Truncation reuse under test: a conversation cached with random K/V, a graft
// that drops `drop` tokens after a `head`, and the target's K/V read back.
#include <cstdint>
#include <vector>

#include "kv/kv_cache.h"
#include "model/rope.h"

namespace cmtest {

struct GraftCase {
  int chunk_tokens = 4;
  size_t source_tokens = 0;  // cached, whole chunks of it become nodes
  size_t head = 0;
  size_t drop = 0;
  chunkmesh::RopeLayout layout = chunkmesh::RopeLayout::kHalves;
};

// K and V of every layer, [layer][pos][kv_heads][head_dim] flattened per layer.
struct LayersKv {
  std::vector<std::vector<float>> k, v;
};

// The source conversation's tokens (distinct ids, so a match is the intended one).
std::vector<int32_t> graft_source(const GraftCase& g);
// Caches source with K/V drawn from seed (the sequence is released after).
void cache_source(chunkmesh::KvCache& cache, const std::vector<int32_t>& source, uint64_t seed);
// Grafts (on the owner thread, with rope's shift for g.drop) and returns what it made.
size_t run_graft(chunkmesh::KvCache& cache, const chunkmesh::Rope& rope, const GraftCase& g,
                 const std::vector<int32_t>& source);
// K/V of positions [0, n) of tokens' cached path (n of them must be cached).
LayersKv read_cached(chunkmesh::KvCache& cache, const std::vector<int32_t>& tokens, size_t n);

}  // namespace cmtest
