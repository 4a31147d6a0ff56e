#pragma once
// A plain double-precision Llama-family forward pass over a whole sequence,
// written from the model's definition rather than from the native code: what
// Model::step must match. Also random weights for any config.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "model/model_config.h"

namespace cmtest {

struct RandomModel {
  chunkmesh::ModelConfig config;
  std::map<std::string, std::vector<float>> tensors;  // canonical names (model_weights.h)
};

// Weights scaled so activations stay near unit size through the layers.
RandomModel random_model(const chunkmesh::ModelConfig& config, Rng& rng);

// Logits of the last token of `tokens`, attending causally over all of them.
std::vector<double> reference_logits(const RandomModel& model, const std::vector<int32_t>& tokens);

}  // namespace cmtest
