#include "kv/kv_cache.h"

#include <cmath>
#include <string>

#include "runtime/error.h"
#include "runtime/thread_pool.h"

namespace chunkmesh {

KvCache::KvCache(const KvCacheOptions& o) : shape_(validate_shape(o.shape)), model_id_(o.model_id) {
  // The device is made on the owner thread: a GPU binds its context to the
  // thread that selects it, and every later device call comes from there.
  owner_.run([&] {
    try {
      DeviceSelection sel = o.make_device ? DeviceSelection{o.make_device(), ""}
                                          : select_device(o.device, o.threads > 0 ? o.threads : default_thread_count());
      device_ = std::move(sel.device);
      device_note_ = std::move(sel.fallback_reason);
      device_info_ = device_->info();
      if (!device_->supports_kv(shape_.dtype)) {
        throw_invalid(std::string("the ") + device_info_.name + " device cannot keep KV as " +
                      dtype_name(shape_.dtype));
      }
      // IO results come back as owner-thread jobs; the store outlives them (see ~KvCache).
      store_ = std::make_unique<ChunkStore>(*device_, shape_, o.capacity_chunks, o.tiers,
                                            [this](std::function<void()> job) { post(std::move(job), [] {}); });
      tree_ = std::make_unique<PrefixTree>(*store_, o.model_id, o.vocab_size);
      publish();
    } catch (...) {
      // A constructor that throws runs no destructor: free what was made here, on this thread.
      tree_.reset();
      store_.reset();
      device_.reset();
      throw;
    }
  });
}

KvCache::~KvCache() {
  // No IO result arrives after this; those already queued run before the teardown below.
  if (store_) store_->stop_io();
  // Pending fetches complete (as cancelled) through jobs queued behind this one, while everything still exists.
  owner_.run([&] {
    if (tree_) tree_->cancel_tickets();
  });
  owner_.run([&] {
    tree_.reset();
    store_.reset();
    device_.reset();
  });
  // Jobs queued by the jobs above (a settled call posts one more to publish first) run now, while
  // this object still exists: run by ~OwnerThread they would find its members gone.
  owner_.drain();
}

void KvCache::post(std::function<void()> work, std::function<void()> done) {
  owner_.post([this, work = std::move(work), done = std::move(done)] {
    {
      Publisher p(*this);
      work();
    }
    done();
  });
}

void KvCache::publish() {
  if (!tree_) return;  // torn down (~KvCache): nothing left to publish
  KvStats s;
  s.tree = tree_->stats();
  s.tiers = store_->counters();
  s.disk_rates = store_->disk_rates();
  s.host_capacity = store_->host_capacity();
  s.disk_capacity = store_->disk_capacity();
  s.chunk_bytes = shape_.chunk_bytes();
  std::vector<KvEvent> fresh = tree_->drain_events();
  std::lock_guard<std::mutex> lock(published_);
  s.jobs = stats_.jobs + 1;
  stats_ = s;
  for (KvEvent& e : fresh) events_.push_back(std::move(e));
}

KvStats KvCache::stats() const {
  std::lock_guard<std::mutex> lock(published_);
  return stats_;
}

std::vector<KvEvent> KvCache::drain_events() {
  std::vector<KvEvent> out;
  std::lock_guard<std::mutex> lock(published_);
  out.swap(events_);
  return out;
}

float KvCache::attention_scale() const { return 1.f / std::sqrt(static_cast<float>(shape_.head_dim)); }

void KvCache::check_layer(int layer) const {
  if (layer < 0 || layer >= shape_.layers) {
    throw_invalid("layer " + std::to_string(layer) + " is outside [0, " + std::to_string(shape_.layers) + ")");
  }
}

void KvCache::check_heads(int n_heads) const {
  if (n_heads < 1 || n_heads % shape_.kv_heads != 0) {
    throw_invalid("query heads (" + std::to_string(n_heads) + ") must be a positive multiple of kvHeads (" +
                  std::to_string(shape_.kv_heads) + ")");
  }
}

}  // namespace chunkmesh
