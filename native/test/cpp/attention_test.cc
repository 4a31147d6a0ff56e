// TPP decode, the per-sequence baseline and prefill attention, through
// KvCache::decode / prefill / write_kv on random trees, against plain softmax
// attention in double: head sizes on and off the vector path, GQA 1..8, chunk
// sizes, ragged tails, f32/f16/bf16 pools, batches of 1..40.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "kv/kv_cache.h"
#include "reference_attention.h"

namespace cmtest {
namespace {

using chunkmesh::DecodeMode;
using chunkmesh::DType;
using chunkmesh::KvCache;
using Tokens = std::vector<int32_t>;

constexpr int kVocab = 1000;
constexpr int kLayers = 2;

// fp32 pools must match double softmax to 1e-5 relative; fp16 rounds K and V
// to 11 significant bits before the kernel sees them, bf16 to 8.
double tolerance(DType t) { return t == DType::kF32 ? 1e-5 : t == DType::kF16 ? 4e-3 : 3e-2; }

struct Shape {
  int head_dim, group, kv_heads, c;
  size_t batch;
  DType dtype;
  std::string label() const {
    return "d=" + std::to_string(head_dim) + " gqa=" + std::to_string(group) + " kv_heads=" + std::to_string(kv_heads) +
           " c=" + std::to_string(c) + " batch=" + std::to_string(batch) + " " + chunkmesh::dtype_name(dtype);
  }
  KvGeometry geometry() const { return KvGeometry{kLayers, kv_heads, head_dim}; }
  int n_heads() const { return kv_heads * group; }
};

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  int i = 0;
  for (int d : {8, 64, 128}) {
    for (int group : {1, 2, 4, 8}) {
      Rng rng(7 * d + group);
      const int kv_heads = rng.range(1, 2);
      const int c = rng.pick(std::vector<int>{4, 16, 64});
      const size_t batch = std::vector<size_t>{1, 40, static_cast<size_t>(rng.range(2, 40))}[i % 3];
      const DType dtype = i % 4 == 3 ? DType::kF16 : i % 4 == 1 ? DType::kBF16 : DType::kF32;
      out.push_back(Shape{d, group, kv_heads, c, batch, dtype});
      ++i;
    }
  }
  return out;
}

std::unique_ptr<KvCache> new_cache(const Shape& s, uint32_t chunks) {
  chunkmesh::KvCacheOptions o;
  o.shape = chunkmesh::KvShape{kLayers, s.kv_heads, s.head_dim, s.c, s.dtype};
  o.capacity_chunks = chunks;
  o.model_id = "attention-test";
  o.vocab_size = kVocab;
  o.threads = 2;
  return std::make_unique<KvCache>(o);
}

// Prompts shaped like real prefix sharing: groups with a common system prompt
// (0..many chunks, sometimes ending mid-chunk), sub-groups that share more,
// and per-sequence suffixes that may be empty.
std::vector<Tokens> random_prompts(Rng& rng, int c, size_t batch) {
  std::vector<Tokens> prompts;
  while (prompts.size() < batch) {
    const Tokens shared = rng.tokens(
        rng.pick(std::vector<int>{0, c, 2 * c, 3 * c + rng.range(1, std::max(1, c - 1)), rng.range(0, 8 * c)}), kVocab);
    const int subgroups = rng.range(1, 3);
    for (int s = 0; s < subgroups && prompts.size() < batch; ++s) {
      const Tokens more = rng.tokens(rng.pick(std::vector<int>{0, c, rng.range(0, 3 * c)}), kVocab);
      const int members = rng.range(1, std::max<int>(1, (batch + 2) / 3));
      for (int m = 0; m < members && prompts.size() < batch; ++m) {
        const Tokens own = rng.tokens(rng.pick(std::vector<int>{0, 0, rng.range(1, 2 * c)}), kVocab);
        Tokens p = shared;
        p.insert(p.end(), more.begin(), more.end());
        p.insert(p.end(), own.begin(), own.end());
        prompts.push_back(p.empty() ? rng.tokens(1, kVocab) : p);
      }
    }
  }
  return prompts;
}

// Writes the synthetic K/V of positions [from, tokens.size()) of every layer.
void write_synthetic(KvCache& cache, const KvGeometry& g, uint32_t seq, const Tokens& tokens, size_t from) {
  const std::vector<uint32_t> hashes = prefix_hashes(tokens);
  for (int layer = 0; layer < g.layers; ++layer) {
    const DenseKv kv = synthetic_kv(g, hashes, layer, from, tokens.size());
    cache.write_kv(seq, layer, from, tokens.size() - from, kv.k.data(), kv.v.data());
  }
}

// Adds a prompt the way the engine does: match, append the rest, write its
// K/V, commit (unless told not to: the whole prompt then stays a private tail).
uint32_t insert_prompt(KvCache& cache, const KvGeometry& g, const Tokens& tokens, const std::string& salt = "",
                       bool commit = true) {
  const chunkmesh::MatchResult m =
      cache.run([&] { return cache.tree().add_sequence(salt, tokens.data(), tokens.size(), tokens.size()); });
  if (m.cached_tokens < tokens.size()) {
    cache.run([&] { cache.tree().append(m.seq_id, tokens.data() + m.cached_tokens, tokens.size() - m.cached_tokens); });
    write_synthetic(cache, g, m.seq_id, tokens, m.cached_tokens);
  }
  if (commit) cache.run([&] { cache.tree().commit(m.seq_id); });
  return m.seq_id;
}

// Reference decode output of the batch, [batch][n_heads][head_dim].
std::vector<double> reference_decode(const KvGeometry& g, const std::vector<Tokens>& prompts, int layer, int n_heads,
                                     const std::vector<float>& q) {
  const size_t per = static_cast<size_t>(n_heads) * g.head_dim;
  std::vector<double> out;
  for (size_t b = 0; b < prompts.size(); ++b) {
    const DenseKv kv = synthetic_kv(g, prefix_hashes(prompts[b]), layer, 0, prompts[b].size());
    const std::vector<double> r =
        reference_attention(kv.k.data(), kv.v.data(), q.data() + b * per, 1, n_heads, g.kv_heads, g.head_dim,
                            [&](size_t) { return prompts[b].size(); });
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

std::vector<float> decode(KvCache& cache, const std::vector<uint32_t>& ids, int layer, int n_heads,
                          const std::vector<float>& q, DecodeMode mode) {
  std::vector<float> out(q.size());
  cache.decode(ids.data(), ids.size(), layer, n_heads, q.data(), out.data(), mode);
  return out;
}

// KV bytes a decode step of the batch reads in each mode.
std::pair<double, double> decode_bytes(KvCache& cache, const std::vector<uint32_t>& ids, const Shape& s) {
  return cache.run([&] {
    std::vector<uint32_t> rows(ids.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint32_t>(i);
    const chunkmesh::DecodePlan plan = chunkmesh::plan_decode(cache.tree(), ids.data(), rows.data(), ids.size());
    const size_t elem = chunkmesh::dtype_size(s.dtype);
    return std::make_pair(chunkmesh::decode_kv_bytes(plan, s.kv_heads, s.head_dim, s.c, elem, DecodeMode::kTpp),
                          chunkmesh::decode_kv_bytes(plan, s.kv_heads, s.head_dim, s.c, elem, DecodeMode::kBaseline));
  });
}

CM_TEST(attention_decode_tpp_and_baseline_equal_reference) {
  for (const Shape& shape : shapes()) {
    for_each_seed(2, [&](uint64_t seed) {
      Rng rng(seed * 31 + shape.head_dim + shape.group);
      const KvGeometry g = shape.geometry();
      std::vector<Tokens> prompts = random_prompts(rng, shape.c, shape.batch);
      uint32_t chunks = 0;
      for (const Tokens& p : prompts) chunks += static_cast<uint32_t>((p.size() + 1 + shape.c - 1) / shape.c + 1);
      const auto cache = new_cache(shape, chunks);
      // Some prompts under another tenant's salt (never shared across salts), some left uncommitted.
      std::vector<uint32_t> ids;
      for (const Tokens& p : prompts) {
        ids.push_back(insert_prompt(*cache, g, p, p.size() % 3 == 0 ? "tenant" : "", !rng.chance(0.2)));
      }
      // About half the sequences get a decode token whose K/V sits in the private tail.
      for (size_t b = 0; b < prompts.size(); ++b) {
        if (!rng.chance(0.5)) continue;
        const int32_t token = rng.range(0, kVocab - 1);
        prompts[b].push_back(token);
        cache->run([&] { cache->tree().append(ids[b], &token, 1); });
        write_synthetic(*cache, g, ids[b], prompts[b], prompts[b].size() - 1);
      }
      const int n_heads = shape.n_heads();
      const int layer = rng.range(0, kLayers - 1);
      const std::vector<float> q = rng.floats(prompts.size() * n_heads * shape.head_dim);
      const std::vector<double> expected = reference_decode(g, prompts, layer, n_heads, q);
      const double tol = tolerance(shape.dtype);
      for (DecodeMode mode : {DecodeMode::kTpp, DecodeMode::kBaseline}) {
        const double err =
            max_relative_error(decode(*cache, ids, layer, n_heads, q, mode).data(), expected, shape.head_dim);
        CHECK_MSG(err <= tol, shape.label() << (mode == DecodeMode::kTpp ? " TPP" : " baseline") << " error " << err
                                            << " > " << tol);
      }
      const auto [tpp_bytes, baseline_bytes] = decode_bytes(*cache, ids, shape);
      CHECK_MSG(tpp_bytes <= baseline_bytes, shape.label() << ": TPP reads more KV than the baseline");
    });
  }
}

CM_TEST(attention_prefill_equals_causal_reference) {
  for (const Shape& shape : shapes()) {
    for_each_seed(1, [&](uint64_t seed) {
      Rng rng(seed + shape.head_dim * 13 + shape.group);
      const KvGeometry g = shape.geometry();
      const int c = shape.c;
      const auto cache = new_cache(shape, 64);
      // A cached prefix (maybe none), then a new part of any length, sometimes a single token.
      const Tokens prefix = rng.tokens(rng.pick(std::vector<int>{0, c, 2 * c + rng.range(0, c - 1)}), kVocab);
      if (!prefix.empty()) {
        const uint32_t id = insert_prompt(*cache, g, prefix);
        cache->run([&] { cache->tree().release(id); });
      }
      Tokens prompt = prefix;
      const Tokens fresh = rng.tokens(rng.pick(std::vector<int>{1, rng.range(2, 3 * c + 5)}), kVocab);
      prompt.insert(prompt.end(), fresh.begin(), fresh.end());
      const chunkmesh::MatchResult m =
          cache->run([&] { return cache->tree().add_sequence("", prompt.data(), prompt.size(), prompt.size()); });
      CHECK_EQ(m.cached_tokens, prefix.size() / c * c);
      const size_t n_new = prompt.size() - m.cached_tokens;
      cache->run([&] { cache->tree().append(m.seq_id, prompt.data() + m.cached_tokens, n_new); });
      write_synthetic(*cache, g, m.seq_id, prompt, m.cached_tokens);
      const int n_heads = shape.n_heads();
      const int layer = rng.range(0, kLayers - 1);
      const std::vector<float> q = rng.floats(n_new * n_heads * shape.head_dim);
      std::vector<float> out(q.size());
      cache->prefill(m.seq_id, layer, n_heads, n_new, q.data(), out.data());
      const DenseKv kv = synthetic_kv(g, prefix_hashes(prompt), layer, 0, prompt.size());
      const std::vector<double> expected =
          reference_attention(kv.k.data(), kv.v.data(), q.data(), n_new, n_heads, shape.kv_heads, shape.head_dim,
                              [&](size_t t) { return m.cached_tokens + t + 1; });
      const double err = max_relative_error(out.data(), expected, shape.head_dim);
      CHECK_MSG(err <= tolerance(shape.dtype), shape.label() << " prefill error " << err);
    });
  }
}

CM_TEST(attention_fully_shared_paths_and_salts) {
  // Sequences whose whole path is shared (no private part) get the shared
  // result, not NaN; equal prompts under different salts never share a run.
  const Shape shape{64, 4, 2, 16, 4, DType::kF32};
  const KvGeometry g = shape.geometry();
  Rng rng(5);
  const auto cache = new_cache(shape, 32);
  const Tokens prompt = rng.tokens(3 * shape.c, kVocab);
  std::vector<uint32_t> ids;
  for (const char* salt : {"a", "a", "a", "b"}) ids.push_back(insert_prompt(*cache, g, prompt, salt));
  const std::vector<float> q = rng.floats(ids.size() * shape.n_heads() * shape.head_dim);
  const std::vector<double> expected =
      reference_decode(g, std::vector<Tokens>(ids.size(), prompt), 1, shape.n_heads(), q);
  const std::vector<float> out = decode(*cache, ids, 1, shape.n_heads(), q, DecodeMode::kTpp);
  CHECK(std::all_of(out.begin(), out.end(), [](float x) { return std::isfinite(x); }));
  const double err = max_relative_error(out.data(), expected, shape.head_dim);
  CHECK_MSG(err <= 1e-5, "error " << err);
  const size_t runs = cache->run([&] {
    const std::vector<uint32_t> rows{0, 1, 2, 3};
    return chunkmesh::plan_decode(cache->tree(), ids.data(), rows.data(), ids.size()).runs.size();
  });
  CHECK_EQ(runs, size_t{1});  // the three "a" sequences share one run; "b" shares nothing
}

}  // namespace
}  // namespace cmtest
