#include "addon/model_wrap.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "addon/js_args.h"
#include "addon/kv_cache_wrap.h"
#include "kv/step_request.h"

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

std::vector<int32_t> token_vector(const Napi::Value& v, const char* name) {
  const Napi::Int32Array a = int32s(v, name);
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

StepEntry entry_arg(const Napi::Value& v, size_t i) {
  const std::string where = "entries[" + std::to_string(i) + "]";
  if (!v.IsObject()) throw_invalid(where + " must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  StepEntry e;
  const std::string kind = string(o.Get("kind"), (where + ".kind").c_str());
  if (kind == "decode") {
    e.kind = EntryKind::kDecode;
  } else if (kind == "prefill") {
    e.kind = EntryKind::kPrefill;
  } else if (kind == "admit") {
    e.kind = EntryKind::kAdmit;
  } else {
    throw_invalid(where + ".kind must be 'decode', 'prefill' or 'admit', got '" + kind + "'");
  }
  e.tokens = token_vector(o.Get("tokens"), (where + ".tokens").c_str());
  if (e.kind == EntryKind::kAdmit) {
    e.salt = string(o.Get("salt"), (where + ".salt").c_str());
    e.max_match = static_cast<size_t>(integer(o.Get("maxMatch"), (where + ".maxMatch").c_str(), 0, kMaxU32));
    e.ticket = static_cast<uint32_t>(integer_or(o.Get("ticket"), (where + ".ticket").c_str(), 0, kMaxU32, 0));
  } else {
    e.seq_id = static_cast<uint32_t>(integer(o.Get("seqId"), (where + ".seqId").c_str(), 0, kMaxU32));
  }
  return e;
}

GraftRequest graft_arg(const Napi::Value& v, size_t i) {
  const std::string where = "grafts[" + std::to_string(i) + "]";
  if (!v.IsObject()) throw_invalid(where + " must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  GraftRequest g;
  g.salt = string(o.Get("salt"), (where + ".salt").c_str());
  g.source = token_vector(o.Get("source"), (where + ".source").c_str());
  g.target = token_vector(o.Get("target"), (where + ".target").c_str());
  g.head = static_cast<size_t>(integer(o.Get("head"), (where + ".head").c_str(), 0, kMaxU32));
  g.drop = static_cast<size_t>(integer(o.Get("drop"), (where + ".drop").c_str(), 1, kMaxU32));
  return g;
}

StepRequest request_arg(const Napi::Value& v) {
  if (!v.IsObject()) throw_invalid("step request must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  StepRequest r;
  const Napi::Uint32Array release = uint32s(o.Get("release"), "release");
  r.release.assign(release.Data(), release.Data() + release.ElementLength());
  if (!o.Get("dropTickets").IsUndefined()) {
    const Napi::Uint32Array drop = uint32s(o.Get("dropTickets"), "dropTickets");
    r.drop_tickets.assign(drop.Data(), drop.Data() + drop.ElementLength());
  }
  const Napi::Value grafts = o.Get("grafts");
  if (!grafts.IsUndefined()) {
    if (!grafts.IsArray()) throw_invalid("grafts must be an array");
    const Napi::Array list = grafts.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) r.grafts.push_back(graft_arg(list.Get(i), i));
  }
  const Napi::Value entries = o.Get("entries");
  if (!entries.IsArray()) throw_invalid("entries must be an array");
  const Napi::Array list = entries.As<Napi::Array>();
  r.entries.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); ++i) r.entries.push_back(entry_arg(list.Get(i), i));
  r.token_budget = static_cast<size_t>(integer(o.Get("tokenBudget"), "tokenBudget", 0, kMaxU32));
  r.mode = mode_arg(o.Get("mode"));
  return r;
}

Napi::Value result_to_js(Napi::Env env, StepResult& r) {
  Napi::Array entries = Napi::Array::New(env, r.entries.size());
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const EntryOutcome& e = r.entries[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("seqId", e.seq_id);
    o.Set("admitted", e.admitted);
    o.Set("cachedTokens", static_cast<double>(e.cached_tokens));
    if (e.admitted) {
      Napi::Object tiers = Napi::Object::New(env);
      tiers.Set("device", static_cast<double>(e.tier_tokens[static_cast<int>(KvTier::kDevice)]));
      tiers.Set("host", static_cast<double>(e.tier_tokens[static_cast<int>(KvTier::kHost)]));
      tiers.Set("disk", static_cast<double>(e.tier_tokens[static_cast<int>(KvTier::kDisk)]));
      o.Set("cachedByTier", tiers);
    }
    o.Set("computed", static_cast<double>(e.computed));
    o.Set("noRoom", e.no_room);
    o.Set("logits", e.logits);
    entries.Set(i, o);
  }
  Napi::Float32Array logits = Napi::Float32Array::New(env, r.logits.size());
  std::copy(r.logits.begin(), r.logits.end(), logits.Data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("entries", entries);
  out.Set("logits", logits);
  out.Set("rows", static_cast<double>(r.rows));
  Napi::Array grafted = Napi::Array::New(env, r.grafted.size());
  for (size_t i = 0; i < r.grafted.size(); ++i) grafted.Set(i, static_cast<double>(r.grafted[i]));
  out.Set("grafted", grafted);
  return out;
}

}  // namespace

Napi::Function ModelWrap::Define(Napi::Env env, const Napi::Function& kv_cache_class) {
  // The constructor finds the KvCache class through its callback data; the
  // reference lives as long as the Model class does.
  auto* kv_class = new Napi::FunctionReference(Napi::Persistent(kv_cache_class));
  Napi::Function cls = DefineClass(env, "Model",
                                   {
                                       InstanceMethod<&ModelWrap::Step>("step"),
                                       InstanceMethod<&ModelWrap::StepSync>("stepSync"),
                                       InstanceMethod<&ModelWrap::Dispose>("dispose"),
                                   },
                                   kv_class);
  cls.AddFinalizer([](Napi::Env, Napi::FunctionReference* ref) { delete ref; }, kv_class);
  return cls;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info), calls_(info.Env()) {
  guarded(info.Env(), [&] {
    const ModelConfig config = config_arg(info[0]);
    if (!info[1].IsObject()) throw_invalid("tensors must be an object of Float32Arrays by name");
    const Napi::Object tensors = info[1].As<Napi::Object>();
    const auto* kv_class = static_cast<Napi::FunctionReference*>(info.Data());
    if (!info[2].IsObject() || !info[2].As<Napi::Object>().InstanceOf(kv_class->Value())) {
      throw_invalid("cache must be a native KvCache");
    }
    cache_ = KvCacheWrap::Unwrap(info[2].As<Napi::Object>())->shared();
    const std::vector<TensorSpec> specs = tensor_specs(config);
    check_no_extra_tensors(tensors, specs);
    // Checked and read here, on the JavaScript thread; the owner thread only
    // reads the arrays' memory while this thread waits for it.
    std::unordered_map<std::string, const float*> host;
    for (const TensorSpec& spec : specs) host.emplace(spec.name, tensor_arg(tensors, spec));
    KvCache& cache = *cache_;
    cache.run([&] {
      model_ = std::make_unique<Model>(
          config, [&](const TensorSpec& spec) { return host.at(spec.name); }, cache);
    });
  });
}

ModelWrap::~ModelWrap() { free_model(); }

void ModelWrap::free_model() {
  if (model_) cache_->run([&] { model_.reset(); });
  cache_.reset();
}

Model& ModelWrap::model() const {
  if (!model_) throw_invalid("this Model was disposed");
  return *model_;
}

Napi::Value ModelWrap::Step(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  try {
    return guarded(env, [&]() -> Napi::Value {
      Model& m = model();
      if (calls_.pending() > 0) throw_invalid("a step of this model is already in flight; await it first");
      auto request = std::make_shared<StepRequest>(request_arg(info[0]));
      return calls_.call<StepResult>(
          env, *cache_, info.This().As<Napi::Object>(), [&m, request] { return m.step(*request); }, result_to_js);
    });
  } catch (const Napi::Error& e) {
    Napi::Promise::Deferred rejected = Napi::Promise::Deferred::New(env);
    rejected.Reject(e.Value());
    return rejected.Promise();
  }
}

Napi::Value ModelWrap::StepSync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Model& m = model();
    if (calls_.pending() > 0) throw_invalid("a step of this model is already in flight; await it first");
    const StepRequest request = request_arg(info[0]);
    StepResult result = cache_->run([&] { return m.step(request); });
    return result_to_js(info.Env(), result);
  });
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (calls_.pending() > 0) throw_invalid("a step of this model is in flight; await it before dispose()");
    free_model();
    return info.Env().Undefined();
  });
}

}  // namespace chunkmesh::js
