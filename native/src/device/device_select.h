#pragma once
// Picks the device a KV cache (and the model over it) runs on:
//   cpu   the CPU device, always available;
//   cuda  the CUDA device, or kDeviceUnavailable saying why not (not built
//         with nvcc, no GPU or driver, not implemented);
//   auto  CUDA when it can be had, else the CPU, with a note saying why.
#include <memory>
#include <string>

#include "device/device.h"

namespace chunkmesh {

enum class DeviceChoice { kAuto, kCpu, kCuda };

struct DeviceSelection {
  std::unique_ptr<Device> device;
  // Why `auto` did not pick CUDA (empty when it did, or when the choice was explicit).
  std::string fallback_reason;
};

DeviceSelection select_device(DeviceChoice choice, int threads);
DeviceChoice parse_device_choice(const std::string& name);

}  // namespace chunkmesh
