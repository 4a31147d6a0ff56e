#pragma once
// A lower tier in host memory for the tests: holds at most `capacity` chunks
// (put refuses beyond that, as a full host pool or disk would), and fails the
// test on any call the chunk store should never make.
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "harness.h"
#include "kv/chunk_store.h"

namespace cmtest {

class MemoryTier final : public chunkmesh::LowerTier {
 public:
  explicit MemoryTier(size_t capacity) : capacity_(capacity) {}

  chunkmesh::KvTier tier() const override { return chunkmesh::KvTier::kHost; }
  bool put(uint32_t node, const uint8_t* bytes, size_t n) override {
    CHECK_MSG(chunks_.count(node) == 0, "put of node " << node << ", already held");
    if (chunks_.size() >= capacity_) return false;
    chunks_[node].assign(bytes, bytes + n);
    return true;
  }
  void get(uint32_t node, uint8_t* bytes, size_t n) override {
    const auto it = chunks_.find(node);
    CHECK_MSG(it != chunks_.end() && it->second.size() == n, "get of node " << node << ", not held");
    std::memcpy(bytes, it->second.data(), n);
  }
  void erase(uint32_t node) override { CHECK_MSG(chunks_.erase(node) == 1, "erase of node " << node << ", not held"); }

  size_t size() const { return chunks_.size(); }

 private:
  size_t capacity_;
  std::map<uint32_t, std::vector<uint8_t>> chunks_;
};

}  // namespace cmtest
