#pragma once
// A prefix tree over a chunk store with a host and a disk tier, on a
// one-thread CPU device, for the disk tier's tests. The test thread plays the
// owner thread: IO results the store posts back are queued here and run by
// pump(). Chunks are written with bytes derived from their chunk key, so a
// chunk read back from any tier can be checked bit for bit.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device/device.h"
#include "kv/chunk_store.h"
#include "kv/prefix_tree.h"

namespace cmtest {

struct TierRigSetup {
  uint32_t device_slots = 2;
  uint32_t host_slots = 2;
  uint32_t disk_records = 64;
  int c = 2;
  int io_threads = 2;
};

class TierRig {
 public:
  explicit TierRig(const TierRigSetup& setup);
  // Stops the IO, runs what it posted, then tears down and removes the directory.
  ~TierRig();

  chunkmesh::PrefixTree& tree() { return *tree_; }
  chunkmesh::ChunkStore& store() { return *store_; }
  const std::string& disk_path() const { return disk_path_; }

  // Runs the store's posted IO results until pred() holds; fails the test after 10 s.
  void pump_until(const std::function<bool()>& pred, const char* what);
  // Runs IO results until no write or read is in flight.
  void settle();
  // Runs whatever IO results are queued now, without waiting.
  void pump_ready();

  // Adds the tokens as a sequence, writes the chunks it computes, commits and releases it.
  void cache_prompt(const std::vector<int32_t>& tokens, const std::string& salt = "");
  // Fails unless every chunk of the sequence holds the bytes of its key.
  void check_bytes(uint32_t seq);
  std::vector<uint8_t> bytes_of(uint64_t key) const;
  std::vector<uint64_t> keys_of(const std::vector<int32_t>& tokens, const std::string& salt = "") const;
  // Events drained so far, in order.
  std::vector<chunkmesh::KvEvent>& events();

 private:
  TierRigSetup setup_;
  std::string dir_;
  std::string disk_path_;
  std::unique_ptr<chunkmesh::Device> device_;
  std::mutex mutex_;
  std::condition_variable posted_;
  std::deque<std::function<void()>> jobs_;
  std::unique_ptr<chunkmesh::ChunkStore> store_;
  std::unique_ptr<chunkmesh::PrefixTree> tree_;
  std::vector<chunkmesh::KvEvent> events_;
};

}  // namespace cmtest
