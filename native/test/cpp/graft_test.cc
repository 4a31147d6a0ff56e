// Truncation reuse: RoPE re-rotation by a position delta against a plain
// reference (rotating at p then by delta equals rotating at p + delta), and
// KvCache::graft against a plain model of what it must make: V copied, K of
// the kept head bit-exact, K after the dropped turns rotated by -drop.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "device/device.h"
#include "graft_rig.h"
#include "harness.h"
#include "model_rig.h"

namespace {

using namespace chunkmesh;
using cmtest::GraftCase;
using cmtest::Rng;

// Plain reference: x rotated by `angle(freq i) = pos * theta^(-2i/d)` in double.
std::vector<float> reference_rotate(const std::vector<float>& x, size_t rows, int heads, int head_dim,
                                    const std::vector<double>& pos, RopeLayout layout, double theta) {
  std::vector<float> out = x;
  const int half = head_dim / 2;
  for (size_t r = 0; r < rows; ++r) {
    for (int h = 0; h < heads; ++h) {
      const size_t base = (r * heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const double a = pos[r] * std::pow(theta, -2.0 * i / head_dim);
        const size_t i0 = base + (layout == RopeLayout::kPairs ? 2 * i : i);
        const size_t i1 = base + (layout == RopeLayout::kPairs ? 2 * i + 1 : i + half);
        const double x0 = x[i0], x1 = x[i1];
        out[i0] = static_cast<float>(x0 * std::cos(a) - x1 * std::sin(a));
        out[i1] = static_cast<float>(x0 * std::sin(a) + x1 * std::cos(a));
      }
    }
  }
  return out;
}

double max_error(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e = std::max(e, static_cast<double>(std::fabs(a[i] - b[i])));
  return e;
}

// The device's rope over rows whose angles come from angle(r, cos, sin).
template <typename Angles>
std::vector<float> device_rope(Device& d, std::vector<float> x, size_t rows, int heads, int head_dim, RopeLayout layout,
                               Angles angle) {
  const size_t half = head_dim / 2;
  StepPlan plan;
  plan.rows = rows;
  plan.rope_cos.resize(rows * half);
  plan.rope_sin.resize(rows * half);
  for (size_t r = 0; r < rows; ++r) angle(r, &plan.rope_cos[r * half], &plan.rope_sin[r * half]);
  float* p = static_cast<float*>(d.allocate(x.size() * sizeof(float)));
  d.copy_in(p, x.data(), x.size() * sizeof(float));
  d.prepare(plan);
  d.rope(p, heads, head_dim, layout);
  d.copy_out(x.data(), p, x.size() * sizeof(float));
  d.synchronize();
  d.release(p);
  return x;
}

CM_TEST(rope_shift_by_delta_equals_rope_at_the_new_position) {
  auto cpu = make_cpu_device(1);
  cmtest::for_each_seed(6, [&](uint64_t seed) {
    Rng rng(seed);
    const int heads = rng.range(1, 3), head_dim = 2 * rng.range(1, 16);
    const size_t rows = static_cast<size_t>(rng.range(1, 40));
    const ModelConfig config = cmtest::model_config(heads * head_dim, 8, 1, heads, heads, head_dim, 8, 1 << 20);
    const Rope rope(config);
    std::vector<size_t> p(rows);
    std::vector<int64_t> delta(rows);
    std::vector<double> moved(rows);
    for (size_t r = 0; r < rows; ++r) {
      p[r] = static_cast<size_t>(rng.range(0, 20000));
      delta[r] = rng.chance(0.2) ? 0 : rng.range(-static_cast<int>(p[r]), 4000);
      moved[r] = static_cast<double>(static_cast<int64_t>(p[r]) + delta[r]);
    }
    const std::vector<float> x = rng.floats(rows * heads * head_dim);
    for (RopeLayout layout : {RopeLayout::kHalves, RopeLayout::kPairs}) {
      const auto at_p = [&](size_t r, float* c, float* s) { rope.angles(p[r], c, s); };
      const auto by_delta = [&](size_t r, float* c, float* s) { rope.shift(delta[r], c, s); };
      const auto at_new = [&](size_t r, float* c, float* s) { rope.angles(static_cast<size_t>(moved[r]), c, s); };
      const std::vector<float> rotated = device_rope(*cpu, x, rows, heads, head_dim, layout, at_p);
      const std::vector<float> shifted = device_rope(*cpu, rotated, rows, heads, head_dim, layout, by_delta);
      const std::vector<float> direct = device_rope(*cpu, x, rows, heads, head_dim, layout, at_new);
      const std::vector<float> reference = reference_rotate(x, rows, heads, head_dim, moved, layout, config.rope_theta);
      // |x| <= 1: a float rotation composed twice stays within a few ulps of 1
      CHECK_MSG(max_error(shifted, direct) < 2e-6, "shifted vs direct " << max_error(shifted, direct));
      CHECK_MSG(max_error(shifted, reference) < 2e-6, "shifted vs reference " << max_error(shifted, reference));
      // a shift by zero is the identity, bit for bit
      for (size_t r = 0; r < rows; ++r) {
        if (delta[r] != 0) continue;
        const size_t w = static_cast<size_t>(heads) * head_dim;
        CHECK(std::memcmp(&shifted[r * w], &rotated[r * w], w * sizeof(float)) == 0);
      }
    }
  });
}

KvCacheOptions graft_cache(const GraftCase& g, DType dtype, uint32_t capacity) {
  KvCacheOptions o;
  o.shape = KvShape{2, 2, 8, g.chunk_tokens, dtype};
  o.capacity_chunks = capacity;
  o.model_id = "graft";
  o.threads = 1;
  return o;
}

CM_TEST(graft_copies_values_and_rotates_moved_keys) {
  cmtest::for_each_seed(12, [&](uint64_t seed) {
    Rng rng(seed);
    GraftCase g;
    g.chunk_tokens = rng.pick(std::vector<int>{2, 4, 8});
    const size_t c = static_cast<size_t>(g.chunk_tokens);
    g.source_tokens = c * static_cast<size_t>(rng.range(3, 8)) + static_cast<size_t>(rng.range(0, g.chunk_tokens - 1));
    g.head = static_cast<size_t>(rng.range(0, static_cast<int>(2 * c)));
    g.drop = static_cast<size_t>(rng.range(1, static_cast<int>(g.source_tokens - g.head - 1)));
    g.layout = rng.chance(0.5) ? RopeLayout::kPairs : RopeLayout::kHalves;
    const DType dtype = rng.chance(0.5) ? DType::kF16 : DType::kF32;
    KvCache cache(graft_cache(g, dtype, 64));
    const KvShape& s = cache.shape();
    const Rope rope(cmtest::model_config(16, 8, 2, 2, 2, s.head_dim, 1000, 1 << 16));
    const std::vector<int32_t> source = cmtest::graft_source(g);
    cmtest::cache_source(cache, source, seed);
    const size_t cached = g.source_tokens / c * c;
    const cmtest::LayersKv before = cmtest::read_cached(cache, source, cached);

    // what it must make: whole target chunks past the head's own, whose sources are cached
    const size_t target_len = g.source_tokens - g.drop;
    const size_t end = cached > g.drop ? std::min(target_len, cached - g.drop) / c * c : 0;
    const size_t begin = std::min(end, g.head / c * c);
    const size_t made = cmtest::run_graft(cache, rope, g, source);
    CHECK_EQ(made, end - begin);
    CHECK_EQ(cache.run([&] { return cache.tree().sequence_count(); }), 0u);
    if (end == 0) return;

    std::vector<int32_t> target(source.begin(), source.begin() + static_cast<long>(g.head));
    target.insert(target.end(), source.begin() + static_cast<long>(g.head + g.drop), source.end());
    const cmtest::LayersKv after = cmtest::read_cached(cache, target, end);
    const size_t w = static_cast<size_t>(s.kv_heads) * s.head_dim;
    for (int layer = 0; layer < s.layers; ++layer) {
      for (size_t p = 0; p < end; ++p) {
        const size_t from = p < g.head ? p : p + g.drop;
        const std::vector<float> k0(before.k[layer].begin() + from * w, before.k[layer].begin() + (from + 1) * w);
        const float* k1 = &after.k[layer][p * w];
        CHECK(std::memcmp(&after.v[layer][p * w], &before.v[layer][from * w], w * sizeof(float)) == 0);
        if (from == p) {
          CHECK(std::memcmp(k1, k0.data(), w * sizeof(float)) == 0);
          continue;
        }
        const std::vector<float> want =
            reference_rotate(k0, 1, s.kv_heads, s.head_dim, {-static_cast<double>(g.drop)}, g.layout, 10000.0);
        const double tol = dtype == DType::kF32 ? 2e-6 : 2e-3;  // f16 keeps 11 bits
        CHECK_MSG(
            max_error(std::vector<float>(k1, k1 + w), want) < tol,
            "layer " << layer << " position " << p << " error " << max_error(std::vector<float>(k1, k1 + w), want));
      }
    }
  });
}

CM_TEST(graft_refuses_a_target_that_is_not_the_source_moved) {
  GraftCase g;
  g.source_tokens = 24;
  g.head = 4;
  g.drop = 8;
  KvCache cache(graft_cache(g, DType::kF32, 16));
  const std::vector<int32_t> source = cmtest::graft_source(g);
  cmtest::cache_source(cache, source, 1);
  GraftRequest req;
  req.source = source;
  req.head = 4;
  req.drop = 8;
  req.target = {1, 2, 3, 4, 13, 14, 99};  // 99 is not source[14]
  const float cos[4] = {1, 1, 1, 1}, sin[4] = {};
  CHECK_THROWS(cache.run([&] { return cache.graft(req, cos, sin, RopeLayout::kHalves); }), ErrorCode::kInvalidArgument);
  req.target = {1, 2, 3, 4};
  req.drop = 0;
  CHECK_THROWS(cache.run([&] { return cache.graft(req, cos, sin, RopeLayout::kHalves); }), ErrorCode::kInvalidArgument);
  CHECK_EQ(cache.run([&] { return cache.tree().sequence_count(); }), 0u);
}

CM_TEST(graft_without_room_makes_nothing_and_leaves_no_sequence) {
  GraftCase g;
  g.source_tokens = 24;
  g.head = 4;
  g.drop = 8;
  KvCache cache(graft_cache(g, DType::kF32, 6));  // the source's 6 chunks fill the pool
  const Rope rope(cmtest::model_config(16, 8, 2, 2, 2, 8, 1000, 1 << 16));
  const std::vector<int32_t> source = cmtest::graft_source(g);
  cmtest::cache_source(cache, source, 2);
  CHECK_EQ(cmtest::run_graft(cache, rope, g, source), 0u);
  CHECK_EQ(cache.run([&] { return cache.tree().sequence_count(); }), 0u);
}

}  // namespace
