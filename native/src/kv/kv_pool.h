#pragma once
// The device tier's memory as the kernels see it: `slots` chunks of
// shape.chunk_bytes() each, one allocation on the device (host memory for the
// CPU device, GPU memory for CUDA). Only the device dereferences `base`.
#include <cstddef>
#include <cstdint>

#include "kv/kv_shape.h"

namespace chunkmesh {

struct KvPool {
  uint8_t* base = nullptr;
  KvShape shape;
  uint32_t slots = 0;
  size_t chunk_bytes = 0;

  uint8_t* chunk(uint32_t slot) const { return base + static_cast<size_t>(slot) * chunk_bytes; }
};

}  // namespace chunkmesh
