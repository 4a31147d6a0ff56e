#pragma once
// The prefix tree of shared KV chunks, one for all layers. A node is a full
// chunk of c tokens; a sequence is a pinned path of nodes plus a private tail
// of device slots it alone writes to. Matching is by token ids; the chained
// chunk key only names a node for the cluster and speeds up child lookup.
// Where each node's bytes live (device slot, or a lower tier) is the chunk
// store's map; the tree decides what to evict, demote and promote.
//
// Invariants the code relies on:
//  - a sequence pins every node on its path, so refs(parent) >= refs(child);
//    an unpinned node therefore has only unpinned descendants;
//  - pinned nodes are on the device, and device-resident nodes form a
//    top-closed subtree: every ancestor of a device node is on the device
//    (demotion goes bottom-up, promotion top-down, commits extend pinned paths);
//    so every unpinned device node can be reclaimed by evicting device leaves
//    bottom-up, and reclaimable slots = free slots + unpinned device nodes;
//  - sequences with different salts live under different roots; a root is
//    reclaimed once it holds no node and no sequence.
// Single-threaded: only the KvCache's owner thread calls it.
#include <cstdint>
#include <set>
#include <string>
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
  uint64_t lru_stamp = 0;  // last_use when entered into the eviction set
  bool in_lru = false;
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
  uint32_t lower_nodes[kTierCount] = {};  // per tier below the device
  uint32_t tail_chunks = 0;
  uint32_t free_chunks = 0;
  uint32_t capacity_chunks = 0;
  uint32_t peak_used_chunks = 0;  // high-water mark of device slots in use since creation
  uint32_t sequences = 0;
  uint32_t roots = 0;
  uint64_t evictions = 0;   // nodes that left the device (dropped or demoted)
  uint64_t demotions = 0;   // of those, kept on a lower tier
  uint64_t promotions = 0;  // demoted nodes brought back for a prefix hit
};

struct MatchResult {
  uint32_t seq_id;
  size_t cached_tokens;
};

class PrefixTree {
 public:
  PrefixTree(ChunkStore& store, std::string model_id, int32_t vocab_size);

  // Creates a sequence whose path is the longest run of full cached chunks
  // matching tokens[0 : max_match]; pins it, promoting demoted nodes (a match
  // stops at a demoted node the device has no room for); the caller appends the rest.
  MatchResult add_sequence(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match);
  // Tokens add_sequence would find cached (any tier), without pinning anything.
  size_t match_length(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match) const;
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
  Sequence& seq_or_throw(uint32_t seq_id);
  uint32_t new_node();
  uint32_t take_slot();
  void evict_one();
  // Removes a node that has no children from the tree (its bytes are already released).
  void unlink(uint32_t id);
  // Removes a node and its whole subtree; every node in it is off the device and unpinned.
  void drop_subtree(uint32_t id);
  void pin(uint32_t node);
  void unpin(uint32_t node);
  void refresh_lru(uint32_t node);
  void emit(KvOp op, KvTier tier, uint64_t key);

  ChunkStore& store_;
  std::string model_id_;
  int32_t vocab_size_;
  size_t c_;
  std::vector<TreeNode> nodes_;
  std::vector<uint32_t> free_nodes_;
  std::vector<TreeRoot> roots_;
  std::vector<uint32_t> free_roots_;
  std::unordered_map<std::string, uint32_t> root_by_salt_;
  std::set<std::pair<uint64_t, uint32_t>> lru_;  // (last_use, node): unpinned device leaves
  std::unordered_map<uint32_t, Sequence> sequences_;
  uint32_t next_seq_ = 1;
  uint64_t clock_ = 0;
  uint32_t cached_nodes_ = 0;
  uint32_t pinned_nodes_ = 0;
  uint32_t lower_nodes_[kTierCount] = {};
  uint64_t evictions_ = 0;
  uint64_t demotions_ = 0;
  uint64_t promotions_ = 0;
  uint32_t peak_used_ = 0;
  std::vector<KvEvent> events_;
};

}  // namespace chunkmesh
