#pragma once
// A model's weights on the device: read once from the caller's fp32 tensors
// (canonical names and shapes of services/model/src/model-spec.ts) and uploaded
// through the Device, which stores them in its own format. Released with the
// object, on the thread that owns the device.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "device/device.h"
#include "model/model_config.h"

namespace chunkmesh {

struct TensorSpec {
  std::string name;
  size_t elems;
};

// Every tensor the config calls for, in a fixed order.
std::vector<TensorSpec> tensor_specs(const ModelConfig& config);

struct LayerWeights {
  const float* attention_norm = nullptr;
  DeviceMatrix wq, wk, wv, wo;
  const float* bq = nullptr;  // bq, bk, bv: null unless qkv_bias
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* ffn_norm = nullptr;
  DeviceMatrix w1, w2, w3;
};

class ModelWeights {
 public:
  // source(spec) returns spec.elems host floats; the caller checks presence and size.
  ModelWeights(const ModelConfig& config, const std::function<const float*(const TensorSpec&)>& source, Device& device);
  ~ModelWeights();
  ModelWeights(const ModelWeights&) = delete;
  ModelWeights& operator=(const ModelWeights&) = delete;

  const DeviceMatrix& tok_embeddings() const { return tok_embeddings_; }
  const float* norm() const { return norm_; }
  // [vocab][dim]: the output head, or the embedding table when tied.
  const DeviceMatrix& classifier() const { return tied_ ? tok_embeddings_ : output_; }
  const LayerWeights& layer(int i) const { return layers_[i]; }

 private:
  DeviceMatrix matrix(const float* host, size_t rows, size_t cols);
  const float* vector(const float* host, size_t n);
  void release_all();

  Device& device_;
  bool tied_;
  DeviceMatrix tok_embeddings_, output_;
  const float* norm_ = nullptr;
  std::vector<LayerWeights> layers_;
  std::vector<DeviceMatrix> matrices_;  // everything uploaded, for release
  std::vector<void*> vectors_;
};

}  // namespace chunkmesh
