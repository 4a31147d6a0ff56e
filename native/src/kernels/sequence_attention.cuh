#pragma once
// TPP phase 2 (sequence-first) and the per-sequence baseline: one sequence's
// query heads of one KV head over its private chunks, on CUDA cores (one
// query row per head: vector-matrix work, bound by reading K and V), then
// merged with the phase-1 partials of the shared runs covering it. With
// every chunk private and no runs it is the PagedAttention-style kernel.
//
// Shapes: 128 threads = 4 warps; warp w takes chunks w, w + 4, ...; each warp
// keeps its own (m, l, o) per query row; the warps' states and the run
// partials are merged at the end. Lanes split keys for the scores and head
// dims for P V. KV: half_t or bf16_t; any head_dim <= 256; group <= kMaxGroup.
#include "kernels/attention_work.h"
#include "kernels/portable.h"
#include "kernels/warp_reduce.cuh"

namespace chunkmesh::kern {

constexpr int kSeqWarps = kSeqThreads / 32;
constexpr int kMaxChunk = 256;  // keys per chunk the kernel's score buffer holds
constexpr int kMaxHeadDim = 256;

// Shared memory a sequence_attention launch needs for this group and head dim.
CM_DEVICE_HOST_CONSTEXPR size_t sequence_attention_smem(int group, int head_dim) {
  return sizeof(float) * (static_cast<size_t>(group) * head_dim                 // queries
                          + kSeqWarps * static_cast<size_t>(group) * kMaxChunk  // p per warp
                          + kSeqWarps * static_cast<size_t>(group) * head_dim   // o per warp
                          + 2 * kSeqWarps * static_cast<size_t>(group));        // m, l per warp
}

template <typename KV>
CM_KERNEL void sequence_attention(const SeqWork* works, const uint32_t* chunk_slots, const uint32_t* part_bases,
                                  const unsigned char* pool, uint64_t chunk_bytes, int layer, int kv_heads, int n_heads,
                                  int head_dim, int chunk_tokens, float scale, const float* q, float* out,
                                  const float* part_m, const float* part_l, const float* part_o) {
  const SeqWork w = works[block_x()];
  const int kvh = static_cast<int>(block_y());
  const int g = n_heads / kv_heads;
  const int d = head_dim;
  const int c = chunk_tokens;
  const unsigned t = thread_x();
  const int wp = warp();
  const int ln = lane();

  CM_DYN_SHARED(smem, smem_bytes);
  (void)smem_bytes;
  size_t off = 0;
  const auto take = [&](size_t count) {
    const size_t at_ = off;
    off += sizeof(float) * count;
    return at_;
  };
  Smem<float> qs = carve<float>(smem, take(static_cast<size_t>(g) * d), static_cast<size_t>(g) * d);
  Smem<float> ps = carve<float>(smem, take(static_cast<size_t>(kSeqWarps) * g * kMaxChunk),
                                static_cast<size_t>(kSeqWarps) * g * kMaxChunk);
  Smem<float> os =
      carve<float>(smem, take(static_cast<size_t>(kSeqWarps) * g * d), static_cast<size_t>(kSeqWarps) * g * d);
  Smem<float> ms = carve<float>(smem, take(static_cast<size_t>(kSeqWarps) * g), static_cast<size_t>(kSeqWarps) * g);
  Smem<float> ls = carve<float>(smem, take(static_cast<size_t>(kSeqWarps) * g), static_cast<size_t>(kSeqWarps) * g);

  const size_t q0 = (static_cast<size_t>(w.q_row) * n_heads + static_cast<size_t>(kvh) * g) * d;
  for (unsigned i = t; i < static_cast<unsigned>(g * d); i += kSeqThreads) qs[i] = q[q0 + i] * scale;
  for (unsigned i = t; i < static_cast<unsigned>(kSeqWarps * g * d); i += kSeqThreads) os[i] = 0.f;
  for (unsigned i = t; i < static_cast<unsigned>(kSeqWarps * g); i += kSeqThreads) {
    ms[i] = -INFINITY;
    ls[i] = 0.f;
  }
  CM_SYNC("sequence_attention.queries_loaded");

  const size_t k_block = (static_cast<size_t>(layer) * 2 * kv_heads + kvh) * c * d;
  const size_t v_block = (static_cast<size_t>(layer) * 2 * kv_heads + kv_heads + kvh) * c * d;
  for (unsigned ci = static_cast<unsigned>(wp); ci < w.chunk_count; ci += kSeqWarps) {
    const KV* chunk =
        reinterpret_cast<const KV*>(pool + static_cast<size_t>(chunk_slots[w.chunk_begin + ci]) * chunk_bytes);
    const KV* k = chunk + k_block;
    const KV* v = chunk + v_block;
    const int n = static_cast<int>(w.keys - ci * c < static_cast<unsigned>(c) ? w.keys - ci * c : c);
    for (int gi = 0; gi < g; ++gi) {
      // scores of this lane's keys, then the chunk's max and sum across the warp
      float mx = -INFINITY;
      for (int j = ln; j < n; j += 32) {
        float s = 0.f;
        for (int i = 0; i < d; ++i) s += qs[gi * d + i] * to_float(k[static_cast<size_t>(j) * d + i]);
        ps[(wp * g + gi) * kMaxChunk + j] = s;
        mx = fmaxf(mx, s);
      }
      mx = warp_max(mx);
      float sum = 0.f;
      for (int j = ln; j < n; j += 32) {
        const float p = fast_exp(ps[(wp * g + gi) * kMaxChunk + j] - mx);
        ps[(wp * g + gi) * kMaxChunk + j] = p;
        sum += p;
      }
      sum = warp_sum(sum);
      warp_sync();  // every lane's p is in shared memory before any lane reads them all
      const int st = wp * g + gi;
      const float m_old = ms[st];
      const float m_new = fmaxf(m_old, mx);
      const float a = m_old == -INFINITY ? 0.f : fast_exp(m_old - m_new);
      const float b = fast_exp(mx - m_new);
      for (int i = ln; i < d; i += 32) {
        float acc = 0.f;
        for (int j = 0; j < n; ++j) acc += ps[st * kMaxChunk + j] * to_float(v[static_cast<size_t>(j) * d + i]);
        os[st * d + i] = a * os[st * d + i] + b * acc;
      }
      warp_sync();  // all lanes read m, l before lane 0 changes them, and p before the next row reuses it
      if (ln == 0) {
        ls[st] = a * ls[st] + b * sum;
        ms[st] = m_new;
      }
      warp_sync();
    }
  }
  CM_SYNC("sequence_attention.warps_done");

  // Merge the warps' states and the run partials, one output element per thread.
  for (unsigned e = t; e < static_cast<unsigned>(g * d); e += kSeqThreads) {
    const int gi = static_cast<int>(e) / d, i = static_cast<int>(e) % d;
    float m = -INFINITY, l = 0.f, o = 0.f;
    const auto merge = [&](float mb, float lb, float ob) {
      if (mb == -INFINITY) return;  // an empty state merges as the identity
      const float mx = fmaxf(m, mb);
      const float a = m == -INFINITY ? 0.f : fast_exp(m - mx);
      const float b = fast_exp(mb - mx);
      l = a * l + b * lb;
      o = a * o + b * ob;
      m = mx;
    };
    for (int ww = 0; ww < kSeqWarps; ++ww) {
      const int st = ww * g + gi;
      merge(ms[st], ls[st], os[st * d + i]);
    }
    const size_t head = static_cast<size_t>(kvh) * g + gi;
    for (unsigned r = 0; r < w.part_count; ++r) {
      const size_t pi = part_bases[w.part_begin + r] + head;
      merge(part_m[pi], part_l[pi], part_o[pi * d + i]);
    }
    out[q0 + e] = l > 0.f ? o / l : 0.f;
  }
}

}  // namespace chunkmesh::kern
