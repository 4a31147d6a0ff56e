#pragma once
// The tree linearised for one decode step. Sequences are put in depth-first
// leaf order (lexicographic order of their node paths), so every node shared
// by several of them covers a contiguous range of the batch. Consecutive
// shared nodes covering the same range form one run: phase 1 keeps one
// partial per query for a run, not one per chunk. Chunks are named by their
// device slots, which is all a kernel needs.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace chunkmesh {

class PrefixTree;

enum class DecodeMode { kTpp, kBaseline };

struct SharedRun {
  uint32_t seq_begin = 0;  // range in plan order
  uint32_t seq_end = 0;
  std::vector<uint32_t> chunks;  // device slots of full chunks, root to leaf
};

struct PlannedSeq {
  uint32_t row = 0;               // the sequence's query row (in q and out)
  size_t length = 0;              // tokens
  std::vector<uint32_t> chunks;   // device slots of all its chunks, root to leaf (the baseline walks these)
  size_t private_from = 0;        // chunks[private_from:] are this sequence's alone in the batch
  std::vector<uint32_t> runs;     // shared runs covering this sequence
  int last_tokens(int c) const {  // valid tokens in chunks.back()
    return static_cast<int>(length - (chunks.size() - 1) * static_cast<size_t>(c));
  }
};

struct DecodePlan {
  std::vector<SharedRun> runs;
  std::vector<PlannedSeq> seqs;  // plan order
  bool empty() const { return seqs.empty(); }
};

// Sequence seq_ids[i] reads its query from row rows[i]. Fails with
// kInvalidArgument on an empty batch, a repeated id or a sequence with no
// tokens; kUnknownSequence on an unknown id.
DecodePlan plan_decode(const PrefixTree& tree, const uint32_t* seq_ids, const uint32_t* rows, size_t batch);

// Floating-point work of one decode step of one layer (the same in both
// modes: TPP moves fewer bytes, not fewer operations): what the roofline
// compares against.
double decode_flops(const DecodePlan& plan, int n_heads, int head_dim);
// KV bytes one decode step of one layer reads (each chunk block once per visit).
double decode_kv_bytes(const DecodePlan& plan, int kv_heads, int head_dim, int chunk_tokens, size_t elem_bytes,
                       DecodeMode mode);

}  // namespace chunkmesh
