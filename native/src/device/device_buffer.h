#pragma once
// A device allocation that grows on demand and is released with its owner.
// Growing does not keep the contents: it holds scratch (activations, uploads).
#include <cstddef>

#include "device/device.h"

namespace chunkmesh {

class DeviceBuffer {
 public:
  explicit DeviceBuffer(Device& device) : device_(device) {}
  ~DeviceBuffer() {
    if (data_ != nullptr) device_.release(data_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // At least n floats of device memory.
  float* floats(size_t n) { return static_cast<float*>(bytes(n * sizeof(float))); }
  void* bytes(size_t n) {
    if (n > capacity_) {
      if (data_ != nullptr) device_.release(data_);
      data_ = nullptr;
      data_ = device_.allocate(n);
      capacity_ = n;
    }
    return data_;
  }

 private:
  Device& device_;
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace chunkmesh
