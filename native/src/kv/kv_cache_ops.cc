// KvCache's convenience operations: K/V in and out and attention of one
// layer, with host arrays, each as one owner-thread job over a one-off step
// plan. The engine does not use them (its steps go through begin_step); tests,
// benchmarks and tools do.
#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "device/device_buffer.h"
#include "kv/kv_cache.h"
#include "kv/kv_cache_internal.h"
#include "runtime/error.h"

namespace chunkmesh {

using kv_internal::positions_plan;
namespace {

void check_span(const Sequence& seq, size_t pos, size_t n) {
  if (pos + n > seq.length || pos + n < pos) {
    throw_invalid("positions [" + std::to_string(pos) + ", " + std::to_string(pos + n) + ") are past the sequence's " +
                  std::to_string(seq.length) + " tokens");
  }
}

// A plan whose row i is the next token of sequence seq_ids[i].
StepPlan decode_plan(const PrefixTree& tree, const uint32_t* seq_ids, size_t batch) {
  std::vector<uint32_t> rows(batch);
  for (size_t i = 0; i < batch; ++i) rows[i] = static_cast<uint32_t>(i);
  StepPlan plan;
  plan.rows = batch;
  plan.decode = plan_decode(tree, seq_ids, rows.data(), batch);
  return plan;
}

}  // namespace

void KvCache::write_kv(uint32_t seq_id, int layer, size_t pos, size_t n, const float* k, const float* v) {
  run([&] {
    check_layer(layer);
    check_span(tree().sequence(seq_id), pos, n);
    const StepPlan plan = positions_plan(tree(), seq_id, pos, n, shape_.chunk_tokens);
    const size_t bytes = n * shape_.kv_heads * shape_.head_dim * sizeof(float);
    DeviceBuffer kb(device()), vb(device());
    device().copy_in(kb.bytes(bytes), k, bytes);
    device().copy_in(vb.bytes(bytes), v, bytes);
    device().prepare(plan);
    device().write_kv(store().pool(), layer, kb.floats(0), vb.floats(0));
    device().synchronize();
  });
}

void KvCache::read_kv(uint32_t seq_id, int layer, size_t pos, size_t n, float* k, float* v) {
  run([&] {
    check_layer(layer);
    check_span(tree().sequence(seq_id), pos, n);
    const StepPlan plan = positions_plan(tree(), seq_id, pos, n, shape_.chunk_tokens);
    const size_t bytes = n * shape_.kv_heads * shape_.head_dim * sizeof(float);
    DeviceBuffer kb(device()), vb(device());
    device().prepare(plan);
    device().read_kv(store().pool(), layer, static_cast<float*>(kb.bytes(bytes)), static_cast<float*>(vb.bytes(bytes)));
    device().copy_out(k, kb.bytes(bytes), bytes);
    device().copy_out(v, vb.bytes(bytes), bytes);
  });
}

void KvCache::decode(const uint32_t* seq_ids, size_t batch, int layer, int n_heads, const float* q, float* out,
                     DecodeMode mode) {
  run([&] {
    check_layer(layer);
    check_heads(n_heads);
    const StepPlan plan = decode_plan(tree(), seq_ids, batch);
    const size_t bytes = batch * n_heads * shape_.head_dim * sizeof(float);
    DeviceBuffer qb(device()), ob(device());
    device().copy_in(qb.bytes(bytes), q, bytes);
    device().prepare(plan);
    device().decode_attention(store().pool(), layer, n_heads, attention_scale(), qb.floats(0),
                              static_cast<float*>(ob.bytes(bytes)), mode);
    device().copy_out(out, ob.bytes(bytes), bytes);
  });
}

double KvCache::time_decode(const uint32_t* seq_ids, size_t batch, int layer, int n_heads, const float* q,
                            DecodeMode mode, int repeats) {
  return run([&] {
    check_layer(layer);
    check_heads(n_heads);
    if (repeats < 1) throw_invalid("repeats must be at least 1");
    const StepPlan plan = decode_plan(tree(), seq_ids, batch);
    const size_t bytes = batch * n_heads * shape_.head_dim * sizeof(float);
    DeviceBuffer qb(device()), ob(device());
    device().copy_in(qb.bytes(bytes), q, bytes);
    float* out = static_cast<float*>(ob.bytes(bytes));
    device().prepare(plan);
    device().decode_attention(store().pool(), layer, n_heads, attention_scale(), qb.floats(0), out, mode);  // warm-up
    device().synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) {
      device().decode_attention(store().pool(), layer, n_heads, attention_scale(), qb.floats(0), out, mode);
    }
    device().synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / repeats;
  });
}

double KvCache::copy_bandwidth(size_t bytes, int repeats) {
  return run([&] {
    DeviceBuffer a(device()), b(device());
    void* src = a.bytes(bytes);
    void* dst = b.bytes(bytes);
    device().copy(dst, src, bytes);  // touch both
    device().synchronize();
    double best = std::numeric_limits<double>::max();
    for (int r = 0; r < std::max(1, repeats); ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      device().copy(dst, src, bytes);
      device().synchronize();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return 2.0 * static_cast<double>(bytes) / best;
  });
}

void KvCache::prefill(uint32_t seq_id, int layer, int n_heads, size_t n_new, const float* q, float* out) {
  run([&] {
    check_layer(layer);
    check_heads(n_heads);
    const Sequence& seq = tree().sequence(seq_id);
    if (n_new == 0 || n_new > seq.length) {
      throw_invalid("prefill of " + std::to_string(n_new) + " tokens on a sequence of " + std::to_string(seq.length));
    }
    StepPlan plan;
    plan.rows = n_new;
    plan.prefill.push_back(PrefillItem{0, static_cast<uint32_t>(n_new), seq.length, tree().slots_of(seq_id)});
    const size_t bytes = n_new * n_heads * shape_.head_dim * sizeof(float);
    DeviceBuffer qb(device()), ob(device());
    device().copy_in(qb.bytes(bytes), q, bytes);
    device().prepare(plan);
    device().prefill_attention(store().pool(), layer, n_heads, attention_scale(), qb.floats(0),
                               static_cast<float*>(ob.bytes(bytes)));
    device().copy_out(out, ob.bytes(bytes), bytes);
  });
}

}  // namespace chunkmesh
