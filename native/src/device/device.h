#pragma once
// Where KV memory lives and attention runs. The cache talks to one Device;
// the CPU device is always built, a CUDA device slots in behind the same
// interface (the probe below is all the CUDA path does so far).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attention/attention.h"

namespace chunkmesh {

class Device {
 public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* p) = 0;
  virtual void decode(const DecodePlan& plan, const AttentionCall& call, DecodeMode mode) = 0;
  virtual void prefill(const std::vector<uint32_t>& chunks, size_t length, size_t n_new, const AttentionCall& call) = 0;
  virtual int threads() const = 0;
};

std::unique_ptr<Device> make_cpu_device(int threads);

struct BuildInfo {
  bool cuda_compiled = false;
  int cuda_runtime_version = 0;  // e.g. 13000; 0 when not compiled
  int cuda_devices = 0;          // visible GPUs at probe time
  bool native_arch = false;      // kernels compiled for the build machine's CPU
  std::string simd;              // widest vector ISA the kernels were compiled for
  std::string compiler;
};

BuildInfo build_info();

}  // namespace chunkmesh
