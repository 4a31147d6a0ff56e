#pragma once
// Threads that run the tiers' blocking IO (disk reads and writes), so the
// owner thread, and with it the engine's step loop, never waits on a disk.
// A job does its IO and then hands its result back to the owner thread (the
// chunk store posts it there); it touches no tree or store state itself.
//
// Jobs are bounded by what they carry: each holds a host slot and a disk
// record the store lent it, so at most host-capacity jobs exist at once.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chunkmesh {

class IoWorker {
 public:
  explicit IoWorker(int threads);
  // Same as stop().
  ~IoWorker();
  IoWorker(const IoWorker&) = delete;
  IoWorker& operator=(const IoWorker&) = delete;

  void submit(std::function<void()> job);
  // Drops the jobs not started, waits for the running ones, joins. Idempotent.
  void stop();

 private:
  void main();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the queue exists
};

}  // namespace chunkmesh
