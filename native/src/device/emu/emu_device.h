#pragma once
// The CUDA device's code on the CPU emulator: GpuDevice<EmuBackend>. For the
// native tests only (they build with CHUNKMESH_EMU).
#include <memory>

#include "device/device.h"
#include "kv/kv_shape.h"

namespace chunkmesh {

// weights: how the device stores weight matrices (f16 or bf16), as the CUDA device would.
std::unique_ptr<Device> make_emu_device(DType weights);

}  // namespace chunkmesh
