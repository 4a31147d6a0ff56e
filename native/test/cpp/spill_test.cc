// Explicit spills (PrefixTree::spill): a cached prefix moves off the device to
// the host, or on to disk, bottom-up, with events saying so, and a fetch
// brings it back bit for bit; chunks a running sequence pins, or that a
// longer cached prefix on the device hangs below, stay and are counted; a
// tree without a host tier refuses.
#include <optional>
#include <string>
#include <vector>

#include "event_replay.h"
#include "harness.h"
#include "tier_rig.h"
#include "tree_fixture.h"
#include "tree_inspector.h"

namespace cmtest {
namespace {

using chunkmesh::FetchResult;
using chunkmesh::HoldResult;
using chunkmesh::KvEvent;
using chunkmesh::KvTier;
using chunkmesh::PrefixTreeInspector;
using chunkmesh::SpillResult;
using Tokens = std::vector<int32_t>;

// The tier each key of `keys` is in, as the events so far replay.
std::vector<KvTier> tiers_of(const std::vector<KvEvent>& events, const std::vector<uint64_t>& keys) {
  cmtest::EventReplay replayed;
  replayed.catch_up(events);
  std::vector<KvTier> out;
  for (uint64_t key : keys) {
    const std::optional<KvTier> at = replayed.tier_of(key);
    CHECK_MSG(at.has_value(), "key " << key << " not resident");
    out.push_back(*at);
  }
  return out;
}

FetchResult fetch_to_device(TierRig& rig, const Tokens& t) {
  const HoldResult h = rig.tree().hold("", t.data(), t.size(), t.size());
  CHECK(h.ticket != 0);
  std::optional<FetchResult> got;
  rig.tree().fetch(h.ticket, t.size(), true, [&](const FetchResult& r) { got = r; });
  rig.pump_until([&] { return got.has_value(); }, "the fetch did not finish within 10 s");
  rig.tree().drop_ticket(h.ticket);
  return *got;
}

// Admits t, checks every byte of its chunks and that all of it came from the cache, releases it.
void check_cached(TierRig& rig, const Tokens& t) {
  const chunkmesh::MatchResult m = rig.tree().add_sequence("", t.data(), t.size(), t.size());
  CHECK_EQ(m.cached_tokens, t.size());
  rig.check_bytes(m.seq_id);
  rig.tree().release(m.seq_id);
}

CM_TEST(spill_moves_a_prefix_down_and_a_fetch_brings_it_back) {
  TierRigSetup setup;
  setup.device_slots = 4;
  setup.host_slots = 4;
  TierRig rig(setup);
  const Tokens a{1, 2, 3, 4, 5, 6};  // three chunks (c = 2)
  const std::vector<uint64_t> keys = rig.keys_of(a);
  rig.cache_prompt(a);

  SpillResult r = rig.tree().spill("", a.data(), a.size(), false);
  PrefixTreeInspector::check(rig.tree());
  CHECK_EQ(r.matched_tokens, a.size());
  CHECK_EQ(r.moved_tokens, a.size());
  CHECK_EQ(r.stayed_tokens, size_t{0});
  CHECK(tiers_of(rig.events(), keys) == std::vector<KvTier>(3, KvTier::kHost));
  CHECK_EQ(rig.tree().stats().cached_nodes, uint32_t{0});
  // again: nothing left to move
  r = rig.tree().spill("", a.data(), a.size(), false);
  CHECK_EQ(r.moved_tokens, size_t{0});
  CHECK_EQ(r.stayed_tokens, size_t{0});

  CHECK_EQ(fetch_to_device(rig, a).promoted_tokens, a.size());
  CHECK(tiers_of(rig.events(), keys) == std::vector<KvTier>(3, KvTier::kDevice));
  check_cached(rig, a);

  // on down to disk (device -> host -> disk), and back up through a read
  r = rig.tree().spill("", a.data(), a.size(), true);
  rig.settle();
  PrefixTreeInspector::check(rig.tree());
  CHECK_EQ(r.moved_tokens, a.size());
  CHECK_EQ(r.stayed_tokens, size_t{0});
  CHECK(tiers_of(rig.events(), keys) == std::vector<KvTier>(3, KvTier::kDisk));
  const FetchResult f = fetch_to_device(rig, a);
  CHECK_EQ(f.restored_tokens, a.size());
  CHECK_EQ(f.promoted_tokens, a.size());
  CHECK(tiers_of(rig.events(), keys) == std::vector<KvTier>(3, KvTier::kDevice));
  check_cached(rig, a);
  CHECK_EQ(rig.store().counters().checksum_failures, uint64_t{0});
}

CM_TEST(spill_leaves_pinned_and_shared_chunks_on_the_device) {
  TierRigSetup setup;
  setup.device_slots = 6;
  setup.host_slots = 6;
  TierRig rig(setup);
  const Tokens a{1, 2, 3, 4};
  const Tokens longer{1, 2, 3, 4, 7, 8};  // a, and a chunk below it
  rig.cache_prompt(longer);

  // a's last chunk has a device child outside a: nothing of a can leave
  SpillResult r = rig.tree().spill("", a.data(), a.size(), false);
  CHECK_EQ(r.matched_tokens, a.size());
  CHECK_EQ(r.moved_tokens, size_t{0});
  CHECK_EQ(r.stayed_tokens, a.size());

  // a running sequence pins its path: the chunk below it goes, the pinned ones stay
  const chunkmesh::MatchResult m = rig.tree().add_sequence("", a.data(), a.size(), a.size());
  r = rig.tree().spill("", longer.data(), longer.size(), false);
  PrefixTreeInspector::check(rig.tree());
  CHECK_EQ(r.moved_tokens, size_t{2});
  CHECK_EQ(r.stayed_tokens, a.size());
  rig.tree().release(m.seq_id);
  r = rig.tree().spill("", longer.data(), longer.size(), false);
  PrefixTreeInspector::check(rig.tree());
  CHECK_EQ(r.moved_tokens, a.size());
  CHECK_EQ(r.stayed_tokens, size_t{0});
  CHECK(tiers_of(rig.events(), rig.keys_of(longer)) == std::vector<KvTier>(3, KvTier::kHost));
}

CM_TEST(spill_without_a_host_tier_is_refused) {
  TreeSetup setup;
  setup.c = 2;
  TreeFixture f(setup);
  const Tokens a{1, 2, 3, 4};
  CHECK_THROWS(f.tree().spill("", a.data(), a.size(), false), chunkmesh::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmtest
