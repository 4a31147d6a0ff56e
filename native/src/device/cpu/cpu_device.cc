// The CPU device: host memory, and every kernel on one thread pool (the KV
// cache's owner thread takes part as thread 0).
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "device/build_info.h"
#include "device/cpu/attention.h"
#include "device/cpu/layer_ops.h"
#include "device/cpu/matmul.h"
#include "device/device.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kLine = 64;

class CpuDevice final : public Device {
 public:
  explicit CpuDevice(int threads) : threads_(threads) {}

  DeviceInfo info() const override {
    DeviceInfo i;
    i.kind = DeviceKind::kCpu;
    i.name = "cpu";
    i.threads = threads_.size();
    i.detail = std::to_string(threads_.size()) + " threads, " + build_info().simd;
    return i;
  }

  bool supports_kv(DType) const override { return true; }

  void* allocate(size_t bytes) override {
    // Large buffers (the KV pool, weights) are 2 MiB aligned and, on Linux,
    // backed by huge pages where the kernel allows: attention streams 32 KiB
    // blocks scattered over a pool of gigabytes, and with 4 KiB pages the TLB
    // misses cost more than the arithmetic.
    const size_t align = bytes >= kHuge ? kHuge : kLine;
    const size_t rounded = (std::max<size_t>(bytes, 1) + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded);
    if (p == nullptr) {
      throw Error(ErrorCode::kCapacityExhausted, "cannot allocate " + std::to_string(bytes) + " bytes of host memory");
    }
#ifdef MADV_HUGEPAGE
    if (align == kHuge) madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure just means small pages
#endif
    return p;
  }
  void release(void* p) override { std::free(p); }
  // The host tier is plain host memory here: the same allocation as the pool's.
  void* allocate_host(size_t bytes) override { return allocate(bytes); }
  void release_host(void* p) override { release(p); }
  void copy_in(void* dst, const void* host_src, size_t bytes) override { std::memcpy(dst, host_src, bytes); }
  void copy_out(void* host_dst, const void* src, size_t bytes) override { std::memcpy(host_dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }

  DeviceMatrix upload_matrix(const float* host, size_t rows, size_t cols) override {
    const size_t bytes = rows * cols * sizeof(float);
    void* p = allocate(bytes);
    std::memcpy(p, host, bytes);
    return DeviceMatrix{p, DType::kF32, rows, cols};
  }
  void release_matrix(const DeviceMatrix& m) override { release(const_cast<void*>(m.data)); }

  void copy_chunk(const KvPool& pool, uint32_t dst, uint32_t src) override {
    std::memcpy(pool.chunk(dst), pool.chunk(src), pool.chunk_bytes);
  }
  void read_chunk(const KvPool& pool, uint32_t slot, void* host_dst) override {
    std::memcpy(host_dst, pool.chunk(slot), pool.chunk_bytes);
  }
  void write_chunk(const KvPool& pool, uint32_t slot, const void* host_src) override {
    std::memcpy(pool.chunk(slot), host_src, pool.chunk_bytes);
  }

  void prepare(const StepPlan& plan) override { plan_ = &plan; }

  void embed(const DeviceMatrix& table, float* x) override {
    cpu::embed(static_cast<const float*>(table.data), table.cols, plan().tokens.data(), plan().rows, x);
  }
  void write_kv(const KvPool& pool, int layer, const float* k, const float* v) override {
    cpu::write_kv(pool, layer, plan().rows, plan().kv_slot.data(), plan().kv_row.data(), k, v);
  }
  void read_kv(const KvPool& pool, int layer, float* k, float* v) override {
    cpu::read_kv(pool, layer, plan().rows, plan().kv_slot.data(), plan().kv_row.data(), k, v);
  }
  void rope(float* x, int heads, int head_dim, RopeLayout layout) override {
    cpu::rope(x, plan().rows, heads, head_dim, layout, plan().rope_cos.data(), plan().rope_sin.data(), threads_);
  }
  void decode_attention(const KvPool& pool, int layer, int n_heads, float scale, const float* q, float* out,
                        DecodeMode mode) override {
    if (plan().decode.empty()) return;
    chunkmesh::decode_attention(plan().decode, AttentionCall{&pool, layer, n_heads, scale, q, out}, mode, threads_,
                                ws_);
  }
  void prefill_attention(const KvPool& pool, int layer, int n_heads, float scale, const float* q, float* out) override {
    for (const PrefillItem& item : plan().prefill) {
      chunkmesh::prefill_attention(item, AttentionCall{&pool, layer, n_heads, scale, q, out}, threads_, ws_);
    }
  }
  void gather_logit_rows(const float* x, size_t width, float* out) override {
    const std::vector<uint32_t>& rows = plan().logit_rows;
    for (size_t i = 0; i < rows.size(); ++i) std::copy_n(x + rows[i] * width, width, out + i * width);
  }

  void gemm(const float* x, size_t m, const DeviceMatrix& w, const float* bias, float* y) override {
    matmul(x, m, w.cols, static_cast<const float*>(w.data), bias, w.rows, y, threads_);
  }
  void rmsnorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out) override {
    cpu::rmsnorm(x, weight, m, dim, eps, out, threads_);
  }
  void swiglu(float* gate, const float* up, size_t n) override { cpu::swiglu(gate, up, n, threads_); }
  void add(float* x, const float* y, size_t n) override { cpu::add(x, y, n, threads_); }
  void synchronize() override {}

 private:
  const StepPlan& plan() const {
    if (plan_ == nullptr) throw_invalid("device: no step plan prepared");
    return *plan_;
  }

  ThreadPool threads_;
  AttentionWorkspace ws_;
  const StepPlan* plan_ = nullptr;
};

}  // namespace

std::unique_ptr<Device> make_cpu_device(int threads) { return std::make_unique<CpuDevice>(threads); }

}  // namespace chunkmesh
