#include "kv/prefix_tree.h"

#include <algorithm>
#include <cstring>

#include "kv/chunk_key.h"
#include "runtime/error.h"

namespace chunkmesh {

PrefixTree::PrefixTree(ChunkStore& store, std::string model_id, int32_t vocab_size)
    : store_(store),
      model_id_(std::move(model_id)),
      vocab_size_(vocab_size),
      c_(static_cast<size_t>(store.shape().chunk_tokens)) {
  store_.set_listener(this);
}

void PrefixTree::check_tokens(const int32_t* tokens, size_t n) const {
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || (vocab_size_ > 0 && tokens[i] >= vocab_size_)) {
      throw_invalid("token " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                    " is outside the vocabulary [0, " + std::to_string(vocab_size_) + ")");
    }
  }
}

Sequence& PrefixTree::seq_or_throw(uint32_t seq_id) {
  auto it = sequences_.find(seq_id);
  if (it == sequences_.end()) throw Error(ErrorCode::kUnknownSequence, "unknown sequence " + std::to_string(seq_id));
  return it->second;
}

const Sequence& PrefixTree::sequence(uint32_t seq_id) const {
  auto it = sequences_.find(seq_id);
  if (it == sequences_.end()) throw Error(ErrorCode::kUnknownSequence, "unknown sequence " + std::to_string(seq_id));
  return it->second;
}

// ---- roots -------------------------------------------------------------------

const TreeRoot* PrefixTree::find_root(const std::string& salt) const {
  const auto it = root_by_salt_.find(salt);
  return it == root_by_salt_.end() ? nullptr : &roots_[it->second];
}

uint32_t PrefixTree::root_for(const std::string& salt) {
  const auto it = root_by_salt_.find(salt);
  if (it != root_by_salt_.end()) return it->second;
  uint32_t r;
  if (!free_roots_.empty()) {
    r = free_roots_.back();
    free_roots_.pop_back();
  } else {
    r = static_cast<uint32_t>(roots_.size());
    roots_.emplace_back();
  }
  TreeRoot& root = roots_[r];
  root.salt = salt;
  root.key = root_key(salt);
  root.live = true;
  root_by_salt_.emplace(salt, r);
  return r;
}

void PrefixTree::maybe_reclaim_root(uint32_t r) {
  TreeRoot& root = roots_[r];
  if (!root.live || root.sequences > 0 || !root.kids.empty()) return;
  root_by_salt_.erase(root.salt);
  root = TreeRoot{};
  free_roots_.push_back(r);
}

uint64_t PrefixTree::root_key(const std::string& salt) const {
  return chunk_key_root(model_id_, static_cast<int>(c_), salt);
}

// ---- lookup --------------------------------------------------------------------

KidMap& PrefixTree::kids_of(uint32_t root, uint32_t parent) {
  return parent == TreeNode::kNone ? roots_[root].kids : nodes_[parent].kids;
}

const KidMap& PrefixTree::kids_of(uint32_t root, uint32_t parent) const {
  return parent == TreeNode::kNone ? roots_[root].kids : nodes_[parent].kids;
}

uint64_t PrefixTree::parent_key(uint32_t root, uint32_t parent) const {
  return parent == TreeNode::kNone ? roots_[root].key : nodes_[parent].key;
}

uint32_t PrefixTree::find_child(uint32_t root, uint32_t parent, uint64_t key, const int32_t* tokens) const {
  const KidMap& kids = kids_of(root, parent);
  auto it = kids.find(key);
  if (it == kids.end()) return TreeNode::kNone;
  for (uint32_t id : it->second) {
    if (std::memcmp(nodes_[id].tokens.data(), tokens, c_ * sizeof(int32_t)) == 0) return id;
  }
  return TreeNode::kNone;
}

std::vector<uint32_t> PrefixTree::match_path(uint32_t root, const int32_t* tokens, size_t n) const {
  std::vector<uint32_t> path;
  uint32_t parent = TreeNode::kNone;
  for (size_t matched = 0; matched + c_ <= n; matched += c_) {
    const uint64_t key = chunk_key_next(parent_key(root, parent), tokens + matched, c_);
    const uint32_t child = find_child(root, parent, key, tokens + matched);
    if (child == TreeNode::kNone) break;
    path.push_back(child);
    parent = child;
  }
  return path;
}

size_t PrefixTree::usable_prefix(const std::vector<uint32_t>& path) const {
  size_t k = 0;
  while (k < path.size() && store_.usable(path[k])) ++k;
  return k;
}

size_t PrefixTree::match_length(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match) const {
  const TreeRoot* root = find_root(salt);
  if (root == nullptr) return 0;
  return usable_prefix(match_path(static_cast<uint32_t>(root - roots_.data()), tokens, std::min(n, max_match))) * c_;
}

// ---- pinning and the eviction order ---------------------------------------------

void PrefixTree::hold_node(uint32_t id) {
  if (nodes_[id].holds++ == 0) ++held_nodes_;
  refresh_lru(id);
}

void PrefixTree::unhold_node(uint32_t id) {
  if (--nodes_[id].holds == 0) --held_nodes_;
  refresh_lru(id);
}

void PrefixTree::refresh_lru(uint32_t id) {
  TreeNode& n = nodes_[id];
  int want = -1;
  if (n.live) {
    switch (store_.where(id)) {
      case Where::kDevice:
        if (n.refs == 0 && n.device_children == 0) want = static_cast<int>(KvTier::kDevice);
        break;
      case Where::kHost:
        if (n.holds == 0) want = static_cast<int>(KvTier::kHost);
        break;
      case Where::kDisk:
        if (n.holds == 0) want = static_cast<int>(KvTier::kDisk);
        break;
      default:
        break;  // being written or read: its IO job decides what comes next
    }
  }
  const bool held = n.holds > 0;
  if (n.lru_tier >= 0 && (want != n.lru_tier || n.lru_stamp != n.last_use || n.lru_held != held)) {
    lru_[n.lru_tier].erase({n.lru_held, n.lru_stamp, id});
    n.lru_tier = -1;
  }
  if (want >= 0 && n.lru_tier < 0) {
    lru_[want].insert({held, n.last_use, id});
    n.lru_tier = static_cast<int8_t>(want);
    n.lru_held = held;
    n.lru_stamp = n.last_use;
  }
}

void PrefixTree::pin(uint32_t id) {
  TreeNode& n = nodes_[id];
  if (n.refs == 0) {
    --cached_nodes_;
    ++pinned_nodes_;
  }
  ++n.refs;
  n.last_use = ++clock_;
  refresh_lru(id);
}

void PrefixTree::unpin(uint32_t id) {
  TreeNode& n = nodes_[id];
  if (--n.refs == 0) {
    n.last_use = ++clock_;
    --pinned_nodes_;
    ++cached_nodes_;
    refresh_lru(id);
  }
}

void PrefixTree::emit(KvOp op, KvTier tier, uint64_t key, KvTier from) {
  if (events_.empty() || events_.back().op != op || events_.back().tier != tier || events_.back().from != from) {
    events_.push_back(KvEvent{op, tier, {}, from});
  }
  events_.back().keys.push_back(key);
}

// ---- slots and eviction -----------------------------------------------------------

uint32_t PrefixTree::new_node() {
  if (!free_nodes_.empty()) {
    const uint32_t id = free_nodes_.back();
    free_nodes_.pop_back();
    return id;
  }
  nodes_.emplace_back();
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t PrefixTree::take_slot() {
  if (store_.free_slots() == 0) evict_one();
  const uint32_t slot = store_.take_slot();
  peak_used_ = std::max(peak_used_, store_.capacity() - store_.free_slots());
  return slot;
}

void PrefixTree::evict_one() {
  auto& device_lru = lru_[static_cast<int>(KvTier::kDevice)];
  if (device_lru.empty()) throw Error(ErrorCode::kCapacityExhausted, "KV pool exhausted: every chunk is pinned");
  leave_device(std::get<2>(*device_lru.begin()));
}

void PrefixTree::leave_device(uint32_t id) {
  TreeNode& n = nodes_[id];
  if (n.lru_tier >= 0) lru_[n.lru_tier].erase({n.lru_held, n.lru_stamp, id});
  n.lru_tier = -1;
  --cached_nodes_;
  ++evictions_;
  const uint32_t parent = n.parent;
  if (parent != TreeNode::kNone) {
    --nodes_[parent].device_children;
    refresh_lru(parent);
  }
  if (store_.has_host() && make_host_room()) {
    store_.demote_to_host(id);  // frees the device slot
    ++demotions_;
    ++lower_nodes_[static_cast<int>(KvTier::kHost)];
    emit(KvOp::kDemoted, KvTier::kHost, nodes_[id].key, KvTier::kDevice);
    refresh_lru(id);
    balance_host();
  } else {
    drop_node(id);
  }
}

void PrefixTree::unlink(uint32_t id) {
  TreeNode& n = nodes_[id];
  if (n.lru_tier >= 0) lru_[n.lru_tier].erase({n.lru_held, n.lru_stamp, id});
  if (n.holds > 0) --held_nodes_;
  const uint32_t root = n.root;
  const uint32_t parent = n.parent;
  KidMap& kids = kids_of(root, parent);
  auto& twins = kids[n.key];
  twins.erase(std::find(twins.begin(), twins.end(), id));
  if (twins.empty()) kids.erase(n.key);
  if (parent != TreeNode::kNone) --nodes_[parent].children;
  const uint32_t gen = n.gen + 1;
  n = TreeNode{};
  n.gen = gen;
  free_nodes_.push_back(id);
  if (parent == TreeNode::kNone) maybe_reclaim_root(root);
}

void PrefixTree::discard(uint32_t id) {
  const KvTier tier = store_.tier_of(id);
  const bool reading = store_.where(id) == Where::kReading;
  emit(KvOp::kRemoved, tier, nodes_[id].key);
  if (tier != KvTier::kDevice) --lower_nodes_[static_cast<int>(tier)];
  store_.forget(id);
  if (reading)
    settle_read(id, false, 0, false);  // its read's result will not come back here: the fetches waiting learn now
}

void PrefixTree::drop_subtree(uint32_t top) {
  // Post-order, so each node is unlinked childless. Everything below `top` is
  // off the device (top-closed device set) and unpinned; `top`'s own bytes
  // were released by the caller.
  std::vector<std::pair<uint32_t, bool>> stack{{top, false}};
  while (!stack.empty()) {
    auto [id, expanded] = stack.back();
    if (!expanded) {
      stack.back().second = true;
      for (const auto& [key, ids] : nodes_[id].kids) {
        for (uint32_t kid : ids) stack.push_back({kid, false});
      }
      continue;
    }
    stack.pop_back();
    if (id != top) discard(id);
    unlink(id);
  }
}

// ---- sequences ----------------------------------------------------------------

MatchResult PrefixTree::add_sequence(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match,
                                     bool count_hits) {
  check_tokens(tokens, n);
  const uint32_t r = root_for(salt);
  std::vector<uint32_t> path = match_path(r, tokens, std::min(n, max_match));
  path.resize(usable_prefix(path));
  MatchResult m{};
  const auto count_hit = [&](uint32_t id, KvTier found) {
    if (!count_hits) return;
    TreeNode& node = nodes_[id];
    m.tier_tokens[static_cast<int>(node.restored ? KvTier::kDisk : found)] += c_;
    node.restored = false;
  };
  // The device part of a path is a prefix of it (top-closed): pin it, and
  // hold the host part, so making room for the promotions spares both.
  size_t keep = 0;
  while (keep < path.size() && store_.on_device(path[keep])) {
    count_hit(path[keep], KvTier::kDevice);
    pin(path[keep++]);
  }
  const size_t device_part = keep;
  for (size_t i = device_part; i < path.size(); ++i) hold_node(path[i]);
  for (; keep < path.size() && reclaimable() > 0; ++keep) {
    const uint32_t id = path[keep];
    promote_to_device(id, take_slot());
    count_hit(id, KvTier::kHost);
    pin(id);
  }
  for (size_t i = device_part; i < path.size(); ++i) unhold_node(path[i]);
  path.resize(keep);
  Sequence seq;
  seq.root = r;
  seq.length = path.size() * c_;
  seq.path = std::move(path);
  m.cached_tokens = seq.length;
  for (int t = 0; t < kTierCount; ++t) hit_tokens_[t] += m.tier_tokens[t];
  ++roots_[r].sequences;
  m.seq_id = next_seq_++;
  sequences_.emplace(m.seq_id, std::move(seq));
  return m;
}

size_t PrefixTree::slots_needed(uint32_t seq_id, size_t n) const {
  const Sequence& seq = sequence(seq_id);
  const size_t chunks_after = (seq.tail_tokens.size() + n + c_ - 1) / c_;
  return chunks_after - seq.tail_slots.size();
}

size_t PrefixTree::append(uint32_t seq_id, const int32_t* tokens, size_t n) {
  Sequence& seq = seq_or_throw(seq_id);
  check_tokens(tokens, n);
  const size_t start = seq.length;
  const size_t needed = slots_needed(seq_id, n);
  if (needed > reclaimable()) {
    throw Error(ErrorCode::kCapacityExhausted, "KV pool exhausted: appending " + std::to_string(n) + " tokens needs " +
                                                   std::to_string(needed) + " chunks, " +
                                                   std::to_string(reclaimable()) + " can be freed (capacity " +
                                                   std::to_string(store_.capacity()) + ")");
  }
  for (size_t i = 0; i < needed; ++i) seq.tail_slots.push_back(take_slot());
  seq.tail_tokens.insert(seq.tail_tokens.end(), tokens, tokens + n);
  seq.length += n;
  return start;
}

void PrefixTree::commit(uint32_t seq_id) {
  Sequence& seq = seq_or_throw(seq_id);
  size_t consumed = 0;
  size_t sealed = 0;
  while (seq.tail_tokens.size() - consumed >= c_) {
    const int32_t* toks = seq.tail_tokens.data() + consumed;
    const uint32_t parent = seq.path.empty() ? TreeNode::kNone : seq.path.back();
    const uint64_t key = chunk_key_next(parent_key(seq.root, parent), toks, c_);
    const uint32_t slot = seq.tail_slots[sealed];
    uint32_t node = find_child(seq.root, parent, key, toks);
    if (node != TreeNode::kNone && store_.on_device(node)) {
      store_.give_slot(slot);  // the twin holds the same KV: same tokens after the same prefix
      pin(node);
    } else if (node != TreeNode::kNone) {
      // A twin below the device: our freshly written slot becomes its device copy.
      const KvTier from = store_.tier_of(node);
      if (store_.where(node) == Where::kReading) settle_read(node, true, 0, false);
      store_.place(node, slot);
      --lower_nodes_[static_cast<int>(from)];
      emit(KvOp::kPromoted, KvTier::kDevice, key, from);
      ++cached_nodes_;
      if (parent != TreeNode::kNone) ++nodes_[parent].device_children;
      pin(node);
    } else {
      node = new_node();
      TreeNode& t = nodes_[node];
      t.parent = parent;
      t.root = seq.root;
      t.key = key;
      t.tokens.assign(toks, toks + c_);
      t.live = true;
      t.refs = 1;
      t.last_use = ++clock_;
      ++pinned_nodes_;
      kids_of(seq.root, parent)[key].push_back(node);
      // the parent is on this sequence's path, hence pinned and not in the eviction set
      if (parent != TreeNode::kNone) {
        ++nodes_[parent].children;
        ++nodes_[parent].device_children;
      }
      store_.place(node, slot);
      emit(KvOp::kStored, KvTier::kDevice, key);
    }
    seq.path.push_back(node);
    consumed += c_;
    ++sealed;
  }
  if (sealed == 0) return;
  seq.tail_tokens.erase(seq.tail_tokens.begin(), seq.tail_tokens.begin() + consumed);
  seq.tail_slots.erase(seq.tail_slots.begin(), seq.tail_slots.begin() + sealed);
}

uint32_t PrefixTree::fork(uint32_t seq_id) {
  const Sequence& src = seq_or_throw(seq_id);
  if (src.tail_slots.size() > reclaimable()) {
    throw Error(ErrorCode::kCapacityExhausted,
                "KV pool exhausted: fork needs " + std::to_string(src.tail_slots.size()) + " chunks for the tail");
  }
  Sequence copy;
  copy.root = src.root;
  copy.path = src.path;
  copy.tail_tokens = src.tail_tokens;
  copy.length = src.length;
  for (uint32_t node : copy.path) pin(node);
  // take_slot may evict, which never touches src (its nodes are pinned, its tail is not in the tree)
  for (uint32_t slot : src.tail_slots) {
    const uint32_t dst = take_slot();
    store_.copy_slot(dst, slot);
    copy.tail_slots.push_back(dst);
  }
  ++roots_[copy.root].sequences;
  const uint32_t id = next_seq_++;
  sequences_.emplace(id, std::move(copy));
  return id;
}

void PrefixTree::release(uint32_t seq_id) {
  Sequence& seq = seq_or_throw(seq_id);
  for (auto it = seq.path.rbegin(); it != seq.path.rend(); ++it) unpin(*it);
  for (uint32_t slot : seq.tail_slots) store_.give_slot(slot);
  const uint32_t root = seq.root;
  --roots_[root].sequences;
  sequences_.erase(seq_id);
  maybe_reclaim_root(root);
}

void PrefixTree::clear() {
  if (!sequences_.empty()) {
    throw_invalid("cannot clear the cache while " + std::to_string(sequences_.size()) + " sequences are live");
  }
  cancel_tickets();
  read_waiters_.clear();
  for (uint32_t id = 0; id < nodes_.size(); ++id) {
    if (nodes_[id].live) store_.forget(id);
  }
  nodes_.clear();
  free_nodes_.clear();
  roots_.clear();
  free_roots_.clear();
  root_by_salt_.clear();
  for (auto& lru : lru_) lru.clear();
  cached_nodes_ = 0;
  held_nodes_ = 0;
  events_.push_back(KvEvent{KvOp::kCleared, KvTier::kDevice, {}});
  for (int t = 1; t < kTierCount; ++t) {
    if (lower_nodes_[t] > 0) events_.push_back(KvEvent{KvOp::kCleared, static_cast<KvTier>(t), {}});
    lower_nodes_[t] = 0;
  }
}

uint32_t PrefixTree::slot_at(uint32_t seq_id, size_t pos) const {
  const Sequence& seq = sequence(seq_id);
  if (pos >= seq.length) {
    throw_invalid("position " + std::to_string(pos) + " is past the sequence's " + std::to_string(seq.length) +
                  " tokens");
  }
  const size_t idx = pos / c_;
  return idx < seq.path.size() ? store_.slot_of(seq.path[idx]) : seq.tail_slots[idx - seq.path.size()];
}

std::vector<uint32_t> PrefixTree::slots_of(uint32_t seq_id) const {
  const Sequence& seq = sequence(seq_id);
  std::vector<uint32_t> out;
  out.reserve(seq.path.size() + seq.tail_slots.size());
  for (uint32_t node : seq.path) out.push_back(store_.slot_of(node));
  out.insert(out.end(), seq.tail_slots.begin(), seq.tail_slots.end());
  return out;
}

std::vector<KvEvent> PrefixTree::drain_events() {
  std::vector<KvEvent> out;
  out.swap(events_);
  return out;
}

std::array<std::vector<uint64_t>, kTierCount> PrefixTree::resident_keys() const {
  std::array<std::vector<uint64_t>, kTierCount> keys;
  for (uint32_t id = 0; id < nodes_.size(); ++id) {
    if (nodes_[id].live) keys[static_cast<int>(store_.tier_of(id))].push_back(nodes_[id].key);
  }
  return keys;
}

std::vector<std::pair<uint64_t, KvTier>> PrefixTree::path_tiers(const std::string& salt, const int32_t* tokens,
                                                                size_t n) const {
  check_tokens(tokens, n);
  std::vector<std::pair<uint64_t, KvTier>> out;
  const TreeRoot* root = find_root(salt);
  if (root == nullptr) return out;
  for (uint32_t id : match_path(static_cast<uint32_t>(root - roots_.data()), tokens, n)) {
    out.emplace_back(nodes_[id].key, store_.tier_of(id));
  }
  return out;
}

TreeStats PrefixTree::stats() const {
  TreeStats s;
  const size_t token_bytes = store_.shape().token_bytes();
  for (const auto& [id, seq] : sequences_) {
    s.logical_bytes += seq.length * token_bytes;
    s.tail_chunks += static_cast<uint32_t>(seq.tail_slots.size());
  }
  s.pinned_nodes = pinned_nodes_;
  s.cached_nodes = cached_nodes_;
  std::copy(std::begin(lower_nodes_), std::end(lower_nodes_), std::begin(s.lower_nodes));
  s.free_chunks = store_.free_slots();
  s.capacity_chunks = store_.capacity();
  s.peak_used_chunks = peak_used_;
  s.sequences = static_cast<uint32_t>(sequences_.size());
  s.roots = static_cast<uint32_t>(root_by_salt_.size());
  s.evictions = evictions_;
  s.demotions = demotions_;
  s.promotions = promotions_;
  s.disk_demotions = disk_demotions_;
  s.disk_promotions = disk_promotions_;
  std::copy(std::begin(hit_tokens_), std::end(hit_tokens_), std::begin(s.hit_tokens));
  s.prefetched_tokens = prefetched_tokens_;
  s.held_nodes = held_nodes_;
  s.tickets = static_cast<uint32_t>(tickets_.size());
  return s;
}

}  // namespace chunkmesh
