#pragma once
// The tree linearised for one decode step. Sequences are put in depth-first
// leaf order (lexicographic order of their node paths), so every node shared
// by several of them covers a contiguous range of the batch. Consecutive
// shared nodes covering the same range form one run: phase 1 keeps one
// partial per query for a run, not one per chunk.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace chunkmesh {

class PrefixTree;

struct SharedRun {
  uint32_t seq_begin = 0;  // range in plan order
  uint32_t seq_end = 0;
  std::vector<uint32_t> chunks;  // full chunks, root to leaf
};

struct PlannedSeq {
  uint32_t slot = 0;              // index in the caller's batch
  size_t length = 0;              // tokens
  std::vector<uint32_t> chunks;   // all chunks, root to leaf (the baseline walks these)
  size_t private_from = 0;        // chunks[private_from:] are this sequence's alone in the batch
  std::vector<uint32_t> runs;     // shared runs covering this sequence
  int last_tokens(int c) const {  // valid tokens in chunks.back()
    return static_cast<int>(length - (chunks.size() - 1) * static_cast<size_t>(c));
  }
};

struct DecodePlan {
  std::vector<SharedRun> runs;
  std::vector<PlannedSeq> seqs;  // plan order
};

// Fails with kInvalidArgument on an empty batch, a repeated id or a sequence
// with no tokens; kUnknownSequence on an unknown id.
DecodePlan plan_decode(const PrefixTree& tree, const uint32_t* seq_ids, size_t batch);

}  // namespace chunkmesh
