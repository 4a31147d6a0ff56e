#pragma once
// CPU attention over the prefix-tree cache: one decode step of a batch (TPP,
// or the per-sequence baseline that ignores sharing) and causal attention for
// a sequence's newly appended prompt tokens (prefill).
//
// Layouts: q and out are [rows][n_heads][head_dim] fp32; query head qh reads
// KV head qh / (n_heads / kv_heads) (grouped-query attention).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "attention/block_attend.h"
#include "attention/decode_plan.h"
#include "kv/chunk_pool.h"
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
  const ChunkPool* pool;
  int layer;
  int n_heads;
  float scale;  // usually 1 / sqrt(head_dim)
  const float* q;
  float* out;
};

enum class DecodeMode { kTpp, kBaseline };

void decode_attention(const DecodePlan& plan, const AttentionCall& call, DecodeMode mode, ThreadPool& threads,
                      AttentionWorkspace& ws);

// chunks: the sequence's chunks root to leaf; length: its tokens, the last
// n_new of which are the queries (q, out: [n_new][n_heads][head_dim]).
void prefill_attention(const std::vector<uint32_t>& chunks, size_t length, size_t n_new, const AttentionCall& call,
                       ThreadPool& threads, AttentionWorkspace& ws);

// Floating-point work of one decode step (the same in both modes: TPP moves
// fewer bytes, not fewer operations): what the roofline compares against.
double decode_flops(const DecodePlan& plan, int n_heads, int head_dim);
// KV bytes one decode step reads from the pool (each chunk block once per visit).
double decode_kv_bytes(const DecodePlan& plan, const KvShape& shape, DecodeMode mode);

}  // namespace chunkmesh
