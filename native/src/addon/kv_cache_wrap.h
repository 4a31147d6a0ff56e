#pragma once
#include <napi.h>

#include <memory>

#include "addon/owner_calls.h"
#include "kv/kv_cache.h"

namespace chunkmesh::js {

// JavaScript face of KvCache; method names match NativeKvCache in lib/binding.ts.
// Every method runs its work on the cache's owner thread and waits for it,
// except stats() and drainEvents(), which read what the owner thread
// published last and never wait, and hold() and fetch(), which return
// promises (they wait for the owner thread, and fetch for disk reads).
class KvCacheWrap : public Napi::ObjectWrap<KvCacheWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit KvCacheWrap(const Napi::CallbackInfo& info);

  // For Model: the cache, shared so that it outlives every model bound to it.
  std::shared_ptr<KvCache> shared() const;

 private:
  Napi::Value AddSequence(const Napi::CallbackInfo& info);
  Napi::Value MatchLength(const Napi::CallbackInfo& info);
  Napi::Value Append(const Napi::CallbackInfo& info);
  Napi::Value Commit(const Napi::CallbackInfo& info);
  Napi::Value Fork(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value Clear(const Napi::CallbackInfo& info);
  Napi::Value SequenceLength(const Napi::CallbackInfo& info);
  Napi::Value WriteKv(const Napi::CallbackInfo& info);
  Napi::Value ReadKv(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value Prefill(const Napi::CallbackInfo& info);
  Napi::Value TimeDecode(const Napi::CallbackInfo& info);
  Napi::Value CopyBandwidth(const Napi::CallbackInfo& info);
  Napi::Value DecodeCost(const Napi::CallbackInfo& info);
  Napi::Value DrainEvents(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value RootKey(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Hold(const Napi::CallbackInfo& info);
  Napi::Value Fetch(const Napi::CallbackInfo& info);
  // kv_transfer_wrap.cc
  Napi::Value ExportPrefix(const Napi::CallbackInfo& info);
  Napi::Value ImportPrefix(const Napi::CallbackInfo& info);
  // kv_cache_wrap.cc
  Napi::Value ResidentKeys(const Napi::CallbackInfo& info);
  Napi::Value PathTiers(const Napi::CallbackInfo& info);
  Napi::Value TransferChunkBytes(const Napi::CallbackInfo& info);
  Napi::Value Spill(const Napi::CallbackInfo& info);
  Napi::Value DropTicket(const Napi::CallbackInfo& info);

  KvCache& cache() const;
  size_t token_elems() const;  // floats per token of one layer's K (or V)

  std::shared_ptr<KvCache> cache_;  // null once disposed
  OwnerCalls calls_;
};

}  // namespace chunkmesh::js
