#pragma once
// A prefix tree over a chunk store on a one-thread CPU device (the tree is
// single-threaded: the test thread plays the owner thread), checked after
// every operation against TreeReference and the invariants of prefix_tree.h:
// counts, sequences, cached prefixes, the events replayed per tier, the
// eviction order, and the bytes in every slot a sequence reads (so a chunk
// demoted to the host tier and promoted back must come back bit for bit).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device/device.h"
#include "event_replay.h"
#include "kv/chunk_store.h"
#include "kv/prefix_tree.h"
#include "runtime/error.h"
#include "tree_reference.h"

namespace cmtest {

struct TreeSetup {
  uint32_t capacity = 8;
  int c = 4;
  bool lower = false;         // a host tier below the device
  size_t lower_capacity = 0;  // its chunks
  int32_t vocab = 6;
};

class TreeFixture {
 public:
  explicit TreeFixture(const TreeSetup& setup);
  ~TreeFixture();

  chunkmesh::PrefixTree& tree() { return *tree_; }
  const TreeReference& reference() const { return ref_; }
  // Chunks held in the host tier's memory.
  uint32_t host_used() const { return store_->host_capacity() - store_->host_free(); }

  // Operations on both trees. Each checks that the real one did what the
  // reference says, or raised the error the reference predicts and changed
  // nothing, then checks the whole state.
  uint32_t add(const std::string& salt, const std::vector<int32_t>& tokens, size_t max_match);
  void append(uint32_t seq, const std::vector<int32_t>& tokens);
  void commit(uint32_t seq);
  void fork(uint32_t seq);
  void release(uint32_t seq);
  void clear();
  // Calls that must fail with `code` and change nothing.
  void expect_refused(chunkmesh::ErrorCode code, const std::function<void()>& call);

  // Everything checked after an operation; `what` names it in failures.
  void check(const std::string& what);
  std::vector<chunkmesh::KvEvent> last_events() const { return last_events_; }
  // The bytes a chunk of the sequence must hold: a function of its salt and token prefix.
  std::vector<uint8_t> expected_bytes(const std::string& salt, const std::vector<int32_t>& tokens, size_t end) const;

 private:
  void write_tail(uint32_t seq);
  void check_unchanged(const std::string& before, const char* what);

  TreeSetup setup_;
  std::unique_ptr<chunkmesh::Device> device_;
  std::unique_ptr<chunkmesh::ChunkStore> store_;
  std::unique_ptr<chunkmesh::PrefixTree> tree_;
  TreeReference ref_;
  EventReplay replayed_;
  std::vector<chunkmesh::KvEvent> last_events_;
};

}  // namespace cmtest
