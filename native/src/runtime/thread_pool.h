#pragma once
// A small fixed pool for data-parallel loops. The calling thread takes part,
// so a pool of n threads runs n - 1 helpers. Work is handed out one index at a
// time from an atomic counter: items are coarse (a head of a chunk run), so
// dynamic scheduling costs nothing and balances uneven runs.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chunkmesh {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(helpers_.size()) + 1; }

  // Runs fn(i, thread) for i in [0, n); thread is in [0, size()). Blocks until
  // all are done. Not re-entrant: one loop at a time per pool.
  void parallel_for(size_t n, const std::function<void(size_t, int)>& fn);

 private:
  void helper_main(int thread);
  void drain(int thread);

  std::vector<std::thread> helpers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, int)>* job_ = nullptr;
  size_t job_size_ = 0;
  std::atomic<size_t> next_{0};
  int active_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

int default_thread_count();

}  // namespace chunkmesh
