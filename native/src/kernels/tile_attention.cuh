#pragma once
// Attention of a tile of query rows over a list of KV chunks on tensor cores,
// FlashAttention style: key tiles streamed through shared memory with
// double-buffered async copies, S = Q K^T and O += P V as 16x16x16 tile MMAs
// with fp32 accumulators, online softmax per row in between (m, l in fp32).
// It serves TPP phase 1 (a shared run: all queries of the run's sequences
// for the query heads of one KV head, partials out) and prefill (a block of
// a sequence's new tokens with causal limits, normalised output out).
//
// Shapes: 128 threads = 4 warps, each owning 16 of the tile's 64 rows.
// KV: half_t or bf16_t (the pool's type, also the MMA input type).
// D: the head dim padded to a multiple of 16 (zero columns); head_dim % 8 == 0
// so a K/V row is a whole number of 16-byte copies. KT: keys per tile (16 or
// 32), a divisor of the chunk size.
#include "kernels/attention_work.h"
#include "kernels/portable.h"
#include "kernels/warp_reduce.cuh"

namespace chunkmesh::kern {

// Shared memory a tile_attention<KV, D, KT> launch needs.
template <typename KV, int D, int KT>
constexpr size_t tile_attention_smem() {
  return 128 * 9 + sizeof(KV) * (kTileRows * D + 4 * KT * D + kTileRows * KT) +
         sizeof(float) * (kTileRows * KT + kTileRows * D + 3 * kTileRows) + sizeof(uint32_t) * kTileRows;
}

template <typename KV, int D, int KT>
CM_KERNEL void tile_attention(const TileWork* works, const TileRow* rows, const uint32_t* chunk_slots,
                              const unsigned char* pool, uint64_t chunk_bytes, int layer, int kv_heads, int head_dim,
                              int chunk_tokens, float scale, const float* q, float* out, float* part_m, float* part_l,
                              float* part_o) {
  static_assert(D % 16 == 0 && D <= 256 && (KT == 16 || KT == 32), "tile shape");
  const TileWork w = works[block_x()];
  const int d = head_dim;
  const int c = chunk_tokens;
  const unsigned t = thread_x();
  const int wp = warp();
  const int ln = lane();

  CM_DYN_SHARED(smem, smem_bytes);
  size_t off = 0;
  const auto take = [&](size_t bytes) {
    const size_t at_ = off;
    off = (off + bytes + 127) / 128 * 128;
    return at_;
  };
  Smem<KV> qs = carve<KV>(smem, take(sizeof(KV) * kTileRows * D), kTileRows * D);
  Smem<KV> ks = carve<KV>(smem, take(sizeof(KV) * 2 * KT * D), 2 * KT * D);
  Smem<KV> vs = carve<KV>(smem, take(sizeof(KV) * 2 * KT * D), 2 * KT * D);
  Smem<float> sc = carve<float>(smem, take(sizeof(float) * kTileRows * KT), kTileRows * KT);
  Smem<KV> pr = carve<KV>(smem, take(sizeof(KV) * kTileRows * KT), kTileRows * KT);
  Smem<float> os = carve<float>(smem, take(sizeof(float) * kTileRows * D), kTileRows * D);
  Smem<float> ms = carve<float>(smem, take(sizeof(float) * kTileRows), kTileRows);
  Smem<float> ls = carve<float>(smem, take(sizeof(float) * kTileRows), kTileRows);
  Smem<float> alpha = carve<float>(smem, take(sizeof(float) * kTileRows), kTileRows);
  Smem<uint32_t> row_keys = carve<uint32_t>(smem, take(sizeof(uint32_t) * kTileRows), kTileRows);
  (void)smem_bytes;

  // Queries (scaled, in the MMA type), zero rows and columns past the tile;
  // zero K/V padding columns, which the copies never touch.
  const KV zero = from_float<KV>(0.f);
  for (unsigned i = t; i < static_cast<unsigned>(kTileRows * D); i += kTileThreads) {
    const unsigned r = i / D, col = i % D;
    float v = 0.f;
    if (r < w.row_count && col < static_cast<unsigned>(d)) v = q[rows[w.row_begin + r].q + col] * scale;
    qs[i] = from_float<KV>(v);
  }
  for (unsigned i = t; i < static_cast<unsigned>(2 * KT * D); i += kTileThreads) {
    if (i % D >= static_cast<unsigned>(d)) {
      ks[i] = zero;
      vs[i] = zero;
    }
  }
  for (unsigned r = t; r < static_cast<unsigned>(kTileRows); r += kTileThreads) {
    ms[r] = -INFINITY;
    ls[r] = 0.f;
    row_keys[r] = r < w.row_count ? rows[w.row_begin + r].keys : 0u;
  }
  for (unsigned i = t; i < static_cast<unsigned>(kTileRows * D); i += kTileThreads) os[i] = 0.f;

  // K and V of key tile kt into buffer b: 16-byte async copies of valid keys,
  // zeros for keys past the tile's last visible one (their stale pool bytes
  // could be NaN, and 0 * NaN would poison P V).
  const size_t k_block = (static_cast<size_t>(layer) * 2 * kv_heads + w.kv_head) * c * d * sizeof(KV);
  const size_t v_block = (static_cast<size_t>(layer) * 2 * kv_heads + kv_heads + w.kv_head) * c * d * sizeof(KV);
  const unsigned per_row = static_cast<unsigned>(d) * sizeof(KV) / 16;
  const auto load_tile = [&](unsigned kt, int b) {
    const unsigned key0 = kt * KT;
    const unsigned char* chunk = pool + static_cast<size_t>(chunk_slots[w.chunk_begin + key0 / c]) * chunk_bytes;
    const size_t row0 = static_cast<size_t>(key0 % c) * d * sizeof(KV);
    for (unsigned v = t; v < KT * per_row; v += kTileThreads) {
      const unsigned row = v / per_row, part = v % per_row;
      const size_t dst = static_cast<size_t>(b) * KT * D + row * D + part * (16 / sizeof(KV));
      KV* kd = at(ks, dst, 16 / sizeof(KV));
      KV* vd = at(vs, dst, 16 / sizeof(KV));
      if (key0 + row < w.keys) {
        const size_t src = row0 + static_cast<size_t>(row) * d * sizeof(KV) + part * 16;
        async_copy_16(kd, chunk + k_block + src);
        async_copy_16(vd, chunk + v_block + src);
      } else {
        for (unsigned e = 0; e < 16 / sizeof(KV); ++e) kd[e] = vd[e] = zero;
      }
    }
    async_commit();
  };

  const unsigned tiles = (w.keys + KT - 1) / KT;
  if (tiles > 0) load_tile(0, 0);
  for (unsigned kt = 0; kt < tiles; ++kt) {
    const int b = static_cast<int>(kt & 1);
    if (kt + 1 < tiles) {
      load_tile(kt + 1, b ^ 1);
      CM_ASYNC_WAIT("tile_attention.wait_current", 1);
    } else {
      CM_ASYNC_WAIT("tile_attention.wait_last", 0);
    }
    CM_SYNC("tile_attention.tile_loaded");

    // S = Q K^T for this warp's 16 rows
    for (int nt = 0; nt < KT / 16; ++nt) {
      FragC acc;
      tile_fill(acc, 0.f);
      for (int k16 = 0; k16 < D / 16; ++k16) {
        FragA<KV> a;
        FragBCol<KV> bk;
        tile_load(a, at(qs, static_cast<size_t>(wp) * 16 * D + k16 * 16, 15 * D + 16), D);
        tile_load(bk, at(ks, static_cast<size_t>(b) * KT * D + nt * 16 * D + k16 * 16, 15 * D + 16), D);
        tile_mma(acc, a, bk, acc);
      }
      tile_store(at(sc, static_cast<size_t>(wp) * 16 * KT + nt * 16, 15 * KT + 16), acc, KT);
    }
    warp_sync();

    // online softmax, one row at a time, lanes across the tile's keys
    for (int rr = 0; rr < 16; ++rr) {
      const int r = wp * 16 + rr;
      const unsigned key = kt * KT + ln;
      const float s = (ln < KT && key < row_keys[r]) ? sc[r * KT + ln] : -INFINITY;
      const float m_old = ms[r];
      const float m_new = fmaxf(m_old, warp_max(s));
      const float p = s == -INFINITY ? 0.f : fast_exp(s - m_new);
      const float sum = warp_sum(p);
      if (ln < KT) pr[r * KT + ln] = from_float<KV>(p);
      if (ln == 0) {
        const float a = m_old == -INFINITY ? 0.f : fast_exp(m_old - m_new);
        alpha[r] = a;
        ls[r] = ls[r] * a + sum;
        ms[r] = m_new;
      }
    }
    warp_sync();
    for (int rr = 0; rr < 16; ++rr) {
      const int r = wp * 16 + rr;
      for (int col = ln; col < D; col += 32) os[r * D + col] *= alpha[r];
    }
    warp_sync();

    // O += P V
    for (int nt = 0; nt < D / 16; ++nt) {
      FragC acc;
      const size_t o_at = static_cast<size_t>(wp) * 16 * D + nt * 16;
      tile_load_acc(acc, at(os, o_at, 15 * D + 16), D);
      for (int k16 = 0; k16 < KT / 16; ++k16) {
        FragA<KV> a;
        FragBRow<KV> bv;
        tile_load(a, at(pr, static_cast<size_t>(wp) * 16 * KT + k16 * 16, 15 * KT + 16), KT);
        tile_load(bv, at(vs, static_cast<size_t>(b) * KT * D + k16 * 16 * D + nt * 16, 15 * D + 16), D);
        tile_mma(acc, a, bv, acc);
      }
      tile_store(at(os, o_at, 15 * D + 16), acc, D);
    }
    CM_SYNC("tile_attention.tile_consumed");  // the next load overwrites this buffer
  }

  for (unsigned i = t; i < w.row_count * static_cast<unsigned>(d); i += kTileThreads) {
    const unsigned r = i / d, col = i % d;
    const TileRow& row = rows[w.row_begin + r];
    if (w.partial) {
      part_o[static_cast<size_t>(row.out) * d + col] = os[r * D + col];
    } else {
      const float l = ls[r];
      out[row.out + col] = l > 0.f ? os[r * D + col] / l : 0.f;
    }
  }
  if (w.partial) {
    for (unsigned r = t; r < w.row_count; r += kTileThreads) {
      part_m[rows[w.row_begin + r].out] = ms[r];
      part_l[rows[w.row_begin + r].out] = ls[r];
    }
  }
}

}  // namespace chunkmesh::kern
