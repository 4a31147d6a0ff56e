#pragma once
// A CUDA execution emulator for the kernels' own source (CPU CI has no GPU).
// Each CUDA thread is a fiber; a block's fibers run on the calling thread,
// cooperatively: a fiber runs until it reaches a barrier or a warp collective
// and yields there. That gives the semantics the kernels rely on and makes
// their mistakes visible:
//  - __syncthreads: released only when every live thread of the block arrives;
//    a thread that exits while others wait is reported as a divergent barrier;
//  - warp collectives (shuffles, ballots, __syncwarp, tile MMA): every lane
//    deposits its value in a lane slot and waits for all 32; a lane missing is
//    divergence; no runnable fiber and no barrier to release is a deadlock;
//  - shared memory starts poisoned (NaN bytes) and is bounds-checked;
//  - cp.async copies land only at the wait that covers their group, so a
//    missing wait reads poison;
//  - the order in which runnable fibers are resumed is a schedule: forward,
//    reverse or a seeded shuffle. A kernel with a race gives different
//    results under different schedules, so tests run all three and compare.
// Mutation switches (kernel_mutate) let a test disable one named barrier or
// wait in a kernel and prove that the test notices.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

namespace chunkmesh::emu {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
  unsigned count() const { return x * y * z; }
};

constexpr int kWarpSize = 32;

// A kernel broke the CUDA execution model (divergent barrier, deadlock,
// shared memory out of bounds, a warp collective with missing lanes...).
class EmuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Schedule { kForward, kReverse, kShuffle };

// Settings for the launches that follow, process-wide (kernels may launch
// on another thread, e.g. a KV cache's owner thread): the schedule, and the
// mutation (a named barrier or wait to skip; empty: none). Each launch reads
// them once when it starts.
struct Settings {
  Schedule schedule = Schedule::kForward;
  uint64_t seed = 1;
  std::string mutation;
};
void configure(const Settings& s);
Settings configured();
// Whether the named kernel point is disabled by the running launch's mutation.
bool mutated(const char* point);

// ---- inside a kernel: the current thread ----
const Dim3& thread_idx();
const Dim3& block_idx();
const Dim3& block_dim();
const Dim3& grid_dim();
int lane_id();
int warp_id();

void sync_threads();
void sync_warp();
// Warp collectives over 32-bit values.
uint32_t shfl_xor(uint32_t v, int mask);
uint32_t shfl_idx(uint32_t v, int src_lane);
uint32_t ballot(bool pred);
// Right after a warp collective: scratch shared by the warp's lanes for this
// collective, and whether the caller is the first lane to ask (so that work
// every lane would repeat identically, like a tile MMA, is done once).
void* warp_once(size_t bytes, bool* first);

// ---- shared memory ----
// Static shared arrays are named per kernel site: every thread of a block
// that reaches the same site gets the same storage.
void* shared_static(const char* site, size_t bytes, size_t align);
// The block's dynamic shared memory (the launch's byte count).
void* shared_dynamic(size_t* bytes);
// Throws EmuError unless [p, p + bytes) lies inside the block's shared memory.
void check_shared(const void* p, size_t bytes, const char* what);

// A bounds-checked view of shared memory; kernels use it like a pointer.
template <typename T>
class SharedSpan {
 public:
  SharedSpan() = default;
  SharedSpan(T* p, size_t n, const char* name) : p_(p), n_(n), name_(name) {}
  T& operator[](size_t i) const {
    if (i >= n_) {
      throw EmuError(std::string("shared array '") + name_ + "' indexed at " + std::to_string(i) + ", size " +
                     std::to_string(n_));
    }
    return p_[i];
  }
  // A raw pointer to count elements from offset, range-checked here (for copies and tile loads).
  T* at(size_t offset, size_t count = 1) const {
    if (offset + count > n_ || offset + count < offset) {
      throw EmuError(std::string("shared array '") + name_ + "' range [" + std::to_string(offset) + ", " +
                     std::to_string(offset + count) + ") out of size " + std::to_string(n_));
    }
    return p_ + offset;
  }
  // Another view of the same memory as U, starting at byte offset.
  template <typename U>
  SharedSpan<U> as(size_t byte_offset, size_t count, const char* name) const {
    if (byte_offset + count * sizeof(U) > n_ * sizeof(T)) {
      throw EmuError(std::string("shared carve '") + name + "' of " + std::to_string(count * sizeof(U)) + " bytes at " +
                     std::to_string(byte_offset) + " exceeds '" + name_ + "' (" + std::to_string(n_ * sizeof(T)) +
                     " bytes)");
    }
    return SharedSpan<U>(reinterpret_cast<U*>(reinterpret_cast<unsigned char*>(p_) + byte_offset), count, name);
  }
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
  const char* name_ = "";
};

// ---- asynchronous copies (cp.async) ----
void async_copy_16(void* smem_dst, const void* global_src);
void async_commit();
// Completes every committed group but the newest `pending`.
void async_wait(int pending);

// ---- launching ----
using KernelBody = void (*)(void* args);
// Runs body(args) for every thread of every block of the grid.
void launch(const Dim3& grid, const Dim3& block, size_t dynamic_shared_bytes, KernelBody body, void* args);

template <typename... A, typename... P>
void launch_kernel(void (*kernel)(A...), const Dim3& grid, const Dim3& block, size_t smem, P&&... args) {
  struct Pack {
    void (*k)(A...);
    std::tuple<A...> a;
  } pack{kernel, std::tuple<A...>(std::forward<P>(args)...)};
  launch(
      grid, block, smem,
      [](void* p) {
        auto* pk = static_cast<Pack*>(p);
        std::apply(pk->k, pk->a);
      },
      &pack);
}

}  // namespace chunkmesh::emu
