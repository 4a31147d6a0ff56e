#include "tree_inspector.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "harness.h"
#include "kv/chunk_key.h"

namespace chunkmesh {

void PrefixTreeInspector::check(const PrefixTree& t) {
  const ChunkStore& store = t.store_;
  const size_t c = t.c_;
  std::map<uint32_t, uint32_t> refs;            // node -> sequences whose path holds it
  std::map<uint32_t, uint32_t> root_sequences;  // root -> sequences under it
  std::vector<uint32_t> used_slots;
  for (const auto& [id, seq] : t.sequences_) {
    CHECK_MSG(seq.root < t.roots_.size() && t.roots_[seq.root].live, "sequence " << id << " has a dead root");
    ++root_sequences[seq.root];
    for (size_t i = 0; i < seq.path.size(); ++i) {
      const TreeNode& n = t.nodes_[seq.path[i]];
      CHECK_MSG(n.live && n.root == seq.root, "sequence " << id << ": path node " << seq.path[i] << " is not its own");
      CHECK_MSG(n.parent == (i == 0 ? TreeNode::kNone : seq.path[i - 1]),
                "sequence " << id << ": path is not a chain at depth " << i);
      ++refs[seq.path[i]];
    }
    CHECK_EQ(seq.length, seq.path.size() * c + seq.tail_tokens.size());
    CHECK_EQ(seq.tail_slots.size(), (seq.tail_tokens.size() + c - 1) / c);
    used_slots.insert(used_slots.end(), seq.tail_slots.begin(), seq.tail_slots.end());
  }

  uint32_t pinned = 0, cached = 0, held = 0;
  size_t in_lru[kTierCount] = {};
  uint32_t lower[kTierCount] = {};
  std::map<uint32_t, uint32_t> children, device_children;
  for (uint32_t id = 0; id < t.nodes_.size(); ++id) {
    const TreeNode& n = t.nodes_[id];
    if (!n.live) continue;
    const bool device = store.on_device(id);
    CHECK_MSG(n.refs == refs[id], "node " << id << " has refs " << n.refs << " but " << refs[id] << " paths hold it");
    CHECK_MSG(n.refs == 0 || device, "pinned node " << id << " is not on the device");
    CHECK_MSG(device || store.has_host(), "node " << id << " is off the device with no host tier");
    CHECK_MSG(store.where(id) != Where::kNone, "live node " << id << " has no bytes anywhere");
    CHECK_EQ(n.tokens.size(), c);
    CHECK_MSG(n.root < t.roots_.size() && t.roots_[n.root].live, "node " << id << " has a dead root");
    const uint64_t parent_key = n.parent == TreeNode::kNone ? t.roots_[n.root].key : t.nodes_[n.parent].key;
    CHECK_MSG(n.key == chunk_key_next(parent_key, n.tokens.data(), c), "node " << id << " has the wrong key");
    const KidMap& siblings = n.parent == TreeNode::kNone ? t.roots_[n.root].kids : t.nodes_[n.parent].kids;
    const auto listed = siblings.find(n.key);
    CHECK_MSG(listed != siblings.end() && std::count(listed->second.begin(), listed->second.end(), id) == 1,
              "node " << id << " is not listed once under its parent");
    if (n.parent != TreeNode::kNone) {
      const TreeNode& p = t.nodes_[n.parent];
      CHECK_MSG(p.live && p.root == n.root, "node " << id << " has a dead parent");
      CHECK_MSG(p.refs >= n.refs,
                "refs(parent " << n.parent << ") = " << p.refs << " < refs(child " << id << ") = " << n.refs);
      CHECK_MSG(!device || store.on_device(n.parent),
                "device node " << id << " has a parent off the device (not top-closed)");
      ++children[n.parent];
      if (device) ++device_children[n.parent];
    }
    if (n.refs > 0) ++pinned;
    if (device && n.refs == 0) ++cached;
    if (!device) ++lower[static_cast<int>(store.tier_of(id))];
    if (device) used_slots.push_back(store.slot_of(id));
    if (n.holds > 0) ++held;
    // Which eviction order the node must be in (prefix_tree.h), if any.
    int want = -1;
    const Where w = store.where(id);
    if (w == Where::kDevice && n.refs == 0 && n.device_children == 0) want = static_cast<int>(KvTier::kDevice);
    if (w == Where::kHost && n.holds == 0) want = static_cast<int>(KvTier::kHost);
    if (w == Where::kDisk && n.holds == 0) want = static_cast<int>(KvTier::kDisk);
    CHECK_MSG(n.lru_tier == want,
              "node " << id << ": in eviction order " << static_cast<int>(n.lru_tier) << ", should be in " << want);
    if (want >= 0) {
      ++in_lru[want];
      CHECK_MSG(n.lru_stamp == n.last_use && n.lru_held == (n.holds > 0) &&
                    t.lru_[want].count({n.lru_held, n.lru_stamp, id}) == 1,
                "node " << id << " is in its eviction order under a stale entry");
    }
  }
  for (uint32_t id = 0; id < t.nodes_.size(); ++id) {
    const TreeNode& n = t.nodes_[id];
    if (!n.live) continue;
    CHECK_MSG(n.children == children[id],
              "node " << id << " counts " << n.children << " children, has " << children[id]);
    CHECK_MSG(n.device_children == device_children[id],
              "node " << id << " counts " << n.device_children << " device children, has " << device_children[id]);
  }
  for (int tier = 0; tier < kTierCount; ++tier) CHECK_EQ(t.lru_[tier].size(), in_lru[tier]);
  CHECK_EQ(t.held_nodes_, held);
  CHECK_EQ(t.pinned_nodes_, pinned);
  CHECK_EQ(t.cached_nodes_, cached);
  for (int tier = 1; tier < kTierCount; ++tier) CHECK_EQ(t.lower_nodes_[tier], lower[tier]);

  // Device slots: every node's and tail's slot is its own, and the rest are free.
  std::set<uint32_t> distinct(used_slots.begin(), used_slots.end());
  CHECK_MSG(distinct.size() == used_slots.size(), "two holders share a device slot");
  CHECK_MSG(distinct.empty() || *distinct.rbegin() < store.capacity(), "a slot is past the pool");
  CHECK_EQ(used_slots.size() + store.free_slots(), size_t{store.capacity()});
  CHECK_EQ(t.reclaimable(), store.free_slots() + cached);
  const TreeStats s = t.stats();
  CHECK_EQ(s.capacity_chunks, s.free_chunks + s.pinned_nodes + s.cached_nodes + s.tail_chunks);

  // Roots: one per salt in use, reclaimed once empty.
  size_t live_roots = 0;
  for (uint32_t r = 0; r < t.roots_.size(); ++r) {
    const TreeRoot& root = t.roots_[r];
    if (!root.live) continue;
    ++live_roots;
    const auto by_salt = t.root_by_salt_.find(root.salt);
    CHECK_MSG(by_salt != t.root_by_salt_.end() && by_salt->second == r, "root " << r << " is not found by its salt");
    CHECK_EQ(root.key, t.root_key(root.salt));
    CHECK_EQ(root.sequences, root_sequences[r]);
    CHECK_MSG(root.sequences > 0 || !root.kids.empty(), "root '" << root.salt << "' is empty but not reclaimed");
  }
  CHECK_EQ(t.root_by_salt_.size(), live_roots);
}

std::string PrefixTreeInspector::digest(const PrefixTree& t) {
  std::ostringstream os;
  const ChunkStore& store = t.store_;
  for (uint32_t id = 0; id < t.nodes_.size(); ++id) {
    const TreeNode& n = t.nodes_[id];
    if (!n.live) continue;
    os << "node " << id << ' ' << n.parent << ' ' << n.root << ' ' << n.key << ' ' << n.refs << ' ' << n.children << ' '
       << n.device_children << ' ' << n.last_use << ' ' << static_cast<int>(n.lru_tier) << ' ' << n.holds << ' '
       << static_cast<int>(store.where(id)) << ' ' << (store.on_device(id) ? store.slot_of(id) : 0) << '\n';
  }
  for (uint32_t r = 0; r < t.roots_.size(); ++r) {
    if (t.roots_[r].live) os << "root " << r << " '" << t.roots_[r].salt << "' " << t.roots_[r].sequences << '\n';
  }
  std::map<uint32_t, const Sequence*> sequences;
  for (const auto& [id, seq] : t.sequences_) sequences[id] = &seq;
  for (const auto& [id, seq] : sequences) {
    os << "seq " << id << ' ' << seq->root << ' ' << seq->length << " path";
    for (uint32_t n : seq->path) os << ' ' << n;
    os << " tail";
    for (uint32_t s : seq->tail_slots) os << ' ' << s;
    for (int32_t tok : seq->tail_tokens) os << ' ' << tok;
    os << '\n';
  }
  os << "counters " << t.next_seq_ << ' ' << t.clock_ << ' ' << t.cached_nodes_ << ' ' << t.pinned_nodes_ << ' '
     << t.evictions_ << ' ' << t.demotions_ << ' ' << t.promotions_ << ' ' << t.peak_used_ << ' ' << store.free_slots()
     << ' ' << t.events_.size() << ' ' << t.lru_[0].size() << ' ' << t.lru_[1].size() << ' ' << t.lru_[2].size() << ' '
     << t.held_nodes_ << ' ' << t.tickets_.size() << '\n';
  return os.str();
}

std::string PrefixTreeInspector::difference(const std::string& before, const std::string& after) {
  std::istringstream a(before), b(after);
  std::string la, lb;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) return "";
    if (!more_a || !more_b || la != lb) return "'" + la + "' became '" + lb + "'";
  }
}

std::array<std::multiset<uint64_t>, kTierCount> PrefixTreeInspector::resident_keys(const PrefixTree& t) {
  const auto listed = t.resident_keys();
  std::array<std::multiset<uint64_t>, kTierCount> keys;
  for (int tier = 0; tier < kTierCount; ++tier) keys[tier].insert(listed[tier].begin(), listed[tier].end());
  return keys;
}

}  // namespace chunkmesh
