#pragma once
// The step plan's attention work, flattened for the GPU kernels (one upload
// per step): tiles of query rows for tile_attention (TPP phase 1 over shared
// runs, and prefill), and per-sequence work for sequence_attention (phase 2,
// or the baseline over every chunk). Host code, shared by the CUDA device and
// its emulated twin.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/attention_work.h"
#include "plan/step_plan.h"

namespace chunkmesh {

struct AttentionGeometry {
  int n_heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int chunk_tokens = 0;
};

struct AttentionLayout {
  std::vector<kern::TileWork> tiles;
  std::vector<kern::TileRow> rows;
  std::vector<uint32_t> tile_chunks;
  std::vector<kern::SeqWork> seqs;
  std::vector<uint32_t> seq_chunks;
  std::vector<uint32_t> part_bases;
  size_t partial_rows = 0;  // (run, sequence, query head) partials phase 1 writes
};

// Decode: TPP (phase-1 tiles over shared runs, phase-2 work over private
// chunks and the runs' partials) or the baseline (every chunk per sequence).
AttentionLayout decode_layout(const DecodePlan& plan, DecodeMode mode, const AttentionGeometry& g);
// Prefill: tiles of each item's new tokens, causal.
AttentionLayout prefill_layout(const std::vector<PrefillItem>& items, const AttentionGeometry& g);

}  // namespace chunkmesh
