#pragma once
// The shape of a Llama-family model as the forward pass needs it (mirrors
// NativeModelConfig in lib/binding.ts). Loaders fill it from their own format.
#include <cstddef>

#include "device/device.h"
#include "kv/kv_shape.h"

namespace chunkmesh {

enum class RopeScalingType { kNone, kLinear, kLlama3 };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  // llama3 only
  double low_freq_factor = 0.0;
  double high_freq_factor = 0.0;
  double original_max_positions = 0.0;
};

struct ModelConfig {
  int dim = 0;
  int hidden_dim = 0;
  int layers = 0;
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  size_t max_seq_len = 0;
  float norm_eps = 1e-5f;
  double rope_theta = 10000.0;
  RopeLayout rope_layout = RopeLayout::kHalves;
  RopeScaling rope_scaling;
  bool tied_embeddings = false;
  bool qkv_bias = false;

  size_t q_width() const { return static_cast<size_t>(heads) * head_dim; }
  size_t kv_width() const { return static_cast<size_t>(kv_heads) * head_dim; }
};

// Throws kInvalidArgument naming the first field that is out of range.
void validate_config(const ModelConfig& config);
// Throws kInvalidArgument unless the cache stores KV of exactly this model's shape.
void check_cache_shape(const ModelConfig& config, const KvShape& shape);

}  // namespace chunkmesh
