#include "addon/kv_cache_wrap.h"

#include <limits>
#include <vector>

#include "addon/js_args.h"
#include "runtime/thread_pool.h"

namespace chunkmesh::js {
namespace {

constexpr int64_t kMaxU32 = std::numeric_limits<uint32_t>::max();

Napi::Object option_object(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw_invalid("KvCache options must be an object");
  return info[0].As<Napi::Object>();
}

}  // namespace

Napi::Function KvCacheWrap::Define(Napi::Env env) {
  return DefineClass(env, "KvCache",
                     {
                         InstanceMethod<&KvCacheWrap::AddSequence>("addSequence"),
                         InstanceMethod<&KvCacheWrap::MatchLength>("matchLength"),
                         InstanceMethod<&KvCacheWrap::Append>("append"),
                         InstanceMethod<&KvCacheWrap::Commit>("commit"),
                         InstanceMethod<&KvCacheWrap::Fork>("fork"),
                         InstanceMethod<&KvCacheWrap::Release>("release"),
                         InstanceMethod<&KvCacheWrap::Clear>("clear"),
                         InstanceMethod<&KvCacheWrap::SequenceLength>("sequenceLength"),
                         InstanceMethod<&KvCacheWrap::WriteKv>("writeKV"),
                         InstanceMethod<&KvCacheWrap::ReadKv>("readKV"),
                         InstanceMethod<&KvCacheWrap::Decode>("decode"),
                         InstanceMethod<&KvCacheWrap::Prefill>("prefill"),
                         InstanceMethod<&KvCacheWrap::DecodeCost>("decodeCost"),
                         InstanceMethod<&KvCacheWrap::DrainEvents>("drainEvents"),
                         InstanceMethod<&KvCacheWrap::Stats>("stats"),
                         InstanceMethod<&KvCacheWrap::RootKey>("rootKey"),
                     });
}

KvCacheWrap::KvCacheWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KvCacheWrap>(info) {
  guarded(info.Env(), [&] {
    const Napi::Object o = option_object(info);
    KvCacheOptions opt;
    opt.shape.layers = static_cast<int>(integer(o.Get("layers"), "layers", 1, 4096));
    opt.shape.kv_heads = static_cast<int>(integer(o.Get("kvHeads"), "kvHeads", 1, 4096));
    opt.shape.head_dim = static_cast<int>(integer(o.Get("headDim"), "headDim", 1, 1024));
    opt.shape.chunk_tokens = static_cast<int>(integer(o.Get("chunkTokens"), "chunkTokens", 1, 4096));
    const std::string dtype = string(o.Get("dtype"), "dtype");
    if (dtype == "f32") {
      opt.shape.dtype = DType::kF32;
    } else if (dtype == "f16") {
      opt.shape.dtype = DType::kF16;
    } else {
      throw_invalid("dtype must be 'f32' or 'f16', got '" + dtype + "'");
    }
    opt.capacity_chunks = static_cast<uint32_t>(integer(o.Get("capacityChunks"), "capacityChunks", 1, 1 << 30));
    opt.model_id = string(o.Get("modelId"), "modelId");
    opt.vocab_size = static_cast<int32_t>(integer(o.Get("vocabSize"), "vocabSize", 0, 1 << 30));
    opt.threads = static_cast<int>(integer(o.Get("threads"), "threads", 0, 1024));
    cache_ = std::make_unique<KvCache>(opt);
  });
}

uint32_t KvCacheWrap::seq_arg(const Napi::Value& v) { return static_cast<uint32_t>(integer(v, "seqId", 0, kMaxU32)); }

size_t KvCacheWrap::token_elems() const {
  return static_cast<size_t>(cache_->shape().kv_heads) * cache_->shape().head_dim;
}

Napi::Value KvCacheWrap::AddSequence(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Int32Array tokens = int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    const size_t max_match = static_cast<size_t>(integer(info[2], "maxMatchTokens", 0, kMaxU32));
    const MatchResult r = cache_->tree().add_sequence(salt, tokens.Data(), tokens.ElementLength(), max_match);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("seqId", r.seq_id);
    out.Set("cachedTokens", static_cast<double>(r.cached_tokens));
    return out;
  });
}

Napi::Value KvCacheWrap::MatchLength(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Int32Array tokens = int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    return Napi::Number::New(
        info.Env(), static_cast<double>(cache_->tree().match_length(salt, tokens.Data(), tokens.ElementLength())));
  });
}

Napi::Value KvCacheWrap::Append(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    const Napi::Int32Array tokens = int32s(info[1], "tokens");
    return Napi::Number::New(info.Env(),
                             static_cast<double>(cache_->tree().append(id, tokens.Data(), tokens.ElementLength())));
  });
}

Napi::Value KvCacheWrap::Commit(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    cache_->tree().commit(seq_arg(info[0]));
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::Fork(const Napi::CallbackInfo& info) {
  return guarded(info.Env(),
                 [&]() -> Napi::Value { return Napi::Number::New(info.Env(), cache_->tree().fork(seq_arg(info[0]))); });
}

Napi::Value KvCacheWrap::Release(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    cache_->tree().release(seq_arg(info[0]));
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::Clear(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    cache_->tree().clear();
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::SequenceLength(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(cache_->tree().sequence(seq_arg(info[0])).length));
  });
}

Napi::Value KvCacheWrap::WriteKv(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    const int layer = static_cast<int>(integer(info[1], "layer", 0, 1 << 20));
    const size_t pos = static_cast<size_t>(integer(info[2], "pos", 0, kMaxU32));
    const Napi::Float32Array k = float32s(info[3], "k");
    const Napi::Float32Array v = float32s(info[4], "v");
    const size_t per = token_elems();
    if (k.ElementLength() != v.ElementLength() || k.ElementLength() % per != 0) {
      throw_invalid("k and v must have the same length, a multiple of kvHeads * headDim (" + std::to_string(per) +
                    "); got " + std::to_string(k.ElementLength()) + " and " + std::to_string(v.ElementLength()));
    }
    cache_->write_kv(id, layer, pos, k.ElementLength() / per, k.Data(), v.Data());
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::ReadKv(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    const int layer = static_cast<int>(integer(info[1], "layer", 0, 1 << 20));
    const size_t pos = static_cast<size_t>(integer(info[2], "pos", 0, kMaxU32));
    const size_t n = static_cast<size_t>(integer(info[3], "count", 0, kMaxU32));
    const size_t per = token_elems();
    Napi::Float32Array k = Napi::Float32Array::New(info.Env(), n * per);
    Napi::Float32Array v = Napi::Float32Array::New(info.Env(), n * per);
    cache_->read_kv(id, layer, pos, n, k.Data(), v.Data());
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("k", k);
    out.Set("v", v);
    return out;
  });
}

Napi::Value KvCacheWrap::Decode(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Uint32Array ids = uint32s(info[0], "seqIds");
    const int layer = static_cast<int>(integer(info[1], "layer", 0, 1 << 20));
    const int n_heads = static_cast<int>(integer(info[2], "nHeads", 1, 1 << 16));
    const Napi::Float32Array q = float32s(info[3], "q");
    const DecodeMode mode = mode_arg(info[4]);
    const size_t want = ids.ElementLength() * n_heads * static_cast<size_t>(cache_->shape().head_dim);
    if (q.ElementLength() != want) {
      throw_invalid("q must hold batch * nHeads * headDim = " + std::to_string(want) + " floats, got " +
                    std::to_string(q.ElementLength()));
    }
    Napi::Float32Array out = info.Length() > 5 && !info[5].IsUndefined() ? float32s(info[5], "out")
                                                                         : Napi::Float32Array::New(info.Env(), want);
    if (out.ElementLength() != want) throw_invalid("out must hold " + std::to_string(want) + " floats");
    cache_->decode(ids.Data(), ids.ElementLength(), layer, n_heads, q.Data(), out.Data(), mode);
    return out;
  });
}

Napi::Value KvCacheWrap::Prefill(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    const int layer = static_cast<int>(integer(info[1], "layer", 0, 1 << 20));
    const int n_heads = static_cast<int>(integer(info[2], "nHeads", 1, 1 << 16));
    const Napi::Float32Array q = float32s(info[3], "q");
    const size_t per = static_cast<size_t>(n_heads) * cache_->shape().head_dim;
    if (q.ElementLength() == 0 || q.ElementLength() % per != 0) {
      throw_invalid("q must hold a positive multiple of nHeads * headDim = " + std::to_string(per) + " floats, got " +
                    std::to_string(q.ElementLength()));
    }
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), q.ElementLength());
    cache_->prefill(id, layer, n_heads, q.ElementLength() / per, q.Data(), out.Data());
    return out;
  });
}

Napi::Value KvCacheWrap::DecodeCost(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Uint32Array ids = uint32s(info[0], "seqIds");
    const int n_heads = static_cast<int>(integer(info[1], "nHeads", 1, 1 << 16));
    const DecodeMode mode = mode_arg(info[2]);
    cache_->check_heads(n_heads);
    const DecodePlan plan = plan_decode(cache_->tree(), ids.Data(), ids.ElementLength());
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("flops", decode_flops(plan, n_heads, cache_->shape().head_dim));
    out.Set("kvBytes", decode_kv_bytes(plan, cache_->shape(), mode));
    out.Set("sharedRuns", static_cast<double>(plan.runs.size()));
    return out;
  });
}

Napi::Value KvCacheWrap::DrainEvents(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    static const char* kOps[] = {"stored", "removed", "cleared"};
    static const char* kTiers[] = {"device", "host", "disk"};
    const std::vector<KvEvent> events = cache_->tree().drain_events();
    Napi::Array arr = Napi::Array::New(info.Env(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      Napi::Object e = Napi::Object::New(info.Env());
      e.Set("op", kOps[static_cast<int>(events[i].op)]);
      e.Set("tier", kTiers[static_cast<int>(events[i].tier)]);
      Napi::BigUint64Array keys = Napi::BigUint64Array::New(info.Env(), events[i].keys.size());
      std::copy(events[i].keys.begin(), events[i].keys.end(), keys.Data());
      e.Set("keys", keys);
      arr.Set(i, e);
    }
    return arr;
  });
}

Napi::Value KvCacheWrap::Stats(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const TreeStats s = cache_->tree().stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("logicalBytes", static_cast<double>(s.logical_bytes));
    o.Set("physicalBytes", static_cast<double>(s.physical_bytes));
    o.Set("pinnedNodes", s.pinned_nodes);
    o.Set("cachedNodes", s.cached_nodes);
    o.Set("tailChunks", s.tail_chunks);
    o.Set("freeChunks", s.free_chunks);
    o.Set("capacityChunks", s.capacity_chunks);
    o.Set("chunkBytes", static_cast<double>(cache_->shape().chunk_bytes()));
    o.Set("sequences", s.sequences);
    o.Set("evictions", static_cast<double>(s.evictions));
    return o;
  });
}

Napi::Value KvCacheWrap::RootKey(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(cache_->tree().root_key(string(info[0], "salt"))));
  });
}

}  // namespace chunkmesh::js
