#pragma once
// What the cache's own operations share across their files (kv_cache_ops.cc, kv_cache_graft.cc,
// kv_cache_transfer.cc): a step plan over positions of one sequence, and a guard that releases the
// internal sequences an operation made however it ends. Not part of the cache's interface.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kv/prefix_tree.h"
#include "plan/step_plan.h"

namespace chunkmesh::kv_internal {

// A plan whose rows are positions [pos, pos + n) of one sequence.
inline StepPlan positions_plan(const PrefixTree& tree, uint32_t seq_id, size_t pos, size_t n, int chunk_tokens) {
  StepPlan plan;
  plan.rows = n;
  plan.kv_slot.resize(n);
  plan.kv_row.resize(n);
  for (size_t t = 0; t < n; ++t) {
    plan.kv_slot[t] = tree.slot_at(seq_id, pos + t);
    plan.kv_row[t] = static_cast<uint32_t>((pos + t) % chunk_tokens);
  }
  return plan;
}

// Releases the operation's internal sequences (in the order they were made) when it ends.
struct Sequences {
  explicit Sequences(PrefixTree& t) : tree(t) {}
  Sequences(const Sequences&) = delete;
  Sequences& operator=(const Sequences&) = delete;
  ~Sequences() {
    for (uint32_t id : ids) tree.release(id);
  }
  PrefixTree& tree;
  std::vector<uint32_t> ids;
};

}  // namespace chunkmesh::kv_internal
