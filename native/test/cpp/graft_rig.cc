#include "graft_rig.h"

#include "harness.h"

namespace cmtest {

using namespace chunkmesh;

std::vector<int32_t> graft_source(const GraftCase& g) {
  std::vector<int32_t> t(g.source_tokens);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int32_t>(i + 1);
  return t;
}

void cache_source(KvCache& cache, const std::vector<int32_t>& source, uint64_t seed) {
  const KvShape& s = cache.shape();
  const uint32_t seq = cache.run([&] {
    const MatchResult m = cache.tree().add_sequence("", source.data(), source.size(), 0);
    cache.tree().append(m.seq_id, source.data(), source.size());
    return m.seq_id;
  });
  Rng rng(seed);
  const size_t n = source.size();
  for (int layer = 0; layer < s.layers; ++layer) {
    const std::vector<float> k = rng.floats(n * s.kv_heads * s.head_dim);
    const std::vector<float> v = rng.floats(n * s.kv_heads * s.head_dim);
    cache.write_kv(seq, layer, 0, n, k.data(), v.data());
  }
  cache.run([&] {
    cache.tree().commit(seq);
    cache.tree().release(seq);
  });
}

size_t run_graft(KvCache& cache, const Rope& rope, const GraftCase& g, const std::vector<int32_t>& source) {
  GraftRequest req;
  req.source = source;
  req.head = g.head;
  req.drop = g.drop;
  req.target.assign(source.begin(), source.begin() + static_cast<long>(g.head));
  req.target.insert(req.target.end(), source.begin() + static_cast<long>(g.head + g.drop), source.end());
  std::vector<float> cos(rope.half()), sin(rope.half());
  rope.shift(-static_cast<int64_t>(g.drop), cos.data(), sin.data());
  return cache.run([&] { return cache.graft(req, cos.data(), sin.data(), g.layout); });
}

LayersKv read_cached(KvCache& cache, const std::vector<int32_t>& tokens, size_t n) {
  const KvShape& s = cache.shape();
  const MatchResult m =
      cache.run([&] { return cache.tree().add_sequence("", tokens.data(), tokens.size(), tokens.size()); });
  LayersKv out;
  if (m.cached_tokens < n) {
    cache.run([&] { cache.tree().release(m.seq_id); });
    fail(__FILE__, __LINE__, "only " + std::to_string(m.cached_tokens) + " of " + std::to_string(n) + " cached");
  }
  for (int layer = 0; layer < s.layers; ++layer) {
    std::vector<float> k(n * s.kv_heads * s.head_dim), v(k.size());
    cache.read_kv(m.seq_id, layer, 0, n, k.data(), v.data());
    out.k.push_back(std::move(k));
    out.v.push_back(std::move(v));
  }
  cache.run([&] { cache.tree().release(m.seq_id); });
  return out;
}

}  // namespace cmtest
