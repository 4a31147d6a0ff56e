#include "tier_rig.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "harness.h"
#include "kv/chunk_key.h"
#include "tree_inspector.h"

namespace cmtest {
namespace {

constexpr const char* kModel = "tier-test";

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// One layer, one KV head of 8 floats: 64 bytes a token.
chunkmesh::KvShape shape(int c) { return chunkmesh::KvShape{1, 1, 8, c, chunkmesh::DType::kF32}; }

}  // namespace

TierRig::TierRig(const TierRigSetup& s) : setup_(s), device_(chunkmesh::make_cpu_device(1)) {
  char tmpl[] = "/tmp/chunkmesh-tier-XXXXXX";
  CHECK_MSG(mkdtemp(tmpl) != nullptr, "mkdtemp failed");
  dir_ = tmpl;
  disk_path_ = dir_ + "/chunks.kv";
  const size_t record = (64 + shape(s.c).chunk_bytes() + 4095) / 4096 * 4096;
  chunkmesh::TierOptions tiers{s.host_slots, dir_, record * s.disk_records, s.io_threads};
  store_ = std::make_unique<chunkmesh::ChunkStore>(*device_, shape(s.c), s.device_slots, tiers,
                                                   [this](std::function<void()> job) {
                                                     {
                                                       std::lock_guard<std::mutex> lock(mutex_);
                                                       jobs_.push_back(std::move(job));
                                                     }
                                                     posted_.notify_all();
                                                   });
  tree_ = std::make_unique<chunkmesh::PrefixTree>(*store_, kModel, 100);
}

TierRig::~TierRig() {
  store_->stop_io();
  pump_ready();
  tree_->cancel_tickets();
  tree_.reset();
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void TierRig::pump_ready() {
  for (;;) {
    std::function<void()> job;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void TierRig::pump_until(const std::function<bool()>& pred, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!posted_.wait_until(lock, deadline, [&] { return !jobs_.empty(); })) fail(__FILE__, __LINE__, what);
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void TierRig::settle() {
  pump_until(
      [&] {
        if (store_->writes_in_flight() > 0 || store_->reads_in_flight() > 0) return false;
        std::lock_guard<std::mutex> lock(mutex_);
        return jobs_.empty();
      },
      "IO did not settle within 10 s");
}

std::vector<uint8_t> TierRig::bytes_of(uint64_t key) const {
  std::vector<uint8_t> bytes(store_->pool().chunk_bytes);
  for (size_t i = 0; i < bytes.size(); i += 8) {
    const uint64_t w = mix64(key + i);
    for (size_t b = 0; b < 8 && i + b < bytes.size(); ++b) bytes[i + b] = static_cast<uint8_t>(w >> (8 * b));
  }
  return bytes;
}

std::vector<uint64_t> TierRig::keys_of(const std::vector<int32_t>& tokens, const std::string& salt) const {
  const size_t c = static_cast<size_t>(setup_.c);
  std::vector<uint64_t> keys;
  uint64_t key = chunkmesh::chunk_key_root(kModel, setup_.c, salt);
  for (size_t i = 0; i + c <= tokens.size(); i += c)
    keys.push_back(key = chunkmesh::chunk_key_next(key, &tokens[i], c));
  return keys;
}

void TierRig::cache_prompt(const std::vector<int32_t>& tokens, const std::string& salt) {
  const size_t c = static_cast<size_t>(setup_.c);
  const chunkmesh::MatchResult m = tree_->add_sequence(salt, tokens.data(), tokens.size(), tokens.size());
  const std::vector<int32_t> rest(tokens.begin() + static_cast<long>(m.cached_tokens), tokens.end());
  if (!rest.empty()) tree_->append(m.seq_id, rest.data(), rest.size());
  const std::vector<uint64_t> keys = keys_of(tokens, salt);
  const std::vector<uint32_t> slots = tree_->slots_of(m.seq_id);
  for (size_t i = m.cached_tokens / c; i < slots.size(); ++i) {
    const std::vector<uint8_t> bytes = bytes_of(i < keys.size() ? keys[i] : 0);
    device_->write_chunk(store_->pool(), slots[i], bytes.data());
  }
  tree_->commit(m.seq_id);
  check_bytes(m.seq_id);
  tree_->release(m.seq_id);
}

void TierRig::check_bytes(uint32_t seq) {
  const chunkmesh::Sequence& s = tree_->sequence(seq);
  std::vector<uint8_t> got(store_->pool().chunk_bytes);
  for (size_t i = 0; i < s.path.size(); ++i) {
    device_->read_chunk(store_->pool(), store_->slot_of(s.path[i]), got.data());
    CHECK_MSG(got == bytes_of(chunkmesh::PrefixTreeInspector::key_of(*tree_, s.path[i])),
              "sequence " << seq << " reads the wrong bytes in chunk " << i);
  }
}

std::vector<chunkmesh::KvEvent>& TierRig::events() {
  for (chunkmesh::KvEvent& e : tree_->drain_events()) events_.push_back(std::move(e));
  return events_;
}

}  // namespace cmtest
