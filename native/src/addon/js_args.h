#pragma once
// Argument readers for the bindings: each checks the JavaScript type and
// throws chunkmesh::Error(kInvalidArgument) naming the argument, so a wrong
// call from JavaScript becomes a typed error, never a crash.
#include <napi.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "device/device_select.h"
#include "kv/kv_shape.h"
#include "plan/decode_plan.h"
#include "runtime/error.h"

namespace chunkmesh::js {

// The largest uint32, as the bound of integer() for ids, counts and positions the core keeps in 32 bits.
inline constexpr int64_t kMaxU32 = 0xffffffffll;

inline int64_t integer(const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  if (!v.IsNumber()) throw_invalid(std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d)) || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    throw_invalid(std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "], got " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

// An integer that may be left out (undefined): then `absent`.
inline int64_t integer_or(const Napi::Value& v, const char* name, int64_t lo, int64_t hi, int64_t absent) {
  return v.IsUndefined() ? absent : integer(v, name, lo, hi);
}

// A bigint that fits in 64 unsigned bits (chunk keys, checksums, hash roots).
inline uint64_t u64(const Napi::Value& v, const char* name) {
  if (!v.IsBigInt()) throw_invalid(std::string(name) + " must be a bigint");
  bool lossless = false;
  const uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw_invalid(std::string(name) + " must fit in 64 bits, unsigned");
  return x;
}

inline double number(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw_invalid(std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline bool boolean(const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) throw_invalid(std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::string string(const Napi::Value& v, const char* name) {
  if (!v.IsString()) throw_invalid(std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline DecodeMode mode_arg(const Napi::Value& v) {
  const std::string m = string(v, "mode");
  if (m == "tpp") return DecodeMode::kTpp;
  if (m == "baseline") return DecodeMode::kBaseline;
  throw_invalid("mode must be 'tpp' or 'baseline', got '" + m + "'");
}

inline DType dtype_arg(const Napi::Value& v) {
  const std::string d = string(v, "dtype");
  if (d == "f32") return DType::kF32;
  if (d == "f16") return DType::kF16;
  if (d == "bf16") return DType::kBF16;
  throw_invalid("dtype must be 'f32', 'f16' or 'bf16', got '" + d + "'");
}

inline DeviceChoice device_arg(const Napi::Value& v) { return parse_device_choice(string(v, "device")); }

template <typename T, napi_typedarray_type Kind>
Napi::TypedArrayOf<T> typed(const Napi::Value& v, const char* name, const char* type_name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Kind) {
    throw_invalid(std::string(name) + " must be a " + type_name);
  }
  return v.As<Napi::TypedArrayOf<T>>();
}

inline Napi::Int32Array int32s(const Napi::Value& v, const char* name) {
  return typed<int32_t, napi_int32_array>(v, name, "Int32Array");
}
// An Int32Array argument copied out, for a job that reads it on the owner thread after the call
// has returned (the JavaScript array may be reused or collected by then).
inline std::shared_ptr<const std::vector<int32_t>> owned_int32s(const Napi::Value& v, const char* name) {
  const Napi::Int32Array a = int32s(v, name);
  return std::make_shared<const std::vector<int32_t>>(a.Data(), a.Data() + a.ElementLength());
}
inline Napi::Uint32Array uint32s(const Napi::Value& v, const char* name) {
  return typed<uint32_t, napi_uint32_array>(v, name, "Uint32Array");
}
inline Napi::BigUint64Array biguint64s(const Napi::Value& v, const char* name) {
  return typed<uint64_t, napi_biguint64_array>(v, name, "BigUint64Array");
}
inline Napi::Float32Array float32s(const Napi::Value& v, const char* name) {
  return typed<float, napi_float32_array>(v, name, "Float32Array");
}

// The JavaScript error for a native exception: chunkmesh::Error keeps its kind
// as `code` (CM_*), running out of host memory reads as capacity exhausted.
// Used wherever a C++ exception crosses into JavaScript, synchronously
// (guarded) or from an async worker.
inline Napi::Error js_error(Napi::Env env, std::exception_ptr error) {
  const auto coded = [&](const char* message, const char* code) {
    Napi::Error err = Napi::Error::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    return err;
  };
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    switch (e.code()) {
      case ErrorCode::kInvalidArgument:
        return coded(e.what(), "CM_INVALID_ARGUMENT");
      case ErrorCode::kUnknownSequence:
        return coded(e.what(), "CM_UNKNOWN_SEQUENCE");
      case ErrorCode::kCapacityExhausted:
        return coded(e.what(), "CM_CAPACITY_EXHAUSTED");
      case ErrorCode::kDeviceUnavailable:
        return coded(e.what(), "CM_DEVICE_UNAVAILABLE");
      case ErrorCode::kChunkMismatch:
        return coded(e.what(), "CM_CHUNK_MISMATCH");
    }
    return Napi::Error::New(env, e.what());
  } catch (const std::bad_alloc&) {
    return coded("out of host memory", "CM_CAPACITY_EXHAUSTED");
  } catch (const std::exception& e) {
    return Napi::Error::New(env, e.what());
  } catch (...) {
    return Napi::Error::New(env, "unknown native error");
  }
}

// Runs fn, turning chunkmesh::Error into a JS Error whose `code` names the kind.
template <typename Fn>
auto guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error&) {
    throw js_error(env, std::current_exception());
  } catch (const std::bad_alloc&) {
    throw js_error(env, std::current_exception());
  }
}

}  // namespace chunkmesh::js
