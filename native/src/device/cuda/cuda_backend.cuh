#pragma once
// GpuDevice's backend on a real GPU: cudaMalloc'd memory, one stream, kernel
// launches with <<<>>>. Compiled by nvcc only.
#include <cuda_runtime.h>

#include <string>
#include <unordered_set>
#include <utility>

#include "device/gpu/gpu_device.h"
#include "runtime/error.h"

namespace chunkmesh {

inline void cuda_check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  const ErrorCode code = e == cudaErrorMemoryAllocation ? ErrorCode::kCapacityExhausted : ErrorCode::kDeviceUnavailable;
  cudaGetLastError();
  throw Error(code, std::string(what) + ": " + cudaGetErrorString(e));
}

class CudaBackend {
 public:
  explicit CudaBackend(int ordinal) : ordinal_(ordinal) {
    cuda_check(cudaSetDevice(ordinal), "cudaSetDevice");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    cuda_check(cudaGetDeviceProperties(&props_, ordinal), "cudaGetDeviceProperties");
  }
  CudaBackend(CudaBackend&& o) noexcept : ordinal_(o.ordinal_), stream_(o.stream_), props_(o.props_) {
    o.stream_ = nullptr;
  }
  CudaBackend(const CudaBackend&) = delete;
  ~CudaBackend() {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  void* alloc(size_t bytes) {
    void* p = nullptr;
    cuda_check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
  void free(void* p) { cudaFree(p); }
  // Page-locked, so chunk copies between the tiers run as DMA at full PCIe/NVLink speed.
  void* alloc_host(size_t bytes) {
    void* p = nullptr;
    cuda_check(cudaMallocHost(&p, bytes), "cudaMallocHost");
    return p;
  }
  void free_host(void* p) { cudaFreeHost(p); }
  void to_device(void* dst, const void* src, size_t n) {
    cuda_check(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream_), "cudaMemcpy to device");
  }
  void to_host(void* dst, const void* src, size_t n) {
    cuda_check(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, stream_), "cudaMemcpy to host");
    sync();
  }
  void on_device(void* dst, const void* src, size_t n) {
    cuda_check(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, stream_), "cudaMemcpy on device");
  }
  void sync() { cuda_check(cudaStreamSynchronize(stream_), "kernel execution"); }

  template <typename... A, typename... P>
  void launch(void (*kernel)(A...), Grid grid, Grid block, size_t smem, P&&... args) {
    if (smem > 48 * 1024 && opted_in_.insert(reinterpret_cast<const void*>(kernel)).second) {
      cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
                 "cudaFuncSetAttribute");
    }
    kernel<<<dim3(grid.x, grid.y, grid.z), dim3(block.x, block.y, block.z), smem, stream_>>>(
        static_cast<A>(std::forward<P>(args))...);
    cuda_check(cudaGetLastError(), "kernel launch");
  }

  DeviceInfo info() const {
    DeviceInfo i;
    i.kind = DeviceKind::kCuda;
    i.name = "cuda";
    i.detail = std::string(props_.name) + ", sm_" + std::to_string(props_.major) + std::to_string(props_.minor) + ", " +
               std::to_string(props_.multiProcessorCount) + " SMs";
    i.threads = 1;
    i.memory_bytes = props_.totalGlobalMem;
    return i;
  }

 private:
  int ordinal_;
  cudaStream_t stream_ = nullptr;
  cudaDeviceProp props_{};
  std::unordered_set<const void*> opted_in_;
};

}  // namespace chunkmesh
