#pragma once
// The element-wise and per-row layer kernels of the forward pass. Activations
// are fp32 [rows][width]; weights and the KV pool are half_t or bf16_t.
// Launch shapes are in the comments; every kernel guards its own bounds.
#include "kernels/portable.h"
#include "kernels/warp_reduce.cuh"

namespace chunkmesh::kern {

constexpr int kRowThreads = 128;

// grid (m), block kRowThreads: out[r] = w * x[r] / rms(x[r])
CM_KERNEL void rmsnorm(const float* x, const float* weight, int dim, float eps, float* out) {
  CM_SHARED(float, partial, kRowThreads / 32);
  const size_t r = block_x();
  const float* xr = x + r * dim;
  float ss = 0.f;
  for (int i = static_cast<int>(thread_x()); i < dim; i += kRowThreads) ss += xr[i] * xr[i];
  ss = warp_sum(ss);
  if (lane() == 0) partial[warp()] = ss;
  CM_SYNC("rmsnorm.partials");
  float total = 0.f;
  for (int wi = 0; wi < kRowThreads / 32; ++wi) total += partial[wi];
  const float scale = 1.f / sqrtf(total / static_cast<float>(dim) + eps);
  for (int i = static_cast<int>(thread_x()); i < dim; i += kRowThreads) out[r * dim + i] = weight[i] * (scale * xr[i]);
}

// grid (ceil(m * heads * half / 256)), block 256: rotate each (a, b) pair by its row's angle.
// pairs: layout 0 pairs (i, i + half), layout 1 pairs (2i, 2i + 1).
CM_KERNEL void rope(float* x, size_t m, int heads, int head_dim, int pairs, const float* cos, const float* sin) {
  const int half = head_dim / 2;
  const size_t n = m * heads * half;
  const size_t e = static_cast<size_t>(block_x()) * 256 + thread_x();
  if (e >= n) return;
  const size_t r = e / (static_cast<size_t>(heads) * half);
  const int h = static_cast<int>(e / half % heads);
  const int i = static_cast<int>(e % half);
  float* v = x + (r * heads + h) * head_dim;
  const int ia = pairs ? 2 * i : i;
  const int ib = pairs ? 2 * i + 1 : i + half;
  const float c = cos[r * half + i], s = sin[r * half + i];
  const float a = v[ia], b = v[ib];
  v[ia] = a * c - b * s;
  v[ib] = a * s + b * c;
}

// grid (ceil(n / 256)), block 256: gate = silu(gate) * up
CM_KERNEL void swiglu(float* gate, const float* up, size_t n) {
  const size_t i = static_cast<size_t>(block_x()) * 256 + thread_x();
  if (i >= n) return;
  const float g = gate[i];
  gate[i] = g / (1.f + fast_exp(-g)) * up[i];
}

// grid (ceil(n / 256)), block 256: x += y
CM_KERNEL void add(float* x, const float* y, size_t n) {
  const size_t i = static_cast<size_t>(block_x()) * 256 + thread_x();
  if (i < n) x[i] += y[i];
}

// grid (m), block kRowThreads: x[r] = table[tokens[r]]
template <typename W>
CM_KERNEL void embed(const W* table, int dim, const int32_t* tokens, float* x) {
  const size_t r = block_x();
  const W* row = table + static_cast<size_t>(tokens[r]) * dim;
  for (int i = static_cast<int>(thread_x()); i < dim; i += kRowThreads) x[r * dim + i] = to_float(row[i]);
}

// grid (n), block kRowThreads: out[i] = x[rows[i]]
CM_KERNEL void gather_rows(const float* x, size_t width, const uint32_t* rows, float* out) {
  const size_t i = block_x();
  const float* src = x + static_cast<size_t>(rows[i]) * width;
  for (size_t e = thread_x(); e < width; e += kRowThreads) out[i * width + e] = src[e];
}

// grid (m, kv_heads), block kRowThreads: K and V of row r into its pool slot and chunk row.
template <typename KV>
CM_KERNEL void write_kv(unsigned char* pool, uint64_t chunk_bytes, int layer, int kv_heads, int head_dim,
                        int chunk_tokens, const uint32_t* slots, const uint32_t* chunk_rows, const float* k,
                        const float* v) {
  const size_t r = block_x();
  const int h = static_cast<int>(block_y());
  KV* chunk = reinterpret_cast<KV*>(pool + static_cast<size_t>(slots[r]) * chunk_bytes);
  const size_t block = static_cast<size_t>(chunk_tokens) * head_dim;
  KV* kd = chunk + (static_cast<size_t>(layer) * 2 * kv_heads + h) * block + chunk_rows[r] * head_dim;
  KV* vd = chunk + (static_cast<size_t>(layer) * 2 * kv_heads + kv_heads + h) * block + chunk_rows[r] * head_dim;
  const float* ks = k + (r * kv_heads + h) * head_dim;
  const float* vs = v + (r * kv_heads + h) * head_dim;
  for (int i = static_cast<int>(thread_x()); i < head_dim; i += kRowThreads) {
    kd[i] = from_float<KV>(ks[i]);
    vd[i] = from_float<KV>(vs[i]);
  }
}

// grid (m, kv_heads), block kRowThreads: the reverse of write_kv.
template <typename KV>
CM_KERNEL void read_kv(const unsigned char* pool, uint64_t chunk_bytes, int layer, int kv_heads, int head_dim,
                       int chunk_tokens, const uint32_t* slots, const uint32_t* chunk_rows, float* k, float* v) {
  const size_t r = block_x();
  const int h = static_cast<int>(block_y());
  const KV* chunk = reinterpret_cast<const KV*>(pool + static_cast<size_t>(slots[r]) * chunk_bytes);
  const size_t block = static_cast<size_t>(chunk_tokens) * head_dim;
  const KV* ks = chunk + (static_cast<size_t>(layer) * 2 * kv_heads + h) * block + chunk_rows[r] * head_dim;
  const KV* vs = chunk + (static_cast<size_t>(layer) * 2 * kv_heads + kv_heads + h) * block + chunk_rows[r] * head_dim;
  for (int i = static_cast<int>(thread_x()); i < head_dim; i += kRowThreads) {
    k[(r * kv_heads + h) * head_dim + i] = to_float(ks[i]);
    v[(r * kv_heads + h) * head_dim + i] = to_float(vs[i]);
  }
}

}  // namespace chunkmesh::kern
