#include "tree_fixture.h"

#include <algorithm>

#include "harness.h"
#include "tree_inspector.h"

namespace cmtest {

using chunkmesh::ErrorCode;
using chunkmesh::KvEvent;
using chunkmesh::KvTier;
using chunkmesh::PrefixTreeInspector;

namespace {

// The smallest real chunk layout: one layer, one KV head of 2 floats.
chunkmesh::KvShape tiny_shape(int c) { return chunkmesh::KvShape{1, 1, 2, c, chunkmesh::DType::kF32}; }

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

TreeFixture::TreeFixture(const TreeSetup& s)
    : setup_(s),
      device_(chunkmesh::make_cpu_device(1)),
      store_(std::make_unique<chunkmesh::ChunkStore>(
          *device_, tiny_shape(s.c), s.capacity,
          chunkmesh::TierOptions{s.lower ? static_cast<uint32_t>(s.lower_capacity) : 0, "", 0, 1})),
      ref_(TreeReference::Config{s.capacity, static_cast<size_t>(s.c), s.lower, s.lower_capacity, "tree-test"}) {
  tree_ = std::make_unique<chunkmesh::PrefixTree>(*store_, "tree-test", s.vocab);
}

TreeFixture::~TreeFixture() = default;

std::vector<uint8_t> TreeFixture::expected_bytes(const std::string& salt, const std::vector<int32_t>& tokens,
                                                 size_t end) const {
  uint64_t h = 0x243f6a8885a308d3ull;
  for (char ch : salt) h = mix64(h ^ static_cast<uint8_t>(ch));
  for (size_t i = 0; i < end; ++i) h = mix64(h ^ (static_cast<uint64_t>(tokens[i]) + 0x100));
  std::vector<uint8_t> bytes(store_->pool().chunk_bytes);
  for (size_t i = 0; i < bytes.size(); i += 8) {
    const uint64_t w = mix64(h + i);
    std::copy_n(reinterpret_cast<const uint8_t*>(&w), std::min<size_t>(8, bytes.size() - i), bytes.begin() + i);
  }
  return bytes;
}

// Stands in for the model writing K/V: every tail chunk gets the bytes of its prefix so far.
void TreeFixture::write_tail(uint32_t seq) {
  const TreeReference::Seq& s = ref_.sequences().at(seq);
  const std::vector<uint32_t> slots = tree_->slots_of(seq);
  const size_t c = setup_.c;
  for (size_t i = s.path; i < slots.size(); ++i) {
    const std::vector<uint8_t> bytes = expected_bytes(s.salt, s.tokens, std::min(s.tokens.size(), (i + 1) * c));
    device_->write_chunk(store_->pool(), slots[i], bytes.data());
  }
}

uint32_t TreeFixture::add(const std::string& salt, const std::vector<int32_t>& tokens, size_t max_match) {
  const chunkmesh::MatchResult m = tree_->add_sequence(salt, tokens.data(), tokens.size(), max_match);
  CHECK_MSG(ref_.sequences().count(m.seq_id) == 0, "add_sequence reused live id " << m.seq_id);
  CHECK_EQ(m.cached_tokens, ref_.add(m.seq_id, salt, tokens, max_match));
  check("add_sequence");
  return m.seq_id;
}

void TreeFixture::append(uint32_t seq, const std::vector<int32_t>& tokens) {
  const std::string before = PrefixTreeInspector::digest(*tree_);
  try {
    tree_->append(seq, tokens.data(), tokens.size());
  } catch (const chunkmesh::Error& e) {
    CHECK_MSG(e.code() == ErrorCode::kCapacityExhausted, e.what());
    CHECK_MSG(!ref_.append(seq, tokens),
              "append of " << tokens.size() << " refused, but " << ref_.reclaimable() << " slots can be had");
    check_unchanged(before, "refused append");
    return;
  }
  CHECK_MSG(ref_.append(seq, tokens), "append of " << tokens.size() << " tokens should have been refused");
  write_tail(seq);
  check("append");
}

void TreeFixture::commit(uint32_t seq) {
  tree_->commit(seq);
  ref_.commit(seq);
  check("commit");
}

void TreeFixture::fork(uint32_t seq) {
  const std::string before = PrefixTreeInspector::digest(*tree_);
  uint32_t id = 0;
  try {
    id = tree_->fork(seq);
  } catch (const chunkmesh::Error& e) {
    CHECK_MSG(e.code() == ErrorCode::kCapacityExhausted, e.what());
    CHECK_MSG(!ref_.fork(seq, 0), "fork refused, but " << ref_.reclaimable() << " slots can be had");
    check_unchanged(before, "refused fork");
    return;
  }
  CHECK_MSG(ref_.sequences().count(id) == 0, "fork reused live id " << id);
  CHECK_MSG(ref_.fork(seq, id), "fork should have been refused");
  check("fork");  // also checks the copied tail holds the source's bytes
}

void TreeFixture::release(uint32_t seq) {
  tree_->release(seq);
  ref_.release(seq);
  check("release");
}

void TreeFixture::clear() {
  if (!ref_.sequences().empty()) {
    expect_refused(ErrorCode::kInvalidArgument, [&] { tree_->clear(); });
    return;
  }
  tree_->clear();
  CHECK(ref_.clear());
  check("clear");
}

void TreeFixture::expect_refused(ErrorCode code, const std::function<void()>& call) {
  const std::string before = PrefixTreeInspector::digest(*tree_);
  CHECK_THROWS(call(), code);
  check_unchanged(before, "refused call");
}

void TreeFixture::check_unchanged(const std::string& before, const char* what) {
  const std::string change = PrefixTreeInspector::difference(before, PrefixTreeInspector::digest(*tree_));
  CHECK_MSG(change.empty(), what << " changed the tree: " << change);
  check(what);
}

void TreeFixture::check(const std::string& what) {
  try {
    PrefixTreeInspector::check(*tree_);
    last_events_ = tree_->drain_events();
    std::vector<uint64_t> left_device;
    for (const chunkmesh::KvEvent& e : last_events_) replayed_.apply(e, &left_device);
    CHECK_MSG(left_device == ref_.take_evicted(), "evicted the wrong nodes, or in the wrong (LRU) order");
    CHECK_MSG(replayed_.keys(KvTier::kDevice) == ref_.keys(KvTier::kDevice),
              "events do not replay to the device's keys");
    CHECK_MSG(replayed_.keys(KvTier::kHost) == ref_.keys(KvTier::kHost),
              "events do not replay to the host tier's keys");
    CHECK(replayed_.keys(KvTier::kDisk).empty());
    CHECK_MSG(replayed_.same_as(PrefixTreeInspector::resident_keys(*tree_)),
              "the listing differs from the events replayed");

    const chunkmesh::TreeStats s = tree_->stats();
    const TreeReference::Counts r = ref_.counts();
    CHECK_EQ(s.pinned_nodes, r.pinned);
    CHECK_EQ(s.cached_nodes, r.cached);
    CHECK_EQ(s.lower_nodes[1], r.lower);
    CHECK_EQ(s.tail_chunks, r.tails);
    CHECK_EQ(s.free_chunks, r.free);
    CHECK_EQ(s.sequences, r.sequences);
    CHECK_EQ(s.roots, r.roots);
    CHECK_EQ(s.evictions, r.evictions);
    CHECK_EQ(s.demotions, r.demotions);
    CHECK_EQ(s.promotions, r.promotions);
    CHECK_EQ(host_used(), r.lower);

    const size_t c = setup_.c;
    uint64_t logical = 0;
    std::vector<uint8_t> bytes(store_->pool().chunk_bytes);
    for (const auto& [id, seq] : ref_.sequences()) {
      const chunkmesh::Sequence& real = tree_->sequence(id);
      CHECK_EQ(real.length, seq.tokens.size());
      CHECK_EQ(real.path.size(), seq.path);
      CHECK_EQ(real.tail_slots.size(), seq.tail_slots);
      logical += seq.tokens.size() * store_->shape().token_bytes();
      const std::vector<uint32_t> slots = tree_->slots_of(id);
      for (size_t i = 0; i < slots.size(); ++i) {
        device_->read_chunk(store_->pool(), slots[i], bytes.data());
        CHECK_MSG(bytes == expected_bytes(seq.salt, seq.tokens, std::min(seq.tokens.size(), (i + 1) * c)),
                  "sequence " << id << " reads the wrong bytes in chunk " << i << " (slot " << slots[i] << ")");
      }
    }
    CHECK_EQ(s.logical_bytes, logical);
  } catch (Failure& f) {
    f.message = "after " + what + ": " + f.message;
    throw;
  }
}

}  // namespace cmtest
