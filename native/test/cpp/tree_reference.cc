#include "tree_reference.h"

#include <algorithm>
#include <stdexcept>

#include "kv/chunk_key.h"

namespace cmtest {
namespace {

bool starts_with(const std::vector<int32_t>& v, const std::vector<int32_t>& prefix) {
  return v.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), v.begin());
}

}  // namespace

TreeReference::NodeId TreeReference::node_id(const Seq& s, size_t chunk) const {
  return {s.salt, std::vector<int32_t>(s.tokens.begin(), s.tokens.begin() + (chunk + 1) * cfg_.c)};
}

uint64_t TreeReference::key_of(const NodeId& id) const {
  uint64_t key = chunkmesh::chunk_key_root(cfg_.model_id, static_cast<int>(cfg_.c), id.first);
  for (size_t i = 0; i < id.second.size(); i += cfg_.c) key = chunkmesh::chunk_key_next(key, &id.second[i], cfg_.c);
  return key;
}

bool TreeReference::has_device_child(const NodeId& id) const {
  for (auto it = nodes_.upper_bound(id);
       it != nodes_.end() && it->first.first == id.first && starts_with(it->first.second, id.second); ++it) {
    if (it->first.second.size() == id.second.size() + cfg_.c && it->second.device) return true;
  }
  return false;
}

uint32_t TreeReference::free_slots() const {
  uint32_t used = 0;
  for (const auto& [id, n] : nodes_) used += n.device ? 1 : 0;
  for (const auto& [id, s] : seqs_) used += static_cast<uint32_t>(s.tail_slots);
  return cfg_.capacity - used;
}

uint32_t TreeReference::reclaimable() const {
  uint32_t cached = 0;
  for (const auto& [id, n] : nodes_) cached += n.device && n.refs == 0 ? 1 : 0;
  return free_slots() + cached;
}

void TreeReference::take_slot() {
  if (free_slots() == 0) evict_one();
}

size_t TreeReference::host_nodes() const {
  size_t n = 0;
  for (const auto& [id, node] : nodes_) n += node.device ? 0 : 1;
  return n;
}

void TreeReference::drop(std::map<NodeId, Node>::iterator top) {
  const NodeId id = top->first;
  auto end = std::next(top);
  while (end != nodes_.end() && end->first.first == id.first && starts_with(end->first.second, id.second)) ++end;
  nodes_.erase(top, end);
}

void TreeReference::evict_one() {
  // The least recently released device leaf no sequence uses.
  auto victim = nodes_.end();
  for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
    const Node& n = it->second;
    if (!n.device || n.refs > 0 || has_device_child(it->first)) continue;
    if (victim == nodes_.end() || n.released < victim->second.released) victim = it;
  }
  if (victim == nodes_.end()) throw std::logic_error("reference: evicting with nothing evictable");
  ++evictions_;
  evicted_.push_back(victim->second.key);
  if (cfg_.lower) {
    // A full host tier drops its least recently released node (with its subtree) to make room.
    while (host_nodes() >= cfg_.lower_capacity) {
      auto oldest = nodes_.end();
      for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
        if (it->second.device || held_.count(it->first)) continue;
        if (oldest == nodes_.end() || it->second.released < oldest->second.released) oldest = it;
      }
      if (oldest == nodes_.end()) break;
      drop(oldest);
    }
    if (host_nodes() < cfg_.lower_capacity) {
      victim->second.device = false;
      ++demotions_;
      return;
    }
  }
  drop(victim);  // dropped: its subtree below the device goes with it
}

void TreeReference::unpin(const NodeId& id) {
  Node& n = nodes_.at(id);
  if (--n.refs == 0) n.released = ++clock_;
}

size_t TreeReference::match(const std::string& salt, const std::vector<int32_t>& tokens, size_t n) const {
  n = std::min(n, tokens.size());
  size_t chunks = 0;
  while ((chunks + 1) * cfg_.c <= n &&
         nodes_.count({salt, std::vector<int32_t>(tokens.begin(), tokens.begin() + (chunks + 1) * cfg_.c)})) {
    ++chunks;
  }
  return chunks * cfg_.c;
}

size_t TreeReference::add(uint32_t id, const std::string& salt, const std::vector<int32_t>& tokens, size_t max_match) {
  Seq s{salt, tokens, 0, 0};
  const size_t path = match(salt, tokens, max_match) / cfg_.c;
  // The device part first (pinned), then promotions while room can be made;
  // the host part is held meanwhile, so making room cannot drop it.
  while (s.path < path && nodes_.at(node_id(s, s.path)).device) pin(node_id(s, s.path++));
  for (size_t i = s.path; i < path; ++i) held_.insert(node_id(s, i));
  while (s.path < path && reclaimable() > 0) {
    take_slot();
    const NodeId n = node_id(s, s.path++);
    nodes_.at(n).device = true;
    ++promotions_;
    pin(n);
  }
  held_.clear();
  s.tokens.resize(s.path * cfg_.c);
  seqs_[id] = s;
  return s.tokens.size();
}

bool TreeReference::append(uint32_t id, const std::vector<int32_t>& tokens) {
  Seq& s = seqs_.at(id);
  const size_t tail = s.tokens.size() - s.path * cfg_.c;
  const size_t needed = (tail + tokens.size() + cfg_.c - 1) / cfg_.c - s.tail_slots;
  if (needed > reclaimable()) return false;
  for (size_t i = 0; i < needed; ++i) {
    take_slot();
    ++s.tail_slots;
  }
  s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
  return true;
}

void TreeReference::commit(uint32_t id) {
  Seq& s = seqs_.at(id);
  while (s.tokens.size() - s.path * cfg_.c >= cfg_.c) {
    const NodeId n = node_id(s, s.path++);
    auto it = nodes_.find(n);
    if (it == nodes_.end()) {
      nodes_[n] = Node{true, 1, 0, key_of(n)};
    } else {
      it->second.device = true;  // a demoted twin takes the freshly written slot
      pin(n);
    }
    --s.tail_slots;
  }
}

bool TreeReference::fork(uint32_t src, uint32_t id) {
  const Seq s = seqs_.at(src);
  if (s.tail_slots > reclaimable()) return false;
  Seq copy = s;
  copy.tail_slots = 0;
  for (size_t i = 0; i < s.path; ++i) pin(node_id(s, i));
  seqs_[id] = copy;
  for (size_t i = 0; i < s.tail_slots; ++i) {
    take_slot();
    ++seqs_[id].tail_slots;
  }
  return true;
}

void TreeReference::release(uint32_t id) {
  const Seq s = seqs_.at(id);
  for (size_t i = s.path; i > 0; --i) unpin(node_id(s, i - 1));
  seqs_.erase(id);
}

bool TreeReference::clear() {
  if (!seqs_.empty()) return false;
  nodes_.clear();
  return true;
}

std::vector<uint64_t> TreeReference::take_evicted() {
  std::vector<uint64_t> out;
  out.swap(evicted_);
  return out;
}

std::set<uint64_t> TreeReference::keys(chunkmesh::KvTier tier) const {
  std::set<uint64_t> out;
  for (const auto& [id, n] : nodes_) {
    if (n.device == (tier == chunkmesh::KvTier::kDevice)) out.insert(n.key);
  }
  return out;
}

TreeReference::Counts TreeReference::counts() const {
  Counts c;
  std::set<std::string> salts;
  for (const auto& [id, n] : nodes_) {
    salts.insert(id.first);
    if (!n.device)
      ++c.lower;
    else if (n.refs > 0)
      ++c.pinned;
    else
      ++c.cached;
  }
  for (const auto& [id, s] : seqs_) {
    salts.insert(s.salt);
    c.tails += static_cast<uint32_t>(s.tail_slots);
  }
  c.free = free_slots();
  c.sequences = static_cast<uint32_t>(seqs_.size());
  c.roots = static_cast<uint32_t>(salts.size());
  c.evictions = evictions_;
  c.demotions = demotions_;
  c.promotions = promotions_;
  return c;
}

}  // namespace cmtest
