#pragma once
// GpuDevice's backend for the CPU emulator: device memory is host memory,
// kernels run through kernels/emu. Built only into the native tests (with
// CHUNKMESH_EMU), never into the addon.
#include <cstdlib>
#include <cstring>
#include <utility>

#include "device/gpu/gpu_device.h"
#include "kernels/emu/emu.h"

namespace chunkmesh {

struct EmuBackend {
  void* alloc(size_t bytes) {
    void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (p == nullptr) throw Error(ErrorCode::kCapacityExhausted, "emulated device: out of memory");
    std::memset(p, 0xff, (bytes + 255) / 256 * 256);  // NaN: reading what was never written shows
    return p;
  }
  void free(void* p) { std::free(p); }
  void* alloc_host(size_t bytes) { return alloc(bytes); }
  void free_host(void* p) { std::free(p); }
  void to_device(void* dst, const void* src, size_t n) { std::memcpy(dst, src, n); }
  void to_host(void* dst, const void* src, size_t n) { std::memcpy(dst, src, n); }
  void on_device(void* dst, const void* src, size_t n) { std::memmove(dst, src, n); }
  void sync() {}
  template <typename... A, typename... P>
  void launch(void (*kernel)(A...), Grid grid, Grid block, size_t smem, P&&... args) {
    emu::launch_kernel(kernel, emu::Dim3{grid.x, grid.y, grid.z}, emu::Dim3{block.x, block.y, block.z}, smem,
                       std::forward<P>(args)...);
  }
  DeviceInfo info() const {
    DeviceInfo i;
    i.kind = DeviceKind::kCuda;
    i.name = "emulated-cuda";
    i.detail = "CUDA kernels on the CPU emulator";
    return i;
  }
};

}  // namespace chunkmesh
