#pragma once
// A model's fp32 weights, copied into one C++-owned buffer so they outlive
// whatever the caller loaded them into. Tensor names and shapes are the
// canonical ones of services/worker/src/model/model-spec.ts.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace chunkmesh {

struct TensorSpec {
  std::string name;
  size_t elems;
};

// Every tensor the config calls for, in a fixed order.
std::vector<TensorSpec> tensor_specs(const ModelConfig& config);

struct LayerWeights {
  const float* attention_norm;
  const float* wq;
  const float* wk;
  const float* wv;
  const float* wo;
  const float* bq;  // bq, bk, bv: null unless qkv_bias
  const float* bk;
  const float* bv;
  const float* ffn_norm;
  const float* w1;
  const float* w2;
  const float* w3;
};

class ModelWeights {
 public:
  // source(spec) returns spec.elems floats; the caller checks presence and size.
  ModelWeights(const ModelConfig& config, const std::function<const float*(const TensorSpec&)>& source);
  ModelWeights(const ModelWeights&) = delete;
  ModelWeights& operator=(const ModelWeights&) = delete;

  const float* tok_embeddings() const { return tok_embeddings_; }
  const float* norm() const { return norm_; }
  // [vocab][dim]: the output head, or the embedding table when tied.
  const float* classifier() const { return classifier_; }
  const LayerWeights& layer(int i) const { return layers_[i]; }

 private:
  std::vector<float> storage_;
  const float* tok_embeddings_ = nullptr;
  const float* norm_ = nullptr;
  const float* classifier_ = nullptr;
  std::vector<LayerWeights> layers_;
};

}  // namespace chunkmesh
