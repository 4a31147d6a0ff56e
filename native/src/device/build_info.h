#pragma once
// What the addon was built with: compute paths, CPU vector ISA, compiler, and
// what a CUDA probe sees on this machine.
#include <string>

namespace chunkmesh {

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
