#pragma once
// Rotary position embedding: per-frequency inverse wavelengths (with linear or
// Llama 3.1 scaling folded in) computed once; angles computed per position in
// double, since positions reach 1e5+ and fp32 angles would lose the phase.
#include <cstddef>
#include <vector>

#include "model/model_config.h"

namespace chunkmesh {

class Rope {
 public:
  explicit Rope(const ModelConfig& config);

  // cos and sin of every frequency at pos: head_dim / 2 floats each.
  void angles(size_t pos, float* cos, float* sin) const;
  // Rotates n_heads consecutive heads of x in place by the angles of one position.
  void rotate(float* x, int n_heads, const float* cos, const float* sin) const;

  int half() const { return static_cast<int>(inv_freq_.size()); }

 private:
  RopeLayout layout_;
  int head_dim_;
  std::vector<double> inv_freq_;
};

}  // namespace chunkmesh
