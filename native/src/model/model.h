#pragma once
// The Llama-family forward pass, as orchestration over a Device: token
// embedding, per layer RMSNorm -> GQA attention with RoPE -> RMSNorm -> SwiGLU
// FFN, final RMSNorm and classifier. It knows no kernel and no memory layout:
// every operation is a Device call, every buffer device memory. One step
// advances a batch of sequences by the tokens the engine hands it (one for
// decoding, many for prefill) and returns the logits of each sequence that
// reached its last given token.
#include <cstddef>
#include <functional>
#include <vector>

#include "device/device_buffer.h"
#include "kv/kv_cache.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/rope.h"

namespace chunkmesh {

class Model {
 public:
  // Uploads the weights through the cache's device. Create, use and destroy
  // a Model on the cache's owner thread; the cache must outlive it.
  Model(const ModelConfig& config, const std::function<const float*(const TensorSpec&)>& source, KvCache& cache);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }

  // One engine step (kv/step_request.h): the request's grafts first (truncation
  // reuse), then the cache admits and appends, the forward pass runs every
  // layer over the step plan, the cache commits. The
  // whole request is checked first; on any failure every sequence it named or
  // created is released, and the error propagates.
  StepResult step(const StepRequest& request);

 private:
  // KvCache::graft with this model's rotation for the graft's drop.
  size_t graft(const GraftRequest& g);
  void forward(StepPlan& plan, DecodeMode mode, std::vector<float>& logits);
  void attention_layer(size_t m, int layer, DecodeMode mode);
  void ffn_layer(size_t m, int layer);

  ModelConfig config_;
  KvCache& cache_;
  Device& device_;
  ModelWeights weights_;
  Rope rope_;
  float scale_;  // 1 / sqrt(head_dim)
  // activations in device memory, grown to the largest step seen
  DeviceBuffer x_, xb_, q_, k_, v_, att_, h1_, h3_, tmp_, logits_;
};

}  // namespace chunkmesh
