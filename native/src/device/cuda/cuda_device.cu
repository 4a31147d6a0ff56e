// The CUDA device: GpuDevice over CudaBackend (device/gpu/gpu_device.h has
// the design; the kernels are kernels/*.cuh, verified on CPU through the
// emulator with the same host code).
#include <string>

#include "device/cuda/cuda_backend.cuh"
#include "device/cuda/cuda_device.h"
#include "device/cuda/cuda_probe.h"

namespace chunkmesh {

std::unique_ptr<Device> make_cuda_device(int /*threads*/) {
  const CudaProbe probe = cuda_probe();
  if (probe.devices == 0) throw Error(ErrorCode::kDeviceUnavailable, "no usable GPU: " + probe.error);
  cudaDeviceProp props{};
  cuda_check(cudaGetDeviceProperties(&props, 0), "cudaGetDeviceProperties");
  if (props.major < 8) {
    throw Error(ErrorCode::kDeviceUnavailable, std::string("GPU ") + props.name + " is sm_" +
                                                   std::to_string(props.major) + std::to_string(props.minor) +
                                                   "; the CUDA device needs sm_80 (A100) or newer");
  }
  return std::make_unique<GpuDevice<CudaBackend>>(CudaBackend(0), DType::kBF16);
}

}  // namespace chunkmesh
