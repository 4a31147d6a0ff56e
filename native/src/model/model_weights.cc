#include "model/model_weights.h"

#include <unordered_map>

namespace chunkmesh {

std::vector<TensorSpec> tensor_specs(const ModelConfig& c) {
  const size_t dim = c.dim;
  const size_t hidden = c.hidden_dim;
  const size_t q = c.q_width();
  const size_t kv = c.kv_width();
  std::vector<TensorSpec> specs;
  specs.push_back({"tok_embeddings", static_cast<size_t>(c.vocab_size) * dim});
  for (int i = 0; i < c.layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    specs.push_back({p + "attention_norm", dim});
    specs.push_back({p + "wq", q * dim});
    specs.push_back({p + "wk", kv * dim});
    specs.push_back({p + "wv", kv * dim});
    specs.push_back({p + "wo", dim * q});
    if (c.qkv_bias) {
      specs.push_back({p + "bq", q});
      specs.push_back({p + "bk", kv});
      specs.push_back({p + "bv", kv});
    }
    specs.push_back({p + "ffn_norm", dim});
    specs.push_back({p + "w1", hidden * dim});
    specs.push_back({p + "w2", dim * hidden});
    specs.push_back({p + "w3", hidden * dim});
  }
  specs.push_back({"norm", dim});
  if (!c.tied_embeddings) specs.push_back({"output", static_cast<size_t>(c.vocab_size) * dim});
  return specs;
}

DeviceMatrix ModelWeights::matrix(const float* host, size_t rows, size_t cols) {
  matrices_.push_back(device_.upload_matrix(host, rows, cols));
  return matrices_.back();
}

const float* ModelWeights::vector(const float* host, size_t n) {
  if (host == nullptr) return nullptr;
  void* p = device_.allocate(n * sizeof(float));
  vectors_.push_back(p);
  device_.copy_in(p, host, n * sizeof(float));
  return static_cast<const float*>(p);
}

ModelWeights::ModelWeights(const ModelConfig& c, const std::function<const float*(const TensorSpec&)>& source,
                           Device& device)
    : device_(device), tied_(c.tied_embeddings) {
  std::unordered_map<std::string, const float*> host;
  for (const TensorSpec& s : tensor_specs(c)) host.emplace(s.name, source(s));
  const auto at = [&](const std::string& name) -> const float* {
    const auto it = host.find(name);
    return it == host.end() ? nullptr : it->second;
  };
  try {
    const size_t dim = c.dim, hidden = c.hidden_dim, q = c.q_width(), kv = c.kv_width();
    tok_embeddings_ = matrix(at("tok_embeddings"), c.vocab_size, dim);
    norm_ = vector(at("norm"), dim);
    if (!tied_) output_ = matrix(at("output"), c.vocab_size, dim);
    layers_.resize(c.layers);
    for (int i = 0; i < c.layers; ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      LayerWeights& l = layers_[i];
      l.attention_norm = vector(at(p + "attention_norm"), dim);
      l.wq = matrix(at(p + "wq"), q, dim);
      l.wk = matrix(at(p + "wk"), kv, dim);
      l.wv = matrix(at(p + "wv"), kv, dim);
      l.wo = matrix(at(p + "wo"), dim, q);
      l.bq = vector(at(p + "bq"), q);
      l.bk = vector(at(p + "bk"), kv);
      l.bv = vector(at(p + "bv"), kv);
      l.ffn_norm = vector(at(p + "ffn_norm"), dim);
      l.w1 = matrix(at(p + "w1"), hidden, dim);
      l.w2 = matrix(at(p + "w2"), dim, hidden);
      l.w3 = matrix(at(p + "w3"), hidden, dim);
    }
  } catch (...) {
    release_all();  // out of device memory part way: give back what was uploaded
    throw;
  }
}

ModelWeights::~ModelWeights() { release_all(); }

void ModelWeights::release_all() {
  for (const DeviceMatrix& m : matrices_) device_.release_matrix(m);
  for (void* p : vectors_) device_.release(p);
  matrices_.clear();
  vectors_.clear();
}

}  // namespace chunkmesh
