#pragma once
// stories260K (test/fixtures/stories260K, llama2.c format) as a ModelConfig and
// a tensor source for chunkmesh::Model, for the emulated forward pass.
#include <map>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/model_weights.h"

namespace cmtest {

struct Checkpoint {
  chunkmesh::ModelConfig config;
  std::map<std::string, std::vector<float>> tensors;  // canonical names
  const float* tensor(const chunkmesh::TensorSpec& s) const { return tensors.at(s.name).data(); }
};

// Reads CHUNKMESH_FIXTURES_DIR/stories260K/stories260K.bin.
Checkpoint load_stories260k();

}  // namespace cmtest
