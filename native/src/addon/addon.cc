// Module entry: the KvCache and Model classes and the free functions of the native surface
// (declared for TypeScript in lib/binding.ts).
#include <napi.h>

#include "addon/js_args.h"
#include "addon/kv_cache_wrap.h"
#include "addon/model_wrap.h"
#include "device/build_info.h"
#include "device/cpu/roofline.h"
#include "device/device_select.h"
#include "kv/chunk_key.h"
#include "runtime/thread_pool.h"

namespace chunkmesh::js {
namespace {

Napi::Value BuildInfoJs(const Napi::CallbackInfo& info) {
  const BuildInfo b = build_info();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("paths", b.cuda_compiled ? "cpu+cuda" : "cpu");
  o.Set("cudaCompiled", b.cuda_compiled);
  o.Set("cudaRuntimeVersion", b.cuda_runtime_version);
  o.Set("cudaDevices", b.cuda_devices);
  o.Set("nativeArch", b.native_arch);
  o.Set("simd", b.simd);
  o.Set("compiler", b.compiler);
  o.Set("defaultThreads", default_thread_count());
  return o;
}

// probeDevice(choice): which device a cache asking for `choice` would get
// here, and why 'auto' fell back to the CPU; the device is made and dropped.
Napi::Value ProbeDevice(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DeviceChoice choice = device_arg(info[0]);
    const DeviceSelection sel = select_device(choice, 1);
    const DeviceInfo d = sel.device->info();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("kind", d.kind == DeviceKind::kCuda ? "cuda" : "cpu");
    o.Set("name", d.name);
    o.Set("detail", d.detail);
    o.Set("fallbackReason", sel.fallback_reason);
    return o;
  });
}

Napi::Value ChunkKeyRoot(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string model = string(info[0], "modelId");
    const int c = static_cast<int>(integer(info[1], "chunkTokens", 1, 4096));
    const std::string salt = string(info[2], "salt");
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(chunk_key_root(model, c, salt)));
  });
}

// chunkKeys(root, tokens, chunkTokens[, into]): keys of every full chunk of
// tokens, in a new BigUint64Array, or written to the start of `into` (a router
// places thousands of prompts a second: a typed array made here per prompt is
// an external buffer for V8's GC to track), returning how many.
Napi::Value ChunkKeys(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    uint64_t h = u64(info[0], "root");
    const Napi::Int32Array tokens = int32s(info[1], "tokens");
    const size_t c = static_cast<size_t>(integer(info[2], "chunkTokens", 1, 4096));
    const size_t n = tokens.ElementLength() / c;
    const bool given = info.Length() > 3 && !info[3].IsUndefined();
    Napi::BigUint64Array keys = given ? biguint64s(info[3], "into") : Napi::BigUint64Array::New(info.Env(), n);
    if (keys.ElementLength() < n) throw_invalid("into must hold a key per full chunk of tokens");
    uint64_t* out = keys.Data();
    for (size_t i = 0; i < n; ++i) {
      h = chunk_key_next(h, tokens.Data() + i * c, c);
      out[i] = h;
    }
    if (given) return Napi::Number::New(info.Env(), static_cast<double>(n));
    return keys;
  });
}

Napi::Value MeasureReadBandwidth(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int threads = static_cast<int>(integer(info[0], "threads", 1, 1024));
    const size_t bytes = static_cast<size_t>(integer(info[1], "bytes", 1 << 20, int64_t{1} << 34));
    ThreadPool pool(threads);
    return Napi::Number::New(info.Env(), measure_read_bandwidth(pool, bytes, 5));
  });
}

Napi::Value MeasureAttendPeak(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int threads = static_cast<int>(integer(info[0], "threads", 1, 1024));
    const int rows = static_cast<int>(integer(info[1], "rows", 1, 4096));
    const int d = static_cast<int>(integer(info[2], "headDim", 1, 1024));
    const int c = static_cast<int>(integer(info[3], "chunkTokens", 1, 4096));
    ThreadPool pool(threads);
    return Napi::Number::New(info.Env(), measure_attend_peak(pool, rows, d, c, 5));
  });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const Napi::Function kv_cache = KvCacheWrap::Define(env);
  exports.Set("KvCache", kv_cache);
  exports.Set("Model", ModelWrap::Define(env, kv_cache));
  exports.Set("buildInfo", Napi::Function::New<BuildInfoJs>(env, "buildInfo"));
  exports.Set("probeDevice", Napi::Function::New<ProbeDevice>(env, "probeDevice"));
  exports.Set("chunkKeyRoot", Napi::Function::New<ChunkKeyRoot>(env, "chunkKeyRoot"));
  exports.Set("chunkKeys", Napi::Function::New<ChunkKeys>(env, "chunkKeys"));
  exports.Set("chunkKeyFormat", Napi::Number::New(env, kChunkKeyFormat));
  exports.Set("measureReadBandwidth", Napi::Function::New<MeasureReadBandwidth>(env, "measureReadBandwidth"));
  exports.Set("measureAttendPeak", Napi::Function::New<MeasureAttendPeak>(env, "measureAttendPeak"));
  return exports;
}

}  // namespace chunkmesh::js

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return chunkmesh::js::Init(env, exports); }

NODE_API_MODULE(chunkmesh_native, InitModule)
