// KvCache.exportPrefix / importPrefix (kv_transfer.h). An export first holds
// the prefix and fetches it up to the device (disk chunks read back on the IO
// threads, never blocking the owner thread), then reads it out in a job of
// its own and lets the hold go: so it exports the prefix from whatever tier
// it is on, as far as the device has room.
#include <exception>
#include <memory>
#include <vector>

#include "addon/js_args.h"
#include "addon/kv_cache_wrap.h"

namespace chunkmesh::js {
namespace {

// An export's chunks, or why it failed (raised again on the JavaScript thread).
struct Exported {
  std::vector<KvChunkRecord> chunks;
  std::exception_ptr error;
};

std::vector<KvChunkRecord> records(const Napi::Value& v) {
  if (!v.IsArray()) throw_invalid("chunks must be an array");
  const Napi::Array a = v.As<Napi::Array>();
  std::vector<KvChunkRecord> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value e = a.Get(i);
    if (!e.IsObject()) throw_invalid("chunks[" + std::to_string(i) + "] must be an object");
    const Napi::Object o = e.As<Napi::Object>();
    out[i].key = u64(o.Get("key"), "chunk key");
    out[i].checksum = u64(o.Get("checksum"), "chunk checksum");
    const Napi::Value b = o.Get("bytes");
    if (!b.IsTypedArray() || b.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw_invalid("chunks[" + std::to_string(i) + "].bytes must be a Uint8Array");
    }
    const Napi::Uint8Array bytes = b.As<Napi::Uint8Array>();
    out[i].bytes.assign(bytes.Data(), bytes.Data() + bytes.ElementLength());
  }
  return out;
}

}  // namespace

Napi::Value KvCacheWrap::ExportPrefix(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto tokens = owned_int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    const size_t max_chunks = static_cast<size_t>(integer(info[2], "maxChunks", 0, kMaxU32));
    KvCache& c = cache();
    const size_t max_tokens = std::min(tokens->size(), max_chunks * c.shape().chunk_tokens);
    return calls_.call_later<Exported>(
        info.Env(), c, Value(),
        [&c, tokens, salt, max_chunks, max_tokens](std::function<void(Exported)> finish) {
          const auto read_out = [&c, tokens, salt, max_chunks, finish](uint32_t ticket) {
            Exported e;
            try {
              e.chunks = c.export_prefix(salt, *tokens, max_chunks);
            } catch (...) {
              e.error = std::current_exception();
            }
            c.tree().drop_ticket(ticket);
            finish(std::move(e));
          };
          const uint32_t ticket = c.tree().hold(salt, tokens->data(), tokens->size(), max_tokens).ticket;
          if (ticket == 0) return read_out(0);
          // the fetch's completion may come from inside the tree's IO handling: read out in a job of its own
          c.tree().fetch(ticket, max_tokens, true, [&c, ticket, read_out](const FetchResult&) {
            c.post([ticket, read_out] { read_out(ticket); }, [] {});
          });
        },
        [](Napi::Env env, Exported& e) -> Napi::Value {
          if (e.error) std::rethrow_exception(e.error);
          Napi::Array out = Napi::Array::New(env, e.chunks.size());
          for (size_t i = 0; i < e.chunks.size(); ++i) {
            const KvChunkRecord& r = e.chunks[i];
            Napi::Object o = Napi::Object::New(env);
            o.Set("key", Napi::BigInt::New(env, r.key));
            o.Set("checksum", Napi::BigInt::New(env, r.checksum));
            o.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, r.bytes.data(), r.bytes.size()));
            out.Set(static_cast<uint32_t>(i), o);
          }
          return out;
        });
  });
}

Napi::Value KvCacheWrap::ImportPrefix(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto tokens = owned_int32s(info[0], "tokens");
    const std::string salt = string(info[1], "salt");
    auto chunks = std::make_shared<std::vector<KvChunkRecord>>(records(info[2]));
    KvCache& c = cache();
    return calls_.call<size_t>(
        info.Env(), c, Value(), [&c, tokens, salt, chunks] { return c.import_prefix(salt, *tokens, *chunks); },
        [](Napi::Env env, size_t& n) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(n)); });
  });
}

}  // namespace chunkmesh::js
