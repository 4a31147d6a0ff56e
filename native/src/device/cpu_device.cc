#include <cstdlib>
#include <new>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "device/device.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

class CpuDevice final : public Device {
 public:
  explicit CpuDevice(int threads) : pool_(threads) {}
  std::string name() const override { return "cpu"; }
  void* allocate(size_t bytes) override {
    // 2 MiB aligned and, on Linux, backed by huge pages where the kernel allows:
    // attention streams 32 KiB blocks scattered over a pool of gigabytes, and
    // with 4 KiB pages the TLB misses cost more than the arithmetic.
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (p == nullptr) {
      throw Error(ErrorCode::kCapacityExhausted, "cannot allocate " + std::to_string(bytes) + " bytes of KV pool");
    }
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure just means small pages
#endif
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
