// The KvCache's owner thread from birth to death: a constructor that fails
// part way leaves nothing behind, an error thrown by a job reaches the caller
// of run() after the job's state is published, and destroying the cache runs
// the jobs still queued before the tree, store and device go.
#include <atomic>
#include <memory>
#include <vector>

#include "harness.h"
#include "kv/kv_cache.h"

namespace cmtest {
namespace {

using chunkmesh::ErrorCode;
using chunkmesh::KvCache;

chunkmesh::KvCacheOptions options(uint32_t capacity) {
  chunkmesh::KvCacheOptions o;
  o.shape = chunkmesh::KvShape{1, 1, 8, 4, chunkmesh::DType::kF32};
  o.capacity_chunks = capacity;
  o.model_id = "lifecycle-test";
  o.threads = 2;
  return o;
}

CM_TEST(lifecycle_constructor_failure_is_a_typed_error) {
  CHECK_THROWS(KvCache{options(0)}, ErrorCode::kInvalidArgument);  // no chunk: the store refuses
  chunkmesh::KvCacheOptions bad = options(4);
  bad.shape.head_dim = 0;
  CHECK_THROWS(KvCache{bad}, ErrorCode::kInvalidArgument);
}

CM_TEST(lifecycle_run_rethrows_after_publishing) {
  KvCache cache(options(2));
  const uint64_t jobs = cache.stats().jobs;
  const std::vector<int32_t> tokens(12, 1);
  const uint32_t seq = cache.run([&] { return cache.tree().add_sequence("", tokens.data(), 0, 0).seq_id; });
  CHECK_THROWS(cache.run([&] { cache.tree().append(seq, tokens.data(), tokens.size()); }),
               ErrorCode::kCapacityExhausted);
  CHECK_EQ(cache.stats().jobs, jobs + 2);
  CHECK_EQ(cache.stats().tree.free_chunks, 2u);
}

CM_TEST(lifecycle_destruction_runs_the_queued_jobs_first) {
  constexpr int kJobs = 200;
  std::atomic<int> ran{0}, done{0};
  {
    KvCache cache(options(8));
    for (int i = 0; i < kJobs; ++i) {
      cache.post(
          [&cache, &ran, i] {
            const std::vector<int32_t> tokens{i % 5, 1, 2, 3, 4, i % 3};
            chunkmesh::PrefixTree& t = cache.tree();
            const chunkmesh::MatchResult m = t.add_sequence("", tokens.data(), tokens.size(), tokens.size());
            t.append(m.seq_id, tokens.data() + m.cached_tokens, tokens.size() - m.cached_tokens);
            t.commit(m.seq_id);
            t.release(m.seq_id);
            ++ran;
          },
          [&done] { ++done; });
    }
  }  // the destructor returns once every queued job has run and the state is gone
  CHECK_EQ(ran.load(), kJobs);
  CHECK_EQ(done.load(), kJobs);
}

}  // namespace
}  // namespace cmtest
