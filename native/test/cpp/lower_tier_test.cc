// The lower-tier seam: a MemoryTier attached to the chunk store. Eviction
// demotes instead of dropping, a prefix hit promotes (the bytes come back bit
// for bit), a commit onto a demoted twin adopts the fresh slot, and a tier
// that refuses drops the node together with its demoted subtree. TreeFixture
// checks the reference model, invariants and bytes after each step; these
// tests pin down the exact events.
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
  bool operator==(const Ev& o) const { return op == o.op && tier == o.tier && key == o.key; }
};

std::ostream& operator<<(std::ostream& os, const std::vector<Ev>& events) {
  for (const Ev& e : events) {
    os << (e.op == KvOp::kStored ? " stored(" : " removed(") << (e.tier == KvTier::kDevice ? "device " : "host ")
       << e.key << ")";
  }
  return os;
}

std::vector<Ev> flatten(const std::vector<KvEvent>& events) {
  std::vector<Ev> out;
  for (const KvEvent& e : events) {
    for (uint64_t k : e.keys) out.push_back(Ev{e.op, e.tier, k});
  }
  return out;
}

Ev removed(KvTier t, uint64_t k) { return Ev{KvOp::kRemoved, t, k}; }
Ev stored(KvTier t, uint64_t k) { return Ev{KvOp::kStored, t, k}; }

// A sequence of tokens, written and committed, then released: cached, unpinned.
void cache_prompt(TreeFixture& f, const Tokens& tokens) {
  const uint32_t id = f.add("", tokens, tokens.size());
  f.append(id, tokens);
  f.commit(id);
  f.release(id);
}

TreeSetup two_slots(size_t lower_capacity) {
  TreeSetup s;
  s.capacity = 2;
  s.c = kC;
  s.lower = true;
  s.lower_capacity = lower_capacity;
  return s;
}

CM_TEST(lower_tier_demotes_on_eviction_and_promotes_on_a_hit) {
  TreeFixture f(two_slots(10));
  const Tokens a{1, 2, 3, 4}, b{5, 0, 5, 1};
  const std::vector<uint64_t> ka = keys_of(a), kb = keys_of(b);
  cache_prompt(f, a);
  const uint32_t sb = f.add("", b, b.size());
  f.append(sb, b);  // two slots: a's leaf goes first, then its parent, both kept below
  CHECK_EQ(flatten(f.last_events()), (std::vector<Ev>{removed(KvTier::kDevice, ka[1]), stored(KvTier::kHost, ka[1]),
                                                      removed(KvTier::kDevice, ka[0]), stored(KvTier::kHost, ka[0])}));
  f.commit(sb);
  f.release(sb);
  // a hit on a's demoted chunks brings them back, top-down, demoting b's to make room
  const uint32_t sa = f.add("", a, a.size());
  CHECK_EQ(f.reference().sequences().at(sa).tokens.size(), a.size());
  CHECK_EQ(flatten(f.last_events()), (std::vector<Ev>{removed(KvTier::kDevice, kb[1]), stored(KvTier::kHost, kb[1]),
                                                      removed(KvTier::kHost, ka[0]), stored(KvTier::kDevice, ka[0]),
                                                      removed(KvTier::kDevice, kb[0]), stored(KvTier::kHost, kb[0]),
                                                      removed(KvTier::kHost, ka[1]), stored(KvTier::kDevice, ka[1])}));
  CHECK_EQ(f.tree().stats().promotions, uint64_t{2});
  // (the fixture checked that a's promoted slots hold exactly the bytes written before demotion)
}

CM_TEST(lower_tier_promotion_stops_where_the_device_has_no_room) {
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

CM_TEST(lower_tier_commit_onto_a_demoted_twin_adopts_the_fresh_slot) {
  TreeFixture f(two_slots(10));
  const Tokens a{1, 2}, b{3, 4};
  const std::vector<uint64_t> ka = keys_of(a);
  cache_prompt(f, a);
  cache_prompt(f, b);                  // demotes a
  const uint32_t s = f.add("", a, 0);  // no match: a is computed again
  f.append(s, a);
  f.commit(s);
  CHECK_EQ(flatten(f.last_events()), (std::vector<Ev>{removed(KvTier::kHost, ka[0]), stored(KvTier::kDevice, ka[0])}));
  CHECK_EQ(f.lower()->size(), size_t{0});
}

CM_TEST(lower_tier_that_refuses_drops_the_node_and_its_demoted_subtree) {
  TreeFixture f(two_slots(1));
  const Tokens a{1, 2, 3, 4}, b{5, 0, 5, 1};
  const std::vector<uint64_t> ka = keys_of(a);
  cache_prompt(f, a);
  const uint32_t sb = f.add("", b, b.size());
  f.append(sb, b);  // a's leaf fits below; its parent does not, and takes the leaf with it
  CHECK_EQ(flatten(f.last_events()), (std::vector<Ev>{removed(KvTier::kDevice, ka[1]), stored(KvTier::kHost, ka[1]),
                                                      removed(KvTier::kDevice, ka[0]), removed(KvTier::kHost, ka[1])}));
  CHECK_EQ(f.lower()->size(), size_t{0});
  CHECK_EQ(f.tree().match_length("", a.data(), a.size(), a.size()), size_t{0});
  CHECK_EQ(f.tree().stats().demotions, uint64_t{1});
  CHECK_EQ(f.tree().stats().evictions, uint64_t{2});
}

CM_TEST(lower_tier_is_cleared_with_the_tree) {
  TreeFixture f(two_slots(10));
  cache_prompt(f, Tokens{1, 2});
  cache_prompt(f, Tokens{3, 4, 5, 0});  // demotes {1, 2}
  f.clear();
  std::vector<std::pair<KvOp, KvTier>> ops;
  for (const KvEvent& e : f.last_events()) ops.emplace_back(e.op, e.tier);
  CHECK(ops ==
        (std::vector<std::pair<KvOp, KvTier>>{{KvOp::kCleared, KvTier::kDevice}, {KvOp::kCleared, KvTier::kHost}}));
  CHECK_EQ(f.lower()->size(), size_t{0});
}

}  // namespace
}  // namespace cmtest
