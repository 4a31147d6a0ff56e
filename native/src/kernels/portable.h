#pragma once
// The portability layer every kernel (kernels/*.cuh) is written against.
// Under nvcc it maps to CUDA intrinsics, WMMA tensor-core tiles and cp.async;
// compiled by g++ with CHUNKMESH_EMU it maps to the CPU emulator
// (kernels/emu/emu.h), so CI runs the kernels' own source without a GPU.
// Kernels use only what is here: one-dimensional blocks, warps of 32, the
// block barrier, warp shuffles, shared memory spans, 16-byte async copies,
// the 16x16x16 tile MMA with fp32 accumulation, fast exp, and fp16/bf16.
//
// Named sync points: CM_SYNC(point) and CM_ASYNC_WAIT(point, n) are a block
// barrier and a cp.async wait that a test can switch off by name in the
// emulator (emu::settings().mutation), to prove its checks notice.
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#define CM_KERNEL __global__
#define CM_DEVICE __device__ __forceinline__
#define CM_DEVICE_HOST_CONSTEXPR __host__ __device__ constexpr inline
#define CM_SHARED(T, name, n) __shared__ __align__(16) T name[n]
#define CM_DYN_SHARED(name, bytes)                      \
  extern __shared__ __align__(16) unsigned char name[]; \
  const size_t bytes = cm_dynamic_shared_bytes()
#define CM_SYNC(point) __syncthreads()
#define CM_ASYNC_WAIT(point, n) ::chunkmesh::kern::async_wait<n>()

namespace chunkmesh::kern {

using half_t = __half;
using bf16_t = __nv_bfloat16;
template <typename T>
using Smem = T*;

CM_DEVICE unsigned thread_x() { return threadIdx.x; }
CM_DEVICE unsigned block_x() { return blockIdx.x; }
CM_DEVICE unsigned block_y() { return blockIdx.y; }
CM_DEVICE unsigned block_z() { return blockIdx.z; }
CM_DEVICE unsigned threads() { return blockDim.x; }
CM_DEVICE unsigned blocks_x() { return gridDim.x; }
CM_DEVICE int lane() { return static_cast<int>(threadIdx.x & 31u); }
CM_DEVICE int warp() { return static_cast<int>(threadIdx.x >> 5); }

CM_DEVICE void warp_sync() { __syncwarp(); }
CM_DEVICE float shfl_xor(float v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
CM_DEVICE float shfl_idx(float v, int src) { return __shfl_sync(0xffffffffu, v, src); }
CM_DEVICE unsigned ballot(bool p) { return __ballot_sync(0xffffffffu, p); }

// A raw pointer to count elements of a shared array from offset (range-checked in emulation).
template <typename T>
CM_DEVICE T* at(Smem<T> s, size_t offset, size_t /*count*/) {
  return s + offset;
}
// A typed view of dynamic shared memory from a byte offset.
template <typename T>
CM_DEVICE Smem<T> carve(unsigned char* base, size_t byte_offset, size_t /*count*/) {
  return reinterpret_cast<T*>(base + byte_offset);
}

CM_DEVICE void async_copy_16(void* smem_dst, const void* global_src) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem_dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(global_src));
}
CM_DEVICE void async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
CM_DEVICE void async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

CM_DEVICE float fast_exp(float x) { return __expf(x); }
CM_DEVICE float to_float(float x) { return x; }
CM_DEVICE float to_float(half_t x) { return __half2float(x); }
CM_DEVICE float to_float(bf16_t x) { return __bfloat162float(x); }
template <typename T>
CM_DEVICE T from_float(float x);
template <>
CM_DEVICE float from_float<float>(float x) {
  return x;
}
template <>
CM_DEVICE half_t from_float<half_t>(float x) {
  return __float2half_rn(x);
}
template <>
CM_DEVICE bf16_t from_float<bf16_t>(float x) {
  return __float2bfloat16_rn(x);
}

// Warp-collective 16x16x16 tile MMA: D = A B + C, A row-major, B col- or
// row-major, fp32 accumulators.
template <typename In>
using FragA = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, In, nvcuda::wmma::row_major>;
template <typename In>
using FragBCol = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, In, nvcuda::wmma::col_major>;
template <typename In>
using FragBRow = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, In, nvcuda::wmma::row_major>;
using FragC = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>;

template <typename Frag, typename T>
CM_DEVICE void tile_load(Frag& f, const T* p, unsigned ld) {
  nvcuda::wmma::load_matrix_sync(f, p, ld);
}
CM_DEVICE void tile_load_acc(FragC& f, const float* p, unsigned ld) {
  nvcuda::wmma::load_matrix_sync(f, p, ld, nvcuda::wmma::mem_row_major);
}
CM_DEVICE void tile_fill(FragC& f, float v) { nvcuda::wmma::fill_fragment(f, v); }
template <typename A, typename B>
CM_DEVICE void tile_mma(FragC& d, const A& a, const B& b, const FragC& c) {
  nvcuda::wmma::mma_sync(d, a, b, c);
}
CM_DEVICE void tile_store(float* p, const FragC& f, unsigned ld) {
  nvcuda::wmma::store_matrix_sync(p, f, ld, nvcuda::wmma::mem_row_major);
}

}  // namespace chunkmesh::kern

// The launch's dynamic shared memory size, for range checks (the kernel's own parameter on the GPU).
CM_DEVICE size_t cm_dynamic_shared_bytes() {
  unsigned r;
  asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(r));
  return r;
}

#else  // the CPU emulator

#include <cmath>
#include <cstring>

#include "kernels/emu/emu.h"
#include "runtime/half.h"

#define CM_KERNEL
#define CM_DEVICE inline
#define CM_DEVICE_HOST_CONSTEXPR constexpr inline
#define CM_SHARED(T, name, n)                                                                                    \
  ::chunkmesh::emu::SharedSpan<T> name(static_cast<T*>(::chunkmesh::emu::shared_static(                          \
                                           __FILE__ ":" CM_STRINGIFY(__LINE__) ":" #name, sizeof(T) * (n), 16)), \
                                       (n), #name)
#define CM_DYN_SHARED(name, bytes) \
  size_t bytes = 0;                \
  unsigned char* name = static_cast<unsigned char*>(::chunkmesh::emu::shared_dynamic(&bytes))
#define CM_STRINGIFY2(x) #x
#define CM_STRINGIFY(x) CM_STRINGIFY2(x)
#define CM_SYNC(point) \
  if (!::chunkmesh::emu::mutated(point)) ::chunkmesh::emu::sync_threads()
#define CM_ASYNC_WAIT(point, n) \
  if (!::chunkmesh::emu::mutated(point)) ::chunkmesh::emu::async_wait(n)

namespace chunkmesh::kern {

// fp16 and bf16 as the emulator stores them: the bits, converted exactly as the GPU does.
struct half_t {
  uint16_t bits;
};
struct bf16_t {
  uint16_t bits;
};
template <typename T>
using Smem = emu::SharedSpan<T>;

inline unsigned thread_x() { return emu::thread_idx().x; }
inline unsigned block_x() { return emu::block_idx().x; }
inline unsigned block_y() { return emu::block_idx().y; }
inline unsigned block_z() { return emu::block_idx().z; }
inline unsigned threads() { return emu::block_dim().x; }
inline unsigned blocks_x() { return emu::grid_dim().x; }
inline int lane() { return emu::lane_id(); }
inline int warp() { return emu::warp_id(); }

inline void warp_sync() { emu::sync_warp(); }
inline float shfl_xor(float v, int mask) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  b = emu::shfl_xor(b, mask);
  std::memcpy(&v, &b, 4);
  return v;
}
inline float shfl_idx(float v, int src) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  b = emu::shfl_idx(b, src);
  std::memcpy(&v, &b, 4);
  return v;
}
inline unsigned ballot(bool p) { return emu::ballot(p); }

template <typename T>
T* at(const Smem<T>& s, size_t offset, size_t count) {
  return s.at(offset, count);
}
template <typename T>
Smem<T> carve(unsigned char* base, size_t byte_offset, size_t count) {
  size_t total = 0;
  unsigned char* dyn = static_cast<unsigned char*>(emu::shared_dynamic(&total));
  if (base != dyn) throw emu::EmuError("carve: base is not the dynamic shared memory");
  return emu::SharedSpan<unsigned char>(dyn, total, "dynamic shared memory").as<T>(byte_offset, count, "carve");
}

inline void async_copy_16(void* smem_dst, const void* global_src) { emu::async_copy_16(smem_dst, global_src); }
inline void async_commit() { emu::async_commit(); }

inline float fast_exp(float x) { return std::exp(x); }
inline float to_float(float x) { return x; }
inline float to_float(half_t x) { return half_to_float(x.bits); }
inline float to_float(bf16_t x) { return bf16_to_float(x.bits); }
template <typename T>
T from_float(float x);
template <>
inline float from_float<float>(float x) {
  return x;
}
template <>
inline half_t from_float<half_t>(float x) {
  return half_t{float_to_half(x)};
}
template <>
inline bf16_t from_float<bf16_t>(float x) {
  return bf16_t{float_to_bf16(x)};
}

// The tile MMA as a warp collective: every lane holds the whole tile (as
// floats, converted from the input type exactly), the product is summed in
// fp32 in k order. Each operation is a warp collective, so a lane that skips
// one is reported.
template <typename In>
struct FragA {
  float v[256];
};
template <typename In>
struct FragBCol {
  float v[256];  // v[k * 16 + n]
};
template <typename In>
struct FragBRow {
  float v[256];  // v[k * 16 + n]
};
struct FragC {
  float v[256];
};

// Every lane of a warp loads the same tile: the first lane after the
// collective converts it, the others copy the warp's result.
template <typename Frag, typename Fill>
void warp_load(Frag& f, Fill fill) {
  emu::sync_warp();
  bool first = false;
  Frag* shared = static_cast<Frag*>(emu::warp_once(sizeof(Frag), &first));
  if (first) fill(*shared);
  f = *shared;
}
template <typename In, typename T>
void tile_load(FragA<In>& f, const T* p, unsigned ld) {
  warp_load(f, [&](FragA<In>& s) {
    for (int r = 0; r < 16; ++r)
      for (int k = 0; k < 16; ++k) s.v[r * 16 + k] = to_float(p[r * ld + k]);
  });
}
template <typename In, typename T>
void tile_load(FragBCol<In>& f, const T* p, unsigned ld) {
  warp_load(f, [&](FragBCol<In>& s) {
    for (int n = 0; n < 16; ++n)
      for (int k = 0; k < 16; ++k) s.v[k * 16 + n] = to_float(p[n * ld + k]);
  });
}
template <typename In, typename T>
void tile_load(FragBRow<In>& f, const T* p, unsigned ld) {
  warp_load(f, [&](FragBRow<In>& s) {
    for (int k = 0; k < 16; ++k)
      for (int n = 0; n < 16; ++n) s.v[k * 16 + n] = to_float(p[k * ld + n]);
  });
}
inline void tile_load_acc(FragC& f, const float* p, unsigned ld) {
  warp_load(f, [&](FragC& s) {
    for (int r = 0; r < 16; ++r)
      for (int c = 0; c < 16; ++c) s.v[r * 16 + c] = p[r * ld + c];
  });
}
inline void tile_fill(FragC& f, float v) {
  for (float& x : f.v) x = v;
}
template <typename A, typename B>
void tile_mma(FragC& d, const A& a, const B& b, const FragC& c) {
  emu::sync_warp();
  // every lane holds the same tiles: the first lane computes, the others copy
  bool first = false;
  FragC* out = static_cast<FragC*>(emu::warp_once(sizeof(FragC), &first));
  if (first) {
    for (int r = 0; r < 16; ++r) {
      for (int n = 0; n < 16; ++n) {
        float acc = c.v[r * 16 + n];
        for (int k = 0; k < 16; ++k) acc += a.v[r * 16 + k] * b.v[k * 16 + n];
        out->v[r * 16 + n] = acc;
      }
    }
  }
  d = *out;
}
inline void tile_store(float* p, const FragC& f, unsigned ld) {
  emu::sync_warp();
  bool first = false;
  emu::warp_once(0, &first);
  if (!first) return;  // every lane holds the same tile: one writes it
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c) p[r * ld + c] = f.v[r * 16 + c];
}

}  // namespace chunkmesh::kern

#endif
