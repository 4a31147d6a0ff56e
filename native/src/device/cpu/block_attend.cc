#include "device/cpu/block_attend.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "device/cpu/online_softmax.h"

namespace chunkmesh {
namespace {

// 16 floats; aligned(4) lets it load from any float pointer. GCC and Clang
// lower it to one AVX-512 register, two AVX2 registers, or four NEON ones.
typedef float v16 __attribute__((vector_size(64), aligned(4)));
constexpr int kLanes = 16;
// Rows at or above this use the transposed-K score kernel (reads each key once
// per 4 rows and needs no horizontal sums); below it, per-row dot products.
constexpr int kManyRows = 8;

inline int round16(int n) { return (n + kLanes - 1) / kLanes * kLanes; }

typedef int32_t i16v __attribute__((vector_size(64), aligned(4)));

// exp over 16 lanes (Cephes expf: range reduction by ln 2, degree-6
// polynomial), max relative error ~2e-7. Inputs below -87.3 give ~1e-38;
// callers zero masked lanes themselves.
inline v16 exp16(v16 x) {
  const v16 hi = v16{} + 88.3762626647949f;
  const v16 lo = v16{} - 87.3365447504f;
  x = x > hi ? hi : x;
  x = x < lo ? lo : x;
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  v16 n = x * 1.44269504088896341f + magic;
  n = n - magic;
  x = x - n * 0.693359375f;
  x = x + n * 2.12194440e-4f;
  v16 y = 1.9875691500e-4f + v16{};
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * x * x + x + 1.0f;
  const i16v e = (__builtin_convertvector(n, i16v) + 127) << 23;
  v16 scale;
  __builtin_memcpy(&scale, &e, sizeof scale);
  return y * scale;
}

inline float hsum(v16 a) {
  float s = 0.f;
  for (int i = 0; i < kLanes; ++i) s += a[i];
  return s;
}

// scores[r][j] = q_r . k_j, dot-product form; d % 16 == 0.
void scores_dot(const float* q, int rows, int d, const float* k, int n, float* s, int ld) {
  for (int j = 0; j < n; ++j) {
    const float* kj = k + static_cast<size_t>(j) * d;
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      const float* q0 = q + static_cast<size_t>(r) * d;
      const float* q1 = q0 + d;
      v16 a0 = {}, a1 = {};
      for (int i = 0; i < d; i += kLanes) {
        const v16 kv = *reinterpret_cast<const v16*>(kj + i);
        a0 += *reinterpret_cast<const v16*>(q0 + i) * kv;
        a1 += *reinterpret_cast<const v16*>(q1 + i) * kv;
      }
      s[r * ld + j] = hsum(a0);
      s[(r + 1) * ld + j] = hsum(a1);
    }
    for (; r < rows; ++r) {
      const float* q0 = q + static_cast<size_t>(r) * d;
      v16 a0 = {};
      for (int i = 0; i < d; i += kLanes)
        a0 += *reinterpret_cast<const v16*>(q0 + i) * *reinterpret_cast<const v16*>(kj + i);
      s[r * ld + j] = hsum(a0);
    }
  }
}

// scores via K transposed to kt[d][n16]: 4 rows x 16 keys per register tile.
void scores_transposed(const float* q, int rows, int d, const float* k, int n, float* s, int ld, float* kt) {
  const int n16 = round16(n);
  for (int j = 0; j < n16; ++j) {
    if (j < n) {
      const float* kj = k + static_cast<size_t>(j) * d;
      for (int i = 0; i < d; ++i) kt[static_cast<size_t>(i) * n16 + j] = kj[i];
    } else {
      for (int i = 0; i < d; ++i) kt[static_cast<size_t>(i) * n16 + j] = 0.f;
    }
  }
  for (int j0 = 0; j0 < n16; j0 += 4 * kLanes) {
    const int tiles = std::min(4, (n16 - j0) / kLanes);
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
      v16 acc[4][4] = {};
      const float* q0 = q + static_cast<size_t>(r) * d;
      for (int i = 0; i < d; ++i) {
        const float* row = kt + static_cast<size_t>(i) * n16 + j0;
        const float b0 = q0[i], b1 = q0[d + i], b2 = q0[2 * d + i], b3 = q0[3 * d + i];
        for (int t = 0; t < tiles; ++t) {
          const v16 kv = *reinterpret_cast<const v16*>(row + t * kLanes);
          acc[0][t] += b0 * kv;
          acc[1][t] += b1 * kv;
          acc[2][t] += b2 * kv;
          acc[3][t] += b3 * kv;
        }
      }
      for (int rr = 0; rr < 4; ++rr) {
        for (int t = 0; t < tiles; ++t) *reinterpret_cast<v16*>(s + (r + rr) * ld + j0 + t * kLanes) = acc[rr][t];
      }
    }
    for (; r < rows; ++r) {
      v16 acc[4] = {};
      const float* q0 = q + static_cast<size_t>(r) * d;
      for (int i = 0; i < d; ++i) {
        const float* row = kt + static_cast<size_t>(i) * n16 + j0;
        for (int t = 0; t < tiles; ++t) acc[t] += q0[i] * *reinterpret_cast<const v16*>(row + t * kLanes);
      }
      for (int t = 0; t < tiles; ++t) *reinterpret_cast<v16*>(s + r * ld + j0 + t * kLanes) = acc[t];
    }
  }
}

void scores_scalar(const float* q, int rows, int d, const float* k, int n, float* s, int ld) {
  for (int r = 0; r < rows; ++r) {
    const float* qr = q + static_cast<size_t>(r) * d;
    for (int j = 0; j < n; ++j) {
      const float* kj = k + static_cast<size_t>(j) * d;
      float acc = 0.f;
      for (int i = 0; i < d; ++i) acc += qr[i] * kj[i];
      s[r * ld + j] = acc;
    }
  }
}

// o[r] += sum_j p[r][j] v[j]; d % 16 == 0; tiles of 4 rows x 64 dims.
void accumulate_pv(const float* p, int rows, int ld, const float* v, int n, int d, float* o) {
  for (int d0 = 0; d0 < d; d0 += 4 * kLanes) {
    const int tiles = std::min(4, (d - d0) / kLanes);
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
      v16 acc[4][4];
      for (int rr = 0; rr < 4; ++rr)
        for (int t = 0; t < tiles; ++t)
          acc[rr][t] = *reinterpret_cast<const v16*>(o + static_cast<size_t>(r + rr) * d + d0 + t * kLanes);
      for (int j = 0; j < n; ++j) {
        const float* vj = v + static_cast<size_t>(j) * d + d0;
        const float p0 = p[r * ld + j], p1 = p[(r + 1) * ld + j], p2 = p[(r + 2) * ld + j], p3 = p[(r + 3) * ld + j];
        for (int t = 0; t < tiles; ++t) {
          const v16 vv = *reinterpret_cast<const v16*>(vj + t * kLanes);
          acc[0][t] += p0 * vv;
          acc[1][t] += p1 * vv;
          acc[2][t] += p2 * vv;
          acc[3][t] += p3 * vv;
        }
      }
      for (int rr = 0; rr < 4; ++rr)
        for (int t = 0; t < tiles; ++t)
          *reinterpret_cast<v16*>(o + static_cast<size_t>(r + rr) * d + d0 + t * kLanes) = acc[rr][t];
    }
    for (; r < rows; ++r) {
      v16 acc[4];
      for (int t = 0; t < tiles; ++t)
        acc[t] = *reinterpret_cast<const v16*>(o + static_cast<size_t>(r) * d + d0 + t * kLanes);
      for (int j = 0; j < n; ++j) {
        const float pj = p[r * ld + j];
        const float* vj = v + static_cast<size_t>(j) * d + d0;
        for (int t = 0; t < tiles; ++t) acc[t] += pj * *reinterpret_cast<const v16*>(vj + t * kLanes);
      }
      for (int t = 0; t < tiles; ++t)
        *reinterpret_cast<v16*>(o + static_cast<size_t>(r) * d + d0 + t * kLanes) = acc[t];
    }
  }
}

void accumulate_pv_scalar(const float* p, int rows, int ld, const float* v, int n, int d, float* o) {
  for (int r = 0; r < rows; ++r) {
    float* orow = o + static_cast<size_t>(r) * d;
    for (int j = 0; j < n; ++j) {
      const float pj = p[r * ld + j];
      const float* vj = v + static_cast<size_t>(j) * d;
      for (int i = 0; i < d; ++i) orow[i] += pj * vj[i];
    }
  }
}

}  // namespace

void BlockScratch::reserve(int rows, int n, int d) {
  const size_t n16 = static_cast<size_t>(round16(n));
  if (scores.size() < rows * n16) scores.resize(rows * n16);
  if (kt.size() < static_cast<size_t>(d) * n16) kt.resize(static_cast<size_t>(d) * n16);
}

void attend_block(const float* q, int rows, int d, const float* k, const float* v, int n, const int* row_keys, float* m,
                  float* l, float* o, BlockScratch& scratch) {
  if (rows == 0 || n == 0) return;
  scratch.reserve(rows, n, d);
  const int ld = round16(n);
  float* s = scratch.scores.data();
  const bool vec = d % kLanes == 0;
  if (!vec) {
    scores_scalar(q, rows, d, k, n, s, ld);
  } else if (rows >= kManyRows) {
    scores_transposed(q, rows, d, k, n, s, ld, scratch.kt.data());
  } else {
    scores_dot(q, rows, d, k, n, s, ld);
  }
  // Online softmax: fold this block's scores into (m, l), rescale o, keep p in s.
  for (int r = 0; r < rows; ++r) {
    float* sr = s + r * ld;
    const int keys = row_keys ? std::min(row_keys[r], n) : n;
    std::fill(sr + keys, sr + ld, kNegInf);
    v16 vmax;
    for (int i = 0; i < kLanes; ++i) vmax[i] = kNegInf;
    for (int j = 0; j < ld; j += kLanes) {
      const v16 x = *reinterpret_cast<const v16*>(sr + j);
      vmax = x > vmax ? x : vmax;
    }
    float mx = kNegInf;
    for (int i = 0; i < kLanes; ++i) mx = std::max(mx, vmax[i]);
    if (mx == kNegInf) {  // row sees no key here: contributes nothing
      std::fill(sr, sr + ld, 0.f);
      continue;
    }
    const float m_new = std::max(m[r], mx);
    const float alpha = m[r] == kNegInf ? 0.f : std::exp(m[r] - m_new);
    v16 vsum = {};
    for (int j = 0; j < ld; j += kLanes) {
      v16& x = *reinterpret_cast<v16*>(sr + j);
      x = exp16(x - m_new);
    }
    std::fill(sr + keys, sr + ld, 0.f);  // masked keys: exactly zero weight
    for (int j = 0; j < ld; j += kLanes) vsum += *reinterpret_cast<const v16*>(sr + j);
    l[r] = l[r] * alpha + hsum(vsum);
    m[r] = m_new;
    if (alpha != 1.f) {
      float* orow = o + static_cast<size_t>(r) * d;
      for (int i = 0; i < d; ++i) orow[i] *= alpha;
    }
  }
  if (vec) {
    accumulate_pv(s, rows, ld, v, n, d, o);
  } else {
    accumulate_pv_scalar(s, rows, ld, v, n, d, o);
  }
}

}  // namespace chunkmesh
