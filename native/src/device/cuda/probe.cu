// Proves the CUDA toolchain end to end (compile, device link, static runtime)
// until the TPP kernel arrives. Safe on machines without a GPU: it reports 0.
#include <cuda_runtime.h>

__global__ void chunkmesh_noop_kernel(int* out) {
  if (out) *out = 1;
}

extern "C" int chunkmesh_cuda_probe(int* runtime_version, int* device_count) {
  *runtime_version = 0;
  *device_count = 0;
  if (cudaRuntimeGetVersion(runtime_version) != cudaSuccess) return -1;
  if (cudaGetDeviceCount(device_count) != cudaSuccess) {
    *device_count = 0;
    cudaGetLastError();  // clear the sticky "no device" error
    return -1;
  }
  return 0;
}
