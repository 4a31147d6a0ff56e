// The host tier below the device, through TreeFixture (which checks the
// reference model, invariants and bytes after each step): eviction demotes
// instead of dropping, a prefix hit promotes (the bytes come back bit for
// bit), a commit onto a demoted twin adopts the fresh slot, and a full host
// tier drops its least recently used chunk with its subtree to make room.
// These tests pin down the exact events.
#include <string>
#include <vector>

#include "harness.h"
#include "kv/chunk_key.h"
#include "tree_fixture.h"

namespace cmtest {
namespace {

using chunkmesh::KvEvent;
using chunkmesh::KvOp;
using chunkmesh::KvTier;
using Tokens = std::vector<int32_t>;

constexpr int kC = 2;

// Keys of the full chunks of tokens under the empty salt.
std::vector<uint64_t> keys_of(const Tokens& tokens) {
  std::vector<uint64_t> keys;
  uint64_t key = chunkmesh::chunk_key_root("tree-test", kC, "");
  for (size_t i = 0; i + kC <= tokens.size(); i += kC)
    keys.push_back(key = chunkmesh::chunk_key_next(key, &tokens[i], kC));
  return keys;
}

struct Ev {
  KvOp op;
  KvTier tier;
  uint64_t key;
  KvTier from = KvTier::kDevice;
  bool operator==(const Ev& o) const { return op == o.op && tier == o.tier && key == o.key && from == o.from; }
};

std::ostream& operator<<(std::ostream& os, const std::vector<Ev>& events) {
  static const char* kOps[] = {"stored", "removed", "cleared", "demoted", "promoted"};
  static const char* kTiers[] = {"device", "host", "disk"};
  for (const Ev& e : events) {
    os << ' ' << kOps[static_cast<int>(e.op)] << '(' << kTiers[static_cast<int>(e.tier)];
    if (e.op == KvOp::kDemoted || e.op == KvOp::kPromoted) os << " from " << kTiers[static_cast<int>(e.from)];
    os << ' ' << e.key << ')';
  }
  return os;
}

std::vector<Ev> flatten(const std::vector<KvEvent>& events) {
  std::vector<Ev> out;
  for (const KvEvent& e : events) {
    for (uint64_t k : e.keys) out.push_back(Ev{e.op, e.tier, k, e.from});
  }
  return out;
}

Ev removed(KvTier t, uint64_t k) { return Ev{KvOp::kRemoved, t, k}; }
Ev demoted(uint64_t k) { return Ev{KvOp::kDemoted, KvTier::kHost, k, KvTier::kDevice}; }
Ev promoted(uint64_t k) { return Ev{KvOp::kPromoted, KvTier::kDevice, k, KvTier::kHost}; }

// A sequence of tokens, written and committed, then released: cached, unpinned.
void cache_prompt(TreeFixture& f, const Tokens& tokens) {
  const uint32_t id = f.add("", tokens, tokens.size());
  f.append(id, tokens);
  f.commit(id);
  f.release(id);
}

TreeSetup two_slots(size_t host_capacity) {
  TreeSetup s;
  s.capacity = 2;
  s.c = kC;
  s.lower = true;
  s.lower_capacity = host_capacity;
  return s;
}

CM_TEST(host_tier_demotes_on_eviction_and_promotes_on_a_hit) {
  TreeFixture f(two_slots(10));
  const Tokens a{1, 2, 3, 4}, b{5, 0, 5, 1};
  const std::vector<uint64_t> ka = keys_of(a), kb = keys_of(b);
  cache_prompt(f, a);
  const uint32_t sb = f.add("", b, b.size());
  f.append(sb, b);  // two slots: a's leaf goes first, then its parent, both kept below
  CHECK_EQ(flatten(f.last_events()), (std::vector<Ev>{demoted(ka[1]), demoted(ka[0])}));
  f.commit(sb);
  f.release(sb);
  // a hit on a's demoted chunks brings them back, top-down, demoting b's to make room
  const uint32_t sa = f.add("", a, a.size());
  CHECK_EQ(f.reference().sequences().at(sa).tokens.size(), a.size());
  CHECK_EQ(flatten(f.last_events()),
           (std::vector<Ev>{demoted(kb[1]), promoted(ka[0]), demoted(kb[0]), promoted(ka[1])}));
  CHECK_EQ(f.tree().stats().promotions, uint64_t{2});
  CHECK_EQ(f.tree().stats().hit_tokens[static_cast<int>(KvTier::kHost)], uint64_t{4});
  // (the fixture checked that a's promoted slots hold exactly the bytes written before demotion)
}

CM_TEST(host_tier_promotion_stops_where_the_device_has_no_room) {
  TreeFixture f(two_slots(10));
  const Tokens a{1, 2, 3, 4}, b{5, 0, 5, 1};
  cache_prompt(f, a);
  const uint32_t sb = f.add("", b, b.size());
  f.append(sb, b);
  f.commit(sb);  // b pins both slots; a is demoted
  CHECK_EQ(f.tree().match_length("", a.data(), a.size(), a.size()), a.size());
  const uint32_t sa = f.add("", a, a.size());
  CHECK_EQ(f.reference().sequences().at(sa).tokens.size(), size_t{0});
  CHECK(f.last_events().empty());
}

CM_TEST(host_tier_commit_onto_a_demoted_twin_adopts_the_fresh_slot) {
  TreeFixture f(two_slots(10));
  const Tokens a{1, 2}, b{3, 4};
  const std::vector<uint64_t> ka = keys_of(a);
  cache_prompt(f, a);
  cache_prompt(f, b);                  // demotes a
  const uint32_t s = f.add("", a, 0);  // no match: a is computed again
  f.append(s, a);
  f.commit(s);
  CHECK_EQ(flatten(f.last_events()), (std::vector<Ev>{promoted(ka[0])}));
  CHECK_EQ(f.host_used(), uint32_t{0});
}

CM_TEST(host_tier_when_full_drops_its_least_recent_chunk_with_its_subtree) {
  TreeFixture f(two_slots(1));
  const Tokens a{1, 2, 3, 4}, b{5, 0, 5, 1};
  const std::vector<uint64_t> ka = keys_of(a);
  cache_prompt(f, a);
  const uint32_t sb = f.add("", b, b.size());
  f.append(sb, b);  // a's leaf goes below; then its parent needs the only host slot, and the leaf gives it up
  CHECK_EQ(flatten(f.last_events()), (std::vector<Ev>{demoted(ka[1]), removed(KvTier::kHost, ka[1]), demoted(ka[0])}));
  CHECK_EQ(f.host_used(), uint32_t{1});
  CHECK_EQ(f.tree().match_length("", a.data(), a.size(), a.size()), size_t{kC});
  CHECK_EQ(f.tree().stats().demotions, uint64_t{2});
  CHECK_EQ(f.tree().stats().evictions, uint64_t{2});
}

CM_TEST(host_tier_is_cleared_with_the_tree) {
  TreeFixture f(two_slots(10));
  cache_prompt(f, Tokens{1, 2});
  cache_prompt(f, Tokens{3, 4, 5, 0});  // demotes {1, 2}
  f.clear();
  std::vector<std::pair<KvOp, KvTier>> ops;
  for (const KvEvent& e : f.last_events()) ops.emplace_back(e.op, e.tier);
  CHECK(ops ==
        (std::vector<std::pair<KvOp, KvTier>>{{KvOp::kCleared, KvTier::kDevice}, {KvOp::kCleared, KvTier::kHost}}));
  CHECK_EQ(f.host_used(), uint32_t{0});
}

}  // namespace
}  // namespace cmtest
