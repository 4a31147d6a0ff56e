#pragma once
// The prefix tree of shared KV chunks, one for all layers. A node is a full
// chunk of c tokens; a sequence is a pinned path of nodes plus a private tail
// of device slots it alone writes to. Matching is by token ids; the chained
// chunk key only names a node for the cluster and speeds up child lookup.
// Where each node's bytes live (device slot, host slot, disk record) is the
// chunk store's map; the tree decides what to evict, demote, write back,
// read and promote.
//
// Invariants the code relies on:
//  - a sequence pins every node on its path, so refs(parent) >= refs(child);
//    an unpinned node therefore has only unpinned descendants;
//  - pinned nodes are on the device, and device-resident nodes form a
//    top-closed subtree: every ancestor of a device node is on the device
//    (demotion goes bottom-up, promotion top-down, commits extend pinned paths);
//    so every unpinned device node can be reclaimed by evicting device leaves
//    bottom-up, and reclaimable slots = free slots + unpinned device nodes;
//    below the device, host and disk nodes mix freely;
//  - a node leaves the device by demotion to the host when there is a host
//    tier and room can be made there, else it is dropped with its subtree;
//    a host node leaves by a write back to disk (started ahead of need, to
//    keep host headroom) or by being dropped with its subtree;
//  - held nodes (holds > 0: prefixes of requests waiting in the queue, see
//    hold()) are evicted from the device last and never dropped from or
//    written out of the host, nor dropped from the disk;
//  - sequences with different salts live under different roots; a root is
//    reclaimed once it holds no node and no sequence.
// Single-threaded: only the KvCache's owner thread calls it (IO results come
// back to it there, through io_finished).
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv/chunk_store.h"
#include "kv/kv_event.h"

namespace chunkmesh {

using KidMap = std::unordered_map<uint64_t, std::vector<uint32_t>>;

struct TreeNode {
  static constexpr uint32_t kNone = 0xffffffffu;
  uint32_t parent = kNone;  // kNone: child of its root
  uint32_t root = 0;        // index into roots
  uint64_t key = 0;
  uint32_t refs = 0;             // running sequences whose path holds this node
  uint32_t children = 0;         // child nodes on any tier
  uint32_t device_children = 0;  // child nodes on the device
  uint64_t last_use = 0;
  uint32_t holds = 0;  // tickets of waiting requests whose prefix holds this node
  uint32_t gen = 0;    // bumped when the id is freed, so a ticket can tell a reused id
  // Position in its tier's eviction set: (held, last_use, id); lru_tier < 0 when in none.
  int8_t lru_tier = -1;
  bool lru_held = false;
  uint64_t lru_stamp = 0;
  bool restored = false;  // read back from disk since it was last used: its next hit counts as a disk hit
  bool live = false;
  std::vector<int32_t> tokens;
  // child lookup by chunk key; a vector because distinct token runs may collide on 64 bits
  KidMap kids;
};

struct TreeRoot {
  std::string salt;
  uint64_t key = 0;
  KidMap kids;
  uint32_t sequences = 0;
  bool live = false;
};

struct Sequence {
  uint32_t root = 0;
  std::vector<uint32_t> path;        // pinned full nodes, root to leaf
  std::vector<uint32_t> tail_slots;  // private device slots, in position order
  std::vector<int32_t> tail_tokens;  // tokens after the path (may span several chunks)
  size_t length = 0;                 // tokens in the sequence
};

struct TreeStats {
  uint64_t logical_bytes = 0;             // sum over live sequences of length * token bytes
  uint32_t pinned_nodes = 0;              // on the device, used by a running sequence
  uint32_t cached_nodes = 0;              // on the device, reusable, evictable
  uint32_t lower_nodes[kTierCount] = {};  // per tier below the device (host counts nodes being written)
  uint32_t held_nodes = 0;                // nodes some waiting request's ticket holds
  uint32_t tickets = 0;
  uint32_t tail_chunks = 0;
  uint32_t free_chunks = 0;
  uint32_t capacity_chunks = 0;
  uint32_t peak_used_chunks = 0;  // high-water mark of device slots in use since creation
  uint32_t sequences = 0;
  uint32_t roots = 0;
  uint64_t evictions = 0;                // nodes that left the device (dropped or demoted)
  uint64_t demotions = 0;                // of those, kept on the host
  uint64_t promotions = 0;               // host nodes brought back to the device (for a hit, or ahead of one)
  uint64_t disk_demotions = 0;           // host nodes written back to disk
  uint64_t disk_promotions = 0;          // disk nodes read back to the host
  uint64_t hit_tokens[kTierCount] = {};  // cached tokens of admitted sequences, by the tier they were found in
  uint64_t prefetched_tokens = 0;        // tokens a ticket's fetch brought to the device ahead of admission
};

// A waiting request's prefix, held (hold) and optionally fetched up the tiers (fetch).
struct HoldResult {
  uint32_t ticket = 0;             // 0: nothing matched, nothing held
  size_t tokens[kTierCount] = {};  // matched tokens by the tier their node is in now
  size_t usable_tokens = 0;        // leading matched tokens on the device or host (usable at once)
};

struct FetchResult {
  size_t restored_tokens = 0;  // read back from disk
  size_t failed_tokens = 0;    // reads that failed (IO error, checksum): those chunks are gone
  size_t promoted_tokens = 0;  // moved to the device
  uint64_t bytes = 0;          // read from disk
  double seconds = 0;          // from fetch to done
  bool cancelled = false;      // the ticket was dropped, or the cache torn down, first
};

// An explicit move of a cached prefix down the tiers (spill).
struct SpillResult {
  size_t matched_tokens = 0;  // the prefix's full chunks in the tree, on any tier
  size_t moved_tokens = 0;    // moved down by this call
  // Still above the tier asked for: pinned by a running sequence, under a
  // longer cached prefix that stays on the device, or no room below.
  size_t stayed_tokens = 0;
};

struct MatchResult {
  uint32_t seq_id;
  size_t cached_tokens;
  size_t tier_tokens[kTierCount];  // of cached_tokens, by where each chunk was found
};

class PrefixTree final : public IoListener {
 public:
  PrefixTree(ChunkStore& store, std::string model_id, int32_t vocab_size);
  PrefixTree(const PrefixTree&) = delete;
  PrefixTree& operator=(const PrefixTree&) = delete;

  // Creates a sequence whose path is the longest run of full cached chunks
  // matching tokens[0 : max_match] that are on the device or host; pins it,
  // promoting host nodes (a match stops at a disk node, and at a host node the
  // device has no room for); the caller appends the rest. count_hits = false
  // for the cache's own internal reads (a graft's source), which serve no request.
  MatchResult add_sequence(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match,
                           bool count_hits = true);
  // Tokens add_sequence would find cached, without pinning anything.
  size_t match_length(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match) const;

  // ---- tickets: the look-ahead for waiting requests ----
  // Holds the matched path of tokens[0 : max_match] on every tier, so eviction
  // spares it, and says where it is.
  HoldResult hold(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match);
  // Reads the ticket's disk nodes among its first max_tokens back to the host
  // (as far as host room allows), then, with to_device, promotes its host
  // nodes to the device while free or unheld cached slots allow. done runs on
  // the owner thread when all of that is over (at once when nothing is read).
  void fetch(uint32_t ticket, size_t max_tokens, bool to_device, std::function<void(const FetchResult&)> done);
  // Moves the cached chunks of tokens[0:n] that no sequence pins off the
  // device to the host, and with to_disk on down to disk (written now),
  // bottom-up (the device part of a path stays top-closed). Needs a host tier
  // (and a writable disk tier for to_disk): kInvalidArgument otherwise.
  SpillResult spill(const std::string& salt, const int32_t* tokens, size_t n, bool to_disk);
  // Lets go of the ticket's holds (a pending fetch completes as cancelled). Unknown tickets are ignored.
  void drop_ticket(uint32_t ticket);
  // drop_ticket for every ticket (before teardown: every pending fetch completes).
  void cancel_tickets();
  void io_finished(const IoDone& done) override;
  // Appends tokens to the private tail, taking slots (evicting if needed).
  // All or nothing: on a capacity error nothing changed. Returns the first new position.
  size_t append(uint32_t seq_id, const int32_t* tokens, size_t n);
  // Slots append(seq_id, n tokens) would take.
  size_t slots_needed(uint32_t seq_id, size_t n) const;
  // Turns full tail chunks into tree nodes (call once their KV is written);
  // a chunk whose twin already exists under the same parent is dropped in
  // favour of the twin.
  void commit(uint32_t seq_id);
  uint32_t fork(uint32_t seq_id);
  void release(uint32_t seq_id);
  // Drops every node; fails if any sequence is live.
  void clear();

  const Sequence& sequence(uint32_t seq_id) const;
  bool has_sequence(uint32_t seq_id) const { return sequences_.count(seq_id) != 0; }
  size_t sequence_count() const { return sequences_.size(); }
  // Device slot holding position pos of the sequence.
  uint32_t slot_at(uint32_t seq_id, size_t pos) const;
  // Device slots of the sequence's chunks, root to leaf.
  std::vector<uint32_t> slots_of(uint32_t seq_id) const;
  // Slots that can be had now: free ones plus unpinned device nodes (evictable bottom-up).
  uint32_t reclaimable() const { return store_.free_slots() + cached_nodes_; }

  std::vector<KvEvent> drain_events();
  // Keys of every live node, by the tier it counts in for the cluster (tier_of):
  // what replaying every event drained so far gives. The control plane's
  // reconcile compares it with what the worker reported to Redis.
  std::array<std::vector<uint64_t>, kTierCount> resident_keys() const;
  // The cached whole chunks of tokens' prefix under salt, in order: each one's key and the tier
  // it counts in (tier_of, as resident_keys lists it). What a tier move reports for its prompt,
  // without listing the whole tree.
  std::vector<std::pair<uint64_t, KvTier>> path_tiers(const std::string& salt, const int32_t* tokens, size_t n) const;
  TreeStats stats() const;
  uint64_t root_key(const std::string& salt) const;
  void check_tokens(const int32_t* tokens, size_t n) const;

 private:
  // The native tests (test/cpp) check the invariants above on the real nodes.
  friend class PrefixTreeInspector;

  uint32_t root_for(const std::string& salt);
  const TreeRoot* find_root(const std::string& salt) const;
  void maybe_reclaim_root(uint32_t root);
  // Nodes of the longest run of full chunks of tokens[0:n] under root (any tier).
  std::vector<uint32_t> match_path(uint32_t root, const int32_t* tokens, size_t n) const;
  uint32_t find_child(uint32_t root, uint32_t parent, uint64_t key, const int32_t* tokens) const;
  KidMap& kids_of(uint32_t root, uint32_t parent);
  const KidMap& kids_of(uint32_t root, uint32_t parent) const;
  uint64_t parent_key(uint32_t root, uint32_t parent) const;
  // The leading nodes of a matched path that are usable now (device, host).
  size_t usable_prefix(const std::vector<uint32_t>& path) const;
  Sequence& seq_or_throw(uint32_t seq_id);
  uint32_t new_node();
  uint32_t take_slot();
  void evict_one();
  // Takes an unpinned device node without device children off the device:
  // demoted to the host when room can be made there, else dropped with its subtree.
  void leave_device(uint32_t id);
  // Writes a host node (not held by an IO job) to disk now; false when the write failed.
  bool write_back_now(uint32_t id);
  // Makes a host slot free, dropping unheld host nodes (least recent first); false if it cannot.
  bool make_host_room();
  // Starts write-backs of unheld host nodes to disk while host headroom is short.
  void balance_host();
  // Makes a disk record free, dropping unheld disk nodes; false if it cannot.
  bool make_disk_room();
  // Moves a node that is on the host to the device into a slot (taken here); its parent is on the device.
  void promote_to_device(uint32_t id, uint32_t slot);
  // Removes a node that has no children from the tree (its bytes are already released).
  void unlink(uint32_t id);
  // Removes a node and its whole subtree; every node in it is off the device and unpinned.
  void drop_subtree(uint32_t id);
  // A node of a dropped subtree: its bytes released on whatever tier, the cluster told, waiting fetches failed.
  void discard(uint32_t id);
  // discard, then the node's subtree.
  void drop_node(uint32_t id);
  void pin(uint32_t node);
  void unpin(uint32_t node);
  void refresh_lru(uint32_t node);
  // A hold keeps a node off every eviction order (a waiting request's prefix, a move in progress);
  // held_nodes_ counts the nodes with at least one. Both refresh the node's place in its LRU.
  void hold_node(uint32_t node);
  void unhold_node(uint32_t node);
  void emit(KvOp op, KvTier tier, uint64_t key, KvTier from = KvTier::kDevice);
  // Tickets waiting on a read of `node` learn how it ended, and go on with
  // their fetches: at once from io_finished; from anywhere else (in the middle
  // of dropping a subtree, say) as a job of its own, so a fetch never evicts
  // under an operation that is still walking the tree.
  void settle_read(uint32_t node, bool ok, size_t bytes, bool now);
  void advance_fetch(uint32_t ticket);
  void finish_fetch(uint32_t ticket);
  bool ticket_node_valid(const std::pair<uint32_t, uint32_t>& at) const;
  struct Ticket;
  // Promotes the ticket's chunks that are up on the host to the device, top-down, while room allows.
  void promote_ready(Ticket& t);

  ChunkStore& store_;
  std::string model_id_;
  int32_t vocab_size_;
  size_t c_;
  std::vector<TreeNode> nodes_;
  std::vector<uint32_t> free_nodes_;
  std::vector<TreeRoot> roots_;
  std::vector<uint32_t> free_roots_;
  std::unordered_map<std::string, uint32_t> root_by_salt_;
  // Eviction order per tier, least recent first, held nodes after all others:
  // device: unpinned device leaves (held ones too); host: unheld nodes on the
  // host (not being written); disk: unheld nodes on disk (not being read).
  std::set<std::tuple<bool, uint64_t, uint32_t>> lru_[kTierCount];
  std::unordered_map<uint32_t, Sequence> sequences_;
  uint32_t next_seq_ = 1;
  uint64_t clock_ = 0;
  uint32_t cached_nodes_ = 0;
  uint32_t pinned_nodes_ = 0;
  uint32_t lower_nodes_[kTierCount] = {};
  uint64_t evictions_ = 0;
  uint64_t demotions_ = 0;
  uint64_t promotions_ = 0;
  uint64_t disk_demotions_ = 0;
  uint64_t disk_promotions_ = 0;
  uint64_t hit_tokens_[kTierCount] = {};
  uint64_t prefetched_tokens_ = 0;
  uint32_t held_nodes_ = 0;

  struct Ticket {
    std::vector<std::pair<uint32_t, uint32_t>> path;  // (node, gen) at hold time
    uint32_t waiting = 0;                             // reads in flight it waits on
    size_t next = 0;                                  // fetch: the next path node to read
    size_t limit = 0;                                 // fetch: path nodes it covers
    bool fetching = false;
    bool to_device = false;
    FetchResult result;
    std::chrono::steady_clock::time_point started;
    std::function<void(const FetchResult&)> done;
  };
  std::unordered_map<uint32_t, Ticket> tickets_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> read_waiters_;  // node -> tickets
  uint32_t next_ticket_ = 1;
  uint32_t peak_used_ = 0;
  std::vector<KvEvent> events_;
};

}  // namespace chunkmesh
