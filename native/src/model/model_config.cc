#include "model/model_config.h"

#include <cmath>
#include <string>

#include "runtime/error.h"

namespace chunkmesh {
namespace {

void check_range(const char* name, long long value, long long lo, long long hi) {
  if (value < lo || value > hi) {
    throw_invalid(std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                  std::to_string(value));
  }
}

void check_positive(const char* name, double value) {
  if (!(value > 0.0) || !std::isfinite(value)) {
    throw_invalid(std::string(name) + " must be a positive finite number, got " + std::to_string(value));
  }
}

}  // namespace

void validate_config(const ModelConfig& c) {
  check_range("dim", c.dim, 1, 1 << 16);
  check_range("hiddenDim", c.hidden_dim, 1, 1 << 18);
  check_range("layers", c.layers, 1, 1024);
  check_range("heads", c.heads, 1, 1024);
  check_range("kvHeads", c.kv_heads, 1, c.heads);
  check_range("headDim", c.head_dim, 2, 1024);
  check_range("vocabSize", c.vocab_size, 1, 1 << 24);
  check_range("maxSeqLen", static_cast<long long>(c.max_seq_len), 1, 1LL << 24);
  if (c.heads % c.kv_heads != 0) {
    throw_invalid("heads (" + std::to_string(c.heads) + ") must be a multiple of kvHeads (" +
                  std::to_string(c.kv_heads) + ")");
  }
  if (c.head_dim % 2 != 0) throw_invalid("headDim must be even for RoPE, got " + std::to_string(c.head_dim));
  check_positive("normEps", c.norm_eps);
  check_positive("ropeTheta", c.rope_theta);
  const RopeScaling& s = c.rope_scaling;
  if (s.type != RopeScalingType::kNone) check_positive("ropeScaling.factor", s.factor);
  if (s.type == RopeScalingType::kLlama3) {
    check_positive("ropeScaling.lowFreqFactor", s.low_freq_factor);
    check_positive("ropeScaling.highFreqFactor", s.high_freq_factor);
    check_positive("ropeScaling.originalMaxPositionEmbeddings", s.original_max_positions);
    if (s.high_freq_factor <= s.low_freq_factor) {
      throw_invalid("ropeScaling.highFreqFactor must be greater than lowFreqFactor");
    }
  }
}

void check_cache_shape(const ModelConfig& c, const KvShape& s) {
  if (s.layers != c.layers || s.kv_heads != c.kv_heads || s.head_dim != c.head_dim) {
    throw_invalid("the KvCache holds layers=" + std::to_string(s.layers) + " kvHeads=" + std::to_string(s.kv_heads) +
                  " headDim=" + std::to_string(s.head_dim) + " but the model needs layers=" + std::to_string(c.layers) +
                  " kvHeads=" + std::to_string(c.kv_heads) + " headDim=" + std::to_string(c.head_dim));
  }
}

}  // namespace chunkmesh
