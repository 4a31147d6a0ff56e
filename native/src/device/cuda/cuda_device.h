#pragma once
// The CUDA device: the Device interface over GPU memory and CUDA kernels.
// Compiled only when the addon is built with nvcc (CHUNKMESH_WITH_CUDA).
#include <memory>

#include "device/device.h"

namespace chunkmesh {

// Throws kDeviceUnavailable when no usable GPU is present.
std::unique_ptr<Device> make_cuda_device(int threads);

}  // namespace chunkmesh
