#include "model/model_weights.h"

#include <algorithm>
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

ModelWeights::ModelWeights(const ModelConfig& config, const std::function<const float*(const TensorSpec&)>& source) {
  const std::vector<TensorSpec> specs = tensor_specs(config);
  size_t total = 0;
  for (const TensorSpec& s : specs) total += s.elems;
  storage_.resize(total);
  std::unordered_map<std::string, const float*> by_name;
  size_t offset = 0;
  for (const TensorSpec& s : specs) {
    std::copy_n(source(s), s.elems, storage_.data() + offset);
    by_name.emplace(s.name, storage_.data() + offset);
    offset += s.elems;
  }
  const auto at = [&](const std::string& name) -> const float* {
    const auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  };
  tok_embeddings_ = at("tok_embeddings");
  norm_ = at("norm");
  classifier_ = config.tied_embeddings ? tok_embeddings_ : at("output");
  layers_.resize(config.layers);
  for (int i = 0; i < config.layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    layers_[i] = LayerWeights{at(p + "attention_norm"),
                              at(p + "wq"),
                              at(p + "wk"),
                              at(p + "wv"),
                              at(p + "wo"),
                              at(p + "bq"),
                              at(p + "bk"),
                              at(p + "bv"),
                              at(p + "ffn_norm"),
                              at(p + "w1"),
                              at(p + "w2"),
                              at(p + "w3")};
  }
}

}  // namespace chunkmesh
