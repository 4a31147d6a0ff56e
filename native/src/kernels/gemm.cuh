#pragma once
// y[m][n] = x[m][k] W[n][k]^T (+ bias[n]) on tensor cores: fp32 activations
// converted to the weights' type (half_t or bf16_t) tile by tile, fp32
// accumulators. Each output sums its k tiles in the same order whatever m
// and wherever the row falls in a block, so a token's result does not depend
// on the rest of its batch (the Device::gemm contract).
//
// Shapes: a 64x64 output tile per 128-thread block (4 warps of 32x32 =
// 2x2 fragments), k in steps of 32; grid (ceil(n / 64), ceil(m / 64)). Any
// m, n, k: tiles past the edges are zero-filled.
#include "kernels/portable.h"

namespace chunkmesh::kern {

constexpr int kGemmTile = 64;
constexpr int kGemmK = 32;
constexpr int kGemmThreads = 128;

template <typename W>
CM_KERNEL void gemm(const float* x, size_t m, size_t k, const W* w, size_t n, const float* bias, float* y) {
  constexpr int kLd = kGemmK + 8;        // padded rows (a multiple of 8 for 16-bit tile loads)
  constexpr int kOutLd = kGemmTile + 4;  // a multiple of 4 for fp32 tile stores
  CM_SHARED(W, xs, kGemmTile * kLd);
  CM_SHARED(W, ws, kGemmTile * kLd);
  CM_SHARED(float, stage, kGemmTile* kOutLd);
  const size_t n0 = static_cast<size_t>(block_x()) * kGemmTile;
  const size_t m0 = static_cast<size_t>(block_y()) * kGemmTile;
  const unsigned t = thread_x();
  const int wm = warp() / 2;  // this warp's 32x32 quadrant
  const int wn = warp() % 2;
  FragC acc[2][2];
  for (auto& row : acc)
    for (FragC& f : row) tile_fill(f, 0.f);

  for (size_t k0 = 0; k0 < k; k0 += kGemmK) {
    for (unsigned e = t; e < static_cast<unsigned>(kGemmTile * kGemmK); e += kGemmThreads) {
      const unsigned r = e / kGemmK, kk = e % kGemmK;
      const bool in_k = k0 + kk < k;
      xs[r * kLd + kk] = from_float<W>(in_k && m0 + r < m ? x[(m0 + r) * k + k0 + kk] : 0.f);
      ws[r * kLd + kk] = in_k && n0 + r < n ? w[(n0 + r) * k + k0 + kk] : from_float<W>(0.f);
    }
    CM_SYNC("gemm.tiles_loaded");
    for (int kk = 0; kk < kGemmK; kk += 16) {
      FragA<W> a[2];
      FragBCol<W> b[2];
      for (int i = 0; i < 2; ++i) {
        tile_load(a[i], at(xs, (wm * 32 + i * 16) * kLd + kk, 15 * kLd + 16), kLd);
        tile_load(b[i], at(ws, (wn * 32 + i * 16) * kLd + kk, 15 * kLd + 16), kLd);
      }
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) tile_mma(acc[i][j], a[i], b[j], acc[i][j]);
    }
    CM_SYNC("gemm.tiles_consumed");
  }

  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      tile_store(at(stage, (wm * 32 + i * 16) * kOutLd + wn * 32 + j * 16, 15 * kOutLd + 16), acc[i][j], kOutLd);
  CM_SYNC("gemm.staged");
  for (unsigned e = t; e < static_cast<unsigned>(kGemmTile * kGemmTile); e += kGemmThreads) {
    const unsigned r = e / kGemmTile, col = e % kGemmTile;
    if (m0 + r < m && n0 + col < n) {
      y[(m0 + r) * n + n0 + col] = stage[r * kOutLd + col] + (bias ? bias[n0 + col] : 0.f);
    }
  }
}

// grid (ceil(n / 256)), block 256: fp32 weights into the device's weight type.
template <typename W>
CM_KERNEL void convert_weights(const float* src, W* dst, size_t n) {
  const size_t i = static_cast<size_t>(block_x()) * 256 + thread_x();
  if (i < n) dst[i] = from_float<W>(src[i]);
}

}  // namespace chunkmesh::kern
