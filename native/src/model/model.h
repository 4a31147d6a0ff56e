#pragma once
// The Llama-family forward pass over the prefix-tree KV cache: token
// embedding, per layer RMSNorm -> GQA attention with RoPE -> RMSNorm -> SwiGLU
// FFN, final RMSNorm and classifier. One step advances a batch of sequences by
// the tokens the caller has just appended to each (one for decoding, many for
// prefill) and returns the logits of each sequence's last new token.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "kv/kv_cache.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/rope.h"
#include "runtime/thread_pool.h"

namespace chunkmesh {

struct StepInput {
  const uint32_t* seq_ids;
  const uint32_t* counts;  // new tokens per sequence
  size_t batch;
  const int32_t* tokens;  // the new tokens of every sequence, in seq_ids order
  size_t n_tokens;
};

class Model {
 public:
  // Copies the weights out of source; the cache must outlive the model.
  Model(const ModelConfig& config, const std::function<const float*(const TensorSpec&)>& source, KvCache& cache);

  const ModelConfig& config() const { return config_; }

  // The new tokens must be the last ones appended to each sequence and not
  // yet committed; the step writes their KV in every layer, then commits each
  // sequence so its full chunks enter the tree. Sequences with one new token
  // attend as one decode batch (mode picks TPP or the baseline), the others by
  // prefill. Returns logits [batch][vocab]. Input is checked before anything
  // is written: a bad step changes nothing.
  std::vector<float> step(const StepInput& in, DecodeMode mode);

 private:
  void check(const StepInput& in) const;
  void attention_layer(const StepInput& in, int layer, DecodeMode mode);
  void ffn_layer(size_t m, int layer);

  ModelConfig config_;
  ModelWeights weights_;
  KvCache& cache_;
  Rope rope_;
  ThreadPool threads_;
  // activations, reused across steps
  std::vector<float> x_, xb_, q_, k_, v_, att_, h1_, h3_, tmp_;
  std::vector<float> cos_, sin_;  // RoPE angles of each new token, [tokens][head_dim / 2]
  std::vector<size_t> first_;     // first token row of each sequence
  std::vector<uint32_t> decode_ids_;
  std::vector<size_t> decode_rows_;
  std::vector<float> decode_q_, decode_out_;
};

}  // namespace chunkmesh
