#include "kv/prefix_tree.h"

#include <algorithm>
#include <cstring>

#include "kv/chunk_key.h"
#include "runtime/error.h"

namespace chunkmesh {

PrefixTree::PrefixTree(ChunkPool& pool, std::string model_id, int32_t vocab_size)
    : pool_(pool),
      model_id_(std::move(model_id)),
      vocab_size_(vocab_size),
      c_(static_cast<size_t>(pool.shape().chunk_tokens)),
      nodes_(pool.capacity()) {}

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

int PrefixTree::find_root(const std::string& salt) const {
  for (size_t i = 0; i < roots_.size(); ++i) {
    if (roots_[i].salt == salt) return static_cast<int>(i);
  }
  return -1;
}

uint32_t PrefixTree::root_for(const std::string& salt) {
  const int r = find_root(salt);
  if (r >= 0) return static_cast<uint32_t>(r);
  TreeRoot root;
  root.salt = salt;
  root.key = chunk_key_root(model_id_, static_cast<int>(c_), salt);
  roots_.push_back(std::move(root));
  return static_cast<uint32_t>(roots_.size() - 1);
}

uint64_t PrefixTree::root_key(const std::string& salt) const {
  return chunk_key_root(model_id_, static_cast<int>(c_), salt);
}

std::unordered_map<uint64_t, std::vector<uint32_t>>& PrefixTree::kids_of(uint32_t root, uint32_t parent) {
  return parent == TreeNode::kNone ? roots_[root].kids : nodes_[parent].kids;
}

const std::unordered_map<uint64_t, std::vector<uint32_t>>& PrefixTree::kids_of(uint32_t root, uint32_t parent) const {
  return parent == TreeNode::kNone ? roots_[root].kids : nodes_[parent].kids;
}

uint64_t PrefixTree::parent_key(uint32_t root, uint32_t parent) const {
  return parent == TreeNode::kNone ? roots_[root].key : nodes_[parent].key;
}

uint32_t PrefixTree::find_child(uint32_t root, uint32_t parent, uint64_t key, const int32_t* tokens) const {
  const auto& kids = kids_of(root, parent);
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

size_t PrefixTree::match_length(const std::string& salt, const int32_t* tokens, size_t n) const {
  const int r = find_root(salt);
  return r < 0 ? 0 : match_path(static_cast<uint32_t>(r), tokens, n).size() * c_;
}

void PrefixTree::set_evictable(uint32_t node, bool on) {
  const auto entry = std::make_pair(nodes_[node].last_use, node);
  if (on) {
    evictable_.insert(entry);
  } else {
    evictable_.erase(entry);
  }
}

void PrefixTree::pin(uint32_t node) {
  TreeNode& n = nodes_[node];
  if (n.refs == 0) {
    if (n.children == 0) set_evictable(node, false);
    --cached_nodes_;
    ++pinned_nodes_;
  }
  ++n.refs;
  n.last_use = ++clock_;
}

void PrefixTree::unpin(uint32_t node) {
  TreeNode& n = nodes_[node];
  if (--n.refs == 0) {
    n.last_use = ++clock_;
    --pinned_nodes_;
    ++cached_nodes_;
    if (n.children == 0) set_evictable(node, true);
  }
}

void PrefixTree::emit(KvOp op, uint64_t key) {
  if (events_.empty() || events_.back().op != op) events_.push_back(KvEvent{op, KvTier::kDevice, {}});
  events_.back().keys.push_back(key);
}

MatchResult PrefixTree::add_sequence(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match) {
  check_tokens(tokens, n);
  const uint32_t r = root_for(salt);
  Sequence seq;
  seq.root = r;
  seq.path = match_path(r, tokens, std::min(n, max_match));
  for (uint32_t node : seq.path) pin(node);
  seq.length = seq.path.size() * c_;
  const size_t cached = seq.length;
  const uint32_t id = next_seq_++;
  sequences_.emplace(id, std::move(seq));
  return MatchResult{id, cached};
}

uint32_t PrefixTree::take_chunk() {
  if (pool_.free_count() == 0) evict_one();
  return pool_.take();
}

void PrefixTree::evict_one() {
  if (evictable_.empty()) throw Error(ErrorCode::kCapacityExhausted, "KV pool exhausted: every chunk is pinned");
  const uint32_t id = evictable_.begin()->second;
  evictable_.erase(evictable_.begin());
  TreeNode& n = nodes_[id];
  auto& siblings = kids_of(n.root, n.parent)[n.key];
  siblings.erase(std::find(siblings.begin(), siblings.end(), id));
  if (siblings.empty()) kids_of(n.root, n.parent).erase(n.key);
  if (n.parent != TreeNode::kNone) {
    TreeNode& p = nodes_[n.parent];
    if (--p.children == 0 && p.refs == 0) set_evictable(n.parent, true);
  }
  emit(KvOp::kRemoved, n.key);
  n = TreeNode{};
  --cached_nodes_;
  ++evictions_;
  pool_.give_back(id);
}

size_t PrefixTree::append(uint32_t seq_id, const int32_t* tokens, size_t n) {
  Sequence& seq = seq_or_throw(seq_id);
  check_tokens(tokens, n);
  const size_t start = seq.length;
  const size_t tail_after = seq.tail_tokens.size() + n;
  const size_t chunks_after = (tail_after + c_ - 1) / c_;
  const size_t needed = chunks_after - seq.tail_chunks.size();
  if (needed > reclaimable()) {
    throw Error(ErrorCode::kCapacityExhausted, "KV pool exhausted: appending " + std::to_string(n) + " tokens needs " +
                                                   std::to_string(needed) + " chunks, " +
                                                   std::to_string(reclaimable()) + " can be freed (capacity " +
                                                   std::to_string(pool_.capacity()) + ")");
  }
  for (size_t i = 0; i < needed; ++i) seq.tail_chunks.push_back(take_chunk());
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
    const uint32_t chunk = seq.tail_chunks[sealed];
    uint32_t node = find_child(seq.root, parent, key, toks);
    if (node != TreeNode::kNone) {
      pool_.give_back(chunk);  // the twin holds the same KV: same tokens after the same prefix
    } else {
      node = chunk;
      TreeNode& t = nodes_[node];
      t.parent = parent;
      t.root = seq.root;
      t.key = key;
      t.tokens.assign(toks, toks + c_);
      t.live = true;
      kids_of(seq.root, parent)[key].push_back(node);
      // the parent is on this sequence's path, hence pinned and not in the evictable set
      if (parent != TreeNode::kNone) ++nodes_[parent].children;
      t.refs = 1;
      t.last_use = ++clock_;
      ++pinned_nodes_;
      seq.path.push_back(node);
      emit(KvOp::kStored, key);
      consumed += c_;
      ++sealed;
      continue;
    }
    pin(node);
    seq.path.push_back(node);
    consumed += c_;
    ++sealed;
  }
  if (sealed == 0) return;
  seq.tail_tokens.erase(seq.tail_tokens.begin(), seq.tail_tokens.begin() + consumed);
  seq.tail_chunks.erase(seq.tail_chunks.begin(), seq.tail_chunks.begin() + sealed);
}

uint32_t PrefixTree::fork(uint32_t seq_id) {
  const Sequence& src = seq_or_throw(seq_id);
  if (src.tail_chunks.size() > reclaimable()) {
    throw Error(ErrorCode::kCapacityExhausted,
                "KV pool exhausted: fork needs " + std::to_string(src.tail_chunks.size()) + " chunks for the tail");
  }
  Sequence copy;
  copy.root = src.root;
  copy.path = src.path;
  copy.tail_tokens = src.tail_tokens;
  copy.length = src.length;
  for (uint32_t node : copy.path) pin(node);
  // take_chunk may evict, which never touches src (its nodes are pinned), so src stays valid
  for (uint32_t chunk : src.tail_chunks) {
    const uint32_t dst = take_chunk();
    std::memcpy(pool_.chunk_data(dst), pool_.chunk_data(chunk), pool_.chunk_bytes());
    copy.tail_chunks.push_back(dst);
  }
  const uint32_t id = next_seq_++;
  sequences_.emplace(id, std::move(copy));
  return id;
}

void PrefixTree::release(uint32_t seq_id) {
  Sequence& seq = seq_or_throw(seq_id);
  for (auto it = seq.path.rbegin(); it != seq.path.rend(); ++it) unpin(*it);
  for (uint32_t chunk : seq.tail_chunks) pool_.give_back(chunk);
  sequences_.erase(seq_id);
}

void PrefixTree::clear() {
  if (!sequences_.empty()) {
    throw_invalid("cannot clear the cache while " + std::to_string(sequences_.size()) + " sequences are live");
  }
  for (uint32_t id = 0; id < nodes_.size(); ++id) {
    if (nodes_[id].live) {
      nodes_[id] = TreeNode{};
      pool_.give_back(id);
    }
  }
  for (auto& r : roots_) r.kids.clear();
  evictable_.clear();
  cached_nodes_ = 0;
  events_.push_back(KvEvent{KvOp::kCleared, KvTier::kDevice, {}});
}

uint32_t PrefixTree::chunk_at(uint32_t seq_id, size_t pos) const {
  const Sequence& seq = sequence(seq_id);
  if (pos >= seq.length) {
    throw_invalid("position " + std::to_string(pos) + " is past the sequence's " + std::to_string(seq.length) +
                  " tokens");
  }
  const size_t idx = pos / c_;
  return idx < seq.path.size() ? seq.path[idx] : seq.tail_chunks[idx - seq.path.size()];
}

std::vector<KvEvent> PrefixTree::drain_events() {
  std::vector<KvEvent> out;
  out.swap(events_);
  return out;
}

TreeStats PrefixTree::stats() const {
  TreeStats s;
  const size_t token_bytes = pool_.shape().token_bytes();
  for (const auto& [id, seq] : sequences_) {
    s.logical_bytes += seq.length * token_bytes;
    s.tail_chunks += static_cast<uint32_t>(seq.tail_chunks.size());
  }
  s.pinned_nodes = pinned_nodes_;
  s.cached_nodes = cached_nodes_;
  s.free_chunks = pool_.free_count();
  s.capacity_chunks = pool_.capacity();
  s.physical_bytes = static_cast<uint64_t>(pool_.capacity() - pool_.free_count()) * pool_.chunk_bytes();
  s.sequences = static_cast<uint32_t>(sequences_.size());
  s.evictions = evictions_;
  return s;
}

}  // namespace chunkmesh
