// The place of the CUDA device. Until its kernels land (TPP decode, prefill
// attention and the layer ops, verified through the CPU emulator), a CUDA
// build refuses --device cuda with this explanation and --device auto falls
// back to the CPU device.
#include <string>

#include "device/cuda/cuda_device.h"
#include "device/cuda/cuda_probe.h"
#include "runtime/error.h"

namespace chunkmesh {

std::unique_ptr<Device> make_cuda_device(int /*threads*/) {
  const CudaProbe probe = cuda_probe();
  if (probe.devices == 0) throw Error(ErrorCode::kDeviceUnavailable, "no usable GPU: " + probe.error);
  throw Error(ErrorCode::kDeviceUnavailable,
              "this build compiles the CUDA toolchain probe only; the CUDA device (kernels for TPP decode, "
              "prefill attention and the layer ops) is not implemented yet: use --device cpu");
}

}  // namespace chunkmesh
