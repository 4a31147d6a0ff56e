#pragma once
#include <napi.h>

#include <memory>

#include "kv/kv_cache.h"

namespace chunkmesh::js {

// JavaScript face of KvCache; method names match NativeKvCache in lib/binding.ts.
class KvCacheWrap : public Napi::ObjectWrap<KvCacheWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit KvCacheWrap(const Napi::CallbackInfo& info);

  // For bindings that run work on this cache (Model): unwrap a value known to be a KvCache.
  KvCache& cache() { return *cache_; }

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
  Napi::Value DecodeCost(const Napi::CallbackInfo& info);
  Napi::Value DrainEvents(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value RootKey(const Napi::CallbackInfo& info);

  uint32_t seq_arg(const Napi::Value& v);
  size_t token_elems() const;  // floats per token of one layer's K (or V)

  std::unique_ptr<KvCache> cache_;
};

}  // namespace chunkmesh::js
