#pragma once
// What the emulator tests share: the CUDA device's code on the emulator
// (GpuDevice<EmuBackend>) next to the CPU device, fed the same trees and K/V,
// run under each schedule and compared.
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "kernels/emu/emu.h"
#include "kv/kv_cache.h"

namespace cmtest {

constexpr chunkmesh::emu::Schedule kSchedules[] = {
    chunkmesh::emu::Schedule::kForward, chunkmesh::emu::Schedule::kReverse, chunkmesh::emu::Schedule::kShuffle};

// Emulator settings for a scope, restored after.
class EmuScope {
 public:
  EmuScope(chunkmesh::emu::Schedule schedule, const std::string& mutation = "");
  ~EmuScope();
};

// A CPU cache and an emulated-GPU cache of one shape, filled alike.
struct CachePair {
  CachePair(const chunkmesh::KvShape& shape, uint32_t capacity_chunks);
  // Adds the prompt to both (matched, appended, random K/V of every layer written, committed).
  void insert(const std::vector<int32_t>& prompt, uint64_t kv_seed);
  std::unique_ptr<chunkmesh::KvCache> cpu, gpu;
  std::vector<uint32_t> cpu_ids, gpu_ids;
};

// max |a - b| / max |b|
double relative_error(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace cmtest
