#include "runtime/owner_thread.h"

namespace chunkmesh {

OwnerThread::OwnerThread() : thread_([this] { main(); }) {}

OwnerThread::~OwnerThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void OwnerThread::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void OwnerThread::drain() {
  // Each check runs after everything queued before it; what ran meanwhile may have queued more.
  while (!run([this] {
    std::lock_guard<std::mutex> lock(mutex_);
    return jobs_.empty();
  })) {
  }
}

void OwnerThread::main() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace chunkmesh
