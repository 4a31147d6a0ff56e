// The owner-thread design under load: model steps posted to the owner thread
// (post) and run from several threads at once (run), while other threads read
// the published statistics and drain the published events without pause.
// Every snapshot must be consistent (capacity = free + pinned + cached +
// tails), the job count must never go backwards for a reader, posted jobs must
// run in order, and all events drained by anyone must add up to exactly the
// keys resident at the end. Under ThreadSanitizer this is also the race test.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "harness.h"
#include "model_rig.h"
#include "tree_inspector.h"

namespace cmtest {
namespace {

using chunkmesh::KvEvent;
using chunkmesh::KvOp;
using Tokens = std::vector<int32_t>;

// A small engine whose state only owner-thread jobs touch.
class Engine {
 public:
  Engine(ModelRig& rig, uint64_t seed) : rig_(rig), rng_(seed) {
    for (int i = 0; i < 3; ++i) bases_.push_back(rng_.tokens(12, rig.weights.config.vocab_size));
  }

  void step() {
    chunkmesh::StepRequest r;
    r.token_budget = 24;
    for (uint32_t id : running_) {
      if (rng_.chance(0.15) || lengths_[id] > 40) r.release.push_back(id);
    }
    for (uint32_t id : r.release) forget(id);
    for (uint32_t id : running_) r.entries.push_back(decode(id, rng_.range(0, 9)));
    Tokens p = rng_.pick(bases_);
    p.resize(rng_.range(4, 12));
    for (int32_t t : rng_.tokens(rng_.range(1, 8), 10)) p.push_back(t);
    r.entries.push_back(admit(p));
    const chunkmesh::StepResult result = rig_.model->step(r);
    for (size_t i = 0; i < r.entries.size(); ++i) {
      const chunkmesh::EntryOutcome& o = result.entries[i];
      if (o.no_room) {
        rig_.cache->tree().release(o.seq_id);  // preempted
        forget(o.seq_id);
      } else if (o.admitted) {
        running_.push_back(o.seq_id);
        lengths_[o.seq_id] = o.cached_tokens + o.computed;
      } else if (o.computed > 0) {
        lengths_[o.seq_id] += o.computed;
      }
    }
    for (float x : result.logits) CHECK(std::isfinite(x));
  }

 private:
  void forget(uint32_t id) {
    running_.erase(std::find(running_.begin(), running_.end(), id));
    lengths_.erase(id);
  }

  ModelRig& rig_;
  Rng rng_;
  std::vector<Tokens> bases_;
  std::vector<uint32_t> running_;
  std::map<uint32_t, size_t> lengths_;
};

// Net count per (tier, key) of the drained events: stored - removed.
using NetKeys = std::map<std::pair<int, uint64_t>, long>;

void add_events(NetKeys& net, const std::vector<KvEvent>& events) {
  for (const KvEvent& e : events) {
    CHECK_MSG(e.op != KvOp::kCleared, "no clear was asked for");
    for (uint64_t k : e.keys) net[{static_cast<int>(e.tier), k}] += e.op == KvOp::kStored ? 1 : -1;
  }
}

// Runs fn on a thread, keeping the first failure for the test thread to rethrow.
class Threads {
 public:
  template <typename Fn>
  void start(Fn fn) {
    threads_.emplace_back([this, fn] {
      try {
        fn();
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    });
  }
  void join() {
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::exception_ptr error_;
};

CM_TEST(concurrency_posted_and_run_steps_with_readers) {
  const chunkmesh::ModelConfig cfg = model_config(32, 32, 2, 4, 2, 8, 10, 256);
  ModelRig rig(cfg, 20, 3);
  chunkmesh::KvCache& cache = *rig.cache;
  Engine engine(rig, 4);
  const int posted = 120 * scale(), runs_per_thread = 25 * scale();

  std::atomic<bool> stop{false};
  std::mutex net_mutex;
  NetKeys net;
  Threads readers;
  for (int r = 0; r < 2; ++r) {
    readers.start([&] {
      NetKeys mine;
      uint64_t jobs = 0;
      for (int i = 0; !stop.load(); ++i) {
        const chunkmesh::KvStats s = cache.stats();
        const chunkmesh::TreeStats& t = s.tree;
        CHECK_MSG(t.capacity_chunks == t.free_chunks + t.pinned_nodes + t.cached_nodes + t.tail_chunks,
                  "inconsistent snapshot: " << t.capacity_chunks << " != " << t.free_chunks << " + " << t.pinned_nodes
                                            << " + " << t.cached_nodes << " + " << t.tail_chunks);
        CHECK_MSG(s.jobs >= jobs, "jobs went back from " << jobs << " to " << s.jobs);
        jobs = s.jobs;
        // Drained now and then, so events of several jobs pile up in between.
        if (i % 8 == 0) add_events(mine, cache.drain_events());
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
      std::lock_guard<std::mutex> lock(net_mutex);
      for (const auto& [k, n] : mine) net[k] += n;
    });
  }

  // Posted steps run in the order posted; `done` runs after each is published.
  std::mutex done_mutex;
  std::condition_variable all_done;
  int done = 0, executed = 0;
  std::exception_ptr posted_error;  // posted work must not throw: its failure is kept for this thread
  for (int i = 0; i < posted; ++i) {
    cache.post(
        [&, i] {
          try {
            CHECK_EQ(executed, i);
            ++executed;
            engine.step();
          } catch (...) {
            if (!posted_error) posted_error = std::current_exception();
          }
        },
        [&] {
          std::lock_guard<std::mutex> lock(done_mutex);
          if (++done == posted) all_done.notify_one();
        });
  }
  Threads runners;
  for (int r = 0; r < 3; ++r) {
    runners.start([&, r] {
      for (int i = 0; i < runs_per_thread; ++i) {
        if ((i + r) % 2 == 0) {
          cache.run([&] { engine.step(); });
        } else {
          cache.run([&] { chunkmesh::PrefixTreeInspector::check(cache.tree()); });
        }
      }
    });
  }
  runners.join();
  {
    std::unique_lock<std::mutex> lock(done_mutex);
    all_done.wait(lock, [&] { return done == posted; });
  }
  stop = true;
  readers.join();
  if (posted_error) std::rethrow_exception(posted_error);

  add_events(net, cache.drain_events());
  const auto resident = cache.run([&] { return chunkmesh::PrefixTreeInspector::resident_keys(cache.tree()); });
  for (const auto& [k, n] : net) {
    const long expected = static_cast<long>(resident[k.first].count(k.second));
    CHECK_MSG(n == expected,
              "key " << k.second << " in tier " << k.first << ": events net " << n << ", resident " << expected);
  }
  for (int tier = 0; tier < chunkmesh::kTierCount; ++tier) {
    for (uint64_t k : resident[tier]) CHECK_MSG(net.count({tier, k}) == 1, "resident key " << k << " never stored");
  }
  CHECK_EQ(executed, posted);
  CHECK(cache.stats().jobs >= static_cast<uint64_t>(posted + 3 * runs_per_thread));
}

}  // namespace
}  // namespace cmtest
