#include "plan/decode_plan.h"

#include <algorithm>
#include <unordered_set>

#include "kv/prefix_tree.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

struct Entry {
  uint32_t root;
  const std::vector<uint32_t>* path;  // node ids
  uint32_t index;                     // into the caller's arrays
};

bool path_less(const Entry& a, const Entry& b) {
  if (a.root != b.root) return a.root < b.root;
  return std::lexicographical_compare(a.path->begin(), a.path->end(), b.path->begin(), b.path->end());
}

}  // namespace

DecodePlan plan_decode(const PrefixTree& tree, const uint32_t* seq_ids, const uint32_t* rows, size_t batch) {
  if (batch == 0) throw_invalid("decode batch is empty");
  std::vector<Entry> entries;
  entries.reserve(batch);
  std::unordered_set<uint32_t> seen;
  for (size_t i = 0; i < batch; ++i) {
    if (!seen.insert(seq_ids[i]).second)
      throw_invalid("sequence " + std::to_string(seq_ids[i]) + " appears twice in the batch");
    const Sequence& s = tree.sequence(seq_ids[i]);
    if (s.length == 0) throw_invalid("sequence " + std::to_string(seq_ids[i]) + " has no tokens to attend to");
    entries.push_back(Entry{s.root, &s.path, static_cast<uint32_t>(i)});
  }
  std::stable_sort(entries.begin(), entries.end(), path_less);

  DecodePlan plan;
  plan.seqs.resize(batch);
  for (size_t i = 0; i < batch; ++i) {
    PlannedSeq& p = plan.seqs[i];
    const uint32_t id = seq_ids[entries[i].index];
    p.row = rows[entries[i].index];
    p.length = tree.sequence(id).length;
    p.chunks = tree.slots_of(id);
  }

  // Walk depth by depth over ranges of sequences that agree on the path so far.
  // A range of >= 2 sequences sharing node path[depth] extends the current run
  // when its range equals the run's; otherwise it starts a new run.
  struct Frame {
    uint32_t begin, end;
    size_t depth;
    int run;  // run being extended by this range, -1 if none
  };
  std::vector<Frame> stack{{0, static_cast<uint32_t>(batch), 0, -1}};
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    uint32_t i = f.begin;
    while (i < f.end) {
      const auto& path = *entries[i].path;
      if (f.depth >= path.size()) {
        plan.seqs[i].private_from = f.depth;
        ++i;
        continue;
      }
      uint32_t j = i + 1;
      // node ids are unique across roots, so equal ids imply the same salt
      while (j < f.end && f.depth < entries[j].path->size() && (*entries[j].path)[f.depth] == path[f.depth]) {
        ++j;
      }
      if (j - i == 1) {
        plan.seqs[i].private_from = f.depth;
      } else {
        int run = f.run;
        if (run < 0 || plan.runs[run].seq_begin != i || plan.runs[run].seq_end != j) {
          run = static_cast<int>(plan.runs.size());
          plan.runs.push_back(SharedRun{i, j, {}});
          for (uint32_t s = i; s < j; ++s) plan.seqs[s].runs.push_back(static_cast<uint32_t>(run));
        }
        plan.runs[run].chunks.push_back(plan.seqs[i].chunks[f.depth]);
        stack.push_back(Frame{i, j, f.depth + 1, run});
      }
      i = j;
    }
  }
  return plan;
}

double decode_flops(const DecodePlan& plan, int n_heads, int head_dim) {
  double tokens = 0;
  for (const auto& s : plan.seqs) tokens += static_cast<double>(s.length);
  return 4.0 * tokens * n_heads * head_dim;
}

double decode_kv_bytes(const DecodePlan& plan, int kv_heads, int head_dim, int chunk_tokens, size_t elem_bytes,
                       DecodeMode mode) {
  const double per_token = 2.0 * kv_heads * head_dim * static_cast<double>(elem_bytes);  // one layer, K+V
  double tokens = 0;
  if (mode == DecodeMode::kBaseline) {
    for (const auto& s : plan.seqs) tokens += static_cast<double>(s.length);
  } else {
    for (const auto& r : plan.runs) tokens += static_cast<double>(r.chunks.size()) * chunk_tokens;
    for (const auto& s : plan.seqs) {
      tokens += static_cast<double>(s.length) - static_cast<double>(s.private_from) * chunk_tokens;
    }
  }
  return tokens * per_token;
}

}  // namespace chunkmesh
