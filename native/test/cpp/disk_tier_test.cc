// The disk tier below the host tier, with its IO on real threads and a real
// file: chunks flow device -> host -> disk and come back through a ticket bit
// for bit; a damaged, truncated or failing disk is a counted miss or a
// degraded tier, never wrong KV; holds keep a waiting request's prefix; and a
// random mix of all of it keeps the tree's invariants.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "event_replay.h"
#include "harness.h"
#include "tier_rig.h"
#include "tree_inspector.h"

namespace cmtest {
namespace {

using chunkmesh::FetchResult;
using chunkmesh::HoldResult;
using chunkmesh::KvEvent;
using chunkmesh::KvOp;
using chunkmesh::KvTier;
using chunkmesh::PrefixTreeInspector;
using Tokens = std::vector<int32_t>;

constexpr int kDevice = static_cast<int>(KvTier::kDevice);
constexpr int kHost = static_cast<int>(KvTier::kHost);
constexpr int kDisk = static_cast<int>(KvTier::kDisk);

// Prompts of two chunks (c = 2) that share nothing.
Tokens prompt(int i) { return Tokens{i + 1, 50 + i, i + 1, 60 + i}; }

// a's chunks pushed down to disk by caching `others` more prompts after it,
// the IO settling after each as it does between engine steps (a burst of
// demotions larger than the host's headroom drops chunks instead).
void push_to_disk(TierRig& rig, const Tokens& a, int others) {
  rig.cache_prompt(a);
  for (int i = 1; i <= others; ++i) {
    rig.settle();
    rig.cache_prompt(prompt(10 + i));
  }
  rig.settle();
  PrefixTreeInspector::check(rig.tree());
}

// Holds and fetches tokens; returns what the fetch reported once done.
FetchResult fetch_all(TierRig& rig, const Tokens& tokens, bool to_device, HoldResult* held = nullptr) {
  const HoldResult h = rig.tree().hold("", tokens.data(), tokens.size(), tokens.size());
  if (held) *held = h;
  CHECK_MSG(h.ticket != 0, "nothing matched");
  std::optional<FetchResult> got;
  rig.tree().fetch(h.ticket, tokens.size(), to_device, [&](const FetchResult& r) { got = r; });
  rig.pump_until([&] { return got.has_value(); }, "the fetch did not finish within 10 s");
  PrefixTreeInspector::check(rig.tree());
  return *got;
}

struct Move {
  KvOp op;
  KvTier tier;
  KvTier from;
};

// The moves a key made, in order.
std::vector<Move> moves_of(const std::vector<KvEvent>& events, uint64_t key) {
  std::vector<Move> out;
  for (const KvEvent& e : events) {
    for (uint64_t k : e.keys) {
      if (k == key) out.push_back(Move{e.op, e.tier, e.from});
    }
  }
  return out;
}

void corrupt_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR);
  CHECK_MSG(fd >= 0, "cannot open " << path);
  const off_t size = lseek(fd, 0, SEEK_END);
  const std::vector<uint8_t> junk(4096, 0xab);
  for (off_t at = 0; at < size; at += static_cast<off_t>(junk.size())) {
    CHECK(pwrite(fd, junk.data(), junk.size(), at) == static_cast<ssize_t>(junk.size()));
  }
  close(fd);
}

CM_TEST(disk_tier_round_trip_through_a_ticket_is_bit_exact) {
  TierRig rig(TierRigSetup{});
  const Tokens a = prompt(0);
  const std::vector<uint64_t> ka = rig.keys_of(a);
  push_to_disk(rig, a, 3);
  HoldResult h;
  const FetchResult r = fetch_all(rig, a, true, &h);
  CHECK_EQ(h.tokens[kDisk], a.size());
  CHECK_EQ(h.usable_tokens, size_t{0});
  CHECK_EQ(r.restored_tokens, a.size());
  CHECK_EQ(r.promoted_tokens, a.size());
  CHECK_EQ(r.failed_tokens, size_t{0});
  CHECK(!r.cancelled);
  CHECK(r.bytes >= a.size() / 2 * rig.store().pool().chunk_bytes);
  // Admitted with the ticket's chunks on the device: every byte as written, counted as disk hits.
  const chunkmesh::MatchResult m = rig.tree().add_sequence("", a.data(), a.size(), a.size());
  rig.tree().drop_ticket(h.ticket);
  CHECK_EQ(m.cached_tokens, a.size());
  CHECK_EQ(m.tier_tokens[kDisk], a.size());
  rig.check_bytes(m.seq_id);
  const std::vector<Move> moves = moves_of(rig.events(), ka[0]);
  CHECK_EQ(moves.size(), size_t{5});
  CHECK(moves[0].op == KvOp::kStored && moves[0].tier == KvTier::kDevice);
  CHECK(moves[1].op == KvOp::kDemoted && moves[1].tier == KvTier::kHost && moves[1].from == KvTier::kDevice);
  CHECK(moves[2].op == KvOp::kDemoted && moves[2].tier == KvTier::kDisk && moves[2].from == KvTier::kHost);
  CHECK(moves[3].op == KvOp::kPromoted && moves[3].tier == KvTier::kHost && moves[3].from == KvTier::kDisk);
  CHECK(moves[4].op == KvOp::kPromoted && moves[4].tier == KvTier::kDevice && moves[4].from == KvTier::kHost);
  const chunkmesh::TreeStats s = rig.tree().stats();
  CHECK(s.disk_demotions >= 2 && s.disk_promotions == 2);
  CHECK_EQ(s.hit_tokens[kDisk], uint64_t{a.size()});
  CHECK_EQ(s.prefetched_tokens, uint64_t{a.size()});
  CHECK_EQ(rig.store().counters().checksum_failures, uint64_t{0});
  rig.tree().release(m.seq_id);
}

CM_TEST(disk_tier_fetch_brings_up_a_prefix_longer_than_the_host_tier) {
  TierRigSetup setup;
  setup.device_slots = 10;
  setup.host_slots = 2;
  TierRig rig(setup);
  Tokens a;
  for (int i = 0; i < 12; ++i) a.push_back(i + 1);  // six chunks: three times the host tier
  rig.cache_prompt(a);
  for (int i = 0; i < 6; ++i) {
    rig.settle();
    Tokens other;
    for (int j = 0; j < 16; ++j) other.push_back(70 + i * 3 + j % 5);
    rig.cache_prompt(other);
  }
  rig.settle();
  HoldResult h;
  const FetchResult r = fetch_all(rig, a, true, &h);
  CHECK_EQ(h.tokens[kDisk], size_t{12});
  CHECK_EQ(r.restored_tokens, size_t{12});
  CHECK_EQ(r.promoted_tokens, size_t{12});
  const chunkmesh::MatchResult m = rig.tree().add_sequence("", a.data(), a.size(), a.size());
  rig.tree().drop_ticket(h.ticket);
  CHECK_EQ(m.cached_tokens, a.size());
  rig.check_bytes(m.seq_id);
  rig.tree().release(m.seq_id);
}

CM_TEST(disk_tier_without_a_ticket_admission_stops_at_the_disk) {
  TierRig rig(TierRigSetup{});
  const Tokens a = prompt(0);
  push_to_disk(rig, a, 3);
  CHECK_EQ(rig.tree().match_length("", a.data(), a.size(), a.size()), size_t{0});
  const chunkmesh::MatchResult m = rig.tree().add_sequence("", a.data(), a.size(), a.size());
  CHECK_EQ(m.cached_tokens, size_t{0});  // recomputed: the step loop never waits on a disk read
  rig.tree().release(m.seq_id);
}

void expect_a_miss(TierRig& rig, const Tokens& a) {
  const FetchResult r = fetch_all(rig, a, true);
  CHECK_MSG(r.failed_tokens >= 2, "a damaged record was served: failed " << r.failed_tokens);
  CHECK_EQ(r.promoted_tokens, size_t{0});
  CHECK(rig.store().counters().checksum_failures >= 1);
  CHECK_EQ(rig.tree().match_length("", a.data(), a.size(), a.size()), size_t{0});
  const chunkmesh::MatchResult m = rig.tree().add_sequence("", a.data(), a.size(), a.size());
  CHECK_EQ(m.cached_tokens, size_t{0});
  rig.tree().release(m.seq_id);
  rig.cache_prompt(a);  // computed again, and cached again
  CHECK_EQ(rig.tree().match_length("", a.data(), a.size(), a.size()), a.size());
}

CM_TEST(disk_tier_damaged_record_is_a_counted_miss) {
  TierRig rig(TierRigSetup{});
  const Tokens a = prompt(0);
  push_to_disk(rig, a, 3);
  corrupt_file(rig.disk_path());
  expect_a_miss(rig, a);
}

CM_TEST(disk_tier_truncated_file_is_a_counted_miss) {
  TierRig rig(TierRigSetup{});
  const Tokens a = prompt(0);
  push_to_disk(rig, a, 3);
  CHECK(truncate(rig.disk_path().c_str(), 0) == 0);
  expect_a_miss(rig, a);
}

CM_TEST(disk_tier_failing_writes_degrade_to_the_host_tier) {
  // A file size limit of one record: the first write-back lands, the next fails (EFBIG, not SIGXFSZ).
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit before;
  CHECK(getrlimit(RLIMIT_FSIZE, &before) == 0);
  TierRig rig(TierRigSetup{});
  const size_t record = (64 + rig.store().pool().chunk_bytes + 4095) / 4096 * 4096;
  rlimit small = before;
  small.rlim_cur = record;
  CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
  for (int i = 0; i < 6; ++i) {
    rig.cache_prompt(prompt(i));
    rig.settle();
  }
  CHECK(setrlimit(RLIMIT_FSIZE, &before) == 0);
  const chunkmesh::TierCounters& c = rig.store().counters();
  CHECK(c.disk_failed);
  CHECK_MSG(c.disk_error.find("File too large") != std::string::npos, c.disk_error);
  CHECK(c.io_errors >= 1);
  CHECK(!rig.store().disk_writable());
  PrefixTreeInspector::check(rig.tree());
  // Still serving: the host tier keeps the most recent evicted chunks, and new prompts cache as before.
  const chunkmesh::TreeStats s = rig.tree().stats();
  CHECK(s.lower_nodes[kHost] >= 1);
  for (int i = 6; i < 10; ++i) rig.cache_prompt(prompt(i));
  CHECK_EQ(rig.tree().match_length("", prompt(9).data(), 4, 4), size_t{4});
  PrefixTreeInspector::check(rig.tree());
}

CM_TEST(disk_tier_holds_keep_a_waiting_prefix_on_the_host) {
  TierRig rig(TierRigSetup{});
  const Tokens a = prompt(0);
  rig.cache_prompt(a);
  const HoldResult h = rig.tree().hold("", a.data(), a.size(), a.size());
  CHECK_EQ(h.tokens[kDevice], a.size());
  for (int i = 1; i < 8; ++i) rig.cache_prompt(prompt(i));
  rig.settle();
  PrefixTreeInspector::check(rig.tree());
  // Evicted from the device (softly) but never written out or dropped from the host while held.
  CHECK_EQ(rig.tree().match_length("", a.data(), a.size(), a.size()), a.size());
  for (uint64_t key : rig.keys_of(a)) {
    for (const Move& m : moves_of(rig.events(), key)) CHECK(m.tier != KvTier::kDisk && m.op != KvOp::kRemoved);
  }
  rig.tree().drop_ticket(h.ticket);
  for (int i = 8; i < 12; ++i) rig.cache_prompt(prompt(i));
  rig.settle();
  // Unheld now, it ages out of the host like any other chunk.
  CHECK_EQ(rig.tree().match_length("", a.data(), a.size(), a.size()), size_t{0});
  PrefixTreeInspector::check(rig.tree());
}

CM_TEST(disk_tier_dropping_a_ticket_cancels_its_fetch) {
  TierRig rig(TierRigSetup{});
  const Tokens a = prompt(0);
  push_to_disk(rig, a, 3);
  const HoldResult h = rig.tree().hold("", a.data(), a.size(), a.size());
  std::optional<FetchResult> got;
  rig.tree().fetch(h.ticket, a.size(), true, [&](const FetchResult& r) { got = r; });
  CHECK(!got.has_value());  // the reads are in flight
  rig.tree().drop_ticket(h.ticket);
  CHECK(got.has_value() && got->cancelled);
  rig.settle();  // the reads still land, unheld: kept below the device like any other chunk
  PrefixTreeInspector::check(rig.tree());
  const HoldResult again = rig.tree().hold("", a.data(), a.size(), a.size());
  CHECK_EQ(again.tokens[kHost] + again.tokens[kDisk], a.size());
  rig.tree().drop_ticket(again.ticket);
}

CM_TEST(disk_tier_teardown_with_io_in_flight) {
  std::optional<FetchResult> got;
  {
    TierRig rig(TierRigSetup{});
    const Tokens a = prompt(0);
    push_to_disk(rig, a, 3);
    const HoldResult h = rig.tree().hold("", a.data(), a.size(), a.size());
    rig.tree().fetch(h.ticket, a.size(), true, [&](const FetchResult& r) { got = r; });
    for (int i = 20; i < 26; ++i) rig.cache_prompt(prompt(i));  // write-backs in flight too
  }
  CHECK_MSG(got.has_value(), "a fetch pending at teardown never settled");  // done or cancelled, as timing has it
}

// The tree's listing of resident keys (PrefixTree::resident_keys) equals the
// events drained so far replayed per tier, as a reader of the stream applies them.
void check_listing_replays(TierRig& rig, cmtest::EventReplay& replayed) {
  replayed.catch_up(rig.events());
  CHECK_MSG(replayed.same_as(PrefixTreeInspector::resident_keys(rig.tree())),
            "the listing differs from the events replayed");
}

// Random prompts from a few shared bases, holds, fetches, drops and spills, with IO
// results delivered at random points: the invariants hold after every step,
// every admitted sequence reads exactly the bytes of its chunks, and the
// tree's listing of resident keys (and a prompt's path of them) is what its
// events replay to.
CM_TEST(disk_tier_random_ops_keep_the_invariants) {
  uint64_t written = 0;
  size_t restored = 0;
  for_each_seed(6, [&](uint64_t seed) {
    Rng rng(seed);
    TierRigSetup setup;
    setup.device_slots = static_cast<uint32_t>(rng.range(3, 8));
    setup.host_slots = static_cast<uint32_t>(rng.range(1, 6));
    setup.disk_records = static_cast<uint32_t>(rng.range(2, 20));
    TierRig rig(setup);
    std::vector<Tokens> bases;
    for (int b = 0; b < 4; ++b) bases.push_back(rng.tokens(8, 100));
    std::vector<uint32_t> tickets;
    cmtest::EventReplay replayed;
    const auto random_prompt = [&] {
      Tokens t = rng.pick(bases);
      t.resize(static_cast<size_t>(rng.range(2, 8)));
      for (int i = rng.range(0, 4); i > 0; --i) t.push_back(rng.range(0, 99));
      return t;
    };
    for (int step = 0; step < 300 * scale(); ++step) {
      const int op = rng.range(0, 9);
      if (op <= 3) {
        const Tokens t = random_prompt();
        const size_t need = (t.size() + 1) / 2;
        if (need + 1 < setup.device_slots) rig.cache_prompt(t);
      } else if (op == 5 && tickets.size() < 2) {  // a couple of waiting requests, as in a short queue
        const Tokens t = random_prompt();
        const HoldResult h = rig.tree().hold("", t.data(), t.size(), t.size());
        if (h.ticket != 0) tickets.push_back(h.ticket);
      } else if ((op == 4 || op == 6) && !tickets.empty()) {
        rig.tree().fetch(rng.pick(tickets), 16, rng.chance(0.5),
                         [&](const FetchResult& r) { restored += r.restored_tokens; });
      } else if (op == 8) {
        const Tokens t = random_prompt();
        rig.tree().spill("", t.data(), t.size(), rng.chance(0.5));
      } else if (op == 7 && !tickets.empty()) {
        const size_t i = static_cast<size_t>(rng.range(0, static_cast<int>(tickets.size()) - 1));
        rig.tree().drop_ticket(tickets[i]);
        tickets.erase(tickets.begin() + static_cast<long>(i));
      } else {
        rig.pump_ready();
      }
      PrefixTreeInspector::check(rig.tree());
      check_listing_replays(rig, replayed);
      // a prompt's own path (PrefixTree::path_tiers): each chunk where the events put it
      const Tokens probe = random_prompt();
      for (const auto& [key, tier] : rig.tree().path_tiers("", probe.data(), probe.size())) {
        CHECK_MSG(replayed.tier_of(key) == tier, "a path's chunk is not where its events put it");
      }
    }
    for (uint32_t t : tickets) rig.tree().drop_ticket(t);
    rig.settle();
    PrefixTreeInspector::check(rig.tree());
    check_listing_replays(rig, replayed);
    const chunkmesh::TreeStats s = rig.tree().stats();
    CHECK_EQ(s.held_nodes, uint32_t{0});
    CHECK_EQ(s.tickets, uint32_t{0});
    CHECK_EQ(rig.store().counters().checksum_failures, uint64_t{0});
    written += s.disk_demotions;
  });
  // the runs went through every tier: written back, and read back for a fetch
  CHECK(written > 0);
  CHECK(restored > 0);
}

}  // namespace
}  // namespace cmtest
