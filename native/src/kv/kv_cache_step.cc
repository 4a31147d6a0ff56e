// The cache's half of an engine step (kv_cache.h, step_request.h): check the
// whole request, release, admit, append, build the plan; commit afterwards.
#include <algorithm>
#include <string>
#include <unordered_set>

#include "kv/kv_cache.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

const char* kind_name(EntryKind k) {
  return k == EntryKind::kDecode ? "decode" : k == EntryKind::kPrefill ? "prefill" : "admit";
}

// Everything that can be wrong with a request is found here, before any state changes.
void check_request(const PrefixTree& tree, const StepRequest& r, const StepLimits& limits) {
  std::unordered_set<uint32_t> named;
  for (uint32_t id : r.release) {
    tree.sequence(id);  // kUnknownSequence
    if (!named.insert(id).second) throw_invalid("sequence " + std::to_string(id) + " is released twice");
  }
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const StepEntry& e = r.entries[i];
    const std::string where = std::string(kind_name(e.kind)) + " entry " + std::to_string(i);
    if (e.tokens.empty()) throw_invalid(where + " has no tokens");
    if (e.kind == EntryKind::kDecode && e.tokens.size() != 1) throw_invalid(where + " must have exactly one token");
    size_t length = 0;
    if (e.kind != EntryKind::kAdmit) {
      length = tree.sequence(e.seq_id).length;
      if (!named.insert(e.seq_id).second) {
        throw_invalid(where + ": sequence " + std::to_string(e.seq_id) + " appears twice in the step");
      }
    }
    if (length + e.tokens.size() > limits.max_seq_len) {
      throw_invalid(where + " reaches position " + std::to_string(length + e.tokens.size() - 1) +
                    ", past the model's maxSeqLen " + std::to_string(limits.max_seq_len));
    }
    for (size_t t = 0; t < e.tokens.size(); ++t) {
      if (e.tokens[t] < 0 || e.tokens[t] >= limits.vocab_size) {
        throw_invalid(where + ": token " + std::to_string(e.tokens[t]) + " at index " + std::to_string(t) +
                      " is outside the vocabulary [0, " + std::to_string(limits.vocab_size) + ")");
      }
    }
    tree.check_tokens(e.tokens.data(), e.tokens.size());
  }
}

}  // namespace

void KvCache::begin_step(const StepRequest& r, const StepLimits& limits, StepBatch& batch) {
  PrefixTree& t = tree();
  check_request(t, r, limits);
  for (uint32_t id : r.release) t.release(id);
  for (uint32_t ticket : r.drop_tickets) t.drop_ticket(ticket);

  batch.result.entries.resize(r.entries.size());
  StepPlan& plan = batch.plan;
  const size_t c = static_cast<size_t>(shape_.chunk_tokens);
  std::vector<uint32_t> decode_ids, decode_rows;
  size_t budget = r.token_budget;
  size_t running = t.sequence_count();
  bool admitting = true;

  // Appends tokens[0:n] to seq and lays them out as plan rows; false when the pool has no room.
  const auto run_tokens = [&](EntryOutcome& out, uint32_t seq, const int32_t* tokens, size_t n, size_t given) {
    try {
      t.append(seq, tokens, n);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kCapacityExhausted) throw;
      out.no_room = true;
      return;
    }
    const uint32_t first = static_cast<uint32_t>(plan.rows);
    const size_t length = t.sequence(seq).length;
    for (size_t i = 0; i < n; ++i) {
      const size_t pos = length - n + i;
      plan.tokens.push_back(tokens[i]);
      plan.positions.push_back(static_cast<uint32_t>(pos));
      plan.kv_slot.push_back(t.slot_at(seq, pos));
      plan.kv_row.push_back(static_cast<uint32_t>(pos % c));
    }
    plan.rows += n;
    if (n == 1) {
      decode_ids.push_back(seq);
      decode_rows.push_back(first);
    } else {
      plan.prefill.push_back(PrefillItem{first, static_cast<uint32_t>(n), length, t.slots_of(seq)});
    }
    out.computed = n;
    out.logits = n == given;
    if (out.logits) plan.logit_rows.push_back(first + static_cast<uint32_t>(n) - 1);
    batch.ran.push_back(seq);
    budget -= std::min(budget, n);
  };
  // Prefill tokens this entry may compute: the budget's worth, and at least one when nothing ran yet.
  const auto take = [&](size_t want) { return std::min(want, std::max(budget, batch.ran.empty() ? size_t{1} : 0)); };

  for (size_t i = 0; i < r.entries.size(); ++i) {
    const StepEntry& e = r.entries[i];
    EntryOutcome& out = batch.result.entries[i];
    switch (e.kind) {
      case EntryKind::kDecode:
        out.seq_id = e.seq_id;
        run_tokens(out, e.seq_id, e.tokens.data(), 1, 1);
        break;
      case EntryKind::kPrefill: {
        out.seq_id = e.seq_id;
        const size_t n = take(e.tokens.size());
        if (n > 0) run_tokens(out, e.seq_id, e.tokens.data(), n, e.tokens.size());
        break;
      }
      case EntryKind::kAdmit: {
        if (!admitting) break;
        const size_t len = e.tokens.size();
        const size_t max_match = std::min(e.max_match, len);
        // Admit while the uncached part fits, keeping a chunk per running
        // sequence for its decode growth; the first one is always let in.
        const size_t cached_guess = t.match_length(e.salt, e.tokens.data(), len, max_match);
        const size_t needed = (len - cached_guess + c - 1) / c;
        const size_t reclaimable = t.reclaimable();
        const size_t spare = reclaimable > running ? reclaimable - running : 0;
        if (needed + 1 > spare && running > 0) {
          admitting = false;  // first come, first served: nothing behind it jumps the queue
          break;
        }
        const MatchResult m = t.add_sequence(e.salt, e.tokens.data(), len, max_match);
        ++running;
        out.seq_id = m.seq_id;
        out.admitted = true;
        out.cached_tokens = m.cached_tokens;
        std::copy(std::begin(m.tier_tokens), std::end(m.tier_tokens), std::begin(out.tier_tokens));
        t.drop_ticket(e.ticket);  // pinned now: the hold has done its work
        const size_t rest = len - m.cached_tokens;
        const size_t n = take(rest);
        if (n > 0) run_tokens(out, m.seq_id, e.tokens.data() + m.cached_tokens, n, rest);
        break;
      }
    }
  }
  if (!decode_ids.empty()) plan.decode = plan_decode(t, decode_ids.data(), decode_rows.data(), decode_ids.size());
  batch.result.rows = plan.rows;
}

void KvCache::end_step(StepBatch& batch) {
  for (uint32_t seq : batch.ran) tree().commit(seq);
}

void KvCache::abort_step(const StepRequest& request, StepBatch& batch) noexcept {
  PrefixTree& t = tree();
  const auto drop = [&](uint32_t id) {
    if (t.has_sequence(id)) t.release(id);
  };
  for (uint32_t id : request.release) drop(id);
  for (const StepEntry& e : request.entries) {
    if (e.kind != EntryKind::kAdmit) drop(e.seq_id);
  }
  for (const EntryOutcome& o : batch.result.entries) {
    if (o.admitted) drop(o.seq_id);
  }
}

}  // namespace chunkmesh
