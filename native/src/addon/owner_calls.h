#pragma once
// Settles JavaScript promises with the results of jobs run on a KvCache's
// owner thread. A job runs there, the cache publishes what it changed, and
// the result crosses back to the JavaScript thread through one thread-safe
// function, where the promise is resolved (or rejected with the typed error).
// While any job is pending the function holds the event loop open, so a step
// in flight is never abandoned by a process that thinks it has nothing to do.
#include <napi.h>

#include <exception>
#include <functional>
#include <optional>
#include <utility>

#include "addon/js_args.h"
#include "kv/kv_cache.h"

namespace chunkmesh::js {

class OwnerCalls {
 public:
  explicit OwnerCalls(Napi::Env env)
      : life_(new Life), tsfn_(Tsfn::New(env, "chunkmesh.owner", 0, 1, this, &OwnerCalls::closed, life_)) {
    tsfn_.Unref(env);
  }
  // At environment teardown Node may close the function before the wrapper
  // holding this object is finalized; releasing it then would abort.
  ~OwnerCalls() {
    life_->owner_alive = false;
    if (life_->closed) {
      delete life_;
    } else {
      tsfn_.Release();  // closed() frees life_ later
    }
  }
  OwnerCalls(const OwnerCalls&) = delete;
  OwnerCalls& operator=(const OwnerCalls&) = delete;

  // Jobs issued and not yet settled (JavaScript thread).
  size_t pending() const { return pending_; }

  // Runs work() on the cache's owner thread; the promise resolves with
  // to_js(env, result) on the JavaScript thread. keep_alive (the calling
  // wrapper object) is held until then, so whatever work() uses outlives it.
  template <typename R>
  Napi::Promise call(Napi::Env env, KvCache& cache, const Napi::Object& keep_alive, std::function<R()> work,
                     std::function<Napi::Value(Napi::Env, R&)> to_js) {
    auto* c = new Job<R>(env, keep_alive, std::move(to_js));
    Napi::Promise promise = c->deferred.Promise();
    if (pending_++ == 0) tsfn_.Ref(env);
    cache.post(
        [c, work = std::move(work)] {
          try {
            c->result = work();
          } catch (...) {
            c->error = std::current_exception();
          }
        },
        [this, c] {
          // Fails only when the environment is going away; the job is then
          // left behind on purpose: its references may only die on a live JS thread.
          tsfn_.BlockingCall(c);
        });
    return promise;
  }

  // As call, for work that finishes later: start(finish) runs on the owner
  // thread and calls finish(result) there, then or from a later owner-thread
  // job (an IO completion). The promise settles after what that job changed
  // is published.
  template <typename R>
  Napi::Promise call_later(Napi::Env env, KvCache& cache, const Napi::Object& keep_alive,
                           std::function<void(std::function<void(R)>)> start,
                           std::function<Napi::Value(Napi::Env, R&)> to_js) {
    auto* c = new Job<R>(env, keep_alive, std::move(to_js));
    Napi::Promise promise = c->deferred.Promise();
    if (pending_++ == 0) tsfn_.Ref(env);
    KvCache* k = &cache;
    cache.post(
        [this, c, k, start = std::move(start)] {
          const auto settle_after_publish = [this, c, k] { k->post([] {}, [this, c] { tsfn_.BlockingCall(c); }); };
          try {
            start([c, settle_after_publish](R r) {
              c->result = std::move(r);
              settle_after_publish();
            });
          } catch (...) {
            c->error = std::current_exception();
            settle_after_publish();
          }
        },
        [] {});
    return promise;
  }

 private:
  struct Completion {
    virtual ~Completion() = default;
    virtual void settle(Napi::Env env) = 0;
  };

  template <typename R>
  struct Job final : Completion {
    Job(Napi::Env env, const Napi::Object& keep, std::function<Napi::Value(Napi::Env, R&)> convert)
        : deferred(Napi::Promise::Deferred::New(env)), keep_alive(Napi::Persistent(keep)), to_js(std::move(convert)) {}
    void settle(Napi::Env env) override {
      if (error) {
        deferred.Reject(js_error(env, error).Value());
        return;
      }
      try {
        deferred.Resolve(to_js(env, *result));
      } catch (...) {
        deferred.Reject(js_error(env, std::current_exception()).Value());
      }
    }
    Napi::Promise::Deferred deferred;
    Napi::ObjectReference keep_alive;
    std::function<Napi::Value(Napi::Env, R&)> to_js;
    std::optional<R> result;
    std::exception_ptr error;
  };

  static void settle(Napi::Env env, Napi::Function, OwnerCalls* self, Completion* c) {
    if (env == nullptr) return;  // teardown: see call()
    c->settle(env);
    delete c;
    if (--self->pending_ == 0) self->tsfn_.Unref(env);
  }

  // Whether the thread-safe function and its owner still exist; both ends run on the JavaScript thread.
  struct Life {
    bool owner_alive = true;
    bool closed = false;
  };
  static void closed(Napi::Env, Life* life, OwnerCalls*) {
    life->closed = true;
    if (!life->owner_alive) delete life;
  }

  using Tsfn = Napi::TypedThreadSafeFunction<OwnerCalls, Completion, &OwnerCalls::settle>;
  Life* life_;
  Tsfn tsfn_;
  size_t pending_ = 0;
};

}  // namespace chunkmesh::js
