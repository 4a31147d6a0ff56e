#include "reference_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cmtest {
namespace {

uint32_t mix(uint32_t h, uint32_t x) {
  uint32_t z = h ^ ((x + 0x9e3779b9u) * 0x85ebca6bu);
  z = (z ^ (z >> 16)) * 0x7feb352du;
  z = (z ^ (z >> 15)) * 0x846ca68bu;
  return z ^ (z >> 16);
}

}  // namespace

std::vector<uint32_t> prefix_hashes(const std::vector<int32_t>& tokens) {
  std::vector<uint32_t> out(tokens.size());
  uint32_t h = 0x12345678u;
  for (size_t p = 0; p < tokens.size(); ++p) out[p] = h = mix(h, static_cast<uint32_t>(tokens[p]));
  return out;
}

DenseKv synthetic_kv(const KvGeometry& g, const std::vector<uint32_t>& hashes, int layer, size_t from, size_t to) {
  const size_t per = static_cast<size_t>(g.kv_heads) * g.head_dim;
  DenseKv kv;
  kv.k.resize((to - from) * per);
  kv.v.resize((to - from) * per);
  for (size_t p = from; p < to; ++p) {
    const uint32_t base = mix(hashes[p], static_cast<uint32_t>(layer));
    for (size_t i = 0; i < per; ++i) {
      kv.k[(p - from) * per + i] = static_cast<float>(mix(base, 2 * i) / 2147483648.0 - 1.0);
      kv.v[(p - from) * per + i] = static_cast<float>(mix(base, 2 * i + 1) / 2147483648.0 - 1.0);
    }
  }
  return kv;
}

std::vector<double> reference_attention(const float* k, const float* v, const float* q, size_t rows, int n_heads,
                                        int kv_heads, int head_dim, const std::function<size_t(size_t)>& visible) {
  std::vector<double> out(rows * n_heads * head_dim, 0.0);
  const int group = n_heads / kv_heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  std::vector<double> scores;
  for (size_t t = 0; t < rows; ++t) {
    const size_t n = visible(t);
    for (int h = 0; h < n_heads; ++h) {
      const int kh = h / group;
      const float* qh = q + (t * n_heads + h) * head_dim;
      scores.assign(n, 0.0);
      double mx = -std::numeric_limits<double>::infinity();
      for (size_t p = 0; p < n; ++p) {
        const float* kp = k + (p * kv_heads + kh) * head_dim;
        double s = 0;
        for (int i = 0; i < head_dim; ++i) s += static_cast<double>(qh[i]) * kp[i];
        scores[p] = s * scale;
        mx = std::max(mx, scores[p]);
      }
      double sum = 0;
      for (double& s : scores) sum += (s = std::exp(s - mx));
      double* o = out.data() + (t * n_heads + h) * head_dim;
      for (size_t p = 0; p < n; ++p) {
        const float* vp = v + (p * kv_heads + kh) * head_dim;
        for (int i = 0; i < head_dim; ++i) o[i] += scores[p] / sum * vp[i];
      }
    }
  }
  return out;
}

double max_relative_error(const float* actual, const std::vector<double>& expected, int head_dim) {
  double worst = 0;
  for (size_t o = 0; o < expected.size(); o += head_dim) {
    double scale = 0;
    for (int i = 0; i < head_dim; ++i) scale = std::max(scale, std::abs(expected[o + i]));
    for (int i = 0; i < head_dim; ++i) {
      const double err = std::abs(actual[o + i] - expected[o + i]) / std::max(scale, 1e-30);
      if (!(err <= worst)) worst = std::isnan(err) ? std::numeric_limits<double>::infinity() : err;
    }
  }
  return worst;
}

}  // namespace cmtest
