#pragma once
// What the CUDA runtime says about this machine. Compiled only when the addon
// is built with nvcc; safe on machines without a GPU or driver (it reports 0).
#include <string>

namespace chunkmesh {

struct CudaProbe {
  int runtime_version = 0;
  int devices = 0;
  std::string error;  // why no device is usable; empty when devices > 0
};

CudaProbe cuda_probe();

}  // namespace chunkmesh
