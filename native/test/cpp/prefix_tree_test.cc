// The prefix tree and chunk store under random operation sequences (add with
// random salts and match limits, append, commit, fork, release, clear, errors)
// in small pools, so evictions, demotions and capacity errors are common;
// every operation is checked by TreeFixture against the reference model.
#include <string>
#include <vector>

#include "harness.h"
#include "tree_fixture.h"

namespace cmtest {
namespace {

using chunkmesh::ErrorCode;
using Tokens = std::vector<int32_t>;

constexpr uint32_t kUnknown = 1u << 30;

class RandomOps {
 public:
  RandomOps(const TreeSetup& setup, uint64_t seed) : setup_(setup), f_(setup), rng_(seed) {
    for (int i = 0; i < 4; ++i) bases_.push_back(rng_.tokens(rng_.range(setup.c, 4 * setup.c), setup.vocab));
  }

  void run(int steps) {
    for (int step = 0; step < steps; ++step) {
      const int op = rng_.range(0, 99);
      const std::vector<uint32_t> ids = live();
      if (ids.size() >= 8 || (op >= 70 && op < 90 && !ids.empty())) {
        f_.release(rng_.pick(ids));
      } else if (op < 30 || ids.empty()) {
        admit();
      } else if (op < 50) {
        const uint32_t id = rng_.pick(ids);
        f_.append(id, rng_.tokens(rng_.range(1, 2 * setup_.c), setup_.vocab));
        if (rng_.chance(0.5)) f_.commit(id);
      } else if (op < 60) {
        f_.commit(rng_.pick(ids));
      } else if (op < 70) {
        f_.fork(rng_.pick(ids));
      } else if (op < 92) {
        if (rng_.chance(0.5)) {
          for (uint32_t id : ids) f_.release(id);
        }
        f_.clear();
      } else {
        refusals(ids);
      }
      probe_match();
    }
  }

 private:
  std::vector<uint32_t> live() const {
    std::vector<uint32_t> ids;
    for (const auto& [id, seq] : f_.reference().sequences()) ids.push_back(id);
    return ids;
  }

  // A prompt sharing a random part of a base prompt, so prefixes recur.
  Tokens prompt() {
    const Tokens& base = rng_.pick(bases_);
    Tokens p(base.begin(), base.begin() + rng_.range(0, static_cast<int>(base.size())));
    const Tokens more = rng_.tokens(rng_.range(0, 2 * setup_.c), setup_.vocab);
    p.insert(p.end(), more.begin(), more.end());
    return p;
  }

  std::string salt() { return rng_.pick(std::vector<std::string>{"", "", "tenant-a", "tenant-b"}); }

  size_t max_match(const Tokens& p) {
    return rng_.chance(0.7) ? p.size() : static_cast<size_t>(rng_.range(0, static_cast<int>(p.size())));
  }

  // The engine's pattern: match, append the rest, commit once written.
  void admit() {
    const Tokens p = prompt();
    const std::string s = salt();
    const uint32_t id = f_.add(s, p, max_match(p));
    if (!rng_.chance(0.8)) return;
    const size_t cached = f_.reference().sequences().at(id).tokens.size();
    if (cached < p.size()) f_.append(id, Tokens(p.begin() + cached, p.end()));
    if (rng_.chance(0.8)) f_.commit(id);
  }

  // Unknown sequences and tokens outside the vocabulary change nothing.
  void refusals(const std::vector<uint32_t>& ids) {
    chunkmesh::PrefixTree& t = f_.tree();
    const Tokens one{1};
    f_.expect_refused(ErrorCode::kUnknownSequence, [&] { t.append(kUnknown, one.data(), 1); });
    f_.expect_refused(ErrorCode::kUnknownSequence, [&] { t.commit(kUnknown); });
    f_.expect_refused(ErrorCode::kUnknownSequence, [&] { t.fork(kUnknown); });
    f_.expect_refused(ErrorCode::kUnknownSequence, [&] { t.release(kUnknown); });
    Tokens bad = prompt();
    bad.push_back(rng_.chance(0.5) ? setup_.vocab : -1);
    f_.expect_refused(ErrorCode::kInvalidArgument, [&] { t.add_sequence(salt(), bad.data(), bad.size(), bad.size()); });
    if (!ids.empty()) {
      f_.expect_refused(ErrorCode::kInvalidArgument, [&] { t.append(rng_.pick(ids), bad.data(), bad.size()); });
    }
  }

  void probe_match() {
    const Tokens p = prompt();
    const std::string s = salt();
    const size_t limit = max_match(p);
    CHECK_EQ(f_.tree().match_length(s, p.data(), p.size(), limit),
             f_.reference().match(s, p, std::min(limit, p.size())));
  }

  TreeSetup setup_;
  TreeFixture f_;
  Rng rng_;
  std::vector<Tokens> bases_;
};

TreeSetup random_setup(Rng& rng, int lower_mode) {
  TreeSetup s;
  s.capacity = static_cast<uint32_t>(rng.range(6, 24));
  s.c = rng.pick(std::vector<int>{1, 2, 3, 4});
  s.lower = lower_mode > 0;
  s.lower_capacity = lower_mode == 1 ? 1000 : static_cast<size_t>(rng.range(1, 4));
  return s;
}

CM_TEST(prefix_tree_random_ops_without_host_tier) {
  for_each_seed(6, [](uint64_t seed) {
    Rng rng(seed);
    RandomOps(random_setup(rng, 0), seed).run(1000 * scale());
  });
}

CM_TEST(prefix_tree_random_ops_with_roomy_host_tier) {
  for_each_seed(6, [](uint64_t seed) {
    Rng rng(seed * 7 + 1);
    RandomOps(random_setup(rng, 1), seed).run(1000 * scale());
  });
}

CM_TEST(prefix_tree_random_ops_with_small_host_tier) {
  for_each_seed(6, [](uint64_t seed) {
    Rng rng(seed * 7 + 2);
    RandomOps(random_setup(rng, 2), seed).run(1000 * scale());
  });
}

}  // namespace
}  // namespace cmtest
