#pragma once
// CPU attention over the pool: one decode step of a batch (TPP, or the
// per-sequence baseline that ignores sharing) and causal attention for a
// sequence's newly appended prompt tokens (prefill).
//
// Layouts: q and out are [rows][n_heads][head_dim] fp32; query head qh reads
// KV head qh / (n_heads / kv_heads) (grouped-query attention).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "device/cpu/block_attend.h"
#include "kv/kv_pool.h"
#include "plan/step_plan.h"
#include "runtime/thread_pool.h"

namespace chunkmesh {

struct ThreadScratch {
  BlockScratch block;
  std::vector<float> q, m, l, o, k, v;
  std::vector<int> row_keys;
};

// Reused across calls so steady-state decoding allocates nothing.
struct AttentionWorkspace {
  std::vector<ThreadScratch> threads;
  std::vector<float> part_m, part_l, part_o;  // phase-1 partials
  std::vector<size_t> run_base;               // first partial row of each run
};

struct AttentionCall {
  const KvPool* pool;
  int layer;
  int n_heads;
  float scale;  // usually 1 / sqrt(head_dim)
  const float* q;
  float* out;
};

void decode_attention(const DecodePlan& plan, const AttentionCall& call, DecodeMode mode, ThreadPool& threads,
                      AttentionWorkspace& ws);

// The item's new tokens (q, out: rows [first_row, first_row + n_new) of the
// call's matrices) attend causally over all of its chunks.
void prefill_attention(const PrefillItem& item, const AttentionCall& call, ThreadPool& threads, AttentionWorkspace& ws);

}  // namespace chunkmesh
