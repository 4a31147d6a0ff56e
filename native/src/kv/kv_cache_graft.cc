// KvCache::graft: truncation reuse (kv_cache.h). A conversation that outgrew
// the context window comes back with its oldest turns dropped; its remaining
// turns' chunks now have other keys (keys chain over the prefix) and other
// positions, so no prefix match finds them. The graft pins the earlier
// conversation's cached chunks (the source), appends the new prompt's leading
// tokens to a fresh sequence, copies every row's K and V from its source
// position through the device's own read_kv / rope / write_kv (so every
// device does it, in the pool's type), rotating K to the new position, and
// commits: the new chunks are ordinary tree nodes the admission then matches.
// What this makes is exact only for layer 0 (see docs/ARCHITECTURE.md, Tiers).
#include <algorithm>
#include <string>
#include <vector>

#include "device/device_buffer.h"
#include "kv/kv_cache.h"
#include "kv/kv_cache_internal.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

// The position in source whose K/V target position p takes.
size_t source_pos(const GraftRequest& g, size_t p) { return p < g.head ? p : p + g.drop; }

void check_graft(const PrefixTree& tree, const GraftRequest& g) {
  if (g.drop == 0) throw_invalid("graft: drop must be at least 1");
  if (g.head > g.target.size()) {
    throw_invalid("graft: head " + std::to_string(g.head) + " is past the target's " + std::to_string(g.target.size()) +
                  " tokens");
  }
  tree.check_tokens(g.source.data(), g.source.size());
  tree.check_tokens(g.target.data(), g.target.size());
  // A graft copies KV by position: the tokens must be the ones the source computed there.
  for (size_t p = 0; p < g.target.size(); ++p) {
    const size_t s = source_pos(g, p);
    if (s >= g.source.size() || g.source[s] != g.target[p]) {
      throw_invalid("graft: target token " + std::to_string(p) + " is not source token " + std::to_string(s));
    }
  }
}

}  // namespace

size_t KvCache::graft(const GraftRequest& g, const float* shift_cos, const float* shift_sin, RopeLayout layout) {
  PrefixTree& t = tree();
  check_graft(t, g);
  const size_t c = static_cast<size_t>(shape_.chunk_tokens);
  kv_internal::Sequences seqs(t);
  const MatchResult src = t.add_sequence(g.salt, g.source.data(), g.source.size(), g.source.size(), false);
  seqs.ids.push_back(src.seq_id);
  const MatchResult dst = t.add_sequence(g.salt, g.target.data(), g.target.size(), g.target.size(), false);
  seqs.ids.push_back(dst.seq_id);
  // whole target chunks whose every row's source is cached
  const size_t covered = src.cached_tokens > g.drop ? src.cached_tokens - g.drop : 0;
  const size_t end = std::min(g.target.size(), covered) / c * c;
  if (end <= dst.cached_tokens) return 0;
  const size_t begin = dst.cached_tokens;
  const size_t n = end - begin;
  try {
    t.append(dst.seq_id, g.target.data() + begin, n);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kCapacityExhausted) throw;
    return 0;
  }

  // from: the source rows, each with its rotation (none for the head's rows, which stay in place)
  const size_t half = static_cast<size_t>(shape_.head_dim) / 2;
  StepPlan from, to;
  from.rows = to.rows = n;
  from.rope_cos.resize(n * half);
  from.rope_sin.resize(n * half);
  for (size_t i = 0; i < n; ++i) {
    const size_t p = begin + i;
    const size_t s = source_pos(g, p);
    from.kv_slot.push_back(t.slot_at(src.seq_id, s));
    from.kv_row.push_back(static_cast<uint32_t>(s % c));
    to.kv_slot.push_back(t.slot_at(dst.seq_id, p));
    to.kv_row.push_back(static_cast<uint32_t>(p % c));
    const bool moved = s != p;
    for (size_t f = 0; f < half; ++f) {
      from.rope_cos[i * half + f] = moved ? shift_cos[f] : 1.f;
      from.rope_sin[i * half + f] = moved ? shift_sin[f] : 0.f;
    }
  }
  const size_t floats = n * shape_.kv_heads * shape_.head_dim;
  DeviceBuffer kb(device()), vb(device());
  float* k = kb.floats(floats);
  float* v = vb.floats(floats);
  const KvPool& pool = store().pool();
  for (int layer = 0; layer < shape_.layers; ++layer) {
    device().prepare(from);
    device().read_kv(pool, layer, k, v);
    device().rope(k, shape_.kv_heads, shape_.head_dim, layout);
    device().prepare(to);
    device().write_kv(pool, layer, k, v);
  }
  device().synchronize();
  t.commit(dst.seq_id);
  return n;
}

}  // namespace chunkmesh
