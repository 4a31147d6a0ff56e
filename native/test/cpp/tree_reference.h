#pragma once
// The prefix tree and chunk store as a plain model, to check the real ones
// against: a node is named by its salt and token prefix, a sequence is its
// tokens and how many of its chunks are pinned nodes, device slots are only
// counted, and the eviction order is the order in which nodes were last
// released. Slow and obvious on purpose.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kv/kv_event.h"

namespace cmtest {

class TreeReference {
 public:
  struct Config {
    uint32_t capacity = 0;      // device slots
    size_t c = 0;               // tokens per chunk
    bool lower = false;         // a host tier is attached
    size_t lower_capacity = 0;  // chunks it holds; a full one drops its least recently released
    std::string model_id;
  };
  struct Seq {
    std::string salt;
    std::vector<int32_t> tokens;
    size_t path = 0;        // leading chunks that are pinned nodes
    size_t tail_slots = 0;  // device slots of the private tail
  };
  struct Counts {
    uint32_t pinned = 0, cached = 0, lower = 0, tails = 0, free = 0, sequences = 0, roots = 0;
    uint64_t evictions = 0, demotions = 0, promotions = 0;
  };

  explicit TreeReference(Config config) : cfg_(std::move(config)) {}

  // Tokens of the longest run of full chunks of tokens[0:n] cached on any tier.
  size_t match(const std::string& salt, const std::vector<int32_t>& tokens, size_t n) const;
  // Each operation as the tree should do it; false where the tree must raise
  // a capacity (append, fork) or argument (clear) error and change nothing.
  size_t add(uint32_t id, const std::string& salt, const std::vector<int32_t>& tokens, size_t max_match);
  bool append(uint32_t id, const std::vector<int32_t>& tokens);
  void commit(uint32_t id);
  bool fork(uint32_t src, uint32_t id);
  void release(uint32_t id);
  bool clear();

  // Keys that left the device since the last call, in eviction order.
  std::vector<uint64_t> take_evicted();
  // Keys resident in each tier.
  std::set<uint64_t> keys(chunkmesh::KvTier tier) const;
  Counts counts() const;
  uint32_t reclaimable() const;
  const std::map<uint32_t, Seq>& sequences() const { return seqs_; }

 private:
  // Nodes sort by salt, then prefix: a node's subtree follows it contiguously.
  using NodeId = std::pair<std::string, std::vector<int32_t>>;
  struct Node {
    bool device = true;  // else on the lower tier
    uint32_t refs = 0;
    uint64_t released = 0;  // when refs last dropped to 0
    uint64_t key = 0;
  };

  NodeId node_id(const Seq& s, size_t chunk) const;
  uint64_t key_of(const NodeId& id) const;
  bool has_device_child(const NodeId& id) const;
  uint32_t free_slots() const;
  void take_slot();  // makes sure a slot is free, evicting if needed
  void evict_one();
  // Erases a node and everything below it.
  void drop(std::map<NodeId, Node>::iterator top);
  size_t host_nodes() const;
  void pin(const NodeId& id) { ++nodes_.at(id).refs; }
  void unpin(const NodeId& id);

  Config cfg_;
  std::map<NodeId, Node> nodes_;
  std::set<NodeId> held_;  // during add: the path's host nodes, which making room must not drop
  std::map<uint32_t, Seq> seqs_;
  uint64_t clock_ = 0;
  uint64_t evictions_ = 0, demotions_ = 0, promotions_ = 0;
  std::vector<uint64_t> evicted_;
};

}  // namespace cmtest
