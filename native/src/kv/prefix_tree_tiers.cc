// The prefix tree's side of the host and disk tiers (prefix_tree.h,
// chunk_store.h): making room below the device, write-backs ahead of need,
// the IO results coming back, and the tickets that hold and fetch the
// prefixes of waiting requests.
#include <algorithm>

#include "kv/prefix_tree.h"
#include "runtime/error.h"

namespace chunkmesh {

void PrefixTree::cancel_tickets() {
  std::vector<uint32_t> ids;
  for (const auto& [id, t] : tickets_) ids.push_back(id);
  for (uint32_t id : ids) drop_ticket(id);
}

// ---- room below the device ----------------------------------------------------

void PrefixTree::drop_node(uint32_t id) {
  discard(id);
  drop_subtree(id);
}

bool PrefixTree::make_host_room() {
  auto& host_lru = lru_[static_cast<int>(KvTier::kHost)];
  while (store_.host_free() == 0) {
    // Beyond the write-backs' headroom: the least recent host chunk is written
    // out now rather than lost, while the disk takes it. (Room on the disk
    // first: dropping a disk chunk drops its subtree, which may hold host chunks.)
    const bool to_disk = store_.disk_writable() && make_disk_room();
    if (host_lru.empty()) return false;  // the rest is held or being written
    const uint32_t id = std::get<2>(*host_lru.begin());
    if (!to_disk || !write_back_now(id)) drop_node(id);
  }
  return true;
}

bool PrefixTree::write_back_now(uint32_t id) {
  if (!store_.write_now(id, nodes_[id].key)) return false;
  --lower_nodes_[static_cast<int>(KvTier::kHost)];
  ++lower_nodes_[static_cast<int>(KvTier::kDisk)];
  ++disk_demotions_;
  emit(KvOp::kDemoted, KvTier::kDisk, nodes_[id].key, KvTier::kHost);
  refresh_lru(id);
  return true;
}

SpillResult PrefixTree::spill(const std::string& salt, const int32_t* tokens, size_t n, bool to_disk) {
  check_tokens(tokens, n);
  if (!store_.has_host()) throw_invalid("no host tier: the cache keeps every chunk on the device");
  if (to_disk && !store_.disk_writable()) {
    throw_invalid(store_.has_disk() ? "the disk tier takes no more writes (a write failed)" : "no disk tier");
  }
  SpillResult r;
  const TreeRoot* root = find_root(salt);
  if (root == nullptr) return r;
  const std::vector<uint32_t> path = match_path(static_cast<uint32_t>(root - roots_.data()), tokens, n);
  r.matched_tokens = path.size() * c_;
  // Held while it moves: making room below never drops a chunk of the path.
  for (uint32_t id : path) hold_node(id);
  // Bottom-up off the device: a node leaves once nothing below it is on the
  // device; the first one that cannot (pinned, a longer prefix below it, no
  // host room) keeps itself and its ancestors there.
  std::vector<KvTier> before;
  for (uint32_t id : path) before.push_back(store_.tier_of(id));
  size_t device_end = path.size();
  for (; device_end > 0; --device_end) {
    const uint32_t id = path[device_end - 1];
    if (!store_.on_device(id)) continue;
    if (nodes_[id].refs > 0 || nodes_[id].device_children > 0 || !make_host_room()) break;
    leave_device(id);
  }
  if (to_disk) {
    for (size_t i = device_end; i < path.size(); ++i) {
      // a chunk already being written lands on disk by itself
      if (store_.where(path[i]) == Where::kHost && (!make_disk_room() || !write_back_now(path[i]))) break;
    }
  }
  const KvTier target = to_disk ? KvTier::kDisk : KvTier::kHost;
  for (size_t i = 0; i < path.size(); ++i) {
    const uint32_t id = path[i];
    const KvTier now = store_.tier_of(id);
    if (now != before[i]) r.moved_tokens += c_;
    if (static_cast<int>(now) < static_cast<int>(target)) r.stayed_tokens += c_;
    unhold_node(id);
  }
  balance_host();
  return r;
}

bool PrefixTree::make_disk_room() {
  auto& disk_lru = lru_[static_cast<int>(KvTier::kDisk)];
  while (store_.disk_free() == 0) {
    if (disk_lru.empty()) return false;
    drop_node(std::get<2>(*disk_lru.begin()));
  }
  return true;
}

void PrefixTree::balance_host() {
  if (!store_.disk_writable()) return;
  // An eighth of the host tier is kept free or on its way to disk, so a
  // demotion from the device finds a host slot without dropping anything.
  const uint32_t headroom = std::max<uint32_t>(1, store_.host_capacity() / 8);
  auto& host_lru = lru_[static_cast<int>(KvTier::kHost)];
  while (store_.host_free() + store_.writes_in_flight() < headroom && !host_lru.empty()) {
    if (!make_disk_room() || host_lru.empty()) return;  // (making disk room can drop host chunks too)
    const uint32_t id = std::get<2>(*host_lru.begin());
    store_.start_write(id, nodes_[id].key);
    refresh_lru(id);  // out of the host order while its write is in flight
  }
}

void PrefixTree::promote_to_device(uint32_t id, uint32_t slot) {
  const KvTier from = store_.tier_of(id);
  store_.promote(id, slot);
  --lower_nodes_[static_cast<int>(from)];
  ++promotions_;
  emit(KvOp::kPromoted, KvTier::kDevice, nodes_[id].key, from);
  ++cached_nodes_;
  const uint32_t parent = nodes_[id].parent;
  if (parent != TreeNode::kNone) {
    ++nodes_[parent].device_children;
    refresh_lru(parent);
  }
  refresh_lru(id);
}

// ---- IO results -------------------------------------------------------------------

void PrefixTree::io_finished(const IoDone& done) {
  const uint32_t id = done.node;
  const uint64_t key = nodes_[id].key;
  constexpr int kHost = static_cast<int>(KvTier::kHost), kDisk = static_cast<int>(KvTier::kDisk);
  switch (done.kind) {
    case IoDone::kWritten:
      --lower_nodes_[kHost];
      ++lower_nodes_[kDisk];
      ++disk_demotions_;
      emit(KvOp::kDemoted, KvTier::kDisk, key, KvTier::kHost);
      refresh_lru(id);
      balance_host();
      break;
    case IoDone::kWriteFailed:  // still on the host; the store takes no more writes
      refresh_lru(id);
      break;
    case IoDone::kRead:
      --lower_nodes_[kDisk];
      ++lower_nodes_[kHost];
      ++disk_promotions_;
      nodes_[id].restored = true;
      emit(KvOp::kPromoted, KvTier::kHost, key, KvTier::kDisk);
      refresh_lru(id);
      settle_read(id, true, done.bytes, true);
      balance_host();
      break;
    case IoDone::kReadFailed:  // a miss: the chunk and everything below it are gone
      --lower_nodes_[kDisk];
      emit(KvOp::kRemoved, KvTier::kDisk, key);
      drop_subtree(id);
      settle_read(id, false, 0, true);  // after the drop: what the waiting fetches do next sees it gone
      break;
  }
}

void PrefixTree::settle_read(uint32_t node, bool ok, size_t bytes, bool now) {
  auto it = read_waiters_.find(node);
  if (it == read_waiters_.end()) return;
  const std::vector<uint32_t> waiting = std::move(it->second);
  read_waiters_.erase(it);
  for (uint32_t ticket : waiting) {
    auto t = tickets_.find(ticket);
    if (t == tickets_.end()) continue;  // dropped meanwhile
    FetchResult& r = t->second.result;
    if (ok) {
      r.restored_tokens += c_;
      r.bytes += bytes;
    } else {
      r.failed_tokens += c_;
    }
    --t->second.waiting;
    if (!t->second.fetching) continue;
    if (now) {
      advance_fetch(ticket);
    } else {
      store_.defer([this, ticket] {
        auto again = tickets_.find(ticket);
        if (again != tickets_.end() && again->second.fetching) advance_fetch(ticket);
      });
    }
  }
}

// ---- tickets --------------------------------------------------------------------

bool PrefixTree::ticket_node_valid(const std::pair<uint32_t, uint32_t>& at) const {
  return at.first < nodes_.size() && nodes_[at.first].live && nodes_[at.first].gen == at.second;
}

HoldResult PrefixTree::hold(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match) {
  check_tokens(tokens, n);
  HoldResult r;
  const TreeRoot* root = find_root(salt);
  if (root == nullptr) return r;
  const std::vector<uint32_t> path =
      match_path(static_cast<uint32_t>(root - roots_.data()), tokens, std::min(n, max_match));
  if (path.empty()) return r;
  Ticket t;
  for (uint32_t id : path) {
    t.path.emplace_back(id, nodes_[id].gen);
    hold_node(id);
    r.tokens[static_cast<int>(store_.tier_of(id))] += c_;
  }
  r.usable_tokens = usable_prefix(path) * c_;
  if (next_ticket_ == 0) ++next_ticket_;
  r.ticket = next_ticket_++;
  tickets_.emplace(r.ticket, std::move(t));
  return r;
}

void PrefixTree::fetch(uint32_t ticket, size_t max_tokens, bool to_device,
                       std::function<void(const FetchResult&)> done) {
  auto it = tickets_.find(ticket);
  if (it == tickets_.end() || it->second.fetching) {
    FetchResult r;
    r.cancelled = true;
    done(r);
    return;
  }
  Ticket& t = it->second;
  t.fetching = true;
  t.to_device = to_device;
  t.done = std::move(done);
  t.started = std::chrono::steady_clock::now();
  t.next = 0;
  t.limit = std::min(t.path.size(), max_tokens / c_);
  advance_fetch(ticket);
}

void PrefixTree::advance_fetch(uint32_t ticket) {
  Ticket& t = tickets_.at(ticket);
  // Chunks already up on the host go on to the device first (top-down), which
  // frees host slots for the reads behind them: a prefix longer than the host
  // tier still comes up, a few chunks at a time.
  if (t.to_device) promote_ready(t);
  for (; t.next < t.limit; ++t.next) {
    const auto& at = t.path[t.next];
    const Where w = ticket_node_valid(at) ? store_.where(at.first) : Where::kNone;
    if (w == Where::kNone) {  // dropped since the hold, and everything below it
      t.limit = t.next;
      break;
    }
    const uint32_t id = at.first;
    if (w == Where::kDisk) {
      if (!make_host_room()) break;  // again when a read lands
      store_.start_read(id);
      refresh_lru(id);
    } else if (w != Where::kReading) {
      continue;
    }
    read_waiters_[id].push_back(ticket);
    ++t.waiting;
  }
  if (t.waiting == 0) finish_fetch(ticket);
}

void PrefixTree::promote_ready(Ticket& t) {
  auto& device_lru = lru_[static_cast<int>(KvTier::kDevice)];
  for (const auto& at : t.path) {
    if (!ticket_node_valid(at)) return;
    const uint32_t id = at.first;
    if (store_.on_device(id)) continue;
    if (!store_.usable(id)) return;  // not up from disk (yet): top-down stops here
    // Room from free slots or from cached chunks no waiting request holds; never from held ones.
    if (store_.free_slots() == 0) {
      if (device_lru.empty() || std::get<0>(*device_lru.begin())) return;
      evict_one();
    }
    promote_to_device(id, take_slot());
    t.result.promoted_tokens += c_;
    prefetched_tokens_ += c_;
  }
}

void PrefixTree::finish_fetch(uint32_t ticket) {
  Ticket& t = tickets_.at(ticket);
  t.fetching = false;
  if (t.to_device) promote_ready(t);
  t.result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t.started).count();
  const FetchResult r = t.result;
  t.result = FetchResult{};
  const auto done = std::move(t.done);
  t.done = nullptr;
  done(r);
}

void PrefixTree::drop_ticket(uint32_t ticket) {
  auto it = tickets_.find(ticket);
  if (it == tickets_.end()) return;
  Ticket t = std::move(it->second);
  tickets_.erase(it);
  for (const auto& at : t.path) {
    if (ticket_node_valid(at)) unhold_node(at.first);
  }
  if (t.done) {
    t.result.cancelled = true;
    t.done(t.result);
  }
  balance_host();
}

}  // namespace chunkmesh
