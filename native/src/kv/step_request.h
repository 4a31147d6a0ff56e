#pragma once
// One engine step as the engine hands it to the cache and model, and what
// came of it. The engine (JavaScript) schedules: which sequences finish,
// which decode, which prefill, which requests to admit, in priority order.
// The cache decides what fits: it admits while the pool has room, appends
// each entry's tokens (all or nothing per entry), fills the token budget with
// prefill, builds the step plan once, and commits after the forward pass.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kv/kv_event.h"
#include "plan/decode_plan.h"

namespace chunkmesh {

enum class EntryKind {
  kDecode,   // one token (the last sampled) for a running sequence
  kPrefill,  // tokens of a running sequence still to compute; as many as the budget allows
  kAdmit     // a new sequence: its whole context; the cached prefix is matched, the rest prefilled
};

struct StepEntry {
  EntryKind kind = EntryKind::kDecode;
  uint32_t seq_id = 0;          // decode, prefill
  std::vector<int32_t> tokens;  // see EntryKind
  std::string salt;             // admit: tenant salt
  size_t max_match = 0;         // admit: match at most this many leading tokens
  uint32_t ticket = 0;          // admit: the hold on its prefix (PrefixTree::hold), dropped once admitted
};

// Truncation reuse (kv_cache.h, KvCache::graft): materialise the saved KV of
// a conversation whose oldest turns were dropped under the new prompt's own
// chunk keys and positions. target[p] is source[p] for p < head and
// source[p + drop] after it (checked); only whole chunks of target that the
// source's cached chunks fully cover are made.
struct GraftRequest {
  std::string salt;
  std::vector<int32_t> source;  // the earlier conversation's tokens, as it was cached
  std::vector<int32_t> target;  // the new prompt's leading tokens to materialise
  size_t head = 0;              // tokens both begin with (BOS, system prompt), kept in place
  size_t drop = 0;              // tokens the client dropped after the head (>= 1)
};

struct StepRequest {
  std::vector<GraftRequest> grafts;    // run first, before anything else (see Model::step)
  std::vector<uint32_t> release;       // sequences to release first (finished, cancelled, preempted)
  std::vector<uint32_t> drop_tickets;  // holds to let go of first (cancelled, or given up on)
  std::vector<StepEntry> entries;      // in priority order
  size_t token_budget = 0;             // tokens computed at most; decode entries always run
  DecodeMode mode = DecodeMode::kTpp;
};

struct EntryOutcome {
  uint32_t seq_id = 0;                  // the entry's sequence (an admitted one's new id; 0 when not admitted)
  bool admitted = false;                // admit: the sequence was created and its cached prefix pinned
  size_t cached_tokens = 0;             // admit: tokens found in the tree (their prefill is skipped)
  size_t tier_tokens[kTierCount] = {};  // admit: of cached_tokens, by the tier each chunk was found in
  size_t computed = 0;                  // tokens appended and computed this step
  bool no_room = false;                 // its tokens did not fit in the pool; nothing was appended
  bool logits = false;                  // it computed its last given token: its logits are in the result
};

struct StepResult {
  std::vector<EntryOutcome> entries;  // one per request entry
  std::vector<float> logits;          // [entries with logits, in order][vocab]
  size_t rows = 0;                    // tokens the forward pass ran
  std::vector<size_t> grafted;        // per graft request: tokens it materialised (0: none)
};

// What the model bounds: checked for every entry before anything changes.
struct StepLimits {
  int32_t vocab_size = 0;
  size_t max_seq_len = 0;
};

}  // namespace chunkmesh
