#pragma once
// Partial attention state per (query, head): running max m, running sum l and
// the unnormalised output o, all fp32. Two partials over disjoint key sets
// merge exactly; m = -inf marks "no keys seen" and merges as the identity.
#include <cmath>
#include <cstddef>
#include <limits>

namespace chunkmesh {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// (m, l, o) <- merge((m, l, o), (mb, lb, ob)) for one row of dim d.
inline void merge_partial(float& m, float& l, float* o, float mb, float lb, const float* ob, int d) {
  if (mb == kNegInf) return;
  if (m == kNegInf) {
    m = mb;
    l = lb;
    for (int i = 0; i < d; ++i) o[i] = ob[i];
    return;
  }
  const float mx = m > mb ? m : mb;
  const float a = std::exp(m - mx);
  const float b = std::exp(mb - mx);
  m = mx;
  l = a * l + b * lb;
  for (int i = 0; i < d; ++i) o[i] = a * o[i] + b * ob[i];
}

// out = o / l; an empty state (no keys) yields zeros rather than NaN.
inline void finish_row(float l, const float* o, float* out, int d) {
  const float inv = l > 0.f ? 1.f / l : 0.f;
  for (int i = 0; i < d; ++i) out[i] = o[i] * inv;
}

}  // namespace chunkmesh
