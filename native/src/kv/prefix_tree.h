#pragma once
// The prefix tree of shared KV chunks, one for all layers. A node is a full
// chunk of c tokens; a sequence is a pinned path of nodes plus a private tail
// of chunks it alone writes to. Matching is by token ids; the chained chunk
// key only names a node for the cluster and speeds up child lookup.
//
// Invariants the code relies on:
//  - a sequence pins every node on its path, so refs(parent) >= refs(child);
//    an unpinned node therefore has only unpinned descendants, and every
//    unpinned node can be reclaimed by evicting leaves bottom-up;
//  - node id == index of the pool chunk it owns;
//  - sequences with different salts live under different roots.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv/chunk_pool.h"
#include "kv/kv_event.h"

namespace chunkmesh {

struct TreeNode {
  static constexpr uint32_t kNone = 0xffffffffu;
  uint32_t parent = kNone;  // kNone: child of a root
  uint32_t root = 0;        // index into roots
  uint64_t key = 0;
  uint32_t refs = 0;
  uint32_t children = 0;
  uint64_t last_use = 0;
  bool live = false;
  std::vector<int32_t> tokens;
  // child lookup by chunk key; a vector because distinct token runs may collide on 64 bits
  std::unordered_map<uint64_t, std::vector<uint32_t>> kids;
};

struct TreeRoot {
  std::string salt;
  uint64_t key = 0;
  std::unordered_map<uint64_t, std::vector<uint32_t>> kids;
};

struct Sequence {
  uint32_t root = 0;
  std::vector<uint32_t> path;         // pinned full nodes, root to leaf
  std::vector<uint32_t> tail_chunks;  // private chunks, in position order
  std::vector<int32_t> tail_tokens;   // tokens after the path (may span several chunks)
  size_t length = 0;                  // tokens in the sequence
};

struct TreeStats {
  uint64_t logical_bytes = 0;   // sum over live sequences of length * token bytes
  uint64_t physical_bytes = 0;  // chunks in use (nodes + tails) * chunk bytes
  uint32_t pinned_nodes = 0;
  uint32_t cached_nodes = 0;
  uint32_t tail_chunks = 0;
  uint32_t free_chunks = 0;
  uint32_t capacity_chunks = 0;
  uint32_t sequences = 0;
  uint64_t evictions = 0;
};

struct MatchResult {
  uint32_t seq_id;
  size_t cached_tokens;
};

class PrefixTree {
 public:
  PrefixTree(ChunkPool& pool, std::string model_id, int32_t vocab_size);

  // Creates a sequence whose path is the longest run of full cached chunks
  // matching tokens[0 : max_match]; pins it; the caller appends the rest.
  MatchResult add_sequence(const std::string& salt, const int32_t* tokens, size_t n, size_t max_match);
  // Tokens that add_sequence would find cached, without pinning anything.
  size_t match_length(const std::string& salt, const int32_t* tokens, size_t n) const;
  // Appends tokens to the private tail, taking chunks (evicting if needed).
  // All or nothing: on capacity error nothing changed. Returns the first new position.
  size_t append(uint32_t seq_id, const int32_t* tokens, size_t n);
  // Turns full tail chunks into tree nodes (call once their KV is written);
  // a chunk whose twin already exists under the same parent is dropped in
  // favour of the twin.
  void commit(uint32_t seq_id);
  uint32_t fork(uint32_t seq_id);
  void release(uint32_t seq_id);
  // Drops every cached node; fails if any sequence is live.
  void clear();

  const Sequence& sequence(uint32_t seq_id) const;
  bool has_sequence(uint32_t seq_id) const { return sequences_.count(seq_id) != 0; }
  // Pool chunk holding position pos of the sequence.
  uint32_t chunk_at(uint32_t seq_id, size_t pos) const;

  std::vector<KvEvent> drain_events();
  TreeStats stats() const;
  const ChunkPool& pool() const { return pool_; }
  ChunkPool& pool() { return pool_; }
  uint64_t root_key(const std::string& salt) const;

 private:
  uint32_t root_for(const std::string& salt);
  int find_root(const std::string& salt) const;
  // Nodes of the longest run of full chunks of tokens[0:n] cached under root.
  std::vector<uint32_t> match_path(uint32_t root, const int32_t* tokens, size_t n) const;
  uint32_t find_child(uint32_t root, uint32_t parent, uint64_t key, const int32_t* tokens) const;
  std::unordered_map<uint64_t, std::vector<uint32_t>>& kids_of(uint32_t root, uint32_t parent);
  const std::unordered_map<uint64_t, std::vector<uint32_t>>& kids_of(uint32_t root, uint32_t parent) const;
  uint64_t parent_key(uint32_t root, uint32_t parent) const;
  void check_tokens(const int32_t* tokens, size_t n) const;
  Sequence& seq_or_throw(uint32_t seq_id);
  uint32_t reclaimable() const { return pool_.free_count() + cached_nodes_; }
  uint32_t take_chunk();
  void evict_one();
  void pin(uint32_t node);
  void unpin(uint32_t node);
  void set_evictable(uint32_t node, bool on);
  void emit(KvOp op, uint64_t key);

  ChunkPool& pool_;
  std::string model_id_;
  int32_t vocab_size_;
  size_t c_;
  std::vector<TreeNode> nodes_;  // indexed by chunk
  std::vector<TreeRoot> roots_;
  std::set<std::pair<uint64_t, uint32_t>> evictable_;  // (last_use, node): unpinned leaves
  std::unordered_map<uint32_t, Sequence> sequences_;
  uint32_t next_seq_ = 1;
  uint64_t clock_ = 0;
  uint32_t cached_nodes_ = 0;
  uint32_t pinned_nodes_ = 0;
  uint64_t evictions_ = 0;
  std::vector<KvEvent> events_;
};

}  // namespace chunkmesh
