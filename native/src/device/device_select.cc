#include "device/device_select.h"

#include "runtime/error.h"
#ifdef CHUNKMESH_WITH_CUDA
#include "device/cuda/cuda_device.h"
#endif

namespace chunkmesh {
namespace {

std::unique_ptr<Device> cuda_device(int threads) {
#ifdef CHUNKMESH_WITH_CUDA
  return make_cuda_device(threads);
#else
  (void)threads;
  throw Error(ErrorCode::kDeviceUnavailable,
              "this build has no CUDA path (nvcc was not found when the addon was built, or CHUNKMESH_CPU_ONLY "
              "was set); rebuild with the CUDA toolkit on the PATH, or use --device cpu");
#endif
}

}  // namespace

DeviceChoice parse_device_choice(const std::string& name) {
  if (name == "auto") return DeviceChoice::kAuto;
  if (name == "cpu") return DeviceChoice::kCpu;
  if (name == "cuda") return DeviceChoice::kCuda;
  throw_invalid("device must be 'auto', 'cpu' or 'cuda', got '" + name + "'");
}

DeviceSelection select_device(DeviceChoice choice, int threads) {
  DeviceSelection s;
  switch (choice) {
    case DeviceChoice::kCpu:
      s.device = make_cpu_device(threads);
      break;
    case DeviceChoice::kCuda:
      s.device = cuda_device(threads);
      break;
    case DeviceChoice::kAuto:
      try {
        s.device = cuda_device(threads);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kDeviceUnavailable) throw;
        s.fallback_reason = e.what();
        s.device = make_cpu_device(threads);
      }
      break;
  }
  return s;
}

}  // namespace chunkmesh
