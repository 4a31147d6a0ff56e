#pragma once
// A random model on a KvCache, stepped on the cache's owner thread, and a
// checker that follows every sequence's tokens through the steps and compares
// each logits row with the double-precision reference forward pass. It also
// checks the step's budget arithmetic: what each entry computed, and whether
// it produced logits.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kv/kv_cache.h"
#include "model/model.h"
#include "reference_model.h"

namespace cmtest {

// A Llama-family config with the given shape and the defaults of ModelConfig.
chunkmesh::ModelConfig model_config(int dim, int hidden_dim, int layers, int heads, int kv_heads, int head_dim,
                                    int vocab_size, size_t max_seq_len);

struct ModelRig {
  ModelRig(const chunkmesh::ModelConfig& config, uint32_t capacity_chunks, uint64_t seed, int chunk_tokens = 4);
  ~ModelRig();  // destroys the model on the owner thread
  chunkmesh::StepResult step(const chunkmesh::StepRequest& request);

  RandomModel weights;
  std::unique_ptr<chunkmesh::KvCache> cache;
  std::unique_ptr<chunkmesh::Model> model;
};

class StepChecker {
 public:
  explicit StepChecker(ModelRig& rig) : rig_(rig) {}
  // Runs the step and checks it; returns its result.
  chunkmesh::StepResult step(const chunkmesh::StepRequest& request);
  // The tokens whose K/V the cache holds for a sequence.
  const std::vector<int32_t>& tokens(uint32_t seq) const { return tokens_.at(seq); }

 private:
  ModelRig& rig_;
  std::map<uint32_t, std::vector<int32_t>> tokens_;
};

chunkmesh::StepEntry admit(const std::vector<int32_t>& tokens, const std::string& salt = "");
chunkmesh::StepEntry decode(uint32_t seq, int32_t token);
chunkmesh::StepEntry prefill(uint32_t seq, const std::vector<int32_t>& tokens);

}  // namespace cmtest
