#include "device/build_info.h"

#ifdef CHUNKMESH_WITH_CUDA
#include "device/cuda/cuda_probe.h"
#endif

namespace chunkmesh {

BuildInfo build_info() {
  BuildInfo info;
#ifdef CHUNKMESH_WITH_CUDA
  info.cuda_compiled = true;
  const CudaProbe probe = cuda_probe();
  info.cuda_runtime_version = probe.runtime_version;
  info.cuda_devices = probe.devices;
#endif
#ifdef CHUNKMESH_NATIVE_ARCH
  info.native_arch = true;
#endif
#if defined(__AVX512F__)
  info.simd = "avx512";
#elif defined(__AVX2__)
  info.simd = "avx2";
#elif defined(__ARM_NEON)
  info.simd = "neon";
#else
  info.simd = "sse2";
#endif
#if defined(__clang__)
  info.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  info.compiler = "gcc " __VERSION__;
#endif
  return info;
}

}  // namespace chunkmesh
