#include "model/rope.h"

#include <cmath>

namespace chunkmesh {
namespace {

// Llama 3.1: long wavelengths are slowed by factor, short ones kept, and the
// band between interpolates smoothly (as in Hugging Face's rope_init_fn).
double llama3_scaled(double inv_freq, const RopeScaling& s) {
  const double wavelen = 2.0 * M_PI / inv_freq;
  const double low_freq_wavelen = s.original_max_positions / s.low_freq_factor;
  const double high_freq_wavelen = s.original_max_positions / s.high_freq_factor;
  if (wavelen < high_freq_wavelen) return inv_freq;
  if (wavelen > low_freq_wavelen) return inv_freq / s.factor;
  const double smooth =
      (s.original_max_positions / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  return (1.0 - smooth) * inv_freq / s.factor + smooth * inv_freq;
}

}  // namespace

Rope::Rope(const ModelConfig& c) : inv_freq_(c.head_dim / 2) {
  for (int i = 0; i < half(); ++i) {
    double f = std::pow(c.rope_theta, -2.0 * i / c.head_dim);
    if (c.rope_scaling.type == RopeScalingType::kLinear) f /= c.rope_scaling.factor;
    if (c.rope_scaling.type == RopeScalingType::kLlama3) f = llama3_scaled(f, c.rope_scaling);
    inv_freq_[i] = f;
  }
}

void Rope::at(double pos, float* cos, float* sin) const {
  for (int i = 0; i < half(); ++i) {
    const double a = pos * inv_freq_[i];
    cos[i] = static_cast<float>(std::cos(a));
    sin[i] = static_cast<float>(std::sin(a));
  }
}

}  // namespace chunkmesh
