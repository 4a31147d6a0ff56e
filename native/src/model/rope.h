#pragma once
// Rotary position embedding angles: per-frequency inverse wavelengths (with
// linear or Llama 3.1 scaling folded in) computed once; angles computed per
// position in double, since positions reach 1e5+ and fp32 angles would lose
// the phase. The host computes them once per step (StepPlan::rope_cos/sin);
// the device rotates.
#include <cstddef>
#include <vector>

#include "model/model_config.h"

namespace chunkmesh {

class Rope {
 public:
  explicit Rope(const ModelConfig& config);

  // cos and sin of every frequency at pos: head_dim / 2 floats each.
  void angles(size_t pos, float* cos, float* sin) const;

  int half() const { return static_cast<int>(inv_freq_.size()); }

 private:
  std::vector<double> inv_freq_;
};

}  // namespace chunkmesh
