#include "device/cpu/layer_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/half.h"

namespace chunkmesh::cpu {
namespace {

// Below this many elements a loop runs on the calling thread alone.
constexpr size_t kSerialElems = size_t{1} << 15;

// Runs fn(begin, end) over [0, n) in blocks, on the pool when n * width is large.
template <typename Fn>
void for_rows(size_t n, size_t width, ThreadPool& threads, Fn&& fn) {
  if (n * width < kSerialElems || threads.size() == 1 || n < 2) {
    fn(size_t{0}, n);
    return;
  }
  const size_t blocks = std::min(n, static_cast<size_t>(threads.size()) * 4);
  threads.parallel_for(blocks, [&](size_t b, int) { fn(n * b / blocks, n * (b + 1) / blocks); });
}

}  // namespace

void rmsnorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out, ThreadPool& threads) {
  for_rows(m, dim, threads, [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; ++t) {
      const float* xt = x + t * dim;
      float ss = 0.f;
      for (size_t i = 0; i < dim; ++i) ss += xt[i] * xt[i];
      const float scale = 1.f / std::sqrt(ss / static_cast<float>(dim) + eps);
      float* ot = out + t * dim;
      for (size_t i = 0; i < dim; ++i) ot[i] = weight[i] * (scale * xt[i]);
    }
  });
}

void rope(float* x, size_t m, int heads, int head_dim, RopeLayout layout, const float* cos, const float* sin,
          ThreadPool& threads) {
  const int h = head_dim / 2;
  // (a, b) -> (a cos - b sin, a sin + b cos); the layouts differ only in which elements pair up
  const int stride = layout == RopeLayout::kPairs ? 2 : 1;
  const int partner = layout == RopeLayout::kPairs ? 1 : h;
  const size_t width = static_cast<size_t>(heads) * head_dim;
  for_rows(m, width, threads, [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; ++t) {
      const float* c = cos + t * h;
      const float* s = sin + t * h;
      for (int head = 0; head < heads; ++head) {
        float* v = x + t * width + static_cast<size_t>(head) * head_dim;
        for (int i = 0; i < h; ++i) {
          float& a = v[i * stride];
          float& b = v[i * stride + partner];
          const float a0 = a;
          const float b0 = b;
          a = a0 * c[i] - b0 * s[i];
          b = a0 * s[i] + b0 * c[i];
        }
      }
    }
  });
}

void swiglu(float* gate, const float* up, size_t n, ThreadPool& threads) {
  for_rows(n, 1, threads, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; ++i) {
      const float g = gate[i];
      gate[i] = g / (1.f + std::exp(-g)) * up[i];  // silu(w1 x) * (w3 x)
    }
  });
}

void add(float* x, const float* y, size_t n, ThreadPool& threads) {
  for_rows(n, 1, threads, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; ++i) x[i] += y[i];
  });
}

void embed(const float* table, size_t dim, const int32_t* tokens, size_t m, float* x) {
  for (size_t t = 0; t < m; ++t) std::copy_n(table + static_cast<size_t>(tokens[t]) * dim, dim, x + t * dim);
}

namespace {

// dst (pool storage of the pool's dtype) <- src (fp32), n elements.
void store(DType dtype, uint8_t* chunk, size_t off, const float* src, size_t n) {
  switch (dtype) {
    case DType::kF32:
      std::memcpy(reinterpret_cast<float*>(chunk) + off, src, n * sizeof(float));
      return;
    case DType::kF16:
      float_to_half_n(src, reinterpret_cast<uint16_t*>(chunk) + off, n);
      return;
    case DType::kBF16:
      float_to_bf16_n(src, reinterpret_cast<uint16_t*>(chunk) + off, n);
      return;
  }
}

void load(DType dtype, const uint8_t* chunk, size_t off, float* dst, size_t n) {
  switch (dtype) {
    case DType::kF32:
      std::memcpy(dst, reinterpret_cast<const float*>(chunk) + off, n * sizeof(float));
      return;
    case DType::kF16:
      half_to_float_n(reinterpret_cast<const uint16_t*>(chunk) + off, dst, n);
      return;
    case DType::kBF16:
      bf16_to_float_n(reinterpret_cast<const uint16_t*>(chunk) + off, dst, n);
      return;
  }
}

}  // namespace

void write_kv(const KvPool& pool, int layer, size_t m, const uint32_t* slots, const uint32_t* rows, const float* k,
              const float* v) {
  const KvShape& s = pool.shape;
  const size_t d = s.head_dim;
  for (size_t t = 0; t < m; ++t) {
    uint8_t* chunk = pool.chunk(slots[t]);
    for (int h = 0; h < s.kv_heads; ++h) {
      const size_t src = (t * s.kv_heads + h) * d;
      store(s.dtype, chunk, s.block_offset(layer, 0, h) + rows[t] * d, k + src, d);
      store(s.dtype, chunk, s.block_offset(layer, 1, h) + rows[t] * d, v + src, d);
    }
  }
}

void read_kv(const KvPool& pool, int layer, size_t m, const uint32_t* slots, const uint32_t* rows, float* k, float* v) {
  const KvShape& s = pool.shape;
  const size_t d = s.head_dim;
  for (size_t t = 0; t < m; ++t) {
    const uint8_t* chunk = pool.chunk(slots[t]);
    for (int h = 0; h < s.kv_heads; ++h) {
      const size_t dst = (t * s.kv_heads + h) * d;
      load(s.dtype, chunk, s.block_offset(layer, 0, h) + rows[t] * d, k + dst, d);
      load(s.dtype, chunk, s.block_offset(layer, 1, h) + rows[t] * d, v + dst, d);
    }
  }
}

}  // namespace chunkmesh::cpu
