#include "addon/kv_cache_wrap.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <memory>
#include <vector>

#include "addon/js_args.h"
#include "kv/chunk_key.h"

namespace chunkmesh::js {
namespace {

Napi::Object option_object(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw_invalid("KvCache options must be an object");
  return info[0].As<Napi::Object>();
}

uint32_t seq_arg(const Napi::Value& v) { return static_cast<uint32_t>(integer(v, "seqId", 0, kMaxU32)); }

const char* kind_name(DeviceKind k) { return k == DeviceKind::kCuda ? "cuda" : "cpu"; }

// KvTier's names as the TypeScript surface spells them, indexed by the enum's value.
constexpr const char* kTierNames[kTierCount] = {"device", "host", "disk"};
static_assert(static_cast<int>(KvTier::kDevice) == 0 && static_cast<int>(KvTier::kHost) == 1 &&
              static_cast<int>(KvTier::kDisk) == 2);

template <typename T>
Napi::Object tier_counts(Napi::Env env, const T (&by_tier)[kTierCount]) {
  Napi::Object o = Napi::Object::New(env);
  for (int t = 0; t < kTierCount; ++t) o.Set(kTierNames[t], static_cast<double>(by_tier[t]));
  return o;
}

// The arguments decode and timeDecode share: (seqIds, layer, nHeads, q, mode),
// with q checked to hold one query row per sequence.
struct DecodeArgs {
  Napi::Uint32Array ids;
  int layer;
  int n_heads;
  Napi::Float32Array q;
  DecodeMode mode;
  size_t q_elems;
};

DecodeArgs decode_args(const Napi::CallbackInfo& info, const KvShape& shape) {
  DecodeArgs a{uint32s(info[0], "seqIds"),
               static_cast<int>(integer(info[1], "layer", 0, 1 << 20)),
               static_cast<int>(integer(info[2], "nHeads", 1, 1 << 16)),
               float32s(info[3], "q"),
               mode_arg(info[4]),
               0};
  a.q_elems = a.ids.ElementLength() * a.n_heads * static_cast<size_t>(shape.head_dim);
  if (a.q.ElementLength() != a.q_elems) {
    throw_invalid("q must hold batch * nHeads * headDim = " + std::to_string(a.q_elems) + " floats, got " +
                  std::to_string(a.q.ElementLength()));
  }
  return a;
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
                         InstanceMethod<&KvCacheWrap::TimeDecode>("timeDecode"),
                         InstanceMethod<&KvCacheWrap::CopyBandwidth>("copyBandwidth"),
                         InstanceMethod<&KvCacheWrap::DecodeCost>("decodeCost"),
                         InstanceMethod<&KvCacheWrap::DrainEvents>("drainEvents"),
                         InstanceMethod<&KvCacheWrap::Stats>("stats"),
                         InstanceMethod<&KvCacheWrap::RootKey>("rootKey"),
                         InstanceMethod<&KvCacheWrap::Device>("device"),
                         InstanceMethod<&KvCacheWrap::TransferChunkBytes>("transferChunkBytes"),
                         InstanceMethod<&KvCacheWrap::Dispose>("dispose"),
                         InstanceMethod<&KvCacheWrap::Hold>("hold"),
                         InstanceMethod<&KvCacheWrap::Fetch>("fetch"),
                         InstanceMethod<&KvCacheWrap::ExportPrefix>("exportPrefix"),
                         InstanceMethod<&KvCacheWrap::ImportPrefix>("importPrefix"),
                         InstanceMethod<&KvCacheWrap::ResidentKeys>("residentKeys"),
                         InstanceMethod<&KvCacheWrap::PathTiers>("pathTiers"),
                         InstanceMethod<&KvCacheWrap::Spill>("spill"),
                         InstanceMethod<&KvCacheWrap::DropTicket>("dropTicket"),
                     });
}

KvCacheWrap::KvCacheWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KvCacheWrap>(info), calls_(info.Env()) {
  guarded(info.Env(), [&] {
    const Napi::Object o = option_object(info);
    KvCacheOptions opt;
    opt.shape.layers = static_cast<int>(integer(o.Get("layers"), "layers", 1, 4096));
    opt.shape.kv_heads = static_cast<int>(integer(o.Get("kvHeads"), "kvHeads", 1, 4096));
    opt.shape.head_dim = static_cast<int>(integer(o.Get("headDim"), "headDim", 1, 1024));
    opt.shape.chunk_tokens = static_cast<int>(integer(o.Get("chunkTokens"), "chunkTokens", 1, 4096));
    opt.shape.dtype = dtype_arg(o.Get("dtype"));
    opt.capacity_chunks = static_cast<uint32_t>(integer(o.Get("capacityChunks"), "capacityChunks", 1, 1 << 30));
    opt.model_id = string(o.Get("modelId"), "modelId");
    opt.vocab_size = static_cast<int32_t>(integer(o.Get("vocabSize"), "vocabSize", 0, 1 << 30));
    opt.threads = static_cast<int>(integer(o.Get("threads"), "threads", 0, 1024));
    opt.device = device_arg(o.Get("device"));
    const int64_t host_bytes = integer_or(o.Get("hostBytes"), "hostBytes", 0, int64_t{1} << 50, 0);
    const uint64_t chunk_bytes = opt.shape.chunk_bytes();
    opt.tiers.host_slots =
        static_cast<uint32_t>(std::min<uint64_t>(static_cast<uint64_t>(host_bytes) / chunk_bytes, kMaxU32));
    if (host_bytes > 0 && opt.tiers.host_slots == 0) {
      throw_invalid("hostBytes (" + std::to_string(host_bytes) + ") is less than one chunk (" +
                    std::to_string(chunk_bytes) + " bytes)");
    }
    if (!o.Get("diskDir").IsUndefined()) opt.tiers.disk_dir = string(o.Get("diskDir"), "diskDir");
    opt.tiers.disk_bytes = static_cast<size_t>(integer_or(o.Get("diskBytes"), "diskBytes", 0, int64_t{1} << 50, 0));
    opt.tiers.io_threads = static_cast<int>(integer_or(o.Get("ioThreads"), "ioThreads", 1, 64, 2));
    if (!opt.tiers.disk_dir.empty()) {
      // A file size limit (ulimit -f) must fail the write, which the disk tier survives, not kill the process.
      std::signal(SIGXFSZ, SIG_IGN);
    }
    cache_ = std::make_shared<KvCache>(opt);
  });
}

KvCache& KvCacheWrap::cache() const {
  if (!cache_) throw_invalid("this KvCache was disposed");
  return *cache_;
}

std::shared_ptr<KvCache> KvCacheWrap::shared() const {
  cache();
  return cache_;
}

size_t KvCacheWrap::token_elems() const {
  return static_cast<size_t>(cache().shape().kv_heads) * cache().shape().head_dim;
}

Napi::Value KvCacheWrap::AddSequence(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Int32Array tokens = int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    const size_t max_match = static_cast<size_t>(integer(info[2], "maxMatchTokens", 0, kMaxU32));
    KvCache& c = cache();
    const MatchResult r =
        c.run([&] { return c.tree().add_sequence(salt, tokens.Data(), tokens.ElementLength(), max_match); });
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
    const size_t n = tokens.ElementLength();
    KvCache& c = cache();
    return Napi::Number::New(
        info.Env(), static_cast<double>(c.run([&] { return c.tree().match_length(salt, tokens.Data(), n, n); })));
  });
}

Napi::Value KvCacheWrap::Append(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    const Napi::Int32Array tokens = int32s(info[1], "tokens");
    KvCache& c = cache();
    return Napi::Number::New(
        info.Env(),
        static_cast<double>(c.run([&] { return c.tree().append(id, tokens.Data(), tokens.ElementLength()); })));
  });
}

Napi::Value KvCacheWrap::Commit(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    KvCache& c = cache();
    c.run([&] { c.tree().commit(id); });
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::Fork(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    KvCache& c = cache();
    return Napi::Number::New(info.Env(), c.run([&] { return c.tree().fork(id); }));
  });
}

Napi::Value KvCacheWrap::Release(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    KvCache& c = cache();
    c.run([&] { c.tree().release(id); });
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::Clear(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    KvCache& c = cache();
    c.run([&] { c.tree().clear(); });
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::SequenceLength(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    KvCache& c = cache();
    return Napi::Number::New(info.Env(), static_cast<double>(c.run([&] { return c.tree().sequence(id).length; })));
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
    cache().write_kv(id, layer, pos, k.ElementLength() / per, k.Data(), v.Data());
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
    cache().read_kv(id, layer, pos, n, k.Data(), v.Data());
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("k", k);
    out.Set("v", v);
    return out;
  });
}

Napi::Value KvCacheWrap::Decode(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DecodeArgs a = decode_args(info, cache().shape());
    Napi::Float32Array out = info.Length() > 5 && !info[5].IsUndefined()
                                 ? float32s(info[5], "out")
                                 : Napi::Float32Array::New(info.Env(), a.q_elems);
    if (out.ElementLength() != a.q_elems) throw_invalid("out must hold " + std::to_string(a.q_elems) + " floats");
    cache().decode(a.ids.Data(), a.ids.ElementLength(), a.layer, a.n_heads, a.q.Data(), out.Data(), a.mode);
    return out;
  });
}

Napi::Value KvCacheWrap::Prefill(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t id = seq_arg(info[0]);
    const int layer = static_cast<int>(integer(info[1], "layer", 0, 1 << 20));
    const int n_heads = static_cast<int>(integer(info[2], "nHeads", 1, 1 << 16));
    const Napi::Float32Array q = float32s(info[3], "q");
    const size_t per = static_cast<size_t>(n_heads) * cache().shape().head_dim;
    if (q.ElementLength() == 0 || q.ElementLength() % per != 0) {
      throw_invalid("q must hold a positive multiple of nHeads * headDim = " + std::to_string(per) + " floats, got " +
                    std::to_string(q.ElementLength()));
    }
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), q.ElementLength());
    cache().prefill(id, layer, n_heads, q.ElementLength() / per, q.Data(), out.Data());
    return out;
  });
}

Napi::Value KvCacheWrap::TimeDecode(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DecodeArgs a = decode_args(info, cache().shape());
    const int repeats = static_cast<int>(integer(info[5], "repeats", 1, 1 << 20));
    return Napi::Number::New(info.Env(), cache().time_decode(a.ids.Data(), a.ids.ElementLength(), a.layer, a.n_heads,
                                                             a.q.Data(), a.mode, repeats));
  });
}

Napi::Value KvCacheWrap::CopyBandwidth(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const size_t bytes = static_cast<size_t>(integer(info[0], "bytes", 1 << 20, int64_t{1} << 36));
    const int repeats = static_cast<int>(integer(info[1], "repeats", 1, 1000));
    return Napi::Number::New(info.Env(), cache().copy_bandwidth(bytes, repeats));
  });
}

Napi::Value KvCacheWrap::DecodeCost(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Uint32Array ids = uint32s(info[0], "seqIds");
    const int n_heads = static_cast<int>(integer(info[1], "nHeads", 1, 1 << 16));
    const DecodeMode mode = mode_arg(info[2]);
    KvCache& c = cache();
    c.check_heads(n_heads);
    const KvShape& s = c.shape();
    const std::vector<uint32_t> rows(ids.ElementLength(), 0);
    const DecodePlan plan = c.run([&] { return plan_decode(c.tree(), ids.Data(), rows.data(), ids.ElementLength()); });
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("flops", decode_flops(plan, n_heads, s.head_dim));
    out.Set("kvBytes", decode_kv_bytes(plan, s.kv_heads, s.head_dim, s.chunk_tokens, dtype_size(s.dtype), mode));
    out.Set("sharedRuns", static_cast<double>(plan.runs.size()));
    return out;
  });
}

Napi::Value KvCacheWrap::DrainEvents(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    static const char* kOps[] = {"stored", "removed", "cleared", "demoted", "promoted"};
    const std::vector<KvEvent> events = cache().drain_events();
    Napi::Array arr = Napi::Array::New(info.Env(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      Napi::Object e = Napi::Object::New(info.Env());
      e.Set("op", kOps[static_cast<int>(events[i].op)]);
      e.Set("tier", kTierNames[static_cast<int>(events[i].tier)]);
      if (events[i].op == KvOp::kDemoted || events[i].op == KvOp::kPromoted) {
        e.Set("from", kTierNames[static_cast<int>(events[i].from)]);
      }
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
    const KvStats k = cache().stats();
    const TreeStats& s = k.tree;
    const double chunk = static_cast<double>(k.chunk_bytes);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("logicalBytes", static_cast<double>(s.logical_bytes));
    o.Set("physicalBytes", static_cast<double>(s.capacity_chunks - s.free_chunks) * chunk);
    o.Set("liveBytes", static_cast<double>(s.pinned_nodes + s.tail_chunks) * chunk);
    o.Set("peakPhysicalBytes", static_cast<double>(s.peak_used_chunks) * chunk);
    o.Set("pinnedNodes", s.pinned_nodes);
    o.Set("cachedNodes", s.cached_nodes);
    o.Set("hostNodes", s.lower_nodes[static_cast<int>(KvTier::kHost)]);
    o.Set("diskNodes", s.lower_nodes[static_cast<int>(KvTier::kDisk)]);
    o.Set("tailChunks", s.tail_chunks);
    o.Set("freeChunks", s.free_chunks);
    o.Set("capacityChunks", s.capacity_chunks);
    o.Set("chunkBytes", chunk);
    o.Set("sequences", s.sequences);
    o.Set("roots", s.roots);
    o.Set("evictions", static_cast<double>(s.evictions));
    o.Set("demotions", static_cast<double>(s.demotions));
    o.Set("promotions", static_cast<double>(s.promotions));
    o.Set("diskDemotions", static_cast<double>(s.disk_demotions));
    o.Set("diskPromotions", static_cast<double>(s.disk_promotions));
    o.Set("hostCapacityChunks", k.host_capacity);
    o.Set("diskCapacityChunks", k.disk_capacity);
    o.Set("heldNodes", s.held_nodes);
    o.Set("tickets", s.tickets);
    o.Set("prefetchedTokens", static_cast<double>(s.prefetched_tokens));
    o.Set("hitTokens", tier_counts(info.Env(), s.hit_tokens));
    const TierCounters& t = k.tiers;
    o.Set("diskWrites", static_cast<double>(t.disk_writes));
    o.Set("diskWriteBytes", static_cast<double>(t.disk_write_bytes));
    o.Set("diskWriteSeconds", t.disk_write_seconds);
    o.Set("diskReads", static_cast<double>(t.disk_reads));
    o.Set("diskReadBytes", static_cast<double>(t.disk_read_bytes));
    o.Set("diskReadSeconds", t.disk_read_seconds);
    o.Set("checksumFailures", static_cast<double>(t.checksum_failures));
    o.Set("ioErrors", static_cast<double>(t.io_errors));
    o.Set("diskFailed", t.disk_failed);
    o.Set("diskError", t.disk_error);
    o.Set("diskReadBytesPerSecond", k.disk_rates.read_bytes_per_second);
    o.Set("diskWriteBytesPerSecond", k.disk_rates.write_bytes_per_second);
    o.Set("jobs", static_cast<double>(k.jobs));
    return o;
  });
}

Napi::Value KvCacheWrap::RootKey(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string salt = string(info[0], "salt");
    const KvCache& c = cache();
    return Napi::BigInt::New(info.Env(), chunk_key_root(c.model_id(), c.shape().chunk_tokens, salt));
  });
}

Napi::Value KvCacheWrap::TransferChunkBytes(const Napi::CallbackInfo& info) {
  return guarded(info.Env(),
                 [&]() -> Napi::Value { return Napi::Number::New(info.Env(), cache().shape().record_bytes()); });
}

Napi::Value KvCacheWrap::Device(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const KvCache& c = cache();
    const DeviceInfo& d = c.device_info();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("kind", kind_name(d.kind));
    o.Set("name", d.name);
    o.Set("detail", d.detail);
    o.Set("threads", d.threads);
    o.Set("memoryBytes", static_cast<double>(d.memory_bytes));
    o.Set("fallbackReason", c.device_note());
    return o;
  });
}

Napi::Value KvCacheWrap::Dispose(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (cache_ && cache_->models() > 0) throw_invalid("dispose the Model bound to this KvCache first");
    cache_.reset();  // the last owner: the pool and the owner thread go now
    return info.Env().Undefined();
  });
}

Napi::Value KvCacheWrap::Hold(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto tokens = owned_int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    const size_t max_match = static_cast<size_t>(integer(info[2], "maxMatchTokens", 0, kMaxU32));
    KvCache& c = cache();
    return calls_.call<HoldResult>(
        info.Env(), c, Value(),
        [&c, tokens, salt, max_match] { return c.tree().hold(salt, tokens->data(), tokens->size(), max_match); },
        [](Napi::Env env, HoldResult& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("ticket", r.ticket);
          o.Set("tokens", tier_counts(env, r.tokens));
          o.Set("usableTokens", static_cast<double>(r.usable_tokens));
          return o;
        });
  });
}

Napi::Value KvCacheWrap::Fetch(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t ticket = static_cast<uint32_t>(integer(info[0], "ticket", 1, kMaxU32));
    const size_t max_tokens = static_cast<size_t>(integer(info[1], "maxTokens", 0, kMaxU32));
    const bool to_device = boolean(info[2], "toDevice");
    KvCache& c = cache();
    return calls_.call_later<FetchResult>(
        info.Env(), c, Value(),
        [&c, ticket, max_tokens, to_device](std::function<void(FetchResult)> finish) {
          c.tree().fetch(ticket, max_tokens, to_device, [finish](const FetchResult& r) { finish(r); });
        },
        [](Napi::Env env, FetchResult& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("restoredTokens", static_cast<double>(r.restored_tokens));
          o.Set("failedTokens", static_cast<double>(r.failed_tokens));
          o.Set("promotedTokens", static_cast<double>(r.promoted_tokens));
          o.Set("bytes", static_cast<double>(r.bytes));
          o.Set("seconds", r.seconds);
          o.Set("cancelled", r.cancelled);
          return o;
        });
  });
}

Napi::Value KvCacheWrap::ResidentKeys(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    KvCache& c = cache();
    using Keys = std::array<std::vector<uint64_t>, kTierCount>;
    return calls_.call<Keys>(
        info.Env(), c, Value(), [&c] { return c.tree().resident_keys(); },
        [](Napi::Env env, Keys& keys) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          for (int t = 0; t < kTierCount; ++t) {
            Napi::BigUint64Array a = Napi::BigUint64Array::New(env, keys[t].size());
            std::copy(keys[t].begin(), keys[t].end(), a.Data());
            o.Set(kTierNames[t], a);
          }
          return o;
        });
  });
}

Napi::Value KvCacheWrap::PathTiers(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto tokens = owned_int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    KvCache& c = cache();
    using Path = std::vector<std::pair<uint64_t, KvTier>>;
    return calls_.call<Path>(
        info.Env(), c, Value(),
        [&c, tokens, salt] { return c.tree().path_tiers(salt, tokens->data(), tokens->size()); },
        [](Napi::Env env, Path& path) -> Napi::Value {
          Napi::BigUint64Array keys = Napi::BigUint64Array::New(env, path.size());
          Napi::Array tiers = Napi::Array::New(env, path.size());
          for (size_t i = 0; i < path.size(); ++i) {
            keys[i] = path[i].first;
            tiers[i] = Napi::String::New(env, kTierNames[static_cast<int>(path[i].second)]);
          }
          Napi::Object o = Napi::Object::New(env);
          o.Set("keys", keys);
          o.Set("tiers", tiers);
          return o;
        });
  });
}

Napi::Value KvCacheWrap::Spill(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto tokens = owned_int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    const bool to_disk = boolean(info[2], "toDisk");
    KvCache& c = cache();
    return calls_.call<SpillResult>(
        info.Env(), c, Value(),
        [&c, tokens, salt, to_disk] { return c.tree().spill(salt, tokens->data(), tokens->size(), to_disk); },
        [](Napi::Env env, SpillResult& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("matchedTokens", static_cast<double>(r.matched_tokens));
          o.Set("movedTokens", static_cast<double>(r.moved_tokens));
          o.Set("stayedTokens", static_cast<double>(r.stayed_tokens));
          return o;
        });
  });
}

Napi::Value KvCacheWrap::DropTicket(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const uint32_t ticket = static_cast<uint32_t>(integer(info[0], "ticket", 1, kMaxU32));
    KvCache& c = cache();
    return calls_.call<bool>(
        info.Env(), c, Value(),
        [&c, ticket] {
          c.tree().drop_ticket(ticket);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

}  // namespace chunkmesh::js
