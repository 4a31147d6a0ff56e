#pragma once
// What the attention kernels read, laid out flat for one upload per step.
// Host code (device/gpu/attention_layout.cc) builds these from the StepPlan;
// the kernels (tile_attention.cuh, sequence_attention.cuh) read them.
#include <cstdint>

namespace chunkmesh::kern {

// A tile of query rows (<= kTileRows) attending over a list of chunks with
// tensor cores: a shared run's queries in TPP phase 1 (partials out), or a
// block of a sequence's new tokens in prefill (normalised output out).
struct TileWork {
  uint32_t chunk_begin;  // into the chunk-slot array
  uint32_t chunk_count;
  uint32_t keys;       // the most keys any row of the tile sees (from the first chunk)
  uint32_t row_begin;  // into the row array
  uint32_t row_count;
  uint32_t kv_head;
  uint32_t partial;  // 1: write (m, l, o) partials; 0: write o / l
  uint32_t pad;
};

struct TileRow {
  uint32_t q;     // element offset of the row's query vector in q
  uint32_t out;   // partial index, or element offset of the output vector
  uint32_t keys;  // keys this row sees, counted from the first chunk (causal limit)
  uint32_t pad;
};

// One sequence and KV head in TPP phase 2 (or the per-sequence baseline):
// its private chunks on CUDA cores, then the partials of its shared runs.
struct SeqWork {
  uint32_t chunk_begin;  // its private chunks in the chunk-slot array
  uint32_t chunk_count;
  uint32_t keys;        // keys in those chunks
  uint32_t q_row;       // its query row
  uint32_t part_begin;  // into the partial-base array: one base per shared run
  uint32_t part_count;
  uint32_t pad0, pad1;
};

constexpr int kTileRows = 64;  // 4 warps x 16 rows
constexpr int kTileThreads = 128;
constexpr int kSeqThreads = 128;
constexpr int kMaxGroup = 16;  // query heads per KV head the sequence kernel handles

}  // namespace chunkmesh::kern
