#include <cuda_runtime.h>

#include "device/cuda/cuda_probe.h"

namespace chunkmesh {

CudaProbe cuda_probe() {
  CudaProbe p;
  if (cudaRuntimeGetVersion(&p.runtime_version) != cudaSuccess) p.runtime_version = 0;
  const cudaError_t err = cudaGetDeviceCount(&p.devices);
  if (err != cudaSuccess) {
    p.devices = 0;
    p.error = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky "no device" error
  } else if (p.devices == 0) {
    p.error = "no CUDA device is visible";
  }
  return p;
}

}  // namespace chunkmesh
