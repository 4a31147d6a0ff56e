#include "device/emu/emu_device.h"

#include "device/emu/emu_backend.h"

namespace chunkmesh {

std::unique_ptr<Device> make_emu_device(DType weights) {
  return std::make_unique<GpuDevice<EmuBackend>>(EmuBackend{}, weights);
}

}  // namespace chunkmesh
