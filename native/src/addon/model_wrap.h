#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"

namespace chunkmesh::js {

// JavaScript face of Model; method names match NativeModel in lib/binding.ts.
// The async step runs on a libuv thread and touches the KvCache there, so
// while a step is in flight the cache must not be used from JavaScript; a
// second step while one is in flight is rejected.
class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  // kv_cache_class: the addon's KvCache constructor, to recognise the cache argument.
  static Napi::Function Define(Napi::Env env, const Napi::Function& kv_cache_class);
  explicit ModelWrap(const Napi::CallbackInfo& info);

 private:
  class StepWorker;
  struct StepArgs {
    std::vector<uint32_t> seq_ids;
    std::vector<int32_t> tokens;
    std::vector<uint32_t> counts;
    DecodeMode mode;
  };

  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value StepSync(const Napi::CallbackInfo& info);

  StepArgs step_args(const Napi::CallbackInfo& info) const;
  std::vector<float> run(const StepArgs& args);

  Napi::ObjectReference cache_ref_;  // keeps the JavaScript KvCache, and so the C++ one, alive
  std::unique_ptr<Model> model_;
  bool in_flight_ = false;
};

}  // namespace chunkmesh::js
