#pragma once
// One thread that owns a piece of state (the KV cache: tree, chunk store and
// device) and runs every job that touches it, in submission order. Other
// threads never touch that state: they post jobs, or run one and wait for it.
// This is how "one thread mutates the tree" is enforced rather than hoped for.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

namespace chunkmesh {

class OwnerThread {
 public:
  OwnerThread();
  // Runs the jobs already queued, then stops and joins the thread.
  ~OwnerThread();
  OwnerThread(const OwnerThread&) = delete;
  OwnerThread& operator=(const OwnerThread&) = delete;

  // Queues a job; it must not throw (catch inside and report through the job's own channel).
  void post(std::function<void()> job);

  // Runs fn on the owner thread and waits for its result, rethrowing what it
  // throws. Called on the owner thread itself, it runs fn inline.
  template <typename Fn>
  auto run(Fn&& fn) -> std::invoke_result_t<Fn&> {
    using R = std::invoke_result_t<Fn&>;
    if (on_owner()) return fn();
    std::packaged_task<R()> task(std::forward<Fn>(fn));
    std::future<R> done = task.get_future();
    post([&task] { task(); });
    return done.get();
  }

  // Runs every job queued, and every job those jobs queue, until none is left; from another thread.
  void drain();

  bool on_owner() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void main();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the queue exists
};

}  // namespace chunkmesh
