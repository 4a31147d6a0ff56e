#include "addon/model_wrap.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>

#include "addon/js_args.h"
#include "addon/kv_cache_wrap.h"

namespace chunkmesh::js {
namespace {

constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();

int int_field(const Napi::Object& o, const char* name) {
  return static_cast<int>(integer(o.Get(name), name, 0, kMaxI32));
}

RopeScaling rope_scaling_arg(const Napi::Value& v) {
  RopeScaling s;
  if (v.IsUndefined() || v.IsNull()) return s;
  if (!v.IsObject()) throw_invalid("ropeScaling must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  const std::string type = string(o.Get("type"), "ropeScaling.type");
  if (type == "linear") {
    s.type = RopeScalingType::kLinear;
  } else if (type == "llama3") {
    s.type = RopeScalingType::kLlama3;
  } else {
    throw_invalid("ropeScaling.type must be 'linear' or 'llama3', got '" + type + "'");
  }
  s.factor = number(o.Get("factor"), "ropeScaling.factor");
  // the llama3 fields are optional in the type; validate_config insists on them for llama3
  const auto optional = [&](const char* key, const char* name) {
    const Napi::Value x = o.Get(key);
    return x.IsUndefined() ? 0.0 : number(x, name);
  };
  s.low_freq_factor = optional("lowFreqFactor", "ropeScaling.lowFreqFactor");
  s.high_freq_factor = optional("highFreqFactor", "ropeScaling.highFreqFactor");
  s.original_max_positions = optional("originalMaxPositionEmbeddings", "ropeScaling.originalMaxPositionEmbeddings");
  return s;
}

ModelConfig config_arg(const Napi::Value& v) {
  if (!v.IsObject()) throw_invalid("model config must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  ModelConfig c;
  c.dim = int_field(o, "dim");
  c.hidden_dim = int_field(o, "hiddenDim");
  c.layers = int_field(o, "layers");
  c.heads = int_field(o, "heads");
  c.kv_heads = int_field(o, "kvHeads");
  c.head_dim = int_field(o, "headDim");
  c.vocab_size = int_field(o, "vocabSize");
  c.max_seq_len = static_cast<size_t>(int_field(o, "maxSeqLen"));
  c.norm_eps = static_cast<float>(number(o.Get("normEps"), "normEps"));
  c.rope_theta = number(o.Get("ropeTheta"), "ropeTheta");
  const std::string layout = string(o.Get("ropeLayout"), "ropeLayout");
  if (layout == "halves") {
    c.rope_layout = RopeLayout::kHalves;
  } else if (layout == "pairs") {
    c.rope_layout = RopeLayout::kPairs;
  } else {
    throw_invalid("ropeLayout must be 'halves' or 'pairs', got '" + layout + "'");
  }
  c.rope_scaling = rope_scaling_arg(o.Get("ropeScaling"));
  c.tied_embeddings = boolean(o.Get("tiedEmbeddings"), "tiedEmbeddings");
  c.qkv_bias = boolean(o.Get("qkvBias"), "qkvBias");
  validate_config(c);
  return c;
}

// Rejects names the config does not call for: a stray `output` on a tied
// model or `bq` without qkvBias means the config and the weights disagree.
void check_no_extra_tensors(const Napi::Object& tensors, const std::vector<TensorSpec>& specs) {
  std::unordered_set<std::string> wanted;
  for (const TensorSpec& s : specs) wanted.insert(s.name);
  const Napi::Array names = tensors.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = names.Get(i).ToString().Utf8Value();
    if (wanted.count(name) == 0) throw_invalid("unexpected tensor '" + name + "' for this model config");
  }
}

const float* tensor_arg(const Napi::Object& tensors, const TensorSpec& spec) {
  const Napi::Value v = tensors.Get(spec.name);
  if (v.IsUndefined()) throw_invalid("tensor '" + spec.name + "' is missing");
  const std::string label = "tensor '" + spec.name + "'";
  const Napi::Float32Array a = float32s(v, label.c_str());
  if (a.ElementLength() != spec.elems) {
    throw_invalid(label + " must hold " + std::to_string(spec.elems) + " floats, got " +
                  std::to_string(a.ElementLength()));
  }
  return a.Data();
}

Napi::Float32Array to_js(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

}  // namespace

// Owns the step's inputs (copied, so JavaScript may reuse its arrays) and
// holds the Model object so it cannot be collected mid-step.
class ModelWrap::StepWorker : public Napi::AsyncWorker {
 public:
  StepWorker(Napi::Env env, ModelWrap& owner, StepArgs args)
      : Napi::AsyncWorker(env, "chunkmesh.Model.step"),
        owner_(owner),
        self_(Napi::Persistent(owner.Value())),
        args_(std::move(args)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      logits_ = owner_.run(args_);
    } catch (...) {
      error_ = std::current_exception();
      SetError("model step failed");  // the message OnError reports comes from error_
    }
  }

  void OnOK() override {
    owner_.in_flight_ = false;
    deferred_.Resolve(to_js(Env(), logits_));
  }

  void OnError(const Napi::Error&) override {
    owner_.in_flight_ = false;
    deferred_.Reject(js_error(Env(), error_).Value());
  }

 private:
  ModelWrap& owner_;
  Napi::ObjectReference self_;
  StepArgs args_;
  Napi::Promise::Deferred deferred_;
  std::vector<float> logits_;
  std::exception_ptr error_;
};

Napi::Function ModelWrap::Define(Napi::Env env, const Napi::Function& kv_cache_class) {
  // The constructor finds the KvCache class through its callback data; the
  // reference lives as long as the Model class does.
  auto* kv_class = new Napi::FunctionReference(Napi::Persistent(kv_cache_class));
  Napi::Function cls = DefineClass(env, "Model",
                                   {
                                       InstanceMethod<&ModelWrap::Step>("step"),
                                       InstanceMethod<&ModelWrap::StepSync>("stepSync"),
                                   },
                                   kv_class);
  cls.AddFinalizer([](Napi::Env, Napi::FunctionReference* ref) { delete ref; }, kv_class);
  return cls;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  guarded(info.Env(), [&] {
    const ModelConfig config = config_arg(info[0]);
    if (!info[1].IsObject()) throw_invalid("tensors must be an object of Float32Arrays by name");
    const Napi::Object tensors = info[1].As<Napi::Object>();
    const auto* kv_class = static_cast<Napi::FunctionReference*>(info.Data());
    if (!info[2].IsObject() || !info[2].As<Napi::Object>().InstanceOf(kv_class->Value())) {
      throw_invalid("cache must be a native KvCache");
    }
    const Napi::Object cache = info[2].As<Napi::Object>();
    check_no_extra_tensors(tensors, tensor_specs(config));
    model_ = std::make_unique<Model>(
        config, [&](const TensorSpec& spec) { return tensor_arg(tensors, spec); }, KvCacheWrap::Unwrap(cache)->cache());
    cache_ref_ = Napi::Persistent(cache);
  });
}

ModelWrap::StepArgs ModelWrap::step_args(const Napi::CallbackInfo& info) const {
  if (in_flight_) throw_invalid("a step of this model is already in flight; await it first");
  const Napi::Uint32Array ids = uint32s(info[0], "seqIds");
  const Napi::Int32Array tokens = int32s(info[1], "tokens");
  const Napi::Uint32Array counts = uint32s(info[2], "counts");
  if (counts.ElementLength() != ids.ElementLength()) {
    throw_invalid("counts must hold one entry per sequence (" + std::to_string(ids.ElementLength()) + "), got " +
                  std::to_string(counts.ElementLength()));
  }
  StepArgs args;
  args.seq_ids.assign(ids.Data(), ids.Data() + ids.ElementLength());
  args.tokens.assign(tokens.Data(), tokens.Data() + tokens.ElementLength());
  args.counts.assign(counts.Data(), counts.Data() + counts.ElementLength());
  args.mode = mode_arg(info[3]);
  return args;
}

std::vector<float> ModelWrap::run(const StepArgs& args) {
  const StepInput in{args.seq_ids.data(), args.counts.data(), args.seq_ids.size(), args.tokens.data(),
                     args.tokens.size()};
  return model_->step(in, args.mode);
}

Napi::Value ModelWrap::Step(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  StepArgs args;
  try {
    args = guarded(env, [&] { return step_args(info); });
  } catch (const Napi::Error& e) {
    Napi::Promise::Deferred rejected = Napi::Promise::Deferred::New(env);
    rejected.Reject(e.Value());
    return rejected.Promise();
  }
  auto* worker = new StepWorker(env, *this, std::move(args));
  in_flight_ = true;
  worker->Queue();
  return worker->promise();
}

Napi::Value ModelWrap::StepSync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return to_js(info.Env(), run(step_args(info))); });
}

}  // namespace chunkmesh::js
