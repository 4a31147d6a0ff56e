#pragma once
// Rotary position embedding angles: per-frequency inverse wavelengths (with
// linear or Llama 3.1 scaling folded in) computed once; angles computed per
// position in double, since positions reach 1e5+ and fp32 angles would lose
// the phase. The host computes them once per step (StepPlan::rope_cos/sin);
// the device rotates.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace chunkmesh {

class Rope {
 public:
  explicit Rope(const ModelConfig& config);

  // cos and sin of every frequency at pos: head_dim / 2 floats each.
  void angles(size_t pos, float* cos, float* sin) const { at(static_cast<double>(pos), cos, sin); }
  // The same for a signed move of delta positions: rotating a key already
  // rotated at p by these angles gives its rotation at p + delta (rotations
  // compose by adding angles), which is how saved keys move to new positions.
  void shift(int64_t delta, float* cos, float* sin) const { at(static_cast<double>(delta), cos, sin); }

  int half() const { return static_cast<int>(inv_freq_.size()); }

 private:
  void at(double pos, float* cos, float* sin) const;

  std::vector<double> inv_freq_;
};

}  // namespace chunkmesh
