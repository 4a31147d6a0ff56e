#pragma once
// The GPU device: the Device interface over a backend that owns memory and
// launches kernels. The same code drives the real GPU (CudaBackend, compiled
// by nvcc in device/cuda) and the CPU emulator (EmuBackend, compiled by g++
// for the native tests), so the emulated runs exercise this very host code:
// the step-plan upload, the attention layouts, every launch shape.
//
// Backend interface:
//   void* alloc(size_t); void free(void*);
//   void to_device(void* dst, const void* host, size_t); void to_host(void* host, const void* src, size_t);
//   void on_device(void* dst, const void* src, size_t); void sync();
//   template <class... A, class... P> void launch(void (*kernel)(A...), Grid, Grid, size_t smem, P...);
//   DeviceInfo info() const;
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "device/device.h"
#include "device/gpu/attention_layout.h"
#include "kernels/gemm.cuh"
#include "kernels/layer_ops.cuh"
#include "kernels/sequence_attention.cuh"
#include "kernels/tile_attention.cuh"
#include "runtime/error.h"

namespace chunkmesh {

struct Grid {
  unsigned x = 1, y = 1, z = 1;
};

inline unsigned blocks_for(size_t n, unsigned per_block) {
  return static_cast<unsigned>((n + per_block - 1) / per_block);
}

namespace gpu {

struct Buffer {
  void* p = nullptr;
  size_t bytes = 0;
};

// An attention layout and its copy on the device: the parts at byte offsets within one buffer.
enum LayoutPart { kTiles, kRows, kTileChunks, kSeqs, kSeqChunks, kPartBases, kParts };
struct Uploaded {
  AttentionLayout layout;
  Buffer buf;
  std::array<size_t, kParts> at{};
  bool ready = false;
  template <typename T>
  const T* ptr(LayoutPart part) const {
    return reinterpret_cast<const T*>(static_cast<const unsigned char*>(buf.p) + at[part]);
  }
};

}  // namespace gpu

template <typename Backend>
class GpuDevice final : public Device {
  using Buffer = gpu::Buffer;
  using Uploaded = gpu::Uploaded;

 public:
  GpuDevice(Backend backend, DType weights) : b_(std::move(backend)), weights_(weights) {
    if (weights != DType::kF16 && weights != DType::kBF16) throw_invalid("GPU weights are f16 or bf16");
  }
  ~GpuDevice() override {
    for (Buffer* buf : {&plan_buf_, &decode_[0].buf, &decode_[1].buf, &prefill_.buf, &part_m_, &part_l_, &part_o_}) {
      if (buf->p != nullptr) b_.free(buf->p);
    }
  }

  DeviceInfo info() const override { return b_.info(); }
  bool supports_kv(DType t) const override { return t == DType::kF16 || t == DType::kBF16; }

  void* allocate(size_t bytes) override { return b_.alloc(std::max<size_t>(bytes, 16)); }
  void release(void* p) override { b_.free(p); }
  void* allocate_host(size_t bytes) override { return b_.alloc_host(std::max<size_t>(bytes, 16)); }
  void release_host(void* p) override { b_.free_host(p); }
  void copy_in(void* dst, const void* host_src, size_t bytes) override { b_.to_device(dst, host_src, bytes); }
  void copy_out(void* host_dst, const void* src, size_t bytes) override { b_.to_host(host_dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) override { b_.on_device(dst, src, bytes); }

  DeviceMatrix upload_matrix(const float* host, size_t rows, size_t cols) override {
    const size_t n = rows * cols;
    void* staged = b_.alloc(n * sizeof(float));
    b_.to_device(staged, host, n * sizeof(float));
    void* dst = b_.alloc(n * 2);
    with_weight_type([&](auto w) {
      using W = decltype(w);
      b_.launch(kern::convert_weights<W>, Grid{blocks_for(n, 256)}, Grid{256}, 0, static_cast<const float*>(staged),
                static_cast<W*>(dst), n);
    });
    b_.sync();
    b_.free(staged);
    return DeviceMatrix{dst, weights_, rows, cols};
  }
  void release_matrix(const DeviceMatrix& m) override { b_.free(const_cast<void*>(m.data)); }

  void copy_chunk(const KvPool& pool, uint32_t dst, uint32_t src) override {
    copy(pool.chunk(dst), pool.chunk(src), pool.chunk_bytes);
  }
  void read_chunk(const KvPool& pool, uint32_t slot, void* host_dst) override {
    b_.to_host(host_dst, pool.chunk(slot), pool.chunk_bytes);
  }
  void write_chunk(const KvPool& pool, uint32_t slot, const void* host_src) override {
    b_.to_device(pool.chunk(slot), host_src, pool.chunk_bytes);
  }

  // One upload of the per-row arrays; the attention layouts follow on first use.
  void prepare(const StepPlan& plan) override {
    plan_ = &plan;
    staging_.clear();
    at_tokens_ = stage(plan.tokens);
    at_slots_ = stage(plan.kv_slot);
    at_rows_ = stage(plan.kv_row);
    at_cos_ = stage(plan.rope_cos);
    at_sin_ = stage(plan.rope_sin);
    at_logits_ = stage(plan.logit_rows);
    upload(plan_buf_);
    decode_[0].ready = decode_[1].ready = prefill_.ready = false;
  }

  void embed(const DeviceMatrix& table, float* x) override {
    with_weight_type([&](auto w) {
      using W = decltype(w);
      b_.launch(kern::embed<W>, Grid{rows()}, Grid{kern::kRowThreads}, 0, static_cast<const W*>(table.data),
                static_cast<int>(table.cols), plan_ptr<int32_t>(at_tokens_), x);
    });
  }

  void write_kv(const KvPool& pool, int layer, const float* k, const float* v) override {
    if (rows() == 0) return;
    with_kv_type(pool, [&](auto kv) {
      using KV = decltype(kv);
      b_.launch(kern::write_kv<KV>, Grid{rows(), static_cast<unsigned>(pool.shape.kv_heads)}, Grid{kern::kRowThreads},
                0, pool.base, static_cast<uint64_t>(pool.chunk_bytes), layer, pool.shape.kv_heads, pool.shape.head_dim,
                pool.shape.chunk_tokens, plan_ptr<uint32_t>(at_slots_), plan_ptr<uint32_t>(at_rows_), k, v);
    });
  }

  void read_kv(const KvPool& pool, int layer, float* k, float* v) override {
    if (rows() == 0) return;
    with_kv_type(pool, [&](auto kv) {
      using KV = decltype(kv);
      b_.launch(kern::read_kv<KV>, Grid{rows(), static_cast<unsigned>(pool.shape.kv_heads)}, Grid{kern::kRowThreads}, 0,
                static_cast<const unsigned char*>(pool.base), static_cast<uint64_t>(pool.chunk_bytes), layer,
                pool.shape.kv_heads, pool.shape.head_dim, pool.shape.chunk_tokens, plan_ptr<uint32_t>(at_slots_),
                plan_ptr<uint32_t>(at_rows_), k, v);
    });
  }

  void rope(float* x, int heads, int head_dim, RopeLayout layout) override {
    const size_t n = static_cast<size_t>(rows()) * heads * (head_dim / 2);
    if (n == 0) return;
    b_.launch(kern::rope, Grid{blocks_for(n, 256)}, Grid{256}, 0, x, static_cast<size_t>(rows()), heads, head_dim,
              layout == RopeLayout::kPairs ? 1 : 0, plan_ptr<float>(at_cos_), plan_ptr<float>(at_sin_));
  }

  void decode_attention(const KvPool& pool, int layer, int n_heads, float scale, const float* q, float* out,
                        DecodeMode mode) override {
    if (plan().decode.empty()) return;
    const AttentionGeometry geo = geometry(pool, n_heads);
    Uploaded& u = decode_[mode == DecodeMode::kTpp ? 0 : 1];
    if (!u.ready) upload_layout(u, decode_layout(plan().decode, mode, geo));
    const AttentionLayout& l = u.layout;
    if (!l.tiles.empty()) {
      grow(part_m_, l.partial_rows * sizeof(float));
      grow(part_l_, l.partial_rows * sizeof(float));
      grow(part_o_, l.partial_rows * geo.head_dim * sizeof(float));
      launch_tiles(pool, layer, geo, scale, q, nullptr, u);
    }
    with_kv_type(pool, [&](auto kv) {
      using KV = decltype(kv);
      b_.launch(
          kern::sequence_attention<KV>, Grid{static_cast<unsigned>(l.seqs.size()), static_cast<unsigned>(geo.kv_heads)},
          Grid{kern::kSeqThreads}, kern::sequence_attention_smem(n_heads / geo.kv_heads, geo.head_dim),
          u.ptr<kern::SeqWork>(gpu::kSeqs), u.ptr<uint32_t>(gpu::kSeqChunks), u.ptr<uint32_t>(gpu::kPartBases),
          static_cast<const unsigned char*>(pool.base), static_cast<uint64_t>(pool.chunk_bytes), layer, geo.kv_heads,
          n_heads, geo.head_dim, geo.chunk_tokens, scale, q, out, static_cast<const float*>(part_m_.p),
          static_cast<const float*>(part_l_.p), static_cast<const float*>(part_o_.p));
    });
  }

  void prefill_attention(const KvPool& pool, int layer, int n_heads, float scale, const float* q, float* out) override {
    if (plan().prefill.empty()) return;
    const AttentionGeometry geo = geometry(pool, n_heads);
    if (!prefill_.ready) upload_layout(prefill_, prefill_layout(plan().prefill, geo));
    launch_tiles(pool, layer, geo, scale, q, out, prefill_);
  }

  void gather_logit_rows(const float* x, size_t width, float* out) override {
    const size_t n = plan().logit_rows.size();
    if (n == 0) return;
    b_.launch(kern::gather_rows, Grid{static_cast<unsigned>(n)}, Grid{kern::kRowThreads}, 0, x, width,
              plan_ptr<uint32_t>(at_logits_), out);
  }

  void gemm(const float* x, size_t m, const DeviceMatrix& w, const float* bias, float* y) override {
    if (m == 0) return;
    with_weight_type([&](auto wt) {
      using W = decltype(wt);
      b_.launch(kern::gemm<W>, Grid{blocks_for(w.rows, kern::kGemmTile), blocks_for(m, kern::kGemmTile)},
                Grid{kern::kGemmThreads}, 0, x, m, w.cols, static_cast<const W*>(w.data), w.rows, bias, y);
    });
  }

  void rmsnorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out) override {
    if (m == 0) return;
    b_.launch(kern::rmsnorm, Grid{static_cast<unsigned>(m)}, Grid{kern::kRowThreads}, 0, x, weight,
              static_cast<int>(dim), eps, out);
  }
  void swiglu(float* gate, const float* up, size_t n) override {
    if (n > 0) b_.launch(kern::swiglu, Grid{blocks_for(n, 256)}, Grid{256}, 0, gate, up, n);
  }
  void add(float* x, const float* y, size_t n) override {
    if (n > 0) b_.launch(kern::add, Grid{blocks_for(n, 256)}, Grid{256}, 0, x, y, n);
  }
  void synchronize() override { b_.sync(); }

 private:
  const StepPlan& plan() const {
    if (plan_ == nullptr) throw_invalid("device: no step plan prepared");
    return *plan_;
  }
  unsigned rows() const { return static_cast<unsigned>(plan().rows); }

  template <typename Fn>
  void with_weight_type(Fn&& fn) {
    if (weights_ == DType::kF16) {
      fn(kern::half_t{});
    } else {
      fn(kern::bf16_t{});
    }
  }
  template <typename Fn>
  void with_kv_type(const KvPool& pool, Fn&& fn) {
    switch (pool.shape.dtype) {
      case DType::kF16:
        fn(kern::half_t{});
        return;
      case DType::kBF16:
        fn(kern::bf16_t{});
        return;
      case DType::kF32:
        throw_invalid("the GPU device keeps KV in f16 or bf16");
    }
  }

  void grow(Buffer& buf, size_t bytes) {
    if (bytes <= buf.bytes) return;
    if (buf.p != nullptr) b_.free(buf.p);
    buf.p = b_.alloc(bytes);
    buf.bytes = bytes;
  }

  template <typename T>
  size_t stage(const std::vector<T>& v) {
    const size_t at = (staging_.size() + 15) / 16 * 16;
    staging_.resize(at + v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(staging_.data() + at, v.data(), v.size() * sizeof(T));
    return at;
  }
  void upload(Buffer& buf) {
    grow(buf, std::max<size_t>(staging_.size(), 16));
    if (!staging_.empty()) b_.to_device(buf.p, staging_.data(), staging_.size());
  }
  template <typename T>
  const T* plan_ptr(size_t at) const {
    return reinterpret_cast<const T*>(static_cast<const unsigned char*>(plan_buf_.p) + at);
  }

  void upload_layout(Uploaded& u, AttentionLayout layout) {
    u.layout = std::move(layout);
    staging_.clear();
    u.at[gpu::kTiles] = stage(u.layout.tiles);
    u.at[gpu::kRows] = stage(u.layout.rows);
    u.at[gpu::kTileChunks] = stage(u.layout.tile_chunks);
    u.at[gpu::kSeqs] = stage(u.layout.seqs);
    u.at[gpu::kSeqChunks] = stage(u.layout.seq_chunks);
    u.at[gpu::kPartBases] = stage(u.layout.part_bases);
    upload(u.buf);
    u.ready = true;
  }

  AttentionGeometry geometry(const KvPool& pool, int n_heads) const {
    const KvShape& s = pool.shape;
    if (s.head_dim % 8 != 0 || s.head_dim > 128) {
      throw_invalid("the GPU device needs a head dim that is a multiple of 8, at most 128 (got " +
                    std::to_string(s.head_dim) + ")");
    }
    if (s.chunk_tokens % 16 != 0 || s.chunk_tokens > kern::kMaxChunk) {
      throw_invalid("the GPU device needs chunk tokens that are a multiple of 16, at most " +
                    std::to_string(kern::kMaxChunk) + " (got " + std::to_string(s.chunk_tokens) + ")");
    }
    if (n_heads / s.kv_heads > kern::kMaxGroup) {
      throw_invalid("the GPU device handles at most " + std::to_string(kern::kMaxGroup) + " query heads per KV head");
    }
    return AttentionGeometry{n_heads, s.kv_heads, s.head_dim, s.chunk_tokens};
  }

  // tile_attention over a layout's tiles, dispatched on the KV type, the padded head dim and the key tile.
  void launch_tiles(const KvPool& pool, int layer, const AttentionGeometry& geo, float scale, const float* q,
                    float* out, const Uploaded& u) {
    const AttentionLayout& l = u.layout;
    if (l.tiles.empty()) return;
    with_kv_type(pool, [&](auto kv) {
      using KV = decltype(kv);
      const int dp = (geo.head_dim + 15) / 16 * 16;
      const bool kt32 = geo.chunk_tokens % 32 == 0;
      const auto go = [&](auto kernel, size_t smem) {
        b_.launch(kernel, Grid{static_cast<unsigned>(l.tiles.size())}, Grid{kern::kTileThreads}, smem,
                  u.ptr<kern::TileWork>(gpu::kTiles), u.ptr<kern::TileRow>(gpu::kRows),
                  u.ptr<uint32_t>(gpu::kTileChunks), static_cast<const unsigned char*>(pool.base),
                  static_cast<uint64_t>(pool.chunk_bytes), layer, geo.kv_heads, geo.head_dim, geo.chunk_tokens, scale,
                  q, out, static_cast<float*>(part_m_.p), static_cast<float*>(part_l_.p),
                  static_cast<float*>(part_o_.p));
      };
#define CM_TILE(D, KT) go(kern::tile_attention<KV, D, KT>, kern::tile_attention_smem<KV, D, KT>())
      if (kt32) {
        if (dp <= 16)
          CM_TILE(16, 32);
        else if (dp <= 32)
          CM_TILE(32, 32);
        else if (dp <= 64)
          CM_TILE(64, 32);
        else
          CM_TILE(128, 32);
      } else {
        if (dp <= 16)
          CM_TILE(16, 16);
        else if (dp <= 32)
          CM_TILE(32, 16);
        else if (dp <= 64)
          CM_TILE(64, 16);
        else
          CM_TILE(128, 16);
      }
#undef CM_TILE
    });
  }

  Backend b_;
  DType weights_;
  const StepPlan* plan_ = nullptr;
  std::vector<unsigned char> staging_;
  Buffer plan_buf_;
  size_t at_tokens_ = 0, at_slots_ = 0, at_rows_ = 0, at_cos_ = 0, at_sin_ = 0, at_logits_ = 0;
  Uploaded decode_[2];  // TPP, baseline
  Uploaded prefill_;
  Buffer part_m_, part_l_, part_o_;
};

}  // namespace chunkmesh
