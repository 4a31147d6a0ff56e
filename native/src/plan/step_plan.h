#pragma once
// Everything the device needs to run one step, built once on the host before
// the first layer and handed to Device::prepare: which token each row holds,
// where each row's K/V goes in the pool, the RoPE angles of each row, the
// decode plan (TPP runs), the prefill items and the rows that produce logits.
// Rows are the step's tokens in order; q, k, v and every activation are
// [rows][...] matrices.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "plan/decode_plan.h"

namespace chunkmesh {

// A sequence's new tokens attending causally over its whole cache.
struct PrefillItem {
  uint32_t first_row = 0;  // its new tokens are rows [first_row, first_row + n_new)
  uint32_t n_new = 0;
  size_t length = 0;             // tokens in the sequence, the new ones last
  std::vector<uint32_t> chunks;  // device slots, root to leaf
};

struct StepPlan {
  size_t rows = 0;
  std::vector<int32_t> tokens;            // [rows], for the embedding (empty: no embedding in this plan)
  std::vector<uint32_t> positions;        // [rows]: each row's position in its sequence (empty: none)
  std::vector<uint32_t> kv_slot, kv_row;  // [rows]: pool slot and row in it of each row's K/V
  std::vector<float> rope_cos, rope_sin;  // [rows][head_dim / 2] (empty: no rotation in this plan)
  DecodePlan decode;                      // sequences with one new token (PlannedSeq::row is its row)
  std::vector<PrefillItem> prefill;       // sequences with several new tokens
  std::vector<uint32_t> logit_rows;       // rows whose hidden state becomes logits, in result order
};

}  // namespace chunkmesh
