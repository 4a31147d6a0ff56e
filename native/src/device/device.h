#pragma once
// Where KV memory lives and every layer of the forward pass runs. The KV
// cache and the model hold one Device and talk to nothing else: memory
// (allocate, copy, chunk reads and writes, weight upload) and the layer
// compute (embedding, GEMM, RMSNorm, RoPE, SwiGLU, residual add, decode
// attention TPP and per-sequence, prefill attention). The CPU device
// (device/cpu) is always built; the CUDA device (device/cuda) implements the
// same interface when the addon is built with nvcc.
//
// Addresses: every pointer a Device takes or returns for activations, weights
// or the pool is *device memory* (host memory on the CPU device, GPU memory
// on CUDA), except where a parameter says "host". Activations are fp32
// row-major [rows][width]. Calls are made from one thread (the KV cache's
// owner thread) and may run asynchronously on the device: copy_out and
// synchronize are the points where results are complete.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kv/kv_pool.h"
#include "plan/step_plan.h"

namespace chunkmesh {

enum class DeviceKind { kCpu, kCuda };

struct DeviceInfo {
  DeviceKind kind = DeviceKind::kCpu;
  std::string name;         // "cpu", "cuda"
  std::string detail;       // e.g. "16 threads, avx512" or "NVIDIA H100 80GB HBM3, sm_90"
  int threads = 1;          // host threads the device computes with
  size_t memory_bytes = 0;  // device memory in total (0: not reported)
};

// A weight matrix as the device stores it: y = W x with W [rows = out][cols = in].
struct DeviceMatrix {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  size_t rows = 0;
  size_t cols = 0;
};

enum class RopeLayout {
  kHalves,  // Hugging Face: rotate (x[i], x[i + d/2])
  kPairs    // llama2.c: rotate (x[2i], x[2i + 1])
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceInfo info() const = 0;
  // Whether the KV pool may be stored in this type here.
  virtual bool supports_kv(DType dtype) const = 0;

  // ---- memory ----
  // Throws kCapacityExhausted when the device has no room.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* p) = 0;
  // Host memory the device copies chunks to and from fastest (page-locked on
  // a GPU): the host KV tier. Throws kCapacityExhausted when there is none.
  virtual void* allocate_host(size_t bytes) = 0;
  virtual void release_host(void* p) = 0;
  virtual void copy_in(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void copy_out(void* host_dst, const void* src, size_t bytes) = 0;
  // Device memory to device memory.
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
  // An fp32 host matrix [rows][cols] into device memory, in the device's weight format.
  virtual DeviceMatrix upload_matrix(const float* host, size_t rows, size_t cols) = 0;
  virtual void release_matrix(const DeviceMatrix& m) = 0;

  // ---- KV pool chunks ----
  virtual void copy_chunk(const KvPool& pool, uint32_t dst_slot, uint32_t src_slot) = 0;
  virtual void read_chunk(const KvPool& pool, uint32_t slot, void* host_dst) = 0;
  virtual void write_chunk(const KvPool& pool, uint32_t slot, const void* host_src) = 0;

  // ---- one step ----
  // Makes the plan the current one (uploads it, on a GPU). Every call below
  // reads the current plan; the plan must outlive them.
  virtual void prepare(const StepPlan& plan) = 0;
  // x[r] = table[tokens[r]] for every row.
  virtual void embed(const DeviceMatrix& table, float* x) = 0;
  // K and V of every row ([rows][kv_heads][head_dim] each) into the pool at the plan's slots.
  virtual void write_kv(const KvPool& pool, int layer, const float* k, const float* v) = 0;
  // The reverse: K and V at the plan's slots out of the pool (tests, debugging).
  virtual void read_kv(const KvPool& pool, int layer, float* k, float* v) = 0;
  // Rotates `heads` heads of head_dim in every row by the plan's angles.
  virtual void rope(float* x, int heads, int head_dim, RopeLayout layout) = 0;
  // Attention of the plan's decode sequences (one query row each) and prefill
  // items (causal) over the pool; q and out are [rows][n_heads][head_dim].
  virtual void decode_attention(const KvPool& pool, int layer, int n_heads, float scale, const float* q, float* out,
                                DecodeMode mode) = 0;
  virtual void prefill_attention(const KvPool& pool, int layer, int n_heads, float scale, const float* q,
                                 float* out) = 0;
  // out[i] = x[logit_rows[i]] (width floats each).
  virtual void gather_logit_rows(const float* x, size_t width, float* out) = 0;

  // ---- layer compute on m rows ----
  // y[m][rows] = x[m][cols] W^T (+ bias[rows]); every output summed in the same
  // order whatever m, so a row's result does not depend on its batch.
  virtual void gemm(const float* x, size_t m, const DeviceMatrix& w, const float* bias, float* y) = 0;
  virtual void rmsnorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out) = 0;
  // gate[i] = silu(gate[i]) * up[i]
  virtual void swiglu(float* gate, const float* up, size_t n) = 0;
  // x[i] += y[i]
  virtual void add(float* x, const float* y, size_t n) = 0;

  // Waits until everything issued has finished.
  virtual void synchronize() = 0;
};

std::unique_ptr<Device> make_cpu_device(int threads);

}  // namespace chunkmesh
