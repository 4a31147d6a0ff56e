#include <cstdlib>
#include <new>

#include "device/device.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

class CpuDevice final : public Device {
 public:
  explicit CpuDevice(int threads) : pool_(threads) {}
  std::string name() const override { return "cpu"; }
  void* allocate(size_t bytes) override {
    // 64-byte aligned so every chunk block starts on a cache line
    const size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (p == nullptr) {
      throw Error(ErrorCode::kCapacityExhausted, "cannot allocate " + std::to_string(bytes) + " bytes of KV pool");
    }
    return p;
  }
  void release(void* p) override { std::free(p); }
  void decode(const DecodePlan& plan, const AttentionCall& call, DecodeMode mode) override {
    decode_attention(plan, call, mode, pool_, ws_);
  }
  void prefill(const std::vector<uint32_t>& chunks, size_t length, size_t n_new, const AttentionCall& call) override {
    prefill_attention(chunks, length, n_new, call, pool_, ws_);
  }
  int threads() const override { return pool_.size(); }

 private:
  ThreadPool pool_;
  AttentionWorkspace ws_;
};

}  // namespace

std::unique_ptr<Device> make_cpu_device(int threads) { return std::make_unique<CpuDevice>(threads); }

}  // namespace chunkmesh
