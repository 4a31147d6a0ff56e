#pragma once
#include <napi.h>

#include <memory>

#include "addon/owner_calls.h"
#include "model/model.h"

namespace chunkmesh::js {

// JavaScript face of Model; method names match NativeModel in lib/binding.ts.
// The model lives on its cache's owner thread: it is built, stepped and freed
// there. step() returns at once and settles when the owner thread is done;
// one step at a time per model.
class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  // kv_cache_class: the addon's KvCache constructor, to recognise the cache argument.
  static Napi::Function Define(Napi::Env env, const Napi::Function& kv_cache_class);
  explicit ModelWrap(const Napi::CallbackInfo& info);
  ~ModelWrap() override;

 private:
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value StepSync(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  Model& model() const;
  void free_model();

  std::shared_ptr<KvCache> cache_;  // kept until the model is gone: the model lives on its owner thread
  std::unique_ptr<Model> model_;    // null once disposed
  OwnerCalls calls_;
};

}  // namespace chunkmesh::js
